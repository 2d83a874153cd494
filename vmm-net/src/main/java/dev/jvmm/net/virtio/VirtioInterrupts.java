package dev.jvmm.net.virtio;

import dev.jvmm.core.event.EventFd;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.LongAdder;

/**
 * A virtio-mmio device's interrupt side: the InterruptStatus register and one MSI per source.
 *
 * <pre>
 *   queue q used a buffer ──▶ InterruptStatus |= USED_BUFFER ──▶ vectors[q].signal()      (EventID q)
 *   configuration changed ──▶ InterruptStatus |= CONFIG      ──▶ vectors[config].signal() (EventID config)
 *                                                                  │ irqfd wake-up in this thread
 *                                                                  ▼
 *                                                      MSI to GITS_TRANSLATER (DeviceID, EventID)
 * </pre>
 *
 * The specification orders the status bit before the interrupt (4.2.3.4: the device sets InterruptStatus, then
 * notifies), so a driver that reads InterruptStatus in its handler always finds the reason. Signalling is safe from
 * any thread and allocates nothing; a bit that is already set is not written again.
 */
public final class VirtioInterrupts {
    private static final VarHandle STATUS;

    static {
        try {
            STATUS = MethodHandles.lookup().findVarHandle(VirtioInterrupts.class, "status", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final EventFd[] vectors;
    private final int configVector;
    @SuppressWarnings("unused") // accessed through STATUS
    private volatile int status;
    private final LongAdder signalled = new LongAdder();

    /**
     * @param vectors      one eventfd per EventID: index q is queue q's used-buffer interrupt
     * @param configVector the index in {@code vectors} of the configuration-change interrupt
     */
    public VirtioInterrupts(EventFd[] vectors, int configVector) {
        if (configVector < 0 || configVector >= vectors.length) {
            throw new IllegalArgumentException("config vector " + configVector + " outside 0.." + (vectors.length - 1));
        }
        this.vectors = vectors.clone();
        this.configVector = configVector;
    }

    /** Queue {@code queue} used buffers: set bit 0 of InterruptStatus, then raise the queue's MSI. */
    public void signalUsedBuffer(int queue) {
        setBits(VirtioMmioRegisterDescriptor.VIRTIO_MMIO_INT_VRING);
        vectors[queue].signal();
        signalled.increment();
    }

    /** The configuration changed (or the device needs a reset): set bit 1, then raise the configuration MSI. */
    public void signalConfigChange() {
        setBits(VirtioMmioRegisterDescriptor.VIRTIO_MMIO_INT_CONFIG);
        vectors[configVector].signal();
        signalled.increment();
    }

    private void setBits(int bits) {
        if (((int) STATUS.getVolatile(this) & bits) != bits) {
            STATUS.getAndBitwiseOr(this, bits);
        }
    }

    /** The InterruptStatus register. */
    public int status() {
        return (int) STATUS.getVolatile(this);
    }

    /** InterruptACK: clears the bits written. */
    public void acknowledge(int bits) {
        STATUS.getAndBitwiseAnd(this, ~bits);
    }

    /** Device reset: InterruptStatus reads 0. */
    public void reset() {
        STATUS.setVolatile(this, 0);
    }

    /** The eventfd of EventID {@code eventId}. */
    public EventFd vector(int eventId) {
        return vectors[eventId];
    }

    public int vectorCount() {
        return vectors.length;
    }

    public int configVector() {
        return configVector;
    }

    /** MSIs signalled since creation. */
    public long signalled() {
        return signalled.sum();
    }
}
