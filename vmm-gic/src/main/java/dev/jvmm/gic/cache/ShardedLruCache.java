package dev.jvmm.gic.cache;

import dev.jvmm.gic.internal.SpinLock;
import dev.jvmm.gic.internal.ThreadIndex;

/**
 * The {@code sharded} strategy, the seed patch (openEuler 4.19/5.10): N LRU shards (8 by default), each with its
 * own lock. A lookup uses the shard of the injecting thread ({@link ThreadIndex} modulo N, standing in for
 * {@code smp_processor_id() % 8}), so threads on different "CPUs" rarely meet on a lock. Because any thread may
 * inject any MSI, an insert is copied into every shard; an invalidation sweeps every shard. A hit moves to the head
 * only when it was found beyond position {@value #PROMOTE_BEYOND}, which keeps hot entries near the head without
 * rewriting the list on every hit.
 *
 * <pre>
 *  thread t ──▶ shard[t % N]: lock ─ index lookup ─ (position &gt; 32 ? move to head) ─ unlock
 *  slow path ─▶ for each shard: lock ─ put (may evict that shard's tail) ─ unlock
 * </pre>
 *
 * <p>Each shard's {@link SpinLock} guards that shard's table only. Lock order: the ITS lock (inserts, flushes),
 * then one shard lock at a time; never two shard locks at once.
 */
final class ShardedLruCache<V extends Cacheable> implements TranslationCache<V> {
    /** The seed patch promotes a hit only when it sits beyond this position (0-based) in its shard's list. */
    static final int PROMOTE_BEYOND = 32;

    private static final class Shard<V extends Cacheable> {
        final SpinLock lock = new SpinLock();
        final LruTable<V> lru;

        Shard(int capacity) {
            lru = new LruTable<>(capacity);
        }
    }

    private final Shard<V>[] shards;
    /** Lookups outside the ID range never reach a shard; counted here. Flushes run under ITS locks. */
    private final java.util.concurrent.atomic.LongAdder rejected = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder flushes = new java.util.concurrent.atomic.LongAdder();

    @SuppressWarnings("unchecked")
    ShardedLruCache(int shardCount, int capacityPerShard) {
        shards = (Shard<V>[]) new Shard<?>[shardCount];
        for (int i = 0; i < shardCount; i++) {
            shards[i] = new Shard<>(capacityPerShard);
        }
    }

    int shardCount() {
        return shards.length;
    }

    @Override
    public CacheStrategy strategy() {
        return CacheStrategy.SHARDED;
    }

    @Override
    public V lookup(int its, int deviceId, int eventId) {
        if (!TranslationCache.inRange(deviceId, eventId)) {
            rejected.increment();
            return null;
        }
        long key = TranslationCache.key(its, deviceId, eventId);
        Shard<V> shard = shards[ThreadIndex.current() % shards.length];
        shard.lock.lock();
        try {
            return shard.lru.lookup(key, PROMOTE_BEYOND + 1);
        } finally {
            shard.lock.unlock();
        }
    }

    @Override
    public void insert(int its, int deviceId, int eventId, V value) {
        if (!TranslationCache.inRange(deviceId, eventId)) {
            return;
        }
        long key = TranslationCache.key(its, deviceId, eventId);
        for (Shard<V> shard : shards) {
            shard.lock.lock();
            try {
                shard.lru.put(key, value);
            } finally {
                shard.lock.unlock();
            }
        }
    }

    @Override
    public void invalidate(int its) {
        invalidateAll();
    }

    @Override
    public void invalidateAll() {
        for (Shard<V> shard : shards) {
            shard.lock.lock();
            try {
                shard.lru.clear();
            } finally {
                shard.lock.unlock();
            }
        }
        flushes.increment();
    }

    @Override
    public int size() {
        int n = 0;
        for (Shard<V> shard : shards) {
            shard.lock.lock();
            try {
                n += shard.lru.size();
            } finally {
                shard.lock.unlock();
            }
        }
        return n;
    }

    @Override
    public CacheStats stats() {
        long hits = 0;
        long misses = rejected.sum();
        long inserts = 0;
        long evictions = 0;
        long releases = 0;
        int size = 0;
        for (Shard<V> shard : shards) {
            shard.lock.lock();
            try {
                LruTable<V> lru = shard.lru;
                hits += lru.hits;
                misses += lru.misses;
                inserts += lru.inserts;
                evictions += lru.evictions;
                releases += lru.releases;
                size += lru.size();
            } finally {
                shard.lock.unlock();
            }
        }
        return new CacheStats(CacheStrategy.SHARDED, hits, misses, inserts, evictions, flushes.sum(), releases, size);
    }
}
