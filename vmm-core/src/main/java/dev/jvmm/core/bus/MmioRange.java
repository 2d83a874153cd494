package dev.jvmm.core.bus;

/**
 * A device's registration on the bus: {@code [base, base + size)} (unsigned, never wrapping), with a name for
 * messages and listings.
 */
public record MmioRange(String name, long base, long size, MmioDevice device) {

    /** The first address after the range. */
    public long end() {
        return base + size;
    }

    /** Whether {@code [address, address + length)} lies wholly inside this range (overflow-safe). */
    public boolean contains(long address, int length) {
        long off = address - base;
        return Long.compareUnsigned(off, size) < 0 && length <= size - off;
    }

    @Override
    public String toString() {
        return name + " [0x" + Long.toHexString(base) + ", 0x" + Long.toHexString(end()) + ")";
    }
}
