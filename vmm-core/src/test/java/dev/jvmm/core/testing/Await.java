package dev.jvmm.core.testing;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The one way tests wait for something another thread does: poll a condition until it holds or a deadline passes.
 * Never a timing assertion: the deadline only bounds a test that would otherwise hang.
 */
public final class Await {
    /** Long enough for a loaded 2-core CI machine; a test that needs it is failing anyway. */
    public static final Duration DEFAULT = Duration.ofSeconds(10);

    private Await() {
    }

    /** Polls {@code condition} (every half millisecond) until it holds or {@code timeout} passes; whether it held. */
    public static boolean until(BooleanSupplier condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            LockSupport.parkNanos(500_000);
        }
        return true;
    }

    /** As {@link #until(BooleanSupplier, Duration)}, failing the test with {@code what} when the time runs out. */
    public static void until(BooleanSupplier condition, Duration timeout, String what) {
        if (!until(condition, timeout)) {
            throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what);
        }
    }

    /** Waits up to {@link #DEFAULT} for {@code what}, failing the test when it does not happen. */
    public static void until(BooleanSupplier condition, String what) {
        until(condition, DEFAULT, what);
    }
}
