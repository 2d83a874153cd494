package dev.jvmm.core.irq;

/**
 * One entry of the machine's GSI routing table, as {@code KVM_SET_GSI_ROUTING} takes it: route number {@link #gsi()}
 * raises an MSI ({@link MsiRoute}, {@code KVM_IRQ_ROUTING_MSI}) or an input pin of the interrupt controller
 * ({@link IrqchipRoute}, {@code KVM_IRQ_ROUTING_IRQCHIP}). An irqfd bound to the route number raises whichever the
 * table holds when it is signalled.
 */
public sealed interface IrqRoute permits MsiRoute, IrqchipRoute {

    /** The route number (GSI) irqfds bind to. */
    int gsi();
}
