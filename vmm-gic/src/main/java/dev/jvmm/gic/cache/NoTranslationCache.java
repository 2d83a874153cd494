package dev.jvmm.gic.cache;


/**
 * The {@code none} strategy: no cache at all, so every MSI translates through the ITS under its lock, as QEMU's
 * ITS does. Lookups are counted as misses so that the statistics compare with the other strategies.
 */
final class NoTranslationCache<V extends Cacheable> implements TranslationCache<V> {
    private final CacheCounters counters = new CacheCounters();

    @Override
    public CacheStrategy strategy() {
        return CacheStrategy.NONE;
    }

    @Override
    public V lookup(int its, int deviceId, int eventId) {
        counters.misses.increment();
        return null;
    }

    @Override
    public void insert(int its, int deviceId, int eventId, V value) {
        // Nothing is cached.
    }

    @Override
    public void invalidate(int its) {
        counters.flushes.increment();
    }

    @Override
    public void invalidateAll() {
        counters.flushes.increment();
    }

    @Override
    public int size() {
        return 0;
    }

    @Override
    public CacheStats stats() {
        return counters.snapshot(CacheStrategy.NONE, 0);
    }
}
