package dev.jvmm.gic;

import java.util.concurrent.atomic.LongAdder;

/**
 * Machine-wide check of the references translation caches hold on interrupt translation entries: how many
 * releases found no reference left to drop (a double release, the bug class of the 2026 upstream fix). Tests assert
 * it stays zero. (How many copies are held is counted by the caches themselves: inserts minus releases.)
 */
final class CacheReferences {
    final LongAdder doubleReleases = new LongAdder();
}
