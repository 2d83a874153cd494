package dev.jvmm.bench;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.net.virtio.VirtioFeatures;
import dev.jvmm.net.virtio.VirtqLayout;

import static dev.jvmm.net.virtio.VirtioMmioRegisters.DRIVER_FEATURES;
import static dev.jvmm.net.virtio.VirtioMmioRegisters.DRIVER_FEATURES_SEL;
import static dev.jvmm.net.virtio.VirtioMmioRegisters.QUEUE_DESC_HIGH;
import static dev.jvmm.net.virtio.VirtioMmioRegisters.QUEUE_DESC_LOW;
import static dev.jvmm.net.virtio.VirtioMmioRegisters.QUEUE_DEVICE_HIGH;
import static dev.jvmm.net.virtio.VirtioMmioRegisters.QUEUE_DEVICE_LOW;
import static dev.jvmm.net.virtio.VirtioMmioRegisters.QUEUE_DRIVER_HIGH;
import static dev.jvmm.net.virtio.VirtioMmioRegisters.QUEUE_DRIVER_LOW;
import static dev.jvmm.net.virtio.VirtioMmioRegisters.QUEUE_NOTIFY;
import static dev.jvmm.net.virtio.VirtioMmioRegisters.QUEUE_NUM;
import static dev.jvmm.net.virtio.VirtioMmioRegisters.QUEUE_READY;
import static dev.jvmm.net.virtio.VirtioMmioRegisters.QUEUE_SEL;
import static dev.jvmm.net.virtio.VirtioMmioRegisters.STATUS;
import static dev.jvmm.net.virtio.VirtioStatus.ACKNOWLEDGE;
import static dev.jvmm.net.virtio.VirtioStatus.DEVICE_NEEDS_RESET;
import static dev.jvmm.net.virtio.VirtioStatus.DRIVER;
import static dev.jvmm.net.virtio.VirtioStatus.DRIVER_OK;
import static dev.jvmm.net.virtio.VirtioStatus.FEATURES_OK;
import static dev.jvmm.net.virtio.VirtqLayout.AVAIL_IDX;
import static dev.jvmm.net.virtio.VirtqLayout.AVAIL_RING;
import static dev.jvmm.net.virtio.VirtqLayout.DESC_ADDR;
import static dev.jvmm.net.virtio.VirtqLayout.DESC_FLAGS;
import static dev.jvmm.net.virtio.VirtqLayout.DESC_F_WRITE;
import static dev.jvmm.net.virtio.VirtqLayout.DESC_LEN;
import static dev.jvmm.net.virtio.VirtqLayout.DESC_SIZE;
import static dev.jvmm.net.virtio.VirtqLayout.USED_ELEM_ID;
import static dev.jvmm.net.virtio.VirtqLayout.USED_ELEM_LEN;
import static dev.jvmm.net.virtio.VirtqLayout.USED_ELEM_SIZE;
import static dev.jvmm.net.virtio.VirtqLayout.USED_IDX;
import static dev.jvmm.net.virtio.VirtqLayout.USED_RING;

/**
 * A receive-only virtio-net driver for one NIC, run by the benchmark thread as if it were the guest on vCPU 0: it
 * brings the device up through MMIO on the bus, posts one buffer per receive descriptor, and afterwards
 * {@link #reap() reaps} used entries and re-posts their buffers, the way a NAPI poll does.
 *
 * <pre>
 *  RAM_BASE + 1 MiB: rx descriptors │ rx avail │ rx used │ N rx buffers of bufferSize │ tx rings (16, unused)
 * </pre>
 *
 * <h2>Notifications (VIRTIO_F_EVENT_IDX)</h2>
 * After each reap the driver sets used_event to its last seen used index, asking for an interrupt on the very next
 * used entry, so every batch the device completes raises one MSI. It rings QueueNotify only when the device's
 * avail_event asks for it. The device arms avail_event only when it runs out of buffers, which never happens here
 * (buffers go back after every batch); but a stale avail_event is still an index the 16-bit avail index passes once
 * every 65,536 re-posts, and then the driver rings, as Linux's would (the EVENT_IDX notification rule). So
 * {@link #doorbells()} grows by one per 65,536 buffers: a no-op kick for the device.
 *
 * <p>Everything is allocation-free after {@link #start()}. Not thread-safe: one thread plays the guest.
 */
final class RxRingDriver {
    static final long LAYOUT = MemoryMap.RAM_BASE + (1 << 20);
    private static final int TX_SIZE = 16;

