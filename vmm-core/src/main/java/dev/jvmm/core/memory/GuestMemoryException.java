package dev.jvmm.core.memory;

/**
 * An access to guest physical memory that the memory cannot perform: the range lies (partly) outside every RAM
 * region, its length is negative, or an ordered/atomic access is not naturally aligned.
 *
 * <p>This is the one exception every guest-memory accessor raises for a bad guest address. Devices catch it and
 * turn it into a device error (a stalled ITS queue, a virtqueue marked broken, DEVICE_NEEDS_RESET); it must never
 * escape a device thread. Addresses are unsigned 64-bit values and are printed in hex.
 *
 * <p>A hostile guest can provoke this at will, so the exception carries no stack trace: creating it costs an
 * allocation and a message, nothing more.
 */
public final class GuestMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why the access failed. */
    public enum Reason {
        /** Some byte of the range is not backed by any RAM region (or the range wraps past 2^64). */
        OUT_OF_RANGE,
        /** An ordered or atomic access whose address is not a multiple of its size. */
        MISALIGNED,
        /** A negative length was asked for. */
        BAD_LENGTH,
        /** The memory was closed. */
        CLOSED
    }

    private final long address;
    private final long length;
    private final Reason reason;

    GuestMemoryException(Reason reason, long address, long length) {
        super(describe(reason, address, length), null, false, false);
        this.reason = reason;
        this.address = address;
        this.length = length;
    }

    private static String describe(Reason reason, long address, long length) {
        String range = "0x" + Long.toHexString(address) + " (+" + length + " bytes)";
        switch (reason) {
            case OUT_OF_RANGE: return "guest physical access " + range + " is outside guest RAM";
            case MISALIGNED: return "ordered access " + range + " is not naturally aligned";
            case BAD_LENGTH: return "guest physical access " + range + " has a negative length";
            default: return "guest memory is closed; access " + range + " refused";
        }
    }

    /** The guest physical address of the failed access (unsigned). */
    public long address() {
        return address;
    }

    /** The length of the failed access in bytes. */
    public long length() {
        return length;
    }

    public Reason reason() {
        return reason;
    }
}
