package dev.jvmm.core.irq;

/**
 * A route to an interrupt controller input, as {@code KVM_IRQ_ROUTING_IRQCHIP} on arm64: route number {@code gsi}
 * raises shared peripheral interrupt {@code pin}, which is INTID {@code 32 + pin} (KVM's {@code vgic_irqfd_set_irq}
 * adds the 32 private INTIDs). A signal is an edge on the SPI's line, as KVM's irqfd injects a non-resampled
 * irqfd (level 1, then level 0): an SPI the guest configured edge-triggered latches pending; a level-sensitive one
 * sees only a short pulse, so level-sensitive devices drive their {@link IrqLine} instead.
 */
public record IrqchipRoute(int gsi, int pin) implements IrqRoute {
    /** INTIDs below the first SPI (SGIs and PPIs). */
    public static final int FIRST_SPI = 32;

    public IrqchipRoute {
        if (gsi < 0) {
            throw new IllegalArgumentException("route number must be non-negative, got " + gsi);
        }
        if (pin < 0 || pin > 1019 - FIRST_SPI) {
            throw new IllegalArgumentException("an SPI pin is 0.." + (1019 - FIRST_SPI) + ", got " + pin);
        }
    }

    /** The route for SPI {@code intid} (32..1019). */
    public static IrqchipRoute forSpi(int gsi, int intid) {
        return new IrqchipRoute(gsi, intid - FIRST_SPI);
    }

    /** The SPI's INTID. */
    public int intid() {
        return FIRST_SPI + pin;
    }

    @Override
    public String toString() {
        return "IrqchipRoute[gsi=" + gsi + ", SPI " + pin + " (INTID " + intid() + ")]";
    }
}
