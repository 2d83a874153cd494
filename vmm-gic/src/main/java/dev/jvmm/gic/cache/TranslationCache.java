package dev.jvmm.gic.cache;


/**
 * A translation cache: (ITS, DeviceID, EventID) to the value the GIC delivers through. See the
 * {@linkplain dev.jvmm.gic.cache package documentation} for the four strategies and the rules they share.
 *
 * <h2>Who calls what</h2>
 * <ul>
 *   <li>{@link #lookup}: the cached MSI path, in any thread, concurrently. Never allocates and never sleeps; the
 *       lock-based strategies take their spin lock for a few dozen instructions, {@code per-its} takes none.</li>
 *   <li>{@link #insert}: the slow path, after every check passed, holding the ITS lock of {@code its}.</li>
 *   <li>{@link #invalidate}: a flushing event of ITS {@code its} (DISCARD, MOVI, MAPD of a mapped device, MAPC with
 *       V=0, MOVALL, GITS_CTLR.Enabled 1 to 0), holding that ITS's lock.</li>
 *   <li>{@link #invalidateAll}: GICR_CTLR.EnableLPIs 1 to 0, a strategy swap, teardown; holding every ITS lock.</li>
 * </ul>
 *
 * <p>DeviceIDs and EventIDs are 16-bit (GITS_TYPER advertises 16 bits of each); a lookup outside that range is a
 * miss and an insert outside it is ignored.
 *
 * @param <V> the cached value
 */
public sealed interface TranslationCache<V extends Cacheable>
        permits NoTranslationCache, LruCache, PerItsCache {

    /**
     * A cache of the given strategy.
     *
     * @param itsCount       how many ITSes share it (indices 0 .. itsCount - 1)
     * @param vcpus          the machine's vCPU count (sizes the LRU strategies)
     * @param shards         shard count of {@code sharded}
     * @param entriesPerVcpu LRU capacity per vCPU of {@code global-lru} and of each {@code sharded} shard
     */
    static <V extends Cacheable> TranslationCache<V> create(CacheStrategy strategy, int itsCount, int vcpus,
                                                            int shards, int entriesPerVcpu) {
        int capacity = Math.max(1, vcpus) * Math.max(1, entriesPerVcpu);
        switch (strategy) {
            case NONE: return new NoTranslationCache<>();
            case GLOBAL_LRU: return LruCache.global(capacity);
            case SHARDED: return LruCache.sharded(Math.max(1, shards), capacity);
            case PER_ITS: return new PerItsCache<>(itsCount);
            default: throw new IllegalArgumentException("unknown cache strategy " + strategy);
        }
    }

    CacheStrategy strategy();

    /** The cached value, or null on a miss. Hot path. */
    V lookup(int its, int deviceId, int eventId);

    /** Caches {@code value}; the caller holds ITS {@code its}'s lock. */
    void insert(int its, int deviceId, int eventId, V value);

    /**
     * Removes every entry of ITS {@code its} (the LRU strategies, like Linux 5.4 and the seed patch, empty the whole
     * cache); the caller holds that ITS's lock. Counts one flush.
     */
    void invalidate(int its);

    /** Removes every entry; the caller holds every ITS lock. Counts one flush. */
    void invalidateAll();

    /** Copies held now. */
    int size();

    CacheStats stats();

    /** The key of a translation: {@code its << 32 | DeviceID << 16 | EventID}. */
    static long key(int its, int deviceId, int eventId) {
        return ((long) its << 32) | ((long) deviceId << 16) | eventId;
    }

    /** Whether both IDs fit the 16 bits a key gives them. */
    static boolean inRange(int deviceId, int eventId) {
        return ((deviceId | eventId) >>> 16) == 0;
    }
}
