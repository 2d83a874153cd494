package dev.jvmm.gic.cache;

import dev.jvmm.core.config.ConfigValues;

/**
 * The ITS translation cache strategies ({@code gic.cache}); see the {@linkplain dev.jvmm.gic.cache package
 * documentation} for what each does. A new strategy is a constant here, a class that implements
 * {@link TranslationCache}, and a line of {@link TranslationCache#create}: nothing outside this package changes.
 */
public enum CacheStrategy {
    /** No cache: every MSI translates through the ITS under its lock (QEMU's behaviour). */
    NONE,
    /** One LRU list per machine, 16 entries per vCPU, under one machine-wide lock (Linux 5.4). */
    GLOBAL_LRU,
    /** The seed patch: LRU shards chosen by the injecting thread's CPU index, each with its own lock. */
    SHARDED,
    /** Linux 6.10: one unbounded map per ITS, lock-free lookups, inserts under the ITS lock. */
    PER_ITS;

    /** The configuration spelling: {@code none}, {@code global-lru}, {@code sharded}, {@code per-its}. */
    public String configName() {
        return ConfigValues.configName(this);
    }

    /** Parses a {@link #configName()}; null when there is no such constant. */
    public static CacheStrategy fromConfigName(String s) {
        return ConfigValues.fromConfigName(values(), s);
    }
}
