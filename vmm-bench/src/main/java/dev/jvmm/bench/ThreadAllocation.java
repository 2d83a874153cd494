package dev.jvmm.bench;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;

/**
 * Bytes allocated by a chosen set of threads (HotSpot's per-thread allocation counters,
 * {@code com.sun.management.ThreadMXBean#getThreadAllocatedBytes}), to complement JMH's {@code -prof gc}.
 *
 * <p>Why both: {@code gc.alloc.rate.norm} divides the allocation of every thread in the JVM by the operations,
 * JMH's own threads included. JMH's bookkeeping allocates a roughly constant few hundred KB to about 1 MB per second,
 * which is invisible next to an operation of 100 ns (some hundredths of a byte per operation) but becomes tens of
 * bytes per operation when one operation takes 10 us (a thread hand-off). Counting only the threads on the measured
 * path (the signalling thread, the injector, the vCPUs) separates the two: if those threads allocated nothing, the
 * rest of {@code gc.alloc.rate.norm} is the harness.
 *
 * <p>The benchmark thread's own count also includes what JMH allocates on it between iterations (a few KB per
 * iteration), so the figure is an upper bound.
 */
final class ThreadAllocation {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private final long[] ids;
    private long[] start;
    private long[] end;

    ThreadAllocation(List<Thread> threads) {
        ids = threads.stream().mapToLong(Thread::getId).toArray();
    }

    /** Whether this JVM counts allocation per thread (HotSpot does, unless it was switched off). */
    static boolean supported() {
        return THREADS.isThreadAllocatedMemorySupported() && THREADS.isThreadAllocatedMemoryEnabled();
    }

    /** Starts counting from now. */
    void start() {
        start = THREADS.getThreadAllocatedBytes(ids);
    }

    /** Whether {@link #start()} was called. */
    boolean started() {
        return start != null;
    }

    /**
     * Stops counting: call it first thing in a tear-down, before gathering statistics allocates on the same thread.
     */
    void stop() {
        if (start != null && end == null) {
            end = THREADS.getThreadAllocatedBytes(ids);
        }
    }

    /**
     * Bytes the threads allocated from {@link #start()} to {@link #stop()} (or to now, if not stopped); a thread that
     * ended meanwhile counts as 0.
     */
    long bytes() {
        long[] now = end != null ? end : THREADS.getThreadAllocatedBytes(ids);
        long sum = 0;
        for (int i = 0; i < ids.length; i++) {
            if (now[i] >= 0 && start[i] >= 0) {
                sum += now[i] - start[i];
            }
        }
        return sum;
    }

    /** One line for a tear-down report: bytes per operation over {@code operations}. */
    String describe(long operations) {
        if (!supported() || start == null) {
            return "per-thread allocation not measured";
        }
        long b = bytes();
        return String.format(java.util.Locale.ROOT, "%,d bytes allocated by the %d thread(s) on the path over %,d "
                + "measured operations (%.4f B/op)", b, ids.length, operations, operations == 0 ? 0.0 : (double) b
                / operations);
    }

    @Override
    public String toString() {
        return "ThreadAllocation" + Arrays.toString(ids);
    }
}
