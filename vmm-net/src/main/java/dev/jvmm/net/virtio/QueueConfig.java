package dev.jvmm.net.virtio;

import dev.jvmm.core.memory.GuestMemory;

/**
 * What the driver set up for one virtqueue through the transport: its size and the guest physical addresses of its
 * three areas. Immutable: the transport takes it at DRIVER_OK.
 *
 * @param index      the queue index
 * @param size       the queue size N (QueueNum)
 * @param descAddr   the descriptor table (QueueDesc)
 * @param driverAddr the available ring (QueueDriver)
 * @param deviceAddr the used ring (QueueDevice)
 */
public record QueueConfig(int index, int size, long descAddr, long driverAddr, long deviceAddr) {

    /**
     * The first rule this configuration breaks, or null when the queue is usable: a size that is a non-zero power of
     * two no larger than {@code maxSize}; each area aligned as section 2.7 requires and wholly inside guest RAM
     * (checked without overflow: an address near 2^64 never wraps into RAM).
     */
    public String problem(GuestMemory memory, int maxSize) {
        if (size <= 0 || size > maxSize || Integer.bitCount(size) != 1) {
            return "queue size is not a power of two in 1.." + maxSize;
        }
        if ((descAddr & (SplitVirtqDescriptor.DESC_ALIGN - 1)) != 0) {
            return "descriptor table is not 16-byte aligned";
        }
        if ((driverAddr & (SplitVirtqDescriptor.AVAIL_ALIGN - 1)) != 0) {
            return "available ring is not 2-byte aligned";
        }
        if ((deviceAddr & (SplitVirtqDescriptor.USED_ALIGN - 1)) != 0) {
            return "used ring is not 4-byte aligned";
        }
        if (!memory.isValid(descAddr, SplitVirtqDescriptor.descTableSize(size))) {
            return "descriptor table is not in guest RAM";
        }
        if (!memory.isValid(driverAddr, SplitVirtqDescriptor.availRingSize(size))) {
            return "available ring is not in guest RAM";
        }
        if (!memory.isValid(deviceAddr, SplitVirtqDescriptor.usedRingSize(size))) {
            return "used ring is not in guest RAM";
        }
        return null;
    }
}
