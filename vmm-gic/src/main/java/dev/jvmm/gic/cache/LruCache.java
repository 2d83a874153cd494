package dev.jvmm.gic.cache;

import dev.jvmm.gic.internal.SpinLock;
import dev.jvmm.gic.internal.ThreadIndex;

import java.util.concurrent.atomic.LongAdder;

/**
 * The two LRU strategies, which differ only in how many lists they keep and when a hit moves to the head.
 *
 * <ul>
 *   <li>{@code global-lru} ({@link #global}), Linux 5.4's cache: one LRU list for the whole machine,
 *       {@code 16 x vCPUs} entries, under one machine-wide lock (there, {@code lpi_list_lock}, a raw spinlock). A
 *       hit moves the entry to the head; an insert into a full list evicts the tail; an invalidation empties the
 *       whole list, as 5.4's {@code vgic_its_invalidate_cache} did. Every injecting thread takes the lock on every
 *       lookup: this is the contention the later designs removed.</li>
 *   <li>{@code sharded} ({@link #sharded}), the seed patch (openEuler 4.19/5.10): N LRU shards (8 by default), each
 *       with its own lock. A lookup uses the shard of the injecting thread ({@link ThreadIndex} modulo N, standing in
 *       for {@code smp_processor_id() % 8}), so threads on different "CPUs" rarely meet on a lock. Because any thread
 *       may inject any MSI, an insert is copied into every shard; an invalidation sweeps every shard. A hit moves to
 *       the head only when it was found beyond position {@value #PROMOTE_BEYOND}, which keeps hot entries near the
 *       head without rewriting the list on every hit.</li>
 * </ul>
 *
 * <pre>
 *  thread t ──▶ shard[t % N]: lock ─ index lookup ─ (position &gt; 32 ? move to head) ─ unlock
 *  slow path ─▶ for each shard: lock ─ put (may evict that shard's tail) ─ unlock
 * </pre>
 *
 * <p>Each shard's {@link SpinLock} guards that shard's table only. Lock order: the ITS lock (inserts, flushes),
 * then one shard lock at a time; never two shard locks at once.
 */
final class LruCache<V extends Cacheable> implements TranslationCache<V> {
    /** The seed patch promotes a hit only when it sits beyond this position (0-based) in its shard's list. */
    static final int PROMOTE_BEYOND = 32;

    private static final class Shard<V extends Cacheable> {
        final SpinLock lock = new SpinLock();
        final LruTable<V> lru;

        Shard(int capacity) {
            lru = new LruTable<>(capacity);
        }
    }

    private final CacheStrategy strategy;
    private final Shard<V>[] shards;
    /** A hit found within the first this many positions stays where it is (0: every hit moves to the head). */
    private final int keepWithin;
    /** Lookups outside the ID range never reach a shard; counted here. Flushes run under ITS locks. */
    private final LongAdder rejected = new LongAdder();
    private final LongAdder flushes = new LongAdder();

    @SuppressWarnings("unchecked")
    private LruCache(CacheStrategy strategy, int shardCount, int capacityPerShard, int keepWithin) {
        this.strategy = strategy;
        this.keepWithin = keepWithin;
        shards = (Shard<V>[]) new Shard<?>[shardCount];
        for (int i = 0; i < shardCount; i++) {
            shards[i] = new Shard<>(capacityPerShard);
        }
    }

    /** The {@code global-lru} strategy: one list of {@code capacity} entries; every hit moves to the head. */
    static <V extends Cacheable> LruCache<V> global(int capacity) {
        return new LruCache<>(CacheStrategy.GLOBAL_LRU, 1, capacity, 0);
    }

    /** The {@code sharded} strategy: {@code shardCount} lists of {@code capacityPerShard} entries each. */
    static <V extends Cacheable> LruCache<V> sharded(int shardCount, int capacityPerShard) {
        return new LruCache<>(CacheStrategy.SHARDED, shardCount, capacityPerShard, PROMOTE_BEYOND + 1);
    }

    @Override
    public CacheStrategy strategy() {
        return strategy;
    }

    @Override
    public V lookup(int its, int deviceId, int eventId) {
        if (!TranslationCache.inRange(deviceId, eventId)) {
            rejected.increment();
            return null;
        }
        long key = TranslationCache.key(its, deviceId, eventId);
        // One list needs no thread index (global-lru stays as cheap as the cache it models).
        Shard<V> shard = shards.length == 1 ? shards[0] : shards[ThreadIndex.current() % shards.length];
        shard.lock.lock();
        try {
            return shard.lru.lookup(key, keepWithin);
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
        return new CacheStats(strategy, hits, misses, inserts, evictions, flushes.sum(), releases, size);
    }
}
