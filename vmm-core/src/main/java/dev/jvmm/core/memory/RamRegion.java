package dev.jvmm.core.memory;

/**
 * One RAM region of the guest physical address space: {@code [base, base + size)}.
 *
 * <p>Both values are unsigned; {@code base} and {@code size} must be multiples of 4 KiB, {@code size} non-zero, and
 * the region must end at or below 2^64 - 4 KiB (it never wraps).
 */
public record RamRegion(long base, long size) {
    public static final long PAGE_SIZE = 4096;

    public RamRegion {
        if (size == 0 || (size & (PAGE_SIZE - 1)) != 0 || size < 0) {
            throw new IllegalArgumentException("RAM region size must be a non-zero multiple of 4 KiB below 2^63, got "
                    + Long.toUnsignedString(size));
        }
        if ((base & (PAGE_SIZE - 1)) != 0) {
            throw new IllegalArgumentException("RAM region base must be 4 KiB aligned, got 0x" + Long.toHexString(base));
        }
        if (Long.compareUnsigned(base + size, base) <= 0) {
            throw new IllegalArgumentException("RAM region 0x" + Long.toHexString(base) + " + 0x"
                    + Long.toHexString(size) + " wraps past the top of the address space");
        }
    }

    /** The first address after the region (unsigned; never 0 because regions do not wrap). */
    public long end() {
        return base + size;
    }

    /** Whether this region and {@code other} share at least one byte. */
    public boolean overlaps(RamRegion other) {
        return Long.compareUnsigned(base, other.end()) < 0 && Long.compareUnsigned(other.base, end()) < 0;
    }

    @Override
    public String toString() {
        return "[0x" + Long.toHexString(base) + ", 0x" + Long.toHexString(end()) + ")";
    }
}
