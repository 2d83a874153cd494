package dev.jvmm.virt;

/**
 * What the board was asked to boot cannot be booted: a kernel file that is missing, empty, truncated, not for
 * AArch64, too big for RAM or with segments outside it; a device tree file that is not one. The message is complete
 * and names the file; a command line reports it as a usage error (exit status 2), never with a stack trace.
 */
public final class BootException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BootException(String message) {
        super(message);
    }
}
