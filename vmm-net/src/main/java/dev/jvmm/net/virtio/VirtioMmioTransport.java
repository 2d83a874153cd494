package dev.jvmm.net.virtio;

import dev.jvmm.core.bus.MmioDevice;
import dev.jvmm.core.memory.GuestMemory;

import java.util.concurrent.atomic.AtomicLongArray;

import static dev.jvmm.net.virtio.VirtioMmioRegisterDescriptor.*;
import static dev.jvmm.net.virtio.VirtioStatus.ACKNOWLEDGE;
import static dev.jvmm.net.virtio.VirtioStatus.DEVICE_NEEDS_RESET;
import static dev.jvmm.net.virtio.VirtioStatus.DRIVER;
import static dev.jvmm.net.virtio.VirtioStatus.DRIVER_OK;
import static dev.jvmm.net.virtio.VirtioStatus.FAILED;
import static dev.jvmm.net.virtio.VirtioStatus.FEATURES_OK;

/**
 * The virtio-mmio version 2 transport (virtio 1.x, section 4.2): the registers of one 512-byte window on the MMIO
 * bus, in front of a {@link VirtioDevice}.
 *
 * <h2>The status state machine</h2>
 * <pre>
 *   0 ──ACK──▶ 1 ──DRIVER──▶ 3 ──FEATURES_OK──▶ 11 ──DRIVER_OK──▶ 15 (running)
 *   │            (read the features,    │   (refused: the bit does not stick)   │
 *   │             write DriverFeatures) └── set up the queues ──────────────────┘
 *   any state ──FAILED──▶ | 128          any state ──write 0──▶ reset ──▶ 0
 * </pre>
 * As Firecracker's transport does, a write is accepted only when it adds exactly the next bit of the sequence (or
 * FAILED), and nothing else: the driver never clears bits except by writing 0. DriverFeatures is writable only in
 * state 3, queue registers only in state 11; anything else is ignored and counted as a {@link DriverError}.
 *
 * <h2>DEVICE_NEEDS_RESET</h2>
 * Set when DRIVER_OK finds a ready queue that is invalid (size, alignment, not in RAM) or the device refuses to
 * activate, and whenever the device reports {@link VirtioDevice#needsReset()} (a broken ring found later). Either way
 * a configuration-change interrupt tells the driver (section 2.1.2). Only a reset clears it.
 *
 * <h2>Threads</h2>
 * vCPU threads call {@link #read} and {@link #write} concurrently. Register state is guarded by this object's
 * monitor; the hot registers take no lock: QueueNotify (the doorbell: one volatile read, then the device's own
 * lock-free hand-off), InterruptStatus and InterruptACK (atomics in {@link VirtioInterrupts}). Nothing the guest
 * writes makes these methods throw.
 */
public final class VirtioMmioTransport implements MmioDevice {

    private final VirtioDevice device;
    private final GuestMemory memory;
    private final VirtioInterrupts interrupts;
    private final int maxQueues;
    private final long offered;

    // Guarded by this.
    private int deviceFeaturesSel;
    private int driverFeaturesSel;
    private long driverFeatures;
    /** The driver wrote a non-zero DriverFeatures window beyond bit 63: no such feature exists, so refuse. */
    private boolean driverFeaturesUnknown;
    private int queueSel;
    private final int[] queueNum;
    private final boolean[] queueReady;
    private final long[] queueDesc;
    private final long[] queueDriver;
    private final long[] queueDevice;
    private boolean activationFailed;

    /** The Status register as the driver set it (DEVICE_NEEDS_RESET is computed on read). Written under the lock. */
    private volatile int status;
    /** The number of queues the doorbell accepts: set at DRIVER_OK, 0 otherwise (read without the lock). */
    private volatile int notifiableQueues;

    private final AtomicLongArray errors = new AtomicLongArray(DriverError.values().length);
    private volatile DriverError lastError;

