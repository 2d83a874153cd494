package dev.jvmm.guest;

/**
 * A fatal error of the toy guest (a device that does not answer as the specification says, a table that does not
 * fit): the guest writes the message into its report page and stops, as a kernel panics.
 */
final class GuestPanic extends RuntimeException {
    private static final long serialVersionUID = 1L;

    GuestPanic(String message) {
        super(message);
    }
}
