package dev.jvmm.core.machine;

import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

/**
 * A machine's internal errors: counted, and handed to the embedder's {@link FailureListener}. Each component that
 * shields a thread from its own bugs reports here ({@link MachineContext#failures()}); {@link #count()} is the
 * total, which tests assert to be zero.
 */
public final class Failures {
    private final FailureListener listener;
    private final LongAdder count = new LongAdder();

    public Failures(FailureListener listener) {
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    /** Failures that are only counted. */
    public static Failures counting() {
        return new Failures(FailureListener.NONE);
    }

    /**
     * Tells the listener about an internal error of {@code component}, then counts it; never throws. Counted after
     * the listener returns, so whoever sees {@link #count()} rise finds the listener already told.
     */
    public void report(String component, Throwable error) {
        try {
            listener.failed(component, error);
        } catch (RuntimeException | AssertionError ignored) {
            // A listener must not take the reporting thread down; it was told.
        } finally {
            count.increment();
        }
    }

    /** Internal errors reported so far. */
    public long count() {
        return count.sum();
    }
}
