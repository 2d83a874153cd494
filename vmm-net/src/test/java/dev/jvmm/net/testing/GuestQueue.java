package dev.jvmm.net.testing;

import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.net.virtio.SplitVirtqDescriptor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.jvmm.net.virtio.SplitVirtqDescriptor.*;

/**
 * The driver side of one split virtqueue, built in real guest memory: what a guest's virtio driver does, written
 * from the specification (section 2.7) independently of the device's code. Raw writers let hostile tests put
 * anything anywhere.
 */
public final class GuestQueue {
    /** A buffer of a chain. */
    public record Buffer(long addr, int len, boolean writable) {
    }

    /** A used ring entry. */
    public record Used(int id, int len) {
    }

    private final GuestMemory mem;
    private final int index;
    private final int size;
    private final long desc;
    private final long avail;
    private final long used;
    private final Deque<Integer> free = new ArrayDeque<>();
    private final Map<Integer, int[]> descriptorsOf = new HashMap<>();
    private final Map<Integer, List<Buffer>> buffersOf = new HashMap<>();
    private int availIdx;
    private int lastUsed;

    public GuestQueue(GuestMemory mem, int index, int size, long desc, long avail, long used) {
        this.mem = mem;
        this.index = index;
        this.size = size;
        this.desc = desc;
        this.avail = avail;
        this.used = used;
        for (int i = 0; i < size; i++) {
            free.add(i);
        }
    }

    public int index() {
        return index;
    }

    public int size() {
        return size;
    }

    public long descAddr() {
        return desc;
    }

    public long availAddr() {
        return avail;
    }

    public long usedAddr() {
        return used;
    }

    public int freeDescriptors() {
        return free.size();
    }

    /** Writes a chain of direct descriptors; returns its head (not yet available). */
    public int add(List<Buffer> buffers) {
        if (buffers.isEmpty() || free.size() < buffers.size()) {
            throw new IllegalStateException("queue " + index + ": no room for a chain of " + buffers.size());
        }
        int[] ids = new int[buffers.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = free.poll();
        }
        for (int i = 0; i < ids.length; i++) {
            Buffer b = buffers.get(i);
            boolean last = i == ids.length - 1;
            writeDescriptor(ids[i], b.addr(), b.len(),
                    (last ? 0 : VIRTQ_DESC_F_NEXT) | (b.writable() ? VIRTQ_DESC_F_WRITE : 0), last ? 0 : ids[i + 1]);
        }
        descriptorsOf.put(ids[0], ids);
        buffersOf.put(ids[0], List.copyOf(buffers));
        return ids[0];
    }

    /** Writes {@code buffers} into an indirect table at {@code table} and one descriptor pointing at it. */
    public int addIndirect(List<Buffer> buffers, long table) {
        int head = free.poll();
        for (int i = 0; i < buffers.size(); i++) {
            Buffer b = buffers.get(i);
            boolean last = i == buffers.size() - 1;
            long d = table + (long) DESC_SIZE * i;
            mem.write64(d + DESC_ADDR, b.addr());
            mem.write32(d + DESC_LEN, b.len());
            mem.write16(d + DESC_FLAGS, (short) ((last ? 0 : VIRTQ_DESC_F_NEXT) | (b.writable() ? VIRTQ_DESC_F_WRITE : 0)));
            mem.write16(d + DESC_NEXT, (short) (last ? 0 : i + 1));
        }
        writeDescriptor(head, table, DESC_SIZE * buffers.size(), VIRTQ_DESC_F_INDIRECT, 0);
        descriptorsOf.put(head, new int[]{head});
        buffersOf.put(head, List.copyOf(buffers));
        return head;
    }

    public void writeDescriptor(int i, long addr, int len, int flags, int next) {
        long d = desc + (long) DESC_SIZE * i;
        mem.write64(d + DESC_ADDR, addr);
        mem.write32(d + DESC_LEN, len);
        mem.write16(d + DESC_FLAGS, (short) flags);
        mem.write16(d + DESC_NEXT, (short) next);
    }

    /** Makes the chains available: ring entries first, then avail.idx with a release store. */
    public void makeAvailable(int... heads) {
        for (int h : heads) {
            mem.write16(avail + AVAIL_RING + 2L * (availIdx % size), (short) h);
            availIdx = (availIdx + 1) & 0xFFFF;
        }
        mem.storeRelease16(avail + AVAIL_IDX, (short) availIdx);
    }

    /** The driver's avail.idx. */
    public int availIdx() {
        return availIdx;
    }

    /** Raw: sets avail.idx to anything (hostile tests). */
    public void setAvailIdxRaw(int idx) {
        availIdx = idx & 0xFFFF;
        mem.storeRelease16(avail + AVAIL_IDX, (short) idx);
    }

    /** Raw: writes an available ring slot. */
    public void setAvailEntryRaw(int slot, int value) {
        mem.write16(avail + AVAIL_RING + 2L * (slot % size), (short) value);
    }

    /** Starts both indices at {@code idx} (before DRIVER_OK, to exercise the 16-bit wrap). */
    public void startAt(int idx) {
        availIdx = idx & 0xFFFF;
        lastUsed = idx & 0xFFFF;
        mem.write16(avail + AVAIL_IDX, (short) idx);
        mem.write16(used + USED_IDX, (short) idx);
    }

    /**
     * Whether the device asked to be notified of the chains made available since {@code oldIdx} (2.7.10): with
     * EVENT_IDX by avail_event, otherwise unless used.flags has NO_NOTIFY.
     */
    public boolean needsNotify(int oldIdx, boolean eventIdx) {
        GuestMemory.fullFence();
        if (eventIdx) {
            int availEvent = mem.read16(used + SplitVirtqDescriptor.availEventOffset(size)) & 0xFFFF;
            return SplitVirtqDescriptor.needEvent(availEvent, availIdx, oldIdx);
        }
        return (mem.read16(used + USED_FLAGS) & VIRTQ_USED_F_NO_NOTIFY) == 0;
    }

    /** used.idx as the device published it (acquire). */
    public int usedIdx() {
        return mem.loadAcquire16(used + USED_IDX) & 0xFFFF;
    }

    /** Used entries published since the last call, in order; their descriptors go back to the free list. */
    public List<Used> reap() {
        List<Used> out = new ArrayList<>();
        int u = usedIdx();
        while (lastUsed != u) {
            long e = used + USED_RING + 8L * (lastUsed % size);
            int id = mem.read32(e + USED_ELEM_ID);
            int len = mem.read32(e + USED_ELEM_LEN);
            out.add(new Used(id, len));
            int[] ids = descriptorsOf.remove(id);
            if (ids != null) {
                for (int i : ids) {
                    free.add(i);
                }
            }
            lastUsed = (lastUsed + 1) & 0xFFFF;
        }
        return out;
    }

    /** The buffers of the chain with head {@code head} (as added). */
    public List<Buffer> buffersOf(int head) {
        return buffersOf.get(head);
    }

    public void forget(int head) {
        buffersOf.remove(head);
    }

    public void setUsedEvent(int v) {
        mem.write16(avail + SplitVirtqDescriptor.usedEventOffset(size), (short) v);
    }

    public void setAvailFlags(int flags) {
        mem.write16(avail + AVAIL_FLAGS, (short) flags);
    }

    public int usedFlags() {
        return mem.read16(used + USED_FLAGS) & 0xFFFF;
    }

    public int availEvent() {
        return mem.read16(used + SplitVirtqDescriptor.availEventOffset(size)) & 0xFFFF;
    }

    /** Where the driver is: the next used entry it will read. */
    public int lastUsed() {
        return lastUsed;
    }
}
