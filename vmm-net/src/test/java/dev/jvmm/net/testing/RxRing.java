package dev.jvmm.net.testing;

import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.vcpu.GuestAccess;
import dev.jvmm.net.virtio.SplitVirtqDescriptor;

import static dev.jvmm.net.virtio.SplitVirtqDescriptor.AVAIL_IDX;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.AVAIL_RING;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.DESC_ADDR;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.DESC_FLAGS;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.DESC_LEN;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.DESC_SIZE;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.USED_ELEM_ID;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.USED_ELEM_LEN;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.USED_ELEM_SIZE;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.USED_IDX;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.USED_RING;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.VIRTQ_DESC_F_WRITE;
import static dev.jvmm.net.virtio.VirtioMmioRegisterDescriptor.QUEUE_NOTIFY;

/**
 * The test kit's allocation-free receive loop, for benchmarks: one device-writable buffer per descriptor of a receive
 * queue, posted once, then reaped and posted again the way a NAPI poll does, with the notification rules of
 * VIRTIO_F_EVENT_IDX (virtio 1.x, 2.7.10): after each reap the driver asks for an interrupt {@code batch} used entries
 * on (used_event), and rings QueueNotify only when the device's avail_event asks for it.
 *
 * <pre>{@code
 * RxRing ring = driver.startRxRing(256, 1526, 1);   // bring-up through the driver; every buffer posted
 * while (running) {
 *     if (!ring.armInterrupt()) cpu.waitForInterrupt();   // a guest on a vCPU; a test thread just polls
 *     ring.reap();
 * }
 * }</pre>
 *
 * <p>Nothing is allocated after construction. Not thread-safe: one thread plays the guest. The device arms avail_event
 * only when it runs out of buffers, which never happens while the ring is reaped; but a stale avail_event is an index
 * the 16-bit avail index passes once every 65,536 re-posts, and then the driver rings, as Linux's would, so
 * {@link #doorbells()} grows by one per 65,536 buffers: a no-op kick for the device.
 */
public final class RxRing {
    private final GuestAccess guest;
    private final GuestMemory memory;
    private final long notifyRegister;
    private final int queueIndex;
    private final int size;
    private final int bufferSize;
    private final int batch;
    private final long avail;
    private final long used;
    private final long buffers;
    private final long usedEventAddr;
    private final long availEventAddr;
    private int availIdx;
    private int lastUsed;
    private long reaped;
    private long doorbells;
    private int lastLength;

    /**
     * Posts every buffer of {@code queue} (not yet notified).
     *
     * @param mmioBase   the device's virtio-mmio window (for QueueNotify)
     * @param buffers    guest physical address of {@code queue.size()} buffers of {@code bufferSize} bytes each
     * @param bufferSize bytes per buffer: the 12-byte virtio-net header plus the largest frame expected
     * @param batch      interrupt every {@code batch} used entries (1: every entry)
     */
    RxRing(GuestAccess guest, long mmioBase, GuestQueue queue, long buffers, int bufferSize, int batch) {
        this.guest = guest;
        this.memory = guest.memory();
        this.notifyRegister = mmioBase + QUEUE_NOTIFY;
        this.queueIndex = queue.index();
        this.size = queue.size();
        this.bufferSize = bufferSize;
        this.batch = Math.max(1, batch);
        this.avail = queue.availAddr();
        this.used = queue.usedAddr();
        this.buffers = buffers;
        this.usedEventAddr = avail + SplitVirtqDescriptor.usedEventOffset(size);
        this.availEventAddr = used + SplitVirtqDescriptor.availEventOffset(size);
        long desc = queue.descAddr();
        for (int i = 0; i < size; i++) {
            long d = desc + (long) DESC_SIZE * i;
            memory.write64(d + DESC_ADDR, buffer(i));
            memory.write32(d + DESC_LEN, bufferSize);
            memory.write16(d + DESC_FLAGS, (short) VIRTQ_DESC_F_WRITE);
            memory.write16(avail + AVAIL_RING + 2L * i, (short) i);
        }
        availIdx = size;
        memory.write16(usedEventAddr, (short) (this.batch - 1));
        memory.storeRelease16(avail + AVAIL_IDX, (short) availIdx);
    }

    /** Rings the queue's doorbell (QueueNotify) and counts it. */
    void notifyDevice() {
        guest.mmioWrite32(notifyRegister, queueIndex);
        doorbells++;
    }

    /** Guest physical address of receive buffer {@code i}. */
    public long buffer(int i) {
        return buffers + (long) i * bufferSize;
    }

    /**
     * Asks for an interrupt at the next {@code batch} used entries (used_event), then looks again: true when entries
     * are waiting already (reap them rather than wait, the interrupt may be past), false when the driver may wait for
     * the interrupt.
     */
    public boolean armInterrupt() {
        memory.write16(usedEventAddr, (short) (lastUsed + batch - 1));
        GuestMemory.fullFence();
        return (memory.loadAcquire16(used + USED_IDX) & 0xFFFF) != lastUsed;
    }

    /** The length the device wrote into the last reaped used entry (header + frame). */
    public int lastLength() {
        return lastLength;
    }

    /**
     * Reaps every used entry, posts its buffer again, asks for the next interrupt (used_event) and rings QueueNotify
     * if the device asked for it (avail_event). Returns how many entries it reaped.
     */
    public int reap() {
        int u = memory.loadAcquire16(used + USED_IDX) & 0xFFFF;
        if (u == lastUsed) {
            return 0;
        }
        int oldAvail = availIdx;
        int n = 0;
        while (lastUsed != u) {
            long elem = used + USED_RING + (long) USED_ELEM_SIZE * (lastUsed & (size - 1));
            int id = memory.read32(elem + USED_ELEM_ID);
            lastLength = memory.read32(elem + USED_ELEM_LEN);
            memory.write16(avail + AVAIL_RING + 2L * (availIdx & (size - 1)), (short) id);
            availIdx = (availIdx + 1) & 0xFFFF;
            lastUsed = (lastUsed + 1) & 0xFFFF;
            n++;
        }
        memory.write16(usedEventAddr, (short) (lastUsed + batch - 1));
        memory.storeRelease16(avail + AVAIL_IDX, (short) availIdx);
        GuestMemory.fullFence();
        int availEvent = memory.read16(availEventAddr) & 0xFFFF;
        if (SplitVirtqDescriptor.needEvent(availEvent, availIdx, oldAvail)) {
            notifyDevice();
        }
        reaped += n;
        return n;
    }

    /** Used entries reaped since the start. */
    public long reaped() {
        return reaped;
    }

    /** The descriptor id of the used entry {@code back} entries before the last one reaped (0: the last). */
    public int usedId(int back) {
        int idx = (lastUsed - 1 - back) & (size - 1);
        return memory.read32(used + USED_RING + (long) USED_ELEM_SIZE * idx + USED_ELEM_ID);
    }

    /** QueueNotify writes since the start (the bring-up's included). */
    public long doorbells() {
        return doorbells;
    }

}
