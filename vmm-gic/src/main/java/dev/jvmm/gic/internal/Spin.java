package dev.jvmm.gic.internal;

/**
 * The one back-off used wherever vmm-gic waits without a lock: a few hundred {@link Thread#onSpinWait()} rounds,
 * then {@link Thread#yield()}. Yielding matters on a machine with fewer cores than runnable threads: the thread
 * being waited for may be descheduled, and spinning on would only delay it.
 */
public final class Spin {
    /** Rounds of pure spinning before each wait also yields the processor. */
    static final int SPINS_BEFORE_YIELD = 256;

    private Spin() {
    }

    /** Waits a little; {@code round} counts the caller's attempts so far, from 0. */
    public static void pause(int round) {
        if (round < SPINS_BEFORE_YIELD) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }
}
