package dev.jvmm.guest;

import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.vcpu.GuestCpu;

/**
 * The toy guest's virtio-net driver for one virtio-mmio (version 2) slot, following the driver initialisation
 * sequence of the virtio 1.x specification (3.1.1) as Linux's {@code virtio_mmio.c} and {@code virtio_net.c}
 * perform it: reset, ACKNOWLEDGE, DRIVER, feature negotiation, FEATURES_OK (and check it stuck), queue setup,
 * DRIVER_OK; then receive buffers are kept posted and re-posted after each interrupt.
 *
 * <p>Queue 0 receives, queue 1 transmits. Interrupts arrive as LPIs, one EventID per queue (EventID = queue index)
 * and one for configuration changes (EventID = number of queues), which the boot code maps with MAPTI; or, for a
 * NIC without an MSI parent, as the slot's one wired SPI, whose reason InterruptStatus gives (virtio 1.x, 4.2.3.4).
 */
final class VirtioNetDriver {
    // virtio-mmio register offsets (virtio 1.x, 4.2.2).
    static final long MAGIC = 0x000;
    static final long VERSION = 0x004;
    static final long DEVICE_ID = 0x008;
    static final long DEVICE_FEATURES = 0x010;
    static final long DEVICE_FEATURES_SEL = 0x014;
    static final long DRIVER_FEATURES = 0x020;
    static final long DRIVER_FEATURES_SEL = 0x024;
    static final long QUEUE_SEL = 0x030;
    static final long QUEUE_NUM_MAX = 0x034;
    static final long QUEUE_NUM = 0x038;
    static final long QUEUE_READY = 0x044;
    static final long QUEUE_NOTIFY = 0x050;
    static final long INTERRUPT_STATUS = 0x060;
    static final long INTERRUPT_ACK = 0x064;
    static final long STATUS = 0x070;
    static final long QUEUE_DESC_LOW = 0x080;
    static final long QUEUE_DESC_HIGH = 0x084;
    static final long QUEUE_DRIVER_LOW = 0x090;
    static final long QUEUE_DRIVER_HIGH = 0x094;
    static final long QUEUE_DEVICE_LOW = 0x0a0;
    static final long QUEUE_DEVICE_HIGH = 0x0a4;
    static final long CONFIG_GENERATION = 0x0fc;
    static final long CONFIG = 0x100;

    static final int MAGIC_VALUE = 0x74726976;
    static final int VIRTIO_ID_NET = 1;

    static final int ACKNOWLEDGE = 1;
    static final int DRIVER = 2;
    static final int DRIVER_OK = 4;
    static final int FEATURES_OK = 8;
    static final int DEVICE_NEEDS_RESET = 64;
    static final int FAILED = 128;

    /** InterruptStatus bits (virtio 1.x, 4.2.2): a used buffer, a configuration change. */
    static final int INT_USED_BUFFER = 1;
    static final int INT_CONFIG = 2;

    static final int VIRTIO_NET_F_MAC = 5;
    static final int VIRTIO_NET_F_MRG_RXBUF = 15;
    static final int VIRTIO_NET_F_STATUS = 16;
    static final int VIRTIO_NET_F_CTRL_VQ = 17;
    static final int VIRTIO_NET_F_MQ = 22;
    /** virtio_net_config.max_virtqueue_pairs (valid with VIRTIO_NET_F_MQ). */
    static final long CONFIG_MAX_PAIRS = 8;
    static final int VIRTIO_F_EVENT_IDX = 29;
    static final int VIRTIO_F_VERSION_1 = 32;

    static final int RX_QUEUE = 0;
    static final int TX_QUEUE = 1;
    static final int NET_HDR = 12;
    /** A receive buffer without MRG_RXBUF must hold the header and a 1514-byte frame (virtio 1.x, 5.1.6.3.1). */
    static final int RX_BUFFER = 2048;
    static final int TX_BUFFER = 2048;
    static final int MAX_FRAME = 65535 + 14;

