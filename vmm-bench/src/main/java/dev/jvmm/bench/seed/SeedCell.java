package dev.jvmm.bench.seed;

import dev.jvmm.core.config.ConfigValues;
import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.irq.InjectionMode;


/**
 * One injection setup the seed benchmark compares: a cell of its table. Every cell runs on a fresh machine with the
 * same traffic; they differ only in {@code irq.mode} and {@code gic.cache}.
 *
 * <pre>
 *  cell         irq.mode  gic.cache    what it stands for
 *  worker       worker    (unused)     every MSI through the injector thread: KVM before Linux 5.4, the seed's "worker"
 *  none         inline    none         the cached path is tried and always misses, so every MSI still goes to the
 *                                      injector thread: the "cache forced to miss" baseline
 *  global-lru   inline    global-lru   Linux 5.4: one LRU under one machine-wide lock (the seed's "cache")
 *  sharded      inline    sharded      the seed patch: 8 LRU shards chosen by the injecting thread (the seed's "shards")
 *  per-its      inline    per-its      Linux 6.10: one lock-free map per ITS
 * </pre>
 */
public enum SeedCell {
    WORKER(InjectionMode.WORKER, CacheStrategy.PER_ITS),
    NONE(InjectionMode.INLINE, CacheStrategy.NONE),
    GLOBAL_LRU(InjectionMode.INLINE, CacheStrategy.GLOBAL_LRU),
    SHARDED(InjectionMode.INLINE, CacheStrategy.SHARDED),
    PER_ITS(InjectionMode.INLINE, CacheStrategy.PER_ITS);

    private final InjectionMode mode;
    private final CacheStrategy cache;

    SeedCell(InjectionMode mode, CacheStrategy cache) {
        this.mode = mode;
        this.cache = cache;
    }

    /** How the machine of this cell hands a signalled irqfd to the interrupt controller. */
    public InjectionMode mode() {
        return mode;
    }

    /**
     * The translation cache the machine is built with. The worker cell never looks it up (its injector thread fills
     * it, unused), so any strategy gives the same path; it keeps the default.
     */
    public CacheStrategy cache() {
        return cache;
    }

    /** Whether MSIs can take the cached fast path in this cell ({@code inline} with a real cache). */
    public boolean cached() {
        return mode == InjectionMode.INLINE && cache != CacheStrategy.NONE;
    }

    /** The command-line and report spelling: {@code worker}, {@code none}, {@code global-lru}, ... */
    public String configName() {
        return ConfigValues.configName(this);
    }

    /** Parses a {@link #configName()}; null when there is no such constant. */
    public static SeedCell fromConfigName(String s) {
        return ConfigValues.fromConfigName(values(), s);
    }
}
