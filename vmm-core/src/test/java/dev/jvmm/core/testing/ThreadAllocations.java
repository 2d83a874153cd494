package dev.jvmm.core.testing;

import java.lang.management.ManagementFactory;

/**
 * Measures what the calling thread allocates while it runs a body, for zero-allocation tests.
 *
 * <p>One measurement can be spoiled by the virtual machine itself: an on-stack replacement or a deoptimization
 * during the loop runs the body interpreted for a while, and the interpreter allocates what the compiled code
 * scalar-replaces. Such noise is a one-off, so {@link #minimumOf} measures several rounds and keeps the smallest.
 * A real allocation per call appears in every round and cannot hide behind the minimum.
 */
public final class ThreadAllocations {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private ThreadAllocations() {
    }

    /** Bytes the calling thread allocated in the round of {@code rounds} that allocated the least. */
    public static long minimumOf(int rounds, Runnable body) {
        long min = Long.MAX_VALUE;
        for (int r = 0; r < rounds; r++) {
            long before = THREADS.getCurrentThreadAllocatedBytes();
            body.run();
            min = Math.min(min, THREADS.getCurrentThreadAllocatedBytes() - before);
        }
        return min;
    }
}
