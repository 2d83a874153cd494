package dev.jvmm.core.bus;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The MMIO bus: routes a guest physical load or store to the device registered at that address.
 *
 * <pre>
 *   vCPU store 0x0808_0040 ──▶ binary search over sorted bases ──▶ ITS [0x0808_0000, 0x080A_0000)
 *                                                                   .write(offset 0x40, size, value, requester)
 * </pre>
 *
 * <p>Registrations are copy-on-write: lookups read one immutable snapshot through a volatile field, take no lock and
 * allocate nothing, in O(log n). Any number of threads may access the bus at once; devices guard their own state.
 * Registering and unregistering are rare and serialised.
 *
 * <p>An access that no device answers (including one that straddles the end of a device) reads as zero and
 * ignores the write, and is counted; in strict mode it raises {@link MmioFault} instead, which the vCPU turns into a
 * data abort.
 */
public final class MmioBus {

    /** The requester of a store made by a vCPU (not a device's MSI write). */
    public static final int CPU_REQUESTER = -1;

    /** An immutable view of the registrations, sorted by base. */
    private static final class Snapshot {
        final long[] bases;
        final MmioRange[] ranges;

        Snapshot(MmioRange[] ranges) {
            this.ranges = ranges;
            this.bases = new long[ranges.length];
            for (int i = 0; i < ranges.length; i++) {
                bases[i] = ranges[i].base();
            }
        }
    }

    private final boolean strict;
    private volatile Snapshot snapshot = new Snapshot(new MmioRange[0]);
    private final LongAdder unmappedReads = new LongAdder();
    private final LongAdder unmappedWrites = new LongAdder();

    public MmioBus() {
        this(false);
    }

    /** @param strict whether an access to no device raises {@link MmioFault} (rather than reading zero) */
    public MmioBus(boolean strict) {
        this.strict = strict;
    }

    public boolean isStrict() {
        return strict;
    }

    /**
     * Registers {@code device} on {@code [base, base + size)}.
     *
     * @throws IllegalArgumentException if the range is empty, wraps past 2^64, or overlaps a registered device (the
     *                                  message names both)
     */
    public synchronized MmioRange register(String name, long base, long size, MmioDevice device) {
        if (device == null) {
            throw new IllegalArgumentException("device " + name + ": no device object");
        }
        if (size == 0) {
            throw new IllegalArgumentException("device " + name + " at 0x" + Long.toHexString(base) + ": empty range");
        }
        if (Long.compareUnsigned(base + size, base) <= 0) {
            throw new IllegalArgumentException("device " + name + " at 0x" + Long.toHexString(base) + " size 0x"
                    + Long.toHexString(size) + ": the range wraps past the top of the address space");
        }
        MmioRange added = new MmioRange(name, base, size, device);
        MmioRange[] old = snapshot.ranges;
        for (MmioRange r : old) {
            if (Long.compareUnsigned(base, r.end()) < 0 && Long.compareUnsigned(r.base(), added.end()) < 0) {
                throw new IllegalArgumentException("device " + added + " overlaps " + r);
            }
        }
        MmioRange[] next = Arrays.copyOf(old, old.length + 1);
        next[old.length] = added;
        Arrays.sort(next, (a, b) -> Long.compareUnsigned(a.base(), b.base()));
        snapshot = new Snapshot(next);
        return added;
    }

    /** Removes every registration of {@code device}; returns whether there was one. */
    public synchronized boolean unregister(MmioDevice device) {
        MmioRange[] old = snapshot.ranges;
        List<MmioRange> kept = new ArrayList<>(old.length);
        for (MmioRange r : old) {
            if (r.device() != device) {
                kept.add(r);
            }
        }
        if (kept.size() == old.length) {
            return false;
        }
        snapshot = new Snapshot(kept.toArray(new MmioRange[0]));
        return true;
    }

    /** The registrations, sorted by base. */
    public List<MmioRange> ranges() {
        return List.of(snapshot.ranges);
    }

    /**
     * The registration whose range holds the whole access {@code [address, address + size)}, or null. No
     * allocation, O(log n).
     */
    public MmioRange find(long address, int size) {
        Snapshot s = snapshot;
        long[] bases = s.bases;
        // The last range whose base is <= address (unsigned).
        int lo = 0;
        int hi = bases.length - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(bases[mid], address) <= 0) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (found < 0) {
            return null;
        }
        MmioRange r = s.ranges[found];
        return r.contains(address, size) ? r : null;
    }

    /** A vCPU's load of {@code size} (1, 2, 4 or 8) bytes. */
    public long read(long address, int size) {
        MmioRange r = dispatch(address, size, false);
        if (r == null) {
            return 0;
        }
        return r.device().read(address - r.base(), size);
    }

    /** A vCPU's store. */
    public void write(long address, int size, long value) {
        write(address, size, value, CPU_REQUESTER);
    }

    /**
     * A store from {@code requesterId}: {@link #CPU_REQUESTER} or a device's DeviceID (an MSI write).
     */
    public void write(long address, int size, long value, int requesterId) {
        MmioRange r = dispatch(address, size, true);
        if (r == null) {
            return;
        }
        r.device().write(address - r.base(), size, value, requesterId);
    }

    /**
     * The range an access of {@code size} bytes at {@code address} goes to; null when it reaches no device (counted;
     * a strict bus throws {@link MmioFault} instead).
     */
    private MmioRange dispatch(long address, int size, boolean write) {
        checkSize(size);
        MmioRange r = find(address, size);
        if (r == null) {
            (write ? unmappedWrites : unmappedReads).increment();
            if (strict) {
                throw new MmioFault(address, size, write);
            }
        }
        return r;
    }

    private static void checkSize(int size) {
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            throw new IllegalArgumentException("MMIO access size must be 1, 2, 4 or 8, got " + size);
        }
    }

    /** Loads that reached no device. */
    public long unmappedReads() {
        return unmappedReads.sum();
    }

    /** Stores that reached no device. */
    public long unmappedWrites() {
        return unmappedWrites.sum();
    }
}
