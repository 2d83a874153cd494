package dev.jvmm.core.bus;

/**
 * A device on the {@link MmioBus}: it answers loads and stores to its registers.
 *
 * <p>The bus calls these methods from any thread that accesses the device (each vCPU thread, and the threads that
 * deliver MSIs through the bus), possibly at the same time: a device guards its own state. Offsets are relative to
 * the device's base address; {@code size} is 1, 2, 4 or 8 and the whole access lies inside the device's range.
 *
 * <p>The values written and read are the guest's: a device validates them and must not throw because of them. An
 * access a device does not implement reads as zero and ignores the write (RAZ/WI), as the specifications of
 * GICv3 and virtio-mmio ask.
 */
public interface MmioDevice {

    /** A load of {@code size} bytes at {@code offset}; the result is zero-extended. */
    long read(long offset, int size);

    /**
     * A store of the low {@code size} bytes of {@code value} at {@code offset}.
     *
     * @param requesterId who wrote: {@link MmioBus#CPU_REQUESTER} for a vCPU's store, or the DeviceID of the device
     *                    whose MSI write this is (the ITS's GITS_TRANSLATER takes its DeviceID from here)
     */
    void write(long offset, int size, long value, int requesterId);
}
