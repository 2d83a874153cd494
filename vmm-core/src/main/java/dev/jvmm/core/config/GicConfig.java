package dev.jvmm.core.config;

/**
 * The gic section.
 *
 * @param itsCount            how many ITSes (the first at 0x0808_0000)
 * @param cache               the translation cache strategy
 * @param cacheShards         shard count of the {@code sharded} strategy
 * @param cacheEntriesPerVcpu LRU capacity per vCPU of the {@code global-lru} and {@code sharded} strategies
 */
public record GicConfig(int itsCount, CacheStrategy cache, int cacheShards, int cacheEntriesPerVcpu) {
    public static GicConfig defaults() {
        return new GicConfig(1, CacheStrategy.PER_ITS, 8, 16);
    }

    public GicConfig withCache(CacheStrategy c) {
        return new GicConfig(itsCount, c, cacheShards, cacheEntriesPerVcpu);
    }
}
