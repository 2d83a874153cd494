package dev.jvmm.core.irq;

/**
 * Where a device's MSIs go, as the interrupt controller hands it out ({@link InterruptController#msiTarget}): the
 * doorbell address to write and the DeviceID the write carries. For a GICv3 ITS the doorbell is its GITS_TRANSLATER
 * and the DeviceID picks the device table entry; the data of each MSI (the EventID) is the device's choice.
 * QEMU's virt board tells a guest the same through the device tree: {@code msi-parent = <&its DEVICEID>}.
 *
 * @param controller which MSI controller (ITS) of the machine, 0-based
 * @param doorbell   the guest physical address an MSI writes
 * @param deviceId   the requester's DeviceID
 */
public record MsiTarget(int controller, long doorbell, int deviceId) {

    /**
     * The target of a controller with one MSI doorbell (controller 0), as a test or a benchmark's controller hands it
     * out.
     *
     * @throws IllegalArgumentException for any other controller
     */
    public static MsiTarget single(long doorbell, int controller, int deviceId) {
        if (controller != 0) {
            throw new IllegalArgumentException("no MSI controller " + controller + "; there is one (0)");
        }
        return new MsiTarget(0, doorbell, deviceId);
    }

    /** The route table entry that raises EventID {@code data} at this target under route number {@code gsi}. */
    public MsiRoute route(int gsi, int data) {
        return new MsiRoute(gsi, doorbell, data, deviceId);
    }

    @Override
    public String toString() {
        return "MsiTarget[controller " + controller + ", doorbell 0x" + Long.toHexString(doorbell) + ", DeviceID "
                + Integer.toUnsignedString(deviceId) + "]";
    }
}
