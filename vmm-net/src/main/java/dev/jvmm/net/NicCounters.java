package dev.jvmm.net;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The live counters of one NIC: a {@code long} per {@link NicCounter}, updated without allocation or locks.
 *
 * <p>Memory ordering follows the single-writer principle (as Agrona's counters do): a counter that only the NIC's
 * event loop writes is updated with an opaque load and an opaque store (never torn, never cached in a register, no
 * fence on the hot path); a {@linkplain NicCounter#isShared() shared} counter is updated with an atomic add. Readers
 * on any thread see each counter's recent value; a {@link VirtioNetDevice#stats()} snapshot is not one atomic cut
 * across counters.
 *
 * <p>Backends call {@link #increment} and {@link #add} from the NIC's event loop.
 */
public final class NicCounters {
    private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] slots = new long[NicCounter.VALUES.length];

    /** Adds one to {@code c}. */
    public void increment(NicCounter c) {
        add(c, 1);
    }

    /** Adds {@code n} to {@code c}. */
    public void add(NicCounter c, long n) {
        int i = c.ordinal();
        if (c.shared) {
            SLOTS.getAndAdd(slots, i, n);
        } else {
            SLOTS.setOpaque(slots, i, (long) SLOTS.getOpaque(slots, i) + n);
        }
    }

    /** The current value of {@code c}. */
    public long get(NicCounter c) {
        return (long) SLOTS.getOpaque(slots, c.ordinal());
    }
}
