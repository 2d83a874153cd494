package dev.jvmm.bench;

/**
 * A benchmark run that could not complete (a port, a guest, a sender), with a complete message: the command that
 * ran it prints the message and exits with status 1. Options that cannot be used are
 * {@link IllegalArgumentException}s naming the option, which the command line reports as usage errors.
 */
public final class BenchFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BenchFailure(String message) {
        super(message);
    }
}
