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

    /** Counts an internal error of {@code component} and tells the listener; never throws. */
    public void report(String component, Throwable error) {
        count.increment();
        try {
            listener.failed(component, error);
        } catch (RuntimeException | AssertionError ignored) {
            // A listener must not take the reporting thread down; it was told.
        }
    }

    /** Internal errors reported so far. */
    public long count() {
        return count.sum();
    }
}
