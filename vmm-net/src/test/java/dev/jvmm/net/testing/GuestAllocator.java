package dev.jvmm.net.testing;

import dev.jvmm.core.memory.GuestMemory;

import java.util.Random;

/**
 * Hands out guest physical memory for rings and buffers, each placed after a random gap (as Firecracker's VirtQueue
 * test helper does), so that a device that assumes buffers are contiguous or adjacent to their ring is caught.
 */
public final class GuestAllocator {
    private final GuestMemory memory;
    private final Random random;
    private final long end;
    private final int maxGap;
    private long next;

    public GuestAllocator(GuestMemory memory, Random random, int maxGap) {
        this(memory, random, maxGap, memory.regions().get(0).base(), memory.regions().get(0).end());
    }

    /** An allocator confined to {@code [start, end)} (several drivers in one machine must not share memory). */
    public GuestAllocator(GuestMemory memory, Random random, int maxGap, long start, long end) {
        this.memory = memory;
        this.random = random;
        this.next = start;
        this.end = end;
        this.maxGap = maxGap;
    }

    /** {@code size} bytes aligned to {@code align}, after a random gap; zero-filled. */
    public long alloc(long size, int align) {
        long a = next + (maxGap > 0 ? random.nextInt(maxGap) : 0);
        a = (a + align - 1) & -(long) align;
        if (a + size > end) {
            throw new IllegalStateException("guest RAM exhausted by the test");
        }
        next = a + size;
        memory.fill(a, size, (byte) 0);
        return a;
    }

    public long alloc(long size) {
        return alloc(size, 1);
    }

    /** The first address after the RAM region. */
    public long ramEnd() {
        return end;
    }

    public GuestMemory memory() {
        return memory;
    }
}
