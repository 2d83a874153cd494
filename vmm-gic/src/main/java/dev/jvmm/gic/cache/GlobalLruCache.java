package dev.jvmm.gic.cache;

import dev.jvmm.gic.internal.SpinLock;

/**
 * The {@code global-lru} strategy, Linux 5.4's cache: one LRU list for the whole machine, {@code 16 x vCPUs}
 * entries, under one machine-wide lock (there, {@code lpi_list_lock}, a raw spinlock). A hit moves the entry to the
 * head; an insert into a full list evicts the tail; an invalidation empties the whole list, as 5.4's
 * {@code vgic_its_invalidate_cache} did.
 *
 * <p>The lock ({@link SpinLock}) guards the LRU table. Every injecting thread takes it on every lookup: this is the
 * contention the later designs removed. Lock order: the ITS lock (inserts and flushes) before this lock; nothing is
 * locked while holding it.
 */
final class GlobalLruCache<V extends Cacheable> implements TranslationCache<V> {
    private final SpinLock lock = new SpinLock();
    private final LruTable<V> lru;
    /** Lookups outside the ID range never reach the lock; counted here. */
    private final java.util.concurrent.atomic.LongAdder rejected = new java.util.concurrent.atomic.LongAdder();
    /** Guarded by {@link #lock}. */
    private long flushes;

    GlobalLruCache(int capacity) {
        this.lru = new LruTable<>(capacity);
    }

    @Override
    public CacheStrategy strategy() {
        return CacheStrategy.GLOBAL_LRU;
    }

    @Override
    public V lookup(int its, int deviceId, int eventId) {
        if (!TranslationCache.inRange(deviceId, eventId)) {
            rejected.increment();
            return null;
        }
        long key = TranslationCache.key(its, deviceId, eventId);
        lock.lock();
        try {
            return lru.lookup(key, 0);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void insert(int its, int deviceId, int eventId, V value) {
        if (!TranslationCache.inRange(deviceId, eventId)) {
            return;
        }
        lock.lock();
        try {
            lru.put(TranslationCache.key(its, deviceId, eventId), value);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void invalidate(int its) {
        invalidateAll();
    }

    @Override
    public void invalidateAll() {
        lock.lock();
        try {
            lru.clear();
            flushes++;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int size() {
        lock.lock();
        try {
            return lru.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public CacheStats stats() {
        lock.lock();
        try {
            return new CacheStats(CacheStrategy.GLOBAL_LRU, lru.hits, lru.misses + rejected.sum(), lru.inserts,
                    lru.evictions, flushes, lru.releases, lru.size());
        } finally {
            lock.unlock();
        }
    }
}
