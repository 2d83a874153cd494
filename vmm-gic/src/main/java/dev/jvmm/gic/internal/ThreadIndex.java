package dev.jvmm.gic.internal;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stable small index for every thread that asks for one: the Java stand-in for "the CPU this code runs on",
 * which the seed patch's sharded translation cache uses to pick a shard ({@code smp_processor_id() % 8}).
 *
 * <p>Indices are handed out in order of first use, 0, 1, 2, ..., and a thread keeps its index for its whole life,
 * so threads that inject MSIs spread evenly over the shards. Indices are not recycled when threads end; callers
 * reduce them modulo their shard count, so growth is harmless.
 *
 * <p>This class holds the module's only static mutable state (the counter and the thread-local), on purpose: an
 * index must be stable for a thread across every machine it injects into, as a CPU number is across VMs.
 */
public final class ThreadIndex {
    private static final AtomicInteger NEXT = new AtomicInteger();

    /** A final holder, so that {@link #current()} reads a plain int with no unboxing. */
    private static final class Holder {
        final int index = NEXT.getAndIncrement();
    }

    private static final ThreadLocal<Holder> INDEX = ThreadLocal.withInitial(Holder::new);

    private ThreadIndex() {
    }

    /** The calling thread's index (allocates once per thread, on its first call). */
    public static int current() {
        return INDEX.get().index;
    }
}
