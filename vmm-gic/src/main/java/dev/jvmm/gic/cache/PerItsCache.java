package dev.jvmm.gic.cache;

import dev.jvmm.gic.internal.LongObjectMap;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code per-its} strategy, upstream Linux since 6.10: one map per ITS keyed by {@code DeviceID << 16 |
 * EventID}, with no size limit and no eviction. Lookups are lock-free (Linux: RCU and an xarray; here acquire
 * loads in a {@link LongObjectMap}); entries are inserted only by the slow path holding the ITS lock, after every
 * check passed; an invalidation empties that ITS's map at once.
 *
 * <p>Why no lock is needed: the ITS lock serialises every writer of an ITS's map (inserts and flushes), and
 * {@link LongObjectMap} is safe for one writer with any number of readers. A flush publishes an empty table first
 * and then releases the old entries; only the flushing thread holds them by then, so each is released once.
 */
final class PerItsCache<V extends Cacheable> implements TranslationCache<V> {
    private final LongObjectMap<V>[] maps;
    private final CacheCounters counters = new CacheCounters();

    @SuppressWarnings("unchecked")
    PerItsCache(int itsCount) {
        maps = (LongObjectMap<V>[]) new LongObjectMap<?>[Math.max(1, itsCount)];
        for (int i = 0; i < maps.length; i++) {
            maps[i] = new LongObjectMap<>(64);
        }
    }

    private static long itsKey(int deviceId, int eventId) {
        return ((long) deviceId << 16) | eventId;
    }

    @Override
    public CacheStrategy strategy() {
        return CacheStrategy.PER_ITS;
    }

    @Override
    public V lookup(int its, int deviceId, int eventId) {
        V v = null;
        if (its >= 0 && its < maps.length && TranslationCache.inRange(deviceId, eventId)) {
            v = maps[its].get(itsKey(deviceId, eventId));
        }
        (v != null ? counters.hits : counters.misses).increment();
        return v;
    }

    @Override
    public void insert(int its, int deviceId, int eventId, V value) {
        if (its < 0 || its >= maps.length || !TranslationCache.inRange(deviceId, eventId)) {
            return;
        }
        V old = maps[its].put(itsKey(deviceId, eventId), value);
        if (old == value) {
            // Two slow paths missed on the same MSI; the second found the first one's entry: nothing changes.
            return;
        }
        value.retainedByCache();
        counters.inserts.increment();
        if (old != null) {
            old.releasedByCache();
            counters.releases.increment();
        }
    }

    @Override
    public void invalidate(int its) {
        if (its >= 0 && its < maps.length) {
            flush(maps[its]);
        }
        counters.flushes.increment();
    }

    @Override
    public void invalidateAll() {
        for (LongObjectMap<V> m : maps) {
            flush(m);
        }
        counters.flushes.increment();
    }

    private void flush(LongObjectMap<V> map) {
        if (map.size() == 0) {
            return;
        }
        List<V> drained = new ArrayList<>(map.size());
        map.clear(drained);
        for (V v : drained) {
            v.releasedByCache();
            counters.releases.increment();
        }
    }

    @Override
    public int size() {
        int n = 0;
        for (LongObjectMap<V> m : maps) {
            n += m.size();
        }
        return n;
    }

    @Override
    public CacheStats stats() {
        return counters.snapshot(CacheStrategy.PER_ITS, size());
    }
}
