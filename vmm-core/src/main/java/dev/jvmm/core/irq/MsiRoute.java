package dev.jvmm.core.irq;

/**
 * One entry of the MSI routing table, as {@code KVM_SET_GSI_ROUTING} takes it with {@code KVM_IRQ_ROUTING_MSI}
 * and {@code KVM_MSI_VALID_DEVID}: route number {@code gsi} raises an MSI that writes {@code data} to the doorbell
 * at {@code address}, on behalf of device {@code deviceId}.
 *
 * <p>For a GICv3 ITS the doorbell is its GITS_TRANSLATER, the data is the EventID and the DeviceID picks the
 * device table entry.
 */
public record MsiRoute(int gsi, long address, int data, int deviceId) implements IrqRoute {
    public MsiRoute {
        if (gsi < 0) {
            throw new IllegalArgumentException("route number must be non-negative, got " + gsi);
        }
    }

    @Override
    public String toString() {
        return "MsiRoute[gsi=" + gsi + ", doorbell=0x" + Long.toHexString(address) + ", data=" + Integer.toUnsignedString(data)
                + ", devid=" + Integer.toUnsignedString(deviceId) + "]";
    }
}
