package dev.jvmm.gic;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The registers of one GIC frame as a table of rows, each a register (or an array of registers) with its offset,
 * length, the access widths the architecture allows for it, and its read and write handlers: Linux's
 * {@code struct vgic_register_region} tables ({@code vgic_v3_dist_registers[]}, {@code vgic_v3_rd_registers[]},
 * {@code its_registers[]}), so that a reader finds a frame's whole register map in one place and no if-chain of
 * offsets appears in logic code.
 *
 * <p>Dispatch ({@link #find}) is a binary search over the rows' offsets. An access that hits no row, has a width the
 * row does not allow, is not naturally aligned or runs past the row's end is not decoded: the frame reads it as zero
 * and ignores the write, which is what the GICv3 architecture asks of reserved offsets and unsupported access sizes
 * (IHI 0069, "GIC memory-mapped register access": RAZ/WI, never an error the guest could not handle) and what KVM's
 * {@code dispatch_mmio_read/write} do with {@code check_region()}'s refusal.
 *
 * @param <T> the frame the handlers act on (the distributor, a redistributor, an ITS)
 */
final class RegisterTable<T> {
    /** Access width flags: the width in bytes is its own flag. */
    static final int W8 = 1;
    static final int W16 = 2;
    static final int W32 = 4;
    static final int W64 = 8;

    /** Reads {@code size} bytes at {@code at} bytes into the register (array); the result is zero-extended. */
    @FunctionalInterface
    interface Reader<T> {
        long read(T frame, long at, int size);
    }

    /** Writes the low {@code size} bytes of {@code value} at {@code at} bytes into the register (array). */
    @FunctionalInterface
    interface Writer<T> {
        void write(T frame, long at, int size, long value, int requesterId);
    }

    /**
     * One row: {@code length} bytes at {@code offset}, accessed with the widths in {@code widths} ({@link #W8} ...).
     */
    record Register<T>(String name, long offset, long length, int widths, Reader<T> reader, Writer<T> writer) {
        Register {
            if (length <= 0 || offset < 0 || widths == 0 || (widths & ~(W8 | W16 | W32 | W64)) != 0) {
                throw new IllegalArgumentException("bad register row " + name);
            }
        }

        long read(T frame, long offset, int size) {
            return reader.read(frame, offset - this.offset, size);
        }

        void write(T frame, long offset, int size, long value, int requesterId) {
            writer.write(frame, offset - this.offset, size, value, requesterId);
        }
    }

    /** A row for a read-only register: writes are ignored. */
    static <T> Register<T> readOnly(String name, long offset, long length, int widths, Reader<T> reader) {
        return new Register<>(name, offset, length, widths, reader, RegisterTable::writeIgnored);
    }

    /** A row for a register that reads as zero and ignores writes (reserved, or a feature not implemented). */
    static <T> Register<T> raz(String name, long offset, long length, int widths) {
        return new Register<>(name, offset, length, widths, RegisterTable::readZero, RegisterTable::writeIgnored);
    }

    /** A row whose writes go to {@code writer} without the requester. */
    static <T> Register<T> register(String name, long offset, long length, int widths, Reader<T> reader,
                                    SimpleWriter<T> writer) {
        return new Register<>(name, offset, length, widths, reader,
                (frame, at, size, value, requester) -> writer.write(frame, at, size, value));
    }

    /** A writer that does not need the requester (every register but GITS_TRANSLATER). */
    @FunctionalInterface
    interface SimpleWriter<T> {
        void write(T frame, long at, int size, long value);
    }

    static long readZero(Object frame, long at, int size) {
        return 0;
    }

    static void writeIgnored(Object frame, long at, int size, long value, int requesterId) {
    }

    private final long[] starts;
    private final long[] ends;
    private final List<Register<T>> rows;

    @SafeVarargs
    RegisterTable(Register<T>... registers) {
        List<Register<T>> sorted = new ArrayList<>(List.of(registers));
        sorted.sort(Comparator.comparingLong(Register::offset));
        starts = new long[sorted.size()];
        ends = new long[sorted.size()];
        for (int i = 0; i < sorted.size(); i++) {
            Register<T> r = sorted.get(i);
            starts[i] = r.offset();
            ends[i] = r.offset() + r.length();
            if (i > 0 && starts[i] < ends[i - 1]) {
                throw new IllegalArgumentException(r.name() + " overlaps " + sorted.get(i - 1).name());
            }
        }
        rows = List.copyOf(sorted);
    }

    /**
     * The row that decodes an access of {@code size} bytes at {@code offset}, or null when the access is not one the
     * architecture defines (no register there, a width the register does not support, misaligned, or crossing the
     * register's end): the caller then reads zero and ignores the write.
     */
    Register<T> find(long offset, int size) {
        int lo = 0;
        int hi = starts.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (offset < starts[mid]) {
                hi = mid - 1;
            } else if (offset >= ends[mid]) {
                lo = mid + 1;
            } else {
                Register<T> r = rows.get(mid);
                boolean widthOk = size > 0 && size <= 8 && (size & (size - 1)) == 0 && (r.widths() & size) != 0;
                long at = offset - starts[mid];
                return widthOk && (at & (size - 1)) == 0 && at + size <= r.length() ? r : null;
            }
        }
        return null;
    }

    /** Reads through the row that decodes the access, or reads zero and counts the access in {@code unsupported}. */
    long read(T frame, long offset, int size, LongAdder unsupported) {
        Register<T> r = find(offset, size);
        if (r == null) {
            unsupported.increment();
            return 0;
        }
        return r.read(frame, offset, size);
    }

    /** Writes through the row that decodes the access, or ignores the write and counts it in {@code unsupported}. */
    void write(T frame, long offset, int size, long value, int requesterId, LongAdder unsupported) {
        Register<T> r = find(offset, size);
        if (r == null) {
            unsupported.increment();
        } else {
            r.write(frame, offset, size, value, requesterId);
        }
    }

    /** The rows, in offset order (for tests and documentation). */
    List<Register<T>> rows() {
        return rows;
    }
}
