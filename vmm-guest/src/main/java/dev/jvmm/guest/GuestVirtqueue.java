package dev.jvmm.guest;

import dev.jvmm.core.memory.GuestMemory;

/**
 * The driver side of a split virtqueue, as Linux's {@code virtio_ring.c} keeps it: the descriptor table, the
 * available ring the driver writes and the used ring the device writes, all in guest RAM.
 *
 * <pre>
 *  desc  [N] { u64 addr, u32 len, u16 flags, u16 next }              align 16
 *  avail { u16 flags, u16 idx, u16 ring[N], u16 used_event }          align 2
 *  used  { u16 flags, u16 idx, {u32 id, u32 len} ring[N], u16 avail_event }   align 4
 * </pre>
 *
 * The toy driver gives every descriptor its own buffer for the queue's lifetime ({@code desc[i]} always points at
 * buffer i), so a descriptor index names a buffer.
 */
final class GuestVirtqueue {
    static final int DESC_SIZE = 16;
    static final int VIRTQ_DESC_F_NEXT = 1;
    static final int VIRTQ_DESC_F_WRITE = 2;
    static final int VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
    static final int VIRTQ_USED_F_NO_NOTIFY = 1;

    final int index;
    final int size;
    final long desc;
    final long avail;
    final long used;
    final long buffers;
    final int bufferSize;
    private final GuestMemory ram;
    private final boolean deviceWrites;
    private boolean eventIdx;

    /** The driver's copy of avail.idx (the next free avail slot, free-running 16-bit). */
    private int availIdx;
    /** The used.idx value the driver has consumed up to (free-running 16-bit). */
    int lastUsed;

    GuestVirtqueue(GuestMemory ram, GuestAllocator alloc, int index, int size, int bufferSize, boolean deviceWrites,
                   boolean eventIdx) {
        this.ram = ram;
        this.index = index;
        this.size = size;
        this.bufferSize = bufferSize;
        this.deviceWrites = deviceWrites;
        this.desc = alloc.allocate((long) DESC_SIZE * size, 4096);
        this.avail = alloc.allocate(6L + 2L * size, 4096);
        this.used = alloc.allocate(6L + 8L * size, 4096);
        this.buffers = alloc.allocate((long) bufferSize * size, 4096);
        reset(eventIdx);
    }

    /** Puts the rings in their initial state (at setup, and again after a device reset): same memory, fresh indices. */
    GuestVirtqueue reset(boolean useEventIdx) {
        this.eventIdx = useEventIdx;
        availIdx = 0;
        lastUsed = 0;
        GuestOs.zero(ram, desc, (long) DESC_SIZE * size);
        GuestOs.zero(ram, avail, 6L + 2L * size);
        GuestOs.zero(ram, used, 6L + 8L * size);
        for (int i = 0; i < size; i++) {
            long d = desc + (long) DESC_SIZE * i;
            ram.write64(d, buffer(i));
            ram.write32(d + 8, bufferSize);
            ram.write16(d + 12, (short) (deviceWrites ? VIRTQ_DESC_F_WRITE : 0));
            ram.write16(d + 14, (short) 0);
        }
        return this;
    }

    long buffer(int descIndex) {
        return buffers + (long) bufferSize * descIndex;
    }

    /** Sets the length of descriptor {@code i} (a transmit buffer's frame length). */
    void setLength(int i, int len) {
        ram.write32(desc + (long) DESC_SIZE * i + 8, len);
    }

    /** Puts descriptor {@code i} in the next avail slot (not yet published). */
    void post(int descIndex) {
        ram.write16(avail + 4 + 2L * (availIdx % size), (short) descIndex);
        availIdx = (availIdx + 1) & 0xFFFF;
    }

    /**
     * Publishes the posted descriptors (release store of avail.idx) and says whether the device wants a
     * notification: with EVENT_IDX when avail_event lies in the published range, otherwise unless NO_NOTIFY.
     */
    boolean publish(int oldAvailIdx) {
        ram.storeRelease16(avail + 2, (short) availIdx);
        // The device reads avail.idx then writes avail_event; we wrote avail.idx then read avail_event: a full fence
        // between our store and our load keeps one of us from missing the other (virtio 1.x, 2.7.10).
        GuestMemory.fullFence();
        if (eventIdx) {
            int availEvent = ram.loadAcquire16(used + 4 + 8L * size) & 0xFFFF;
            return needEvent(availEvent, availIdx, oldAvailIdx);
        }
        return (ram.loadAcquire16(used) & VIRTQ_USED_F_NO_NOTIFY) == 0;
    }

    int availIdx() {
        return availIdx;
    }

    /** vring_need_event: whether {@code event} lies in (old, new]. */
    static boolean needEvent(int event, int newIdx, int oldIdx) {
        return ((newIdx - event - 1) & 0xFFFF) < ((newIdx - oldIdx) & 0xFFFF);
    }

    /** used.idx with acquire: entries below it are complete. */
    int usedIdx() {
        return ram.loadAcquire16(used + 2) & 0xFFFF;
    }

    int usedId(int slot) {
        return ram.read32(used + 4 + 8L * (slot % size));
    }

    int usedLen(int slot) {
        return ram.read32(used + 4 + 8L * (slot % size) + 4);
    }

    /**
     * Re-arms the used-buffer interrupt after the driver consumed up to {@link #lastUsed}, and says whether more
     * entries arrived meanwhile (the caller must then reap again rather than wait for an interrupt that may not
     * come).
     */
    boolean enableInterrupts() {
        if (eventIdx) {
            ram.storeRelease16(avail + 4 + 2L * size, (short) lastUsed);
        } else {
            ram.storeRelease16(avail, (short) 0);
        }
        GuestMemory.fullFence();
        return usedIdx() != lastUsed;
    }
}