    private final GuestCpu cpu;
    private final GuestMemory ram;
    private final long base;
    final GuestPlatform.Nic nic;
    private final int queueSizeLimit;
    private GuestVirtqueue rx;
    private GuestVirtqueue tx;
    private boolean mergeable;
    private boolean eventIdx;
    /** The most queues the device can have: 2 per pair, plus a control queue. */
    private int queueCount = 2;
    private GuestAllocator allocator;
    private int resets;
    private long discarded;
    final byte[] mac = new byte[6];
    /** Free transmit descriptors (a stack). */
    private int[] txFree;
    private int txFreeCount;
    /** Where a received frame is gathered (the guest's socket buffer). */
    final byte[] frame = new byte[MAX_FRAME];

    VirtioNetDriver(GuestCpu cpu, GuestPlatform.Nic nic, int queueSizeLimit) {
        this.cpu = cpu;
        this.ram = cpu.memory();
        this.base = nic.mmioBase();
        this.nic = nic;
        this.queueSizeLimit = queueSizeLimit;
    }

    private int reg(long off) {
        return (int) cpu.mmioRead(base + off, 4);
    }

    private void reg(long off, int value) {
        cpu.mmioWrite(base + off, 4, value & 0xFFFF_FFFFL);
    }

    /** Whether the slot holds a version 2 virtio-net device. */
    boolean probe() {
        return reg(MAGIC) == MAGIC_VALUE && reg(VERSION) == 2 && reg(DEVICE_ID) == VIRTIO_ID_NET;
    }

    /**
     * Number of EventIDs the device raises: one per queue it can have and one, the last, for configuration changes.
     * The platform numbers them by queue index whatever the driver negotiates, so a driver that uses one queue pair
     * still maps them all.
     */
    int eventCount() {
        return queueCount + 1;
    }

    /** The EventID of the configuration-change interrupt. */
    int configEvent() {
        return queueCount;
    }

    /**
     * Resets the device and brings it up again on the same ring memory: the recovery from DEVICE_NEEDS_RESET, or a
     * reset the guest chooses. Frames the device held are lost (it counts them); the interrupt mapping stays.
     */
    void reinitialize() {
        reg(STATUS, 0);
        // Once the reset has taken effect the device writes no more; what it had completed and we had not yet
        // taken is thrown away with the rings: count it, so that every frame stays accounted for.
        if (rx != null) {
            discarded += (rx.usedIdx() - rx.lastUsed) & 0xFFFF;
        }
        init(allocator);
        start();
        resets++;
    }

    int resets() {
        return resets;
    }

    /** Received frames thrown away by resets (completed by the device, not yet taken by the driver). */
    long discarded() {
        return discarded;
    }

