package dev.jvmm.core.irq;

/** Why an MSI was not made pending. Interrupt controllers report these; the router counts them per reason. */
public enum DropReason {
    /** The irqfd's route number has no entry in the routing table. */
    NO_ROUTE,
    /** No interrupt controller frame answers the route's doorbell address. */
    NO_DOORBELL,
    /** The ITS is disabled (GITS_CTLR.Enabled = 0). */
    ITS_DISABLED,
    /** The DeviceID has no valid device table entry (no MAPD, or it was unmapped). */
    DEVICE_UNMAPPED,
    /** The EventID is out of range for the device or has no interrupt translation entry. */
    EVENT_UNMAPPED,
    /** The interrupt's collection is not mapped to a redistributor. */
    COLLECTION_UNMAPPED,
    /** The target redistributor has LPIs disabled (GICR_CTLR.EnableLPIs = 0). */
    LPIS_DISABLED,
    /** The controller is shutting down. */
    STOPPED;

    private static final DropReason[] VALUES = values();

    static DropReason of(int ordinal) {
        return VALUES[ordinal];
    }
}
