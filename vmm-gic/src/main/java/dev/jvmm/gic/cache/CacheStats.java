package dev.jvmm.gic.cache;


/**
 * A snapshot of one translation cache's counters.
 *
 * @param strategy  which strategy counted these
 * @param hits      lookups that found a translation
 * @param misses    lookups that did not (the MSI took the slow path)
 * @param inserts   copies stored by the slow path (the sharded strategy stores one per shard)
 * @param evictions copies pushed out by a full LRU
 * @param flushes   invalidations (one per flushing event, however many entries it removed)
 * @param releases  copies dropped, for any reason; equals {@code inserts} once the cache is empty
 * @param size      copies held now
 */
public record CacheStats(CacheStrategy strategy, long hits, long misses, long inserts, long evictions, long flushes,
                         long releases, int size) {

    /** An all-zero snapshot. */
    public static CacheStats empty(CacheStrategy strategy) {
        return new CacheStats(strategy, 0, 0, 0, 0, 0, 0, 0);
    }

    /** Lookups of either outcome. */
    public long lookups() {
        return hits + misses;
    }

    /** Hits over lookups, 0 when there were none. */
    public double hitRate() {
        long l = lookups();
        return l == 0 ? 0 : (double) hits / l;
    }

    /** The counters of two runs of the same strategy added up (sizes are not added: the later one is kept). */
    public CacheStats plus(CacheStats later) {
        return new CacheStats(strategy, hits + later.hits, misses + later.misses, inserts + later.inserts,
                evictions + later.evictions, flushes + later.flushes, releases + later.releases, later.size);
    }
}
