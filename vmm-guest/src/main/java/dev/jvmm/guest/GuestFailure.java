package dev.jvmm.guest;

/**
 * The toy guest failed in a way its host must hear about: it panicked (its message is in the report page), a vCPU
 * faulted, or it did not boot in time. The message is complete on its own; the launcher prints it and exits with
 * status 1.
 */
public final class GuestFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public GuestFailure(String message) {
        super(message);
    }
}
