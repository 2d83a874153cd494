package dev.jvmm.core.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Guest physical memory: RAM regions at guest physical addresses, backed by off-heap memory, little-endian.
 *
 * <pre>
 *  guest physical address space (unsigned 64-bit)
 *  0 ───────── 0x4000_0000 ────────────────────────── 0x4000_0000 + size ──────── 2^64
 *      (MMIO)  │ region 0: chunk 0 (1 GiB) │ chunk 1 │ ... │      (unbacked)
 *              └── each chunk is one direct ByteBuffer; a region may be larger than 2 GiB
 * </pre>
 *
 * <p>The chunks are allocated with nothing but the JDK ({@link OffHeap}: lazily, as a private mapping of a deleted
 * sparse file, so that RAM costs what the guest touches, as QEMU's does; or eagerly, a shared arena's segment from
 * Java 22, a direct buffer freed through its cleaner before) and freed by {@link #close()} at once. Copies to and from other
 * memory go through byte arrays and {@link ByteBuffer}s; adapters for other buffer types (Netty's {@code ByteBuf}
 * in vmm-net) build on {@link #view} and the absolute {@code ByteBuffer} copies.
 *
 * <h2>Checks</h2>
 * Every accessor checks that the whole range {@code [gpa, gpa + length)} lies in RAM, with arithmetic that cannot
 * overflow: an address near 2^64 plus a length never wraps into RAM. A failed check raises
 * {@link GuestMemoryException} and touches nothing (a bulk write is checked as a whole before its first byte is
 * written). Plain typed and bulk accesses may straddle chunk and (adjacent) region boundaries.
 *
 * <h2>Memory ordering, by method name</h2>
 * <ul>
 *   <li>{@code readN}/{@code writeN} and the bulk copies are plain accesses: no ordering with respect to other
 *       threads, and a value wider than a byte may be observed torn if another thread writes it concurrently.</li>
 *   <li>{@code loadAcquireN}: an acquire load; no later load or store of this thread is reordered before it.
 *       Use it to read an index that publishes data (a virtqueue's {@code avail.idx}).</li>
 *   <li>{@code storeReleaseN}: a release store; no earlier load or store of this thread is reordered after it.
 *       Use it to publish data written before it (a virtqueue's {@code used.idx}).</li>
 *   <li>{@code compareAndSetN}, {@code getAndOr32}, {@link #setBitAtomic}, {@link #clearBitAtomic}: atomic
 *       read-modify-write with volatile (sequentially consistent) semantics.</li>
 *   <li>{@link #fullFence()}: a full two-way fence (the virtqueue's "store avail_event, fence, re-read avail.idx").</li>
 * </ul>
 * Ordered and atomic accesses must be naturally aligned (a guest that misaligns a ring gets
 * {@link GuestMemoryException.Reason#MISALIGNED}), and are therefore always inside one chunk.
 *
 * <h2>Threads and lifetime</h2>
 * Any number of threads may access the memory at once. {@link #close()} releases the off-heap memory at once; the
 * caller (the {@code Machine}) guarantees that every thread that could access it has been joined first.
 */
public final class GuestMemory implements AutoCloseable {

    /** Chunks are 1 GiB: a power of two that a single direct ByteBuffer can hold. */
    static final int DEFAULT_CHUNK_SHIFT = 30;

    private static final VarHandle I16 = MethodHandles.byteBufferViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I32 = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I64 = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private static final Region[] CLOSED = new Region[0];

    /** One RAM region split into equally sized chunks (the last one may be shorter). */
    private static final class Region {
        final long base;
        final long size;
        final ByteBuffer[] chunks;
        /** The owners of the chunks' memory, which free it ({@link #close}). */
        final OffHeap[] owners;

        Region(long base, long size, ByteBuffer[] chunks, OffHeap[] owners) {
            this.base = base;
            this.size = size;
            this.chunks = chunks;
            this.owners = owners;
        }
    }

    private final int chunkShift;
    private final long chunkMask;
    private final List<RamRegion> layout;
    /** Sorted by base. Replaced by {@link #CLOSED} on close, so a late access fails cleanly in most cases. */
    private volatile Region[] regions;
    /**
     * Per-thread duplicates of the chunks, whose position and limit a thread may move without disturbing other
     * threads ({@link #view}). Created once per thread and chunk.
     */
    private final ThreadLocal<ByteBuffer[][]> views;

    private GuestMemory(List<RamRegion> layout, int chunkShift) {
        this.chunkShift = chunkShift;
        this.chunkMask = (1L << chunkShift) - 1;
        List<RamRegion> sorted = new ArrayList<>(layout);
        sorted.sort(Comparator.comparing(RamRegion::base, Long::compareUnsigned));
        if (sorted.isEmpty()) {
            throw new IllegalArgumentException("guest memory needs at least one RAM region");
        }
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i - 1).overlaps(sorted.get(i))) {
                throw new IllegalArgumentException("RAM regions " + sorted.get(i - 1) + " and " + sorted.get(i) + " overlap");
            }
        }
        this.layout = List.copyOf(sorted);
        Region[] rs = new Region[sorted.size()];
        long chunkSize = 1L << chunkShift;
        try {
            for (int i = 0; i < rs.length; i++) {
                RamRegion r = sorted.get(i);
                int n = (int) ((r.size() + chunkSize - 1) >>> chunkShift);
                rs[i] = new Region(r.base(), r.size(), new ByteBuffer[n], new OffHeap[n]);
                for (int c = 0; c < n; c++) {
                    int len = (int) Math.min(chunkSize, r.size() - ((long) c << chunkShift));
                    OffHeap owner = OffHeap.allocate(len);
                    rs[i].owners[c] = owner;
                    rs[i].chunks[c] = owner.buffer().order(ByteOrder.LITTLE_ENDIAN);
                }
            }
        } catch (OutOfMemoryError e) {
            for (Region r : rs) {
                free(r);
            }
            throw new IllegalStateException("cannot allocate " + describe(sorted) + " of guest RAM off-heap ("
                    + e.getMessage() + "); raise -XX:MaxDirectMemorySize or lower the memory size", e);
        }
        this.regions = rs;
        this.views = ThreadLocal.withInitial(() -> new ByteBuffer[rs.length][]);
    }

    /** Guest memory with the given RAM regions, zero-filled. Regions must not overlap. */
    public static GuestMemory create(List<RamRegion> regions) {
        return new GuestMemory(regions, DEFAULT_CHUNK_SHIFT);
    }

    /** Guest memory with one region. */
    public static GuestMemory create(long base, long size) {
        return create(List.of(new RamRegion(base, size)));
    }

    /** For tests: chunks of {@code 2^chunkShift} bytes, so chunk boundaries can be exercised with little RAM. */
    static GuestMemory createWithChunkShift(List<RamRegion> regions, int chunkShift) {
        if (chunkShift < 12 || chunkShift > DEFAULT_CHUNK_SHIFT) {
            throw new IllegalArgumentException("chunk shift must be in [12, 30]");
        }
        return new GuestMemory(regions, chunkShift);
    }

    private static String describe(List<RamRegion> rs) {
        return (total(rs) >> 20) + " MiB";
    }

    private static long total(List<RamRegion> rs) {
        long total = 0;
        for (RamRegion r : rs) {
            total += r.size();
        }
        return total;
    }

    /** The RAM regions, sorted by base address. */
    public List<RamRegion> regions() {
        return layout;
    }

    /** Total bytes of RAM. */
    public long size() {
        return total(layout);
    }

    // ------------------------------------------------------------------------------------------------ checks

    /** Whether every byte of {@code [gpa, gpa + length)} is RAM. Never throws. */
    public boolean isValid(long gpa, long length) {
        if (length < 0) {
            return false;
        }
        Region[] rs = regions;
        long addr = gpa;
        long left = length;
        if (left == 0) {
            return find(rs, addr) != null || rs.length > 0 && isEndOfRegion(rs, addr);
        }
        while (left > 0) {
            Region r = find(rs, addr);
            if (r == null) {
                return false;
            }
            long inRegion = r.size - (addr - r.base);
            if (left <= inRegion) {
                return true;
            }
            left -= inRegion;
            addr = r.base + r.size;
        }
        return true;
    }

    private static boolean isEndOfRegion(Region[] rs, long addr) {
        for (Region r : rs) {
            if (r.base + r.size == addr) {
                return true;
            }
        }
        return false;
    }

    /** Throws {@link GuestMemoryException} unless every byte of {@code [gpa, gpa + length)} is RAM. */
    public void checkRange(long gpa, long length) {
        if (length < 0) {
            throw new GuestMemoryException(GuestMemoryException.Reason.BAD_LENGTH, gpa, length);
        }
        if (!isValid(gpa, length)) {
            throw outOfRange(gpa, length);
        }
    }

    private GuestMemoryException outOfRange(long gpa, long length) {
        return new GuestMemoryException(regions == CLOSED ? GuestMemoryException.Reason.CLOSED
                : GuestMemoryException.Reason.OUT_OF_RANGE, gpa, length);
    }

    /** The region holding {@code addr}, or null. Unsigned, overflow-safe: {@code addr - base < size}. */
    private static Region find(Region[] rs, long addr) {
        for (Region r : rs) {
            if (Long.compareUnsigned(addr - r.base, r.size) < 0) {
                return r;
            }
        }
        return null;
    }

    /** The region that holds the whole of {@code [addr, addr + len)}; throws {@link GuestMemoryException} when none does. */
    private Region regionOf(long addr, int len) {
        Region r = regionFor(addr, len);
        if (r == null) {
            throw outOfRange(addr, len);
        }
        return r;
    }

    /** The region that holds the whole of {@code [addr, addr + len)}, or null when the range is not in one region. */
    private Region regionFor(long addr, int len) {
        Region[] rs = regions;
        Region r = rs.length > 0 ? rs[0] : null;
        if (r != null) {
            long off = addr - r.base;
            if (Long.compareUnsigned(off, r.size) < 0 && len <= r.size - off) {
                return r;
            }
        }
        for (int i = 1; i < rs.length; i++) {
            r = rs[i];
            long off = addr - r.base;
            if (Long.compareUnsigned(off, r.size) < 0 && len <= r.size - off) {
                return r;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------------------------------------ plain typed

    /** Plain 8-bit read. */
    public byte read8(long gpa) {
        Region r = regionOf(gpa, 1);
        long off = gpa - r.base;
        return r.chunks[(int) (off >>> chunkShift)].get((int) (off & chunkMask));
    }

    /** Plain 16-bit little-endian read; any alignment. */
    public short read16(long gpa) {
        Region r = regionFor(gpa, 2);
        if (r != null) {
            long off = gpa - r.base;
            int o = (int) (off & chunkMask);
            ByteBuffer c = r.chunks[(int) (off >>> chunkShift)];
            if (o <= c.capacity() - 2) {
                return c.getShort(o);
            }
        }
        return (short) slowRead(gpa, 2);
    }

    /** Plain 32-bit little-endian read; any alignment. */
    public int read32(long gpa) {
        Region r = regionFor(gpa, 4);
        if (r != null) {
            long off = gpa - r.base;
            int o = (int) (off & chunkMask);
            ByteBuffer c = r.chunks[(int) (off >>> chunkShift)];
            if (o <= c.capacity() - 4) {
                return c.getInt(o);
            }
        }
        return (int) slowRead(gpa, 4);
    }

    /** Plain 64-bit little-endian read; any alignment. */
    public long read64(long gpa) {
        Region r = regionFor(gpa, 8);
        if (r != null) {
            long off = gpa - r.base;
            int o = (int) (off & chunkMask);
            ByteBuffer c = r.chunks[(int) (off >>> chunkShift)];
            if (o <= c.capacity() - 8) {
                return c.getLong(o);
            }
        }
        return slowRead(gpa, 8);
    }

    /** Plain read of 1, 2, 4 or 8 bytes, zero-extended to a long (the MMIO-style access). */
    public long read(long gpa, int size) {
        switch (size) {
            case 1: return read8(gpa) & 0xFFL;
            case 2: return read16(gpa) & 0xFFFFL;
            case 4: return read32(gpa) & 0xFFFF_FFFFL;
            case 8: return read64(gpa);
            default: throw new IllegalArgumentException("access size must be 1, 2, 4 or 8, got " + size);
        }
    }

    public void write8(long gpa, byte value) {
        Region r = regionOf(gpa, 1);
        long off = gpa - r.base;
        r.chunks[(int) (off >>> chunkShift)].put((int) (off & chunkMask), value);
    }

    public void write16(long gpa, short value) {
        Region r = regionFor(gpa, 2);
        if (r != null) {
            long off = gpa - r.base;
            int o = (int) (off & chunkMask);
            ByteBuffer c = r.chunks[(int) (off >>> chunkShift)];
            if (o <= c.capacity() - 2) {
                c.putShort(o, value);
                return;
            }
        }
        slowWrite(gpa, 2, value);
    }

    public void write32(long gpa, int value) {
        Region r = regionFor(gpa, 4);
        if (r != null) {
            long off = gpa - r.base;
            int o = (int) (off & chunkMask);
            ByteBuffer c = r.chunks[(int) (off >>> chunkShift)];
            if (o <= c.capacity() - 4) {
                c.putInt(o, value);
                return;
            }
        }
        slowWrite(gpa, 4, value);
    }

    public void write64(long gpa, long value) {
        Region r = regionFor(gpa, 8);
        if (r != null) {
            long off = gpa - r.base;
            int o = (int) (off & chunkMask);
            ByteBuffer c = r.chunks[(int) (off >>> chunkShift)];
            if (o <= c.capacity() - 8) {
                c.putLong(o, value);
                return;
            }
        }
        slowWrite(gpa, 8, value);
    }

    /** Plain write of the low 1, 2, 4 or 8 bytes of {@code value}. */
    public void write(long gpa, int size, long value) {
        switch (size) {
            case 1: write8(gpa, (byte) value); break;
            case 2: write16(gpa, (short) value); break;
            case 4: write32(gpa, (int) value); break;
            case 8: write64(gpa, value); break;
            default: throw new IllegalArgumentException("access size must be 1, 2, 4 or 8, got " + size);
        }
    }

    /** A value that straddles a chunk or a region boundary: byte by byte, after checking the whole range. */
    private long slowRead(long gpa, int size) {
        checkRange(gpa, size);
        long v = 0;
        for (int i = 0; i < size; i++) {
            v |= (read8(gpa + i) & 0xFFL) << (8 * i);
        }
        return v;
    }

    private void slowWrite(long gpa, int size, long value) {
        checkRange(gpa, size);
        for (int i = 0; i < size; i++) {
            write8(gpa + i, (byte) (value >>> (8 * i)));
        }
    }

    // ------------------------------------------------------------------------------------------------ ordered

    /** The chunk that holds an aligned value of {@code size} bytes at {@code gpa}; the offset is {@link #offset}. */
    private ByteBuffer alignedChunk(long gpa, int size) {
        if ((gpa & (size - 1)) != 0) {
            throw new GuestMemoryException(GuestMemoryException.Reason.MISALIGNED, gpa, size);
        }
        Region r = regionOf(gpa, size);
        return r.chunks[(int) ((gpa - r.base) >>> chunkShift)];
    }

    private int offset(long gpa) {
        // Regions are page aligned and chunks are powers of two, so the offset in the chunk is the low bits.
        Region r = regionFor(gpa, 1);
        return (int) ((gpa - r.base) & chunkMask);
    }

    /** Acquire load of an aligned 16-bit value. */
    public short loadAcquire16(long gpa) {
        ByteBuffer c = alignedChunk(gpa, 2);
        return (short) I16.getAcquire(c, offset(gpa));
    }

    /** Acquire load of an aligned 32-bit value. */
    public int loadAcquire32(long gpa) {
        ByteBuffer c = alignedChunk(gpa, 4);
        return (int) I32.getAcquire(c, offset(gpa));
    }

    /** Acquire load of an aligned 64-bit value. */
    public long loadAcquire64(long gpa) {
        ByteBuffer c = alignedChunk(gpa, 8);
        return (long) I64.getAcquire(c, offset(gpa));
    }

    /** Release store of an aligned 16-bit value. */
    public void storeRelease16(long gpa, short value) {
        ByteBuffer c = alignedChunk(gpa, 2);
        I16.setRelease(c, offset(gpa), value);
    }

    /** Release store of an aligned 32-bit value. */
    public void storeRelease32(long gpa, int value) {
        ByteBuffer c = alignedChunk(gpa, 4);
        I32.setRelease(c, offset(gpa), value);
    }

    /** Release store of an aligned 64-bit value. */
    public void storeRelease64(long gpa, long value) {
        ByteBuffer c = alignedChunk(gpa, 8);
        I64.setRelease(c, offset(gpa), value);
    }

    /** Atomic compare-and-set of an aligned 32-bit value (volatile semantics). */
    public boolean compareAndSet32(long gpa, int expected, int value) {
        ByteBuffer c = alignedChunk(gpa, 4);
        return I32.compareAndSet(c, offset(gpa), expected, value);
    }

    /** Atomic compare-and-set of an aligned 64-bit value (volatile semantics). */
    public boolean compareAndSet64(long gpa, long expected, long value) {
        ByteBuffer c = alignedChunk(gpa, 8);
        return I64.compareAndSet(c, offset(gpa), expected, value);
    }

    /** Atomic OR into an aligned 32-bit value; returns the previous value (volatile semantics). */
    public int getAndOr32(long gpa, int bits) {
        ByteBuffer c = alignedChunk(gpa, 4);
        return (int) I32.getAndBitwiseOr(c, offset(gpa), bits);
    }

    /** Atomic AND into an aligned 32-bit value; returns the previous value (volatile semantics). */
    public int getAndAnd32(long gpa, int bits) {
        ByteBuffer c = alignedChunk(gpa, 4);
        return (int) I32.getAndBitwiseAnd(c, offset(gpa), bits);
    }

    /**
     * Atomically sets bit {@code bit} (0..7) of the byte at {@code gpa}, the layout of a GIC pending table
     * (INTID n is bit n % 8 of byte n / 8). Works on the aligned 32-bit word that holds the byte, so concurrent
     * setters of neighbouring bits never lose each other's updates.
     *
     * @return whether the bit was already set
     */
    public boolean setBitAtomic(long gpa, int bit) {
        int mask = bitMask(gpa, bit);
        return (getAndOr32(gpa & ~3L, mask) & mask) != 0;
    }

    /** Atomically clears bit {@code bit} of the byte at {@code gpa}; returns whether it was set. See {@link #setBitAtomic}. */
    public boolean clearBitAtomic(long gpa, int bit) {
        int mask = bitMask(gpa, bit);
        return (getAndAnd32(gpa & ~3L, ~mask) & mask) != 0;
    }

    private static int bitMask(long gpa, int bit) {
        if (bit < 0 || bit > 7) {
            throw new IllegalArgumentException("bit must be in 0..7, got " + bit);
        }
        return 1 << ((int) (gpa & 3) * 8 + bit);
    }

    /** A full fence: no load or store of this thread moves across it in either direction. */
    public static void fullFence() {
        VarHandle.fullFence();
    }

    // ------------------------------------------------------------------------------------------------ bulk

    /** Copies {@code length} bytes from guest memory at {@code gpa} into {@code dst[offset..]}. */
    public void read(long gpa, byte[] dst, int offset, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, dst.length);
        copy(gpa, false, dst, null, offset, length);
    }

    /** Copies {@code src[offset..offset+length)} into guest memory at {@code gpa}. */
    public void write(long gpa, byte[] src, int offset, int length) {
        java.util.Objects.checkFromIndexSize(offset, length, src.length);
        copy(gpa, true, src, null, offset, length);
    }

    /** Copies {@code dst.remaining()} bytes from {@code gpa} into {@code dst}, advancing its position. */
    public void read(long gpa, ByteBuffer dst) {
        int pos = dst.position();
        int length = dst.remaining();
        copy(gpa, false, null, dst, pos, length);
        dst.position(pos + length);
    }

    /** Copies {@code src.remaining()} bytes of {@code src} to {@code gpa}, advancing its position. */
    public void write(long gpa, ByteBuffer src) {
        int pos = src.position();
        int length = src.remaining();
        copy(gpa, true, null, src, pos, length);
        src.position(pos + length);
    }

    /**
     * Copies {@code length} bytes of {@code src} from its index {@code srcIndex} to {@code gpa}. Neither the position
     * nor the limit of {@code src} moves, so a buffer shared by threads can be a source. Allocation-free.
     */
    public void write(long gpa, ByteBuffer src, int srcIndex, int length) {
        java.util.Objects.checkFromIndexSize(srcIndex, length, src.capacity());
        copy(gpa, true, null, src, srcIndex, length);
    }

    /**
     * Copies {@code length} bytes from {@code gpa} into {@code dst} at its index {@code dstIndex}. Neither the
     * position nor the limit of {@code dst} moves. Allocation-free.
     */
    public void read(long gpa, ByteBuffer dst, int dstIndex, int length) {
        java.util.Objects.checkFromIndexSize(dstIndex, length, dst.capacity());
        copy(gpa, false, null, dst, dstIndex, length);
    }

    /**
     * The walk over the chunks of {@code [gpa, gpa + length)} that every bulk copy takes, after checking the whole
     * range: into guest memory ({@code toGuest}) or out of it, from or to {@code array} or, when that is null,
     * {@code buffer}, starting at their index {@code index}. Absolute accesses only: no position or limit moves.
     */
    private void copy(long gpa, boolean toGuest, byte[] array, ByteBuffer buffer, int index, int length) {
        checkRange(gpa, length);
        long addr = gpa;
        int done = 0;
        while (done < length) {
            ByteBuffer c = chunkAt(addr);
            int o = offset(addr);
            int n = Math.min(length - done, c.capacity() - o);
            int at = index + done;
            if (array != null) {
                if (toGuest) {
                    c.put(o, array, at, n);
                } else {
                    c.get(o, array, at, n);
                }
            } else if (toGuest) {
                c.put(o, buffer, at, n);
            } else {
                buffer.put(at, c, o, n);
            }
            done += n;
            addr += n;
        }
    }

    /**
     * A view of guest RAM from {@code gpa}: a little-endian {@link ByteBuffer} whose position is {@code gpa}'s byte
     * and whose limit ends the range after {@code maxLength} bytes or at the end of the chunk that holds
     * {@code gpa}, whichever comes first ({@code remaining()} says how many bytes it covers; a copy that crosses a
     * chunk takes one view per chunk). The view belongs to the calling thread and is reused by its next call, so
     * taking one allocates nothing once the thread has seen the chunk; the caller may move its position and limit
     * freely and must not keep it. For copies to and from buffers that only take a {@code ByteBuffer} (Netty's
     * {@code ByteBuf.setBytes}, a channel's {@code read}).
     *
     * @throws GuestMemoryException when {@code gpa} is not RAM
     */
    public ByteBuffer view(long gpa, int maxLength) {
        if (maxLength < 0) {
            throw new GuestMemoryException(GuestMemoryException.Reason.BAD_LENGTH, gpa, maxLength);
        }
        ByteBuffer v = viewAt(gpa);
        int o = offset(gpa);
        v.limit((int) Math.min((long) o + maxLength, v.capacity())).position(o);
        return v;
    }

    /**
     * The chunk of host memory that holds {@code gpa}: its buffer and {@code gpa}'s offset in it, for code that looks
     * a guest page up once and then accesses it directly, as a CPU's translation lookaside buffer does. A chunk is
     * at least the 4 KiB page that holds {@code gpa} (regions are page-aligned and chunks are power-of-two sized),
     * so a page never spans two chunks. The buffer is shared by every thread: use its absolute accessors only and
     * never move its position or limit. It stays valid until {@link #close()}.
     *
     * @throws GuestMemoryException when {@code gpa} is not RAM
     */
    public HostChunk hostChunk(long gpa) {
        ByteBuffer c = chunkAt(gpa);
        int o = offset(gpa);
        return new HostChunk(c, o, c.capacity() - o);
    }

    /**
     * Guest RAM as host memory ({@link #hostChunk}).
     *
     * @param buffer the chunk's memory, little-endian, shared: absolute accesses only
     * @param offset where the guest physical address asked for lies in {@code buffer}
     * @param length bytes of RAM from {@code offset} to the end of the chunk
     */
    public record HostChunk(ByteBuffer buffer, int offset, int length) {
    }

    /** Sets {@code length} bytes at {@code gpa} to {@code value}. */
    public void fill(long gpa, long length, byte value) {
        checkRange(gpa, length);
        long addr = gpa;
        long left = length;
        while (left > 0) {
            ByteBuffer c = chunkAt(addr);
            int o = offset(addr);
            int n = (int) Math.min(left, c.capacity() - o);
            if (value == 0 && n >= 64) {
                for (int i = 0; i + 8 <= n; i += 8) {
                    c.putLong(o + i, 0L);
                }
                for (int i = n & ~7; i < n; i++) {
                    c.put(o + i, (byte) 0);
                }
            } else {
                for (int i = 0; i < n; i++) {
                    c.put(o + i, value);
                }
            }
            left -= n;
            addr += n;
        }
    }

    private ByteBuffer chunkAt(long addr) {
        Region r = regionOf(addr, 1);
        return r.chunks[(int) ((addr - r.base) >>> chunkShift)];
    }

    private ByteBuffer viewAt(long addr) {
        Region[] rs = regions;
        for (int i = 0; i < rs.length; i++) {
            Region r = rs[i];
            if (Long.compareUnsigned(addr - r.base, r.size) < 0) {
                int c = (int) ((addr - r.base) >>> chunkShift);
                ByteBuffer[][] mine = views.get();
                ByteBuffer[] perRegion = mine[i];
                if (perRegion == null) {
                    perRegion = mine[i] = new ByteBuffer[r.chunks.length];
                }
                ByteBuffer v = perRegion[c];
                if (v == null) {
                    v = perRegion[c] = r.chunks[c].duplicate().order(ByteOrder.LITTLE_ENDIAN);
                }
                return v;
            }
        }
        throw outOfRange(addr, 1);
    }

    // ------------------------------------------------------------------------------------------------ direct

    /**
     * The little-endian buffer that backs the RAM page (4 KiB) holding {@code gpa}, for a CPU's software TLB: the
     * page's bytes are at {@link #bufferOffset}{@code (gpa)} onwards, and the whole page lies in the buffer. Use only
     * absolute accesses and never move the buffer's position or limit (it is shared). Returns null when the page is
     * not RAM. The same lifetime rule as every accessor: only while the memory is open (the {@code Machine} joins
     * every vCPU before {@link #close()}).
     */
    public ByteBuffer pageBuffer(long gpa) {
        long page = gpa & -RamRegion.PAGE_SIZE;
        Region r = regionFor(page, (int) RamRegion.PAGE_SIZE);
        if (r == null) {
            return null;
        }
        return r.chunks[(int) ((page - r.base) >>> chunkShift)];
    }

    /** The index of {@code gpa} in {@link #pageBuffer}{@code (gpa)}. */
    public int bufferOffset(long gpa) {
        Region r = regionOf(gpa, 1);
        return (int) ((gpa - r.base) & chunkMask);
    }

    // ------------------------------------------------------------------------------------------------ lifetime

    /**
     * Releases the off-heap RAM. Every later access fails with {@link GuestMemoryException.Reason#CLOSED}. The caller
     * must have stopped every thread that could still be inside an accessor: the memory is freed immediately.
     */
    @Override
    public synchronized void close() {
        Region[] rs = regions;
        if (rs == CLOSED) {
            return;
        }
        regions = CLOSED;
        for (Region r : rs) {
            free(r);
        }
    }

    private static void free(Region r) {
        if (r == null) {
            return;
        }
        for (OffHeap owner : r.owners) {
            if (owner != null) {
                owner.free();
            }
        }
        Arrays.fill(r.owners, null);
        Arrays.fill(r.chunks, null);
    }

    public boolean isClosed() {
        return regions == CLOSED;
    }

    @Override
    public String toString() {
        return "GuestMemory" + layout;
    }
}