    public VirtioMmioTransport(VirtioDevice device, GuestMemory memory, VirtioInterrupts interrupts) {
        this.device = device;
        this.memory = memory;
        this.interrupts = interrupts;
        this.offered = device.offeredFeatures() | VirtioFeatures.VIRTIO_F_VERSION_1;
        this.maxQueues = device.queueCount(offered);
        this.queueNum = new int[maxQueues];
        this.queueReady = new boolean[maxQueues];
        this.queueDesc = new long[maxQueues];
        this.queueDriver = new long[maxQueues];
        this.queueDevice = new long[maxQueues];
    }

    // -------------------------------------------------------------------------------------------- reads

    @Override
    public long read(long offset, int size) {
        if (offset >= CONFIG) {
            return readConfig((int) offset - CONFIG, size);
        }
        if (size != 4 || (offset & 3) != 0) {
            error(DriverError.BAD_ACCESS);
            return 0;
        }
        switch ((int) offset) {
            case MAGIC_VALUE: return MAGIC;
            case VERSION: return VERSION_2;
            case DEVICE_ID: return device.deviceType();
            case VENDOR_ID: return VENDOR_JVMM & 0xFFFF_FFFFL;
            case INTERRUPT_STATUS: return interrupts.status();
            case STATUS: return readStatus();
            case CONFIG_GENERATION: return device.configGeneration() & 0xFFFF_FFFFL;
            default: return readLocked((int) offset) & 0xFFFF_FFFFL;
        }
    }

    private synchronized int readLocked(int offset) {
        switch (offset) {
            case DEVICE_FEATURES:
                return deviceFeaturesSel == 0 ? (int) offered : deviceFeaturesSel == 1 ? (int) (offered >>> 32) : 0;
            case QUEUE_NUM_MAX:
                return queueSel >= 0 && queueSel < queueCount() ? device.maxQueueSize(queueSel) : 0;
            case QUEUE_READY:
                return queueSel >= 0 && queueSel < maxQueues && queueReady[queueSel] ? 1 : 0;
            default:
                // Write-only and reserved registers read as zero.
                return 0;
        }
    }

    /** The Status register: what the driver set, plus DEVICE_NEEDS_RESET when the device is broken. */
    private int readStatus() {
        int s = status;
        if (s != 0 && (activationFailed || device.needsReset())) {
            s |= DEVICE_NEEDS_RESET;
        }
        return s;
    }

    private long readConfig(int offset, int size) {
        if (size == 8) {
            // The specification reads 64-bit configuration fields as two 32-bit halves (4.2.2.2).
            error(DriverError.BAD_ACCESS);
            return 0;
        }
        int limit = device.configSize();
        long v = 0;
        synchronized (this) {
            for (int i = 0; i < size; i++) {
                int o = offset + i;
                if (o < limit) {
                    v |= (long) (device.readConfigByte(o) & 0xFF) << (8 * i);
                }
            }
        }
        return v;
    }

    // -------------------------------------------------------------------------------------------- writes

    @Override
    public void write(long offset, int size, long value, int requesterId) {
        if (offset >= CONFIG) {
            error(DriverError.CONFIG_WRITE);
            return;
        }
        if (size != 4 || (offset & 3) != 0) {
            error(DriverError.BAD_ACCESS);
            return;
        }
        int v = (int) value;
        switch ((int) offset) {
            case QUEUE_NOTIFY:
                notifyQueue(v);
                return;
            case INTERRUPT_ACK:
                interrupts.acknowledge(v);
                return;
            default:
                writeLocked((int) offset, v);
        }
    }

    /** The doorbell: no lock, no allocation; the device hands the work to its own thread. */
    private void notifyQueue(int queue) {
        int n = notifiableQueues;
        if (queue < 0 || queue >= n) {
            error(DriverError.BAD_NOTIFY);
            return;
        }
        if (!device.needsReset()) {
            // After DEVICE_NEEDS_RESET the driver may ring until it has seen the configuration interrupt: ignored.
            device.notifyQueue(queue);
        }
    }

