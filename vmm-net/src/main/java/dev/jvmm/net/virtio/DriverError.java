package dev.jvmm.net.virtio;

/**
 * A register-level rule the driver broke on the virtio-mmio transport (virtio 1.x, sections 2.1, 3.1 and 4.2.3).
 * Each one is counted; the access is ignored. Only {@link #INVALID_QUEUE} and {@link #ACTIVATION_FAILED} leave the
 * device unusable (DEVICE_NEEDS_RESET).
 */
public enum DriverError {
    /** A register below 0x100 accessed with a size other than 32 bits, or misaligned. */
    BAD_ACCESS,
    /** A Status write that is not the next step of the initialization sequence. */
    ILLEGAL_STATUS_TRANSITION,
    /** FEATURES_OK with features the device did not offer, without VIRTIO_F_VERSION_1, or with a missing dependency. */
    FEATURES_REFUSED,
    /** DriverFeatures written outside the DRIVER-but-not-FEATURES_OK state. */
    FEATURES_WRITE_OUT_OF_STATE,
    /** A queue register written outside the FEATURES_OK-but-not-DRIVER_OK state. */
    QUEUE_WRITE_OUT_OF_STATE,
    /** A queue's size or address written while the queue is ready. */
    QUEUE_WRITE_WHILE_READY,
    /** A queue register written while QueueSel names no queue. */
    NO_SUCH_QUEUE,
    /** DRIVER_OK with a ready queue whose size, alignment or placement in RAM is invalid. */
    INVALID_QUEUE,
    /** The device refused to activate. */
    ACTIVATION_FAILED,
    /** QueueNotify before DRIVER_OK or for a queue that does not exist. */
    BAD_NOTIFY,
    /** A write to the (read-only) device configuration space. */
    CONFIG_WRITE
}
