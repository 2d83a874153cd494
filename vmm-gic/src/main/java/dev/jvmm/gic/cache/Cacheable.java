package dev.jvmm.gic.cache;

/**
 * A value a {@link TranslationCache} can hold. Each copy of the value in a cache holds one reference, taken when
 * the copy is inserted and dropped exactly once when it leaves (eviction, replacement, flush): the accounting that
 * shows, in tests, that no entry is released twice (the use-after-free of the 2026 upstream fix) and that nothing is
 * left behind when a machine is torn down.
 */
public interface Cacheable {

    /** A cache stored one more copy of this value. */
    void retainedByCache();

    /** A cache dropped one copy of this value; called once per copy, by the thread whose removal succeeded. */
    void releasedByCache();
}
