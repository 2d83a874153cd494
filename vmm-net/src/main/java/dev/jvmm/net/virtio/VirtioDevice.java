package dev.jvmm.net.virtio;

/**
 * The device-type half of a virtio device, driven by {@link VirtioMmioTransport}: the transport implements the
 * registers and the status state machine, the device supplies its features, configuration space and queues.
 *
 * <h2>Threads</h2>
 * The transport calls every method except {@link #notifyQueue} and {@link #needsReset} from a vCPU thread while it
 * holds its own lock, so these calls never overlap. {@link #notifyQueue} is called from vCPU threads without a lock
 * (the guest's doorbell must be cheap), {@link #needsReset} from any thread. None of them may throw because of what
 * the guest wrote.
 */
public interface VirtioDevice {

    /** The virtio device type (DeviceID register): 1 for a network card. */
    int deviceType();

    /** The features offered; must include {@link VirtioFeatures#VIRTIO_F_VERSION_1}. */
    long offeredFeatures();

    /**
     * Whether the device can work with {@code features}, which the transport already checked to be a subset of the
     * offered features that includes VIRTIO_F_VERSION_1: here the device checks dependencies between features.
     */
    boolean acceptsFeatures(long features);

    /** How many queues exist when {@code features} are negotiated (QueueNumMax reads 0 beyond). */
    int queueCount(long features);

    /** QueueNumMax of queue {@code queue}. */
    int maxQueueSize(int queue);

    /** Bytes of the configuration space. */
    int configSize();

    /** One byte of the configuration space; {@code offset < configSize()}. */
    int readConfigByte(int offset);

    /** ConfigGeneration: changes whenever the configuration space changes; never reset. */
    int configGeneration();

    /**
     * DRIVER_OK: start using the queues. {@code queues[i]} is null for a queue the driver did not make ready; the
     * transport has already validated the others ({@link QueueConfig#problem}). Returns false when the device cannot
     * work with them (the transport then sets DEVICE_NEEDS_RESET).
     */
    boolean activate(long features, QueueConfig[] queues);

    /**
     * Status 0: forget everything the driver set up. Returns only when no thread of the device touches the guest's
     * rings or buffers any more (the transport then lets Status read 0, as section 2.4.1 requires).
     */
    void reset();

    /** QueueNotify for an existing queue after DRIVER_OK: the driver made buffers available. Never blocks. */
    void notifyQueue(int queue);

    /** Whether the device hit an error it cannot recover from without a reset (DEVICE_NEEDS_RESET). */
    boolean needsReset();
}
