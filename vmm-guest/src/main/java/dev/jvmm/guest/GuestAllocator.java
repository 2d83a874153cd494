package dev.jvmm.guest;

import dev.jvmm.core.memory.RamRegion;

/**
 * The toy guest's physical page allocator: a bump allocator over the guest's first RAM region, as an early-boot
 * kernel's memblock allocator is. Nothing is freed; the guest allocates its tables and rings once at boot. The
 * memory it hands out is zeroed by the guest itself ({@link GuestOs#zero}) because a real guest cannot assume RAM
 * is zero.
 */
final class GuestAllocator {
    private final long end;
    private long next;

    GuestAllocator(RamRegion ram, long reserved) {
        this.next = ram.base() + reserved;
        this.end = ram.end();
    }

    /** {@code size} bytes aligned to {@code align} (a power of two). */
    long allocate(long size, long align) {
        long at = (next + align - 1) & -align;
        if (size < 0 || at + size > end || at + size < at) {
            throw new GuestPanic("out of guest memory: " + size + " bytes (align " + align + ") do not fit below 0x"
                    + Long.toHexString(end));
        }
        next = at + size;
        return at;
    }

    long used(long base) {
        return next - base;
    }
}
