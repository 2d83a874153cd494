package dev.jvmm.core.irq;

/**
 * A wired interrupt input of the interrupt controller, as a device drives it: an SPI shared by the machine (the UART,
 * a virtio-mmio slot in wired mode), or one vCPU's PPI (the generic timer). Obtained once from
 * {@link InterruptController#spiLine} or {@link InterruptController#ppiLine} and kept by the device, so driving it
 * costs no lookup.
 *
 * <p>A level-sensitive interrupt is pending while its line is high ({@link #set}); an edge-triggered one latches
 * pending on a rising edge ({@link #pulse}, or a {@code set(true)} after {@code set(false)}). Whether the controller
 * treats the INTID as level or edge is the guest's choice (GICD_ICFGR); the device only drives its line. Any thread
 * may call these methods; they never block for long and allocate nothing.
 */
public interface IrqLine {

    /** The INTID this line drives (32..1019 for an SPI, 16..31 for a PPI). */
    int intid();

    /** Drives the line high ({@code true}) or low. */
    void set(boolean high);

    /** A rising edge: high, then low (an edge-triggered interrupt latches pending; a level one sees a short pulse). */
    void pulse();
}
