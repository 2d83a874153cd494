/**
 * The ITS translation cache: where the cached MSI path finds, without the ITS lock, what the slow path found by
 * walking device, interrupt translation entry and collection. One interface, {@link
 * dev.jvmm.gic.cache.TranslationCache}, and the four strategies of its history, selected by
 * {@link dev.jvmm.gic.cache.CacheStrategy}:
 *
 * <pre>
 *  strategy    structure                         lookup                       insert (slow path, ITS lock held)
 *  ──────────  ────────────────────────────────  ───────────────────────────  ─────────────────────────────────
 *  none        nothing                           always a miss                nothing
 *  global-lru  one LRU per machine, 16/vCPU      machine-wide spin lock,      same lock; evicts the LRU tail
 *              (Linux 5.4)                       hit moves to the head
 *  sharded     N LRU shards, shard = thread      that shard's spin lock; hit  copied into every shard
 *              index mod N (the seed patch)      moves only beyond position 32
 *  per-its     one unbounded map per ITS         lock-free (acquire loads)    into that ITS's map; no eviction
 *              (Linux 6.10)
 * </pre>
 *
 * <h2>What a cache holds and the rules it follows</h2>
 * A cache maps (ITS, DeviceID, EventID) to a value the GIC chose, a {@link dev.jvmm.gic.cache.Cacheable}. Each copy
 * of a value in a cache holds one reference on it ({@link dev.jvmm.gic.cache.Cacheable#retainedByCache()}), and the
 * thread whose removal of that copy succeeded drops it, exactly once ({@link
 * dev.jvmm.gic.cache.Cacheable#releasedByCache()}), whether the copy leaves by eviction, replacement or flush.
 * Inserts and flushes of one ITS are serialised by that ITS's lock, which the caller holds; the lock-based
 * strategies also take their own lock inside it. Lock order: ITS lock, then cache lock; a cache lock is never
 * held while taking another lock.
 *
 * <p>A cache is an accelerator, not the authority: the GIC re-validates a cached value under the LPI's delivery
 * guard before delivering through it (see {@code dev.jvmm.gic.Lpi}), so a lookup that raced with a flush cannot
 * deliver through a mapping that a completed command removed.
 */
package dev.jvmm.gic.cache;
