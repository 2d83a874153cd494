package dev.jvmm.core.irq;

/**
 * Sees every MSI on its way through the machine, for tracing and latency studies. Calls come from the injecting
 * threads and the vCPU threads, concurrently; implementations must be thread-safe, quick and must not throw.
 * Timestamps are {@link System#nanoTime()} values.
 */
public interface IrqObserver {

    /** An observer that does nothing. */
    IrqObserver NONE = new IrqObserver() {
    };

    /**
     * An MSI was injected (made pending, or dropped): {@code result} as {@link InjectResult} packs it.
     *
     * @param route        the route it was raised through (null for a direct MSI)
     * @param fastPath     whether the cached path delivered it in the signalling thread
     * @param signalNanos  when it was signalled (t1)
     * @param pendingNanos when its injection returned (t2)
     */
    default void injected(MsiRoute route, long result, boolean fastPath, long signalNanos, long pendingNanos) {
    }

    /**
     * An irqchip route raised its SPI ({@code result}: {@link InjectResult#raised}, or dropped if the controller
     * failed), in the signalling thread ({@code inline}) or the injector thread.
     */
    default void injected(IrqchipRoute route, long result, boolean inline, long signalNanos, long raisedNanos) {
    }

    /**
     * Guest code on {@code vcpu} acknowledged {@code intid} (t3), which had been signalled at {@code signalNanos}
     * and made pending at {@code pendingNanos} (0 when the interrupt was not raised by an MSI, e.g. INT commands
     * or the pending table).
     */
    default void acknowledged(int vcpu, int intid, long signalNanos, long pendingNanos, long ackNanos) {
    }
}