    private synchronized void writeLocked(int offset, int v) {
        switch (offset) {
            case DEVICE_FEATURES_SEL: deviceFeaturesSel = v; return;
            case DRIVER_FEATURES_SEL: driverFeaturesSel = v; return;
            case DRIVER_FEATURES: writeDriverFeatures(v); return;
            case QUEUE_SEL: queueSel = v; return;
            case QUEUE_NUM:
                if (queueWritable()) {
                    queueNum[queueSel] = v;
                }
                return;
            case QUEUE_READY: writeQueueReady(v); return;
            case QUEUE_DESC_LOW: if (queueWritable()) queueDesc[queueSel] = low(queueDesc[queueSel], v); return;
            case QUEUE_DESC_HIGH: if (queueWritable()) queueDesc[queueSel] = high(queueDesc[queueSel], v); return;
            case QUEUE_DRIVER_LOW: if (queueWritable()) queueDriver[queueSel] = low(queueDriver[queueSel], v); return;
            case QUEUE_DRIVER_HIGH: if (queueWritable()) queueDriver[queueSel] = high(queueDriver[queueSel], v); return;
            case QUEUE_DEVICE_LOW: if (queueWritable()) queueDevice[queueSel] = low(queueDevice[queueSel], v); return;
            case QUEUE_DEVICE_HIGH: if (queueWritable()) queueDevice[queueSel] = high(queueDevice[queueSel], v); return;
            case STATUS: writeStatus(v); return;
            default:
                // Read-only and reserved registers ignore writes (RAZ/WI).
        }
    }

    private static long low(long cur, int v) {
        return (cur & 0xFFFF_FFFF_0000_0000L) | (v & 0xFFFF_FFFFL);
    }

    private static long high(long cur, int v) {
        return (cur & 0xFFFF_FFFFL) | ((long) v << 32);
    }

    private void writeDriverFeatures(int v) {
        // 3.1.1: features are written after DRIVER and before FEATURES_OK (Firecracker enforces the same window).
        if (status != (ACKNOWLEDGE | DRIVER)) {
            error(DriverError.FEATURES_WRITE_OUT_OF_STATE);
            return;
        }
        switch (driverFeaturesSel) {
            case 0: driverFeatures = (driverFeatures & 0xFFFF_FFFF_0000_0000L) | (v & 0xFFFF_FFFFL); break;
            case 1: driverFeatures = (driverFeatures & 0xFFFF_FFFFL) | ((long) v << 32); break;
            default:
                if (v != 0) {
                    driverFeaturesUnknown = true;
                }
        }
    }

    /** Queue registers are writable between FEATURES_OK and DRIVER_OK, for an existing queue that is not ready. */
    private boolean queueWritable() {
        if (status != (ACKNOWLEDGE | DRIVER | FEATURES_OK)) {
            error(DriverError.QUEUE_WRITE_OUT_OF_STATE);
            return false;
        }
        if (queueSel < 0 || queueSel >= queueCount()) {
            error(DriverError.NO_SUCH_QUEUE);
            return false;
        }
        if (queueReady[queueSel]) {
            error(DriverError.QUEUE_WRITE_WHILE_READY);
            return false;
        }
        return true;
    }

    private void writeQueueReady(int v) {
        if (status != (ACKNOWLEDGE | DRIVER | FEATURES_OK)) {
            error(DriverError.QUEUE_WRITE_OUT_OF_STATE);
            return;
        }
        if (queueSel < 0 || queueSel >= queueCount()) {
            error(DriverError.NO_SUCH_QUEUE);
            return;
        }
        queueReady[queueSel] = (v & 1) != 0;
    }

    private int queueCount() {
        return device.queueCount((status & FEATURES_OK) != 0 ? driverFeatures : offered);
    }

