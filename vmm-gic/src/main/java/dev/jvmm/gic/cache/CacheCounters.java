package dev.jvmm.gic.cache;


import java.util.concurrent.atomic.LongAdder;

/**
 * The counters of the strategies that count without a lock of their own ({@code none}, {@code per-its}). Hits and
 * misses are counted on the hot path by many threads: a {@link LongAdder} spreads them over cells (allocated once,
 * the first time two threads collide, never per call). The LRU strategies count in plain fields under their lock
 * instead (see {@link LruTable}).
 */
final class CacheCounters {
    final LongAdder hits = new LongAdder();
    final LongAdder misses = new LongAdder();
    final LongAdder inserts = new LongAdder();
    final LongAdder evictions = new LongAdder();
    final LongAdder flushes = new LongAdder();
    final LongAdder releases = new LongAdder();

    CacheStats snapshot(CacheStrategy strategy, int size) {
        return new CacheStats(strategy, hits.sum(), misses.sum(), inserts.sum(), evictions.sum(), flushes.sum(),
                releases.sum(), size);
    }
}