    /** Initialises the device up to (not including) DRIVER_OK. */
    void init(GuestAllocator alloc) {
        this.allocator = alloc;
        reg(STATUS, 0);
        if (reg(STATUS) != 0) {
            throw new GuestPanic(name() + ": status did not reset to 0");
        }
        reg(STATUS, ACKNOWLEDGE);
        reg(STATUS, ACKNOWLEDGE | DRIVER);
        reg(DEVICE_FEATURES_SEL, 0);
        long offered = reg(DEVICE_FEATURES) & 0xFFFF_FFFFL;
        reg(DEVICE_FEATURES_SEL, 1);
        offered |= (reg(DEVICE_FEATURES) & 0xFFFF_FFFFL) << 32;
        if ((offered & (1L << VIRTIO_F_VERSION_1)) == 0) {
            reg(STATUS, FAILED);
            throw new GuestPanic(name() + ": the device does not offer VIRTIO_F_VERSION_1");
        }
        if ((offered & (1L << VIRTIO_NET_F_MQ)) != 0) {
            int pairs = (int) cpu.mmioRead(base + CONFIG + CONFIG_MAX_PAIRS, 2);
            queueCount = 2 * Math.max(1, pairs) + 1;
        } else if ((offered & (1L << VIRTIO_NET_F_CTRL_VQ)) != 0) {
            queueCount = 3;
        }
        long wanted = (1L << VIRTIO_F_VERSION_1) | (1L << VIRTIO_NET_F_MAC) | (1L << VIRTIO_NET_F_STATUS) | (1L << VIRTIO_NET_F_MRG_RXBUF)
                | (1L << VIRTIO_F_EVENT_IDX);
        long accepted = offered & wanted;
        mergeable = (accepted & (1L << VIRTIO_NET_F_MRG_RXBUF)) != 0;
        eventIdx = (accepted & (1L << VIRTIO_F_EVENT_IDX)) != 0;
        reg(DRIVER_FEATURES_SEL, 0);
        reg(DRIVER_FEATURES, (int) accepted);
        reg(DRIVER_FEATURES_SEL, 1);
        reg(DRIVER_FEATURES, (int) (accepted >>> 32));
        reg(STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
        if ((reg(STATUS) & FEATURES_OK) == 0) {
            reg(STATUS, FAILED);
            throw new GuestPanic(name() + ": the device refused features 0x" + Long.toHexString(accepted));
        }
        readMac(accepted);
        rx = setupQueue(alloc, RX_QUEUE, RX_BUFFER, true, rx);
        tx = setupQueue(alloc, TX_QUEUE, TX_BUFFER, false, tx);
        txFree = new int[tx.size];
        txFreeCount = 0;
        for (int i = 0; i < tx.size; i++) {
            txFree[txFreeCount++] = i;
        }
        // Every receive buffer is posted before DRIVER_OK; the device is told once it is live.
        int old = rx.availIdx();
        for (int i = 0; i < rx.size; i++) {
            rx.post(i);
        }
        rx.publish(old);
        if (eventIdx) {
            rx.enableInterrupts();
            tx.enableInterrupts();
        }
    }

    private void readMac(long accepted) {
        if ((accepted & (1L << VIRTIO_NET_F_MAC)) == 0) {
            // A locally administered address derived from the slot, as a driver does without VIRTIO_NET_F_MAC.
            byte[] m = {0x02, 0x00, 0x00, 0x00, 0x00, (byte) nic.index()};
            System.arraycopy(m, 0, mac, 0, 6);
            return;
        }
        int gen;
        do {
            gen = reg(CONFIG_GENERATION);
            for (int i = 0; i < 6; i++) {
                mac[i] = (byte) cpu.mmioRead(base + CONFIG + i, 1);
            }
        } while (gen != reg(CONFIG_GENERATION));
    }

    private GuestVirtqueue setupQueue(GuestAllocator alloc, int q, int bufferSize, boolean deviceWrites,
                                      GuestVirtqueue previous) {
        reg(QUEUE_SEL, q);
        if (reg(QUEUE_READY) != 0) {
            throw new GuestPanic(name() + ": queue " + q + " is ready before setup");
        }
        int max = reg(QUEUE_NUM_MAX);
        if (max == 0) {
            throw new GuestPanic(name() + ": queue " + q + " does not exist");
        }
        int size = Integer.highestOneBit(Math.min(max, queueSizeLimit));
        GuestVirtqueue vq = previous != null && previous.size == size ? previous.reset(eventIdx)
                : new GuestVirtqueue(ram, alloc, q, size, bufferSize, deviceWrites, eventIdx);
        reg(QUEUE_NUM, size);
        reg(QUEUE_DESC_LOW, (int) vq.desc);
        reg(QUEUE_DESC_HIGH, (int) (vq.desc >>> 32));
        reg(QUEUE_DRIVER_LOW, (int) vq.avail);
        reg(QUEUE_DRIVER_HIGH, (int) (vq.avail >>> 32));
        reg(QUEUE_DEVICE_LOW, (int) vq.used);
        reg(QUEUE_DEVICE_HIGH, (int) (vq.used >>> 32));
        reg(QUEUE_READY, 1);
        return vq;
    }

    /** DRIVER_OK: the device is live. */
    void start() {
        reg(STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
        notifyQueue(RX_QUEUE);
    }

    int status() {
        return reg(STATUS);
    }

    private void notifyQueue(int q) {
        reg(QUEUE_NOTIFY, q);
    }

    /** Receives every frame the device has completed, handing each to {@code sink}; re-posts the buffers. */
    int receive(FrameSink sink) {
        int frames = 0;
        int oldAvail = rx.availIdx();
        do {
            int usedIdx = rx.usedIdx();
            while (rx.lastUsed != usedIdx) {
                int id = rx.usedId(rx.lastUsed);
                int len = rx.usedLen(rx.lastUsed);
                rx.lastUsed = (rx.lastUsed + 1) & 0xFFFF;
                if (id < 0 || id >= rx.size || len < NET_HDR || len > rx.bufferSize) {
                    throw new GuestPanic(name() + ": the device returned receive buffer " + id + " with length " + len);
                }
                long buf = rx.buffer(id);
                int buffers = mergeable ? ram.read16(buf + 10) & 0xFFFF : 1;
                int length = len - NET_HDR;
                ram.read(buf + NET_HDR, frame, 0, length);
                rx.post(id);
                // MRG_RXBUF: the frame continues in the next used entries (virtio 1.x, 5.1.6.4.2).
                for (int b = 1; b < buffers; b++) {
                    if (rx.lastUsed == usedIdx) {
                        // The device publishes used.idx once per frame, after all of its buffers.
                        usedIdx = rx.usedIdx();
                        if (rx.lastUsed == usedIdx) {
                            throw new GuestPanic(name() + ": merged frame announced " + buffers
                                    + " buffers but used.idx stops after " + b);
                        }
                    }
                    int nid = rx.usedId(rx.lastUsed);
                    int nlen = rx.usedLen(rx.lastUsed);
                    rx.lastUsed = (rx.lastUsed + 1) & 0xFFFF;
                    if (nid < 0 || nid >= rx.size || nlen < 0 || nlen > rx.bufferSize || length + nlen > frame.length) {
                        throw new GuestPanic(name() + ": bad merged receive buffer " + nid + " length " + nlen);
                    }
                    ram.read(rx.buffer(nid), frame, length, nlen);
                    length += nlen;
                    rx.post(nid);
                }
                sink.onFrame(this, frame, length);
                frames++;
            }
            // Give the buffers back before re-arming, so a burst never starves the device.
            if (rx.availIdx() != oldAvail) {
                if (rx.publish(oldAvail)) {
                    notifyQueue(RX_QUEUE);
                }
                oldAvail = rx.availIdx();
            }
        } while (rx.enableInterrupts());
        return frames;
    }

    /** Takes back transmit buffers the device has consumed. */
    void reclaimTransmitted() {
        do {
            int usedIdx = tx.usedIdx();
            while (tx.lastUsed != usedIdx) {
                int id = tx.usedId(tx.lastUsed);
                tx.lastUsed = (tx.lastUsed + 1) & 0xFFFF;
                if (id >= 0 && id < tx.size && txFreeCount < txFree.length) {
                    txFree[txFreeCount++] = id;
                }
            }
        } while (tx.enableInterrupts());
    }

    /**
     * Sends a frame of {@code len} bytes from {@code data}; returns false when every transmit buffer is in flight
     * or the frame does not fit one buffer.
     */
    boolean transmit(byte[] data, int len) {
        if (txFreeCount == 0) {
            reclaimTransmitted();
        }
        if (txFreeCount == 0 || NET_HDR + len > tx.bufferSize) {
            return false;
        }
        int id = txFree[--txFreeCount];
        long buf = tx.buffer(id);
        GuestOs.zero(ram, buf, NET_HDR);
        ram.write(buf + NET_HDR, data, 0, len);
        tx.setLength(id, NET_HDR + len);
        int old = tx.availIdx();
        tx.post(id);
        if (tx.publish(old)) {
            notifyQueue(TX_QUEUE);
        }
        return true;
    }

    /** A configuration-change interrupt: acknowledge it and report whether the device needs a reset. */
    boolean configChanged() {
        acknowledgeInterrupt(interruptStatus());
        return needsReset();
    }

    /** InterruptStatus: why the device interrupted. */
    int interruptStatus() {
        return reg(INTERRUPT_STATUS);
    }

    /** InterruptACK: the driver has seen {@code bits} and handles what they stand for. */
    void acknowledgeInterrupt(int bits) {
        reg(INTERRUPT_ACK, bits);
    }

    /** Whether the device reports DEVICE_NEEDS_RESET (it gave up on the rings: virtio 1.x, 2.1.2). */
    boolean needsReset() {
        return (reg(STATUS) & DEVICE_NEEDS_RESET) != 0;
    }

    String name() {
        return "virtio-net@0x" + Long.toHexString(base);
    }

    /** Receives frames from the driver. */
    interface FrameSink {
        void onFrame(VirtioNetDriver nic, byte[] frame, int length);
    }
}