    private final GuestMemory memory;
    private final MmioBus bus;
    private final long base;
    private final int size;
    private final int bufferSize;
    private final long desc;
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
     * @param mmioBase   the NIC's virtio-mmio window
     * @param queueSize  receive queue size (a power of two, at most the device's QueueNumMax)
     * @param bufferSize bytes per receive buffer: the 12-byte virtio-net header plus the largest frame expected
     */
    RxRingDriver(GuestMemory memory, MmioBus bus, long mmioBase, int queueSize, int bufferSize) {
        this.memory = memory;
        this.bus = bus;
        this.base = mmioBase;
        this.size = queueSize;
        this.bufferSize = bufferSize;
        this.desc = LAYOUT;
        this.avail = (desc + VirtqLayout.descTableSize(size) + 15) & ~15L;
        this.used = (avail + VirtqLayout.availRingSize(size) + 15) & ~15L;
        this.buffers = (used + VirtqLayout.usedRingSize(size) + 4095) & ~4095L;
        this.usedEventAddr = avail + VirtqLayout.usedEventOffset(size);
        this.availEventAddr = used + VirtqLayout.availEventOffset(size);
    }

    /**
     * The virtio initialisation sequence (section 3.1.1): reset, ACKNOWLEDGE, DRIVER, features VERSION_1 |
     * RING_EVENT_IDX, FEATURES_OK, the receive and transmit queues, every receive buffer posted, DRIVER_OK, and a
     * QueueNotify for the receive queue. The device's activation then waits on its event loop: the caller runs it.
     */
    void start() {
        write(STATUS, 0);
        write(STATUS, ACKNOWLEDGE);
        write(STATUS, ACKNOWLEDGE | DRIVER);
        long features = VirtioFeatures.VERSION_1 | VirtioFeatures.RING_EVENT_IDX;
        write(DRIVER_FEATURES_SEL, 0);
        write(DRIVER_FEATURES, (int) features);
        write(DRIVER_FEATURES_SEL, 1);
        write(DRIVER_FEATURES, (int) (features >>> 32));
        write(STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
        if ((read(STATUS) & FEATURES_OK) == 0) {
            throw new IllegalStateException("the device refused VERSION_1 | RING_EVENT_IDX");
        }
        long txDesc = buffers + (long) size * bufferSize;
        long txAvail = txDesc + VirtqLayout.descTableSize(TX_SIZE);
        long txUsed = (txAvail + VirtqLayout.availRingSize(TX_SIZE) + 15) & ~15L;
        setUpQueue(0, size, desc, avail, used);
        setUpQueue(1, TX_SIZE, txDesc, txAvail, txUsed);
        for (int i = 0; i < size; i++) {
            long d = desc + (long) DESC_SIZE * i;
            memory.write64(d + DESC_ADDR, buffer(i));
            memory.write32(d + DESC_LEN, bufferSize);
            memory.write16(d + DESC_FLAGS, (short) DESC_F_WRITE);
            memory.write16(avail + AVAIL_RING + 2L * i, (short) i);
        }
        availIdx = size;
        memory.write16(usedEventAddr, (short) 0);
        memory.storeRelease16(avail + AVAIL_IDX, (short) availIdx);
        write(STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
        if ((read(STATUS) & DEVICE_NEEDS_RESET) != 0) {
            throw new IllegalStateException("DEVICE_NEEDS_RESET after DRIVER_OK");
        }
        write(QUEUE_NOTIFY, 0);
        doorbells++;
    }

    private void setUpQueue(int q, int n, long d, long a, long u) {
        write(QUEUE_SEL, q);
        write(QUEUE_NUM, n);
        write(QUEUE_DESC_LOW, (int) d);
        write(QUEUE_DESC_HIGH, (int) (d >>> 32));
        write(QUEUE_DRIVER_LOW, (int) a);
        write(QUEUE_DRIVER_HIGH, (int) (a >>> 32));
        write(QUEUE_DEVICE_LOW, (int) u);
        write(QUEUE_DEVICE_HIGH, (int) (u >>> 32));
        write(QUEUE_READY, 1);
    }

    /** Guest physical address of receive buffer {@code i}. */
    long buffer(int i) {
        return buffers + (long) i * bufferSize;
    }

    /**
     * Reaps every used entry, re-posts its buffer, re-arms the interrupt for the next entry (used_event), and rings
     * QueueNotify if the device asked for it (avail_event). Returns how many entries it reaped.
     */
    int reap() {
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
        // Interrupt on the next used entry; then publish the buffers and check whether the device wants a kick.
        memory.write16(usedEventAddr, (short) lastUsed);
        memory.storeRelease16(avail + AVAIL_IDX, (short) availIdx);
        GuestMemory.fullFence();
        int availEvent = memory.read16(availEventAddr) & 0xFFFF;
        if (VirtqLayout.needEvent(availEvent, availIdx, oldAvail)) {
            write(QUEUE_NOTIFY, 0);
            doorbells++;
        }
        reaped += n;
        return n;
    }

    /** Used entries reaped since start. */
    long reaped() {
        return reaped;
    }

    /** QueueNotify writes since start (1 from {@link #start()}). */
    long doorbells() {
        return doorbells;
    }

    /** The length the device wrote into the last reaped used entry (header + frame). */
    int lastLength() {
        return lastLength;
    }

    /** The descriptor id of the used entry {@code back} entries before the last one reaped (0: the last). */
    int usedId(int back) {
        int idx = (lastUsed - 1 - back) & (size - 1);
        return memory.read32(used + USED_RING + (long) USED_ELEM_SIZE * idx + USED_ELEM_ID);
    }

    private void write(int register, int value) {
        bus.write(base + register, 4, value & 0xFFFF_FFFFL);
    }

    private int read(int register) {
        return (int) bus.read(base + register, 4);
    }
}
