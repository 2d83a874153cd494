package dev.jvmm.arm64;

import dev.jvmm.core.memory.GuestMemory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The global exclusive monitor of a machine (Arm ARM B2.9 "Synchronization and semaphores"): which reservation
 * granule each vCPU has marked with LDXR/LDAXR/LDXP, so that its STXR fails once another vCPU has stored to that
 * granule.
 *
 * <h2>How another vCPU's store is detected, and what it costs</h2>
 * Each vCPU publishes its marked granule (64 bytes, the Cortex-A57's ERG, CTR_EL0.ERG = 4) in {@link #reserved}.
 * Every store to RAM by any vCPU (plain, pair, exclusive, DC ZVA) first reads {@link #armed}, the number of vCPUs
 * holding a reservation: one volatile read of a field that changes rarely, a plain load on x86 and AArch64 hosts. Only
 * when it is non-zero does the store scan the other vCPUs' slots and clear, with a CAS, each one that marks the
 * stored granule, then send that vCPU an event (the monitor's transition to Open is a WFE wake-up event, Arm ARM
 * D1.16.2, which Linux's {@code __cmpwait} relies on).
 *
 * <p>A successful STXR must also be atomic with respect to a store that races with it. STXR first takes its own
 * reservation (a getAndSet), clears the others' reservations of the granule, then writes memory with a
 * compare-and-set whose expected value is what its LDXR read: a store from another vCPU that lands between the check
 * and the write changes the value and makes the CAS (and so the STXR) fail. The one store it cannot see is a store
 * of the very same value inside that window of a few nanoseconds, which no program can tell from a store ordered just
 * before the LDXR.
 *
 * <p>Exclusive pairs of two 64-bit registers (LDXP/STXP of 16 bytes) have no 128-bit CAS in Java: their load and
 * their store run under one of {@link #PAIR_LOCKS} striped locks chosen by granule, so 128-bit exclusives are atomic
 * with respect to each other (two halves written by two CASes were not: the team's {@code smp} guest caught a
 * counter drifting). A plain store racing with a 128-bit STXP to the same bytes is the one case left without
 * single-copy atomicity of the pair.
 *
 * <p>Stores by devices (virtio DMA) do not clear reservations; a guest does not use device-written words as locks.
 */
final class ExclusiveMonitor {
    static final long NONE = -1L;
    static final long GRANULE = 64;

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    private static final int PAIR_LOCKS = 64;
    private final Object[] pairLocks = new Object[PAIR_LOCKS];
    private final long[] reserved;
    private final AtomicInteger armed = new AtomicInteger();
    private final Arm64Cpu[] cpus;

    ExclusiveMonitor(Arm64Cpu[] cpus) {
        this.cpus = cpus;
        this.reserved = new long[cpus.length];
        java.util.Arrays.fill(reserved, NONE);
        for (int i = 0; i < PAIR_LOCKS; i++) {
            pairLocks[i] = new Object();
        }
    }

    static long granule(long pa) {
        return pa & -GRANULE;
    }

    /** LDXR on {@code cpu}: marks the granule of {@code pa}. */
    void mark(int cpu, long pa) {
        long old = (long) SLOT.getAndSet(reserved, cpu, granule(pa));
        if (old == NONE) {
            armed.incrementAndGet();
        }
    }

    /** CLREX, exception entry: opens {@code cpu}'s monitor. Returns the granule it had marked, or {@link #NONE}. */
    long clear(int cpu) {
        long old = (long) SLOT.getAndSet(reserved, cpu, NONE);
        if (old != NONE) {
            armed.decrementAndGet();
        }
        return old;
    }

    /** Whether some vCPU holds a reservation: the only cost a plain store pays. */
    boolean armed() {
        return armed.get() != 0;
    }

    /** A store by {@code cpu} to {@code [pa, pa + size)}: clears the other vCPUs' reservations of those granules. */
    void onStore(int cpu, long pa, int size) {
        long first = granule(pa);
        long last = granule(pa + size - 1);
        for (int c = 0; c < reserved.length; c++) {
            if (c == cpu) {
                continue;
            }
            long g = (long) SLOT.getVolatile(reserved, c);
            if (g != NONE && (g == first || g == last) && SLOT.compareAndSet(reserved, c, g, NONE)) {
                armed.decrementAndGet();
                Arm64Cpu other = cpus[c];
                if (other != null) {
                    other.sendEvent();
                }
            }
        }
    }

    /**
     * STXR's store of {@code size} bytes (1..8) at {@code pa} in RAM: succeeds only when {@code cpu} still marks the
     * granule and memory still holds {@code expected} (what its LDXR read).
     */
    boolean storeExclusive(GuestMemory memory, int cpu, long pa, int size, long expected, long value) {
        if (clear(cpu) != granule(pa)) {
            return false;
        }
        if (armed()) {
            onStore(cpu, pa, size);
        }
        return cas(memory, pa, size, expected, value);
    }

    private Object pairLock(long pa) {
        return pairLocks[(int) (pa >>> 6) & (PAIR_LOCKS - 1)];
    }

    /** LDXP of two 64-bit registers: both halves read at once with respect to {@link #storeExclusivePair}. */
    void loadPair(GuestMemory memory, long pa, long[] out) {
        synchronized (pairLock(pa)) {
            out[0] = memory.read64(pa);
            out[1] = memory.read64(pa + 8);
        }
    }

    /** STXP of two 64-bit registers: see the class comment. */
    boolean storeExclusivePair(GuestMemory memory, int cpu, long pa, long expectedLo, long expectedHi, long lo,
                               long hi) {
        if (clear(cpu) != granule(pa)) {
            return false;
        }
        if (armed()) {
            onStore(cpu, pa, 16);
        }
        synchronized (pairLock(pa)) {
            if (memory.read64(pa) != expectedLo || memory.read64(pa + 8) != expectedHi) {
                return false;
            }
            memory.write64(pa, lo);
            memory.write64(pa + 8, hi);
            return true;
        }
    }

    /** A naturally aligned compare-and-set of 1, 2, 4 or 8 bytes; bytes and halfwords through their aligned word. */
    static boolean cas(GuestMemory memory, long pa, int size, long expected, long value) {
        if (size == 8) {
            return memory.compareAndSet64(pa, expected, value);
        }
        if (size == 4) {
            return memory.compareAndSet32(pa, (int) expected, (int) value);
        }
        long word = pa & ~3L;
        int shift = (int) (pa & 3) * 8;
        int mask = (size == 1 ? 0xFF : 0xFFFF) << shift;
        while (true) {
            int cur = memory.loadAcquire32(word);
            if ((cur & mask) != ((int) expected << shift & mask)) {
                return false;
            }
            int next = cur & ~mask | ((int) value << shift & mask);
            if (memory.compareAndSet32(word, cur, next)) {
                return true;
            }
        }
    }
}
