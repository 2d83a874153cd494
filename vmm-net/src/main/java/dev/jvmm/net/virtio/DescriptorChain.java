package dev.jvmm.net.virtio;

import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.memory.GuestMemoryException;

import static dev.jvmm.net.virtio.SplitVirtqDescriptor.DESC_ADDR;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.DESC_FLAGS;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.VIRTQ_DESC_F_INDIRECT;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.VIRTQ_DESC_F_NEXT;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.VIRTQ_DESC_F_WRITE;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.DESC_LEN;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.DESC_NEXT;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.DESC_SIZE;

/**
 * One descriptor chain, read once from guest memory into this object's arrays and validated; the device then acts
 * on the copy only (the guest may rewrite its descriptors at any moment). Reusable: {@link #parse} overwrites the
 * previous chain, so parsing allocates nothing.
 *
 * <pre>
 *  head ─▶ desc[h] ─next─▶ desc[n] ─INDIRECT─▶ table[0] ─next─▶ table[k] ─▶ end
 *            │               │                     │               │
 *            ▼               ▼                     ▼               ▼
 *   segments: (addr,len,R) (addr,len,R)      (addr,len,W)    (addr,len,W)   readable ones first, then writable
 * </pre>
 *
 * <h2>Checks (section 2.7.5 and rust-vmm virtio-queue)</h2>
 * the head and every next below the size of their table; at most N descriptors in the descriptor table and at most
 * the table's length in an indirect table (these bound loops), and at most {@code capacity} non-empty buffers;
 * indirect tables only when negotiated, never nested, never combined with NEXT, with a length that is a non-zero
 * multiple of 16; address + length computed without overflow; a total length of at most 2^32 bytes; device-readable
 * buffers before device-writable ones. Zero-length buffers are skipped. Buffer addresses are not checked against RAM
 * here: the guest may change its memory map of buffers at any time, so they are checked at each access.
 */
public final class DescriptorChain {
    private static final long MAX_CHAIN_BYTES = 1L << 32;

    private final long[] address;
    private final int[] length;
    private int head;
    private int count;
    private int readable;
    private long readableBytes;
    private long writableBytes;

    /** @param capacity the largest queue size this chain will be parsed from */
    public DescriptorChain(int capacity) {
        this.address = new long[capacity];
        this.length = new int[capacity];
    }

    /**
     * Reads and validates the chain that starts at descriptor {@code head} of {@code queue}.
     *
     * @return null when the chain is valid (then the accessors describe it), otherwise what is wrong
     */
    public VirtqError parse(SplitQueue queue, int head) {
        this.head = head;
        count = 0;
        readable = 0;
        readableBytes = 0;
        writableBytes = 0;
        int size = queue.size();
        if (head < 0 || head >= size) {
            return VirtqError.HEAD_OUT_OF_RANGE;
        }
        GuestMemory memory = queue.memory();
        long table = queue.descTable();
        int tableSize = size;
        boolean inIndirect = false;
        boolean sawWritable = false;
        int budget = size;
        int i = head;
        try {
            while (true) {
                if (budget-- == 0) {
                    return VirtqError.CHAIN_TOO_LONG;
                }
                long d = table + (long) DESC_SIZE * i;
                // One read of each field into locals: the guest may rewrite the descriptor behind us.
                long addr = memory.read64(d + DESC_ADDR);
                long len = memory.read32(d + DESC_LEN) & 0xFFFF_FFFFL;
                int flags = memory.read16(d + DESC_FLAGS) & 0xFFFF;
                int next = memory.read16(d + DESC_NEXT) & 0xFFFF;
                if ((flags & VIRTQ_DESC_F_INDIRECT) != 0) {
                    if (!queue.indirectAllowed()) {
                        return VirtqError.INDIRECT_NOT_NEGOTIATED;
                    }
                    if (inIndirect) {
                        return VirtqError.NESTED_INDIRECT;
                    }
                    if ((flags & VIRTQ_DESC_F_NEXT) != 0) {
                        return VirtqError.INDIRECT_WITH_NEXT;
                    }
                    if (len == 0 || len % DESC_SIZE != 0) {
                        return VirtqError.INDIRECT_BAD_LENGTH;
                    }
                    if (Long.compareUnsigned(addr + len - 1, addr) < 0) {
                        return VirtqError.ADDRESS_OVERFLOW;
                    }
                    if (!memory.isValid(addr, len)) {
                        return VirtqError.MEMORY;
                    }
                    // next fields are 16 bits, so a larger table could never be walked beyond entry 65535.
                    tableSize = (int) Math.min(len / DESC_SIZE, 65536);
                    table = addr;
                    inIndirect = true;
                    // As rust-vmm does: the table's own length bounds the walk through it (a loop ends here too).
                    budget = tableSize;
                    i = 0;
                    continue;
                }
                if (len != 0) {
                    if (count == address.length) {
                        return VirtqError.CHAIN_TOO_LONG;
                    }
                    if (Long.compareUnsigned(addr + len - 1, addr) < 0) {
                        return VirtqError.ADDRESS_OVERFLOW;
                    }
                    boolean writable = (flags & VIRTQ_DESC_F_WRITE) != 0;
                    if (writable) {
                        sawWritable = true;
                        writableBytes += len;
                    } else {
                        if (sawWritable) {
                            return VirtqError.READABLE_AFTER_WRITABLE;
                        }
                        readable++;
                        readableBytes += len;
                    }
                    if (readableBytes + writableBytes > MAX_CHAIN_BYTES) {
                        return VirtqError.CHAIN_TOO_BIG;
                    }
                    address[count] = addr;
                    // Frames are far below 2 GiB; a longer buffer is only ever partly used.
                    length[count] = (int) Math.min(len, Integer.MAX_VALUE);
                    count++;
                }
                if ((flags & VIRTQ_DESC_F_NEXT) == 0) {
                    return null;
                }
                if (next >= tableSize) {
                    return VirtqError.NEXT_OUT_OF_RANGE;
                }
                i = next;
            }
        } catch (GuestMemoryException e) {
            return VirtqError.MEMORY;
        }
    }

    /** The head descriptor index (the id the used ring reports). */
    public int head() {
        return head;
    }

    /** Non-empty buffers in the chain. */
    public int count() {
        return count;
    }

    /** How many of the first buffers are device-readable (the rest are device-writable). */
    public int readableCount() {
        return readable;
    }

    /** Total length of the device-readable buffers. */
    public long readableBytes() {
        return readableBytes;
    }

    /** Total length of the device-writable buffers. */
    public long writableBytes() {
        return writableBytes;
    }

    /** Guest physical address of buffer {@code i}. */
    public long address(int i) {
        return address[i];
    }

    /** Length of buffer {@code i} (at most {@link Integer#MAX_VALUE}). */
    public int length(int i) {
        return length[i];
    }
}