    private void writeStatus(int value) {
        if (value == 0) {
            reset();
            return;
        }
        int cur = status;
        // DEVICE_NEEDS_RESET belongs to the device: a driver that writes back what it read does not set it.
        int next = value & 0xFF & ~DEVICE_NEEDS_RESET;
        int removed = cur & ~next;
        int added = next & ~cur;
        if (removed != 0) {
            error(DriverError.ILLEGAL_STATUS_TRANSITION);
            return;
        }
        if (added == 0) {
            return;
        }
        if ((added & FAILED) != 0) {
            // 2.1.1: the driver gave up on the device; it may do so at any time. Only a reset follows.
            status = cur | FAILED;
            return;
        }
        if (added == ACKNOWLEDGE && cur == 0) {
            status = ACKNOWLEDGE;
        } else if (added == DRIVER && cur == ACKNOWLEDGE) {
            status = ACKNOWLEDGE | DRIVER;
        } else if (added == FEATURES_OK && cur == (ACKNOWLEDGE | DRIVER)) {
            if (featuresAcceptable()) {
                status = ACKNOWLEDGE | DRIVER | FEATURES_OK;
            } else {
                // 3.1.1 step 6: the bit does not stick; the driver re-reads Status and sees the refusal.
                error(DriverError.FEATURES_REFUSED);
            }
        } else if (added == DRIVER_OK && cur == (ACKNOWLEDGE | DRIVER | FEATURES_OK)) {
            status = cur | DRIVER_OK;
            activate();
        } else {
            error(DriverError.ILLEGAL_STATUS_TRANSITION);
        }
    }

    private boolean featuresAcceptable() {
        return !driverFeaturesUnknown
                && (driverFeatures & ~offered) == 0
                && VirtioFeatures.has(driverFeatures, VirtioFeatures.VIRTIO_F_VERSION_1)
                && device.acceptsFeatures(driverFeatures);
    }

    private void activate() {
        int n = device.queueCount(driverFeatures);
        QueueConfig[] queues = new QueueConfig[n];
        for (int q = 0; q < n; q++) {
            if (!queueReady[q]) {
                continue;
            }
            QueueConfig c = new QueueConfig(q, queueNum[q], queueDesc[q], queueDriver[q], queueDevice[q]);
            if (c.problem(memory, device.maxQueueSize(q)) != null) {
                error(DriverError.INVALID_QUEUE);
                needsReset();
                return;
            }
            queues[q] = c;
        }
        if (!device.activate(driverFeatures, queues)) {
            error(DriverError.ACTIVATION_FAILED);
            needsReset();
            return;
        }
        notifiableQueues = n;
    }

    /** Firecracker's reaction to a failed activation: DEVICE_NEEDS_RESET plus a configuration interrupt (2.1.2). */
    private void needsReset() {
        activationFailed = true;
        interrupts.signalConfigChange();
    }

    /**
     * Status 0 (section 2.4): the device stops using the queues (and returns only then), forgets the driver's
     * features and queue setup and clears InterruptStatus. ConfigGeneration is left alone. Status reads 0 last.
     */
    private void reset() {
        notifiableQueues = 0;
        device.reset();
        deviceFeaturesSel = 0;
        driverFeaturesSel = 0;
        driverFeatures = 0;
        driverFeaturesUnknown = false;
        queueSel = 0;
        for (int q = 0; q < maxQueues; q++) {
            queueNum[q] = 0;
            queueReady[q] = false;
            queueDesc[q] = 0;
            queueDriver[q] = 0;
            queueDevice[q] = 0;
        }
        activationFailed = false;
        interrupts.reset();
        status = 0;
    }

    // -------------------------------------------------------------------------------------------- diagnostics

    private void error(DriverError e) {
        errors.incrementAndGet(e.ordinal());
        lastError = e;
    }

    /** How often the driver broke rule {@code e}. */
    public long errors(DriverError e) {
        return errors.get(e.ordinal());
    }

    /** Driver errors of every kind. */
    public long errorsTotal() {
        long t = 0;
        for (int i = 0; i < errors.length(); i++) {
            t += errors.get(i);
        }
        return t;
    }

    /** The most recent driver error, or null. */
    public DriverError lastError() {
        return lastError;
    }

    /** The Status register as the driver reads it. */
    public int status() {
        return readStatus();
    }

    /** The features both sides agreed on (0 before FEATURES_OK). */
    public synchronized long negotiatedFeatures() {
        return (status & FEATURES_OK) != 0 ? driverFeatures : 0;
    }

    public long offeredFeatures() {
        return offered;
    }

    public VirtioInterrupts interrupts() {
        return interrupts;
    }
}
