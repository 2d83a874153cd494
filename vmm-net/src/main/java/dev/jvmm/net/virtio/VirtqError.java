package dev.jvmm.net.virtio;

/**
 * What a driver did wrong in a split virtqueue: the checks a device owes an untrusted guest (virtio 1.x, section
 * 2.7, and the checks of rust-vmm's virtio-queue and Firecracker). Any of them leaves the queue unusable: the device
 * stops processing, sets DEVICE_NEEDS_RESET and raises a configuration-change interrupt; a reset recovers.
 */
public enum VirtqError {
    /** avail.idx moved more than the queue size past the device's position (2.7.13.3: never loop on it). */
    AVAIL_INDEX_JUMP,
    /** An available ring entry names a descriptor index at or above the queue size. */
    HEAD_OUT_OF_RANGE,
    /** A descriptor's next field is at or above the size of its table. */
    NEXT_OUT_OF_RANGE,
    /** The chain visits more descriptors than the queue size (a loop, or a driver bug; 2.7.5.2). */
    CHAIN_TOO_LONG,
    /** A descriptor has the INDIRECT flag but VIRTIO_F_INDIRECT_DESC was not negotiated. */
    INDIRECT_NOT_NEGOTIATED,
    /** An indirect table holds a descriptor with the INDIRECT flag (2.7.5.3.1 forbids nesting). */
    NESTED_INDIRECT,
    /** A descriptor has both INDIRECT and NEXT (2.7.5.3.1 forbids it). */
    INDIRECT_WITH_NEXT,
    /** An indirect table's length is zero or not a multiple of 16 bytes. */
    INDIRECT_BAD_LENGTH,
    /** A buffer's address plus its length wraps past 2^64. */
    ADDRESS_OVERFLOW,
    /** The chain's buffers add up to more than 2^32 bytes. */
    CHAIN_TOO_BIG,
    /** A device-readable buffer follows a device-writable one (2.7.4.2). */
    READABLE_AFTER_WRITABLE,
    /** A device-readable buffer where this queue only takes device-writable ones (a receive queue). */
    UNEXPECTED_READABLE,
    /** A device-writable buffer where this queue only takes device-readable ones (a transmit queue). */
    UNEXPECTED_WRITABLE,
    /** A buffer or a table lies (partly) outside guest RAM, found when it was accessed. */
    MEMORY
}
