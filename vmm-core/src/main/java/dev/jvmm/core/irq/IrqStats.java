package dev.jvmm.core.irq;

import org.HdrHistogram.Histogram;

/**
 * A snapshot of an {@link IrqRouter}'s counters.
 *
 * @param signals         irqfd wake-ups that consumed a count (each becomes one injection, or is coalesced)
 * @param coalesced       signals folded into an injection already queued for the injector
 * @param fastPath        MSIs made pending by the cached path in the signalling thread (or a direct MSI's caller)
 * @param slowPath        MSIs made pending by the injector thread, or by a direct MSI's slow path
 * @param cacheMisses     inline-mode signals that the cached path could not handle
 * @param directMsis      MSIs raised with {@link IrqRouter#signalMsi}
 * @param dropped         MSIs not delivered, indexed by {@link DropReason#ordinal()}
 * @param fastLatencyNanos signal-to-pending latency on the fast path
 * @param slowLatencyNanos signal-to-pending latency on the slow path (the injector hand-off included)
 * @param irqchipRaised   signals of irqchip routes that raised their SPI (inline or by the injector); not MSIs,
 *                        so not in {@code fastPath} or {@code slowPath}
 * @param irqchipLatencyNanos signal-to-raised latency of irqchip routes (no translation at all)
 */
public record IrqStats(long signals, long coalesced, long fastPath, long slowPath, long cacheMisses, long directMsis,
                       long[] dropped, Histogram fastLatencyNanos, Histogram slowLatencyNanos, long irqchipRaised,
                       Histogram irqchipLatencyNanos) {

    /** MSIs made pending, on either path. */
    public long injected() {
        return fastPath + slowPath;
    }

    /** MSIs not delivered, for every reason. */
    public long droppedTotal() {
        long t = 0;
        for (long d : dropped) {
            t += d;
        }
        return t;
    }

    public long dropped(DropReason reason) {
        return dropped[reason.ordinal()];
    }

    /** Signal-to-pending latency over both paths. */
    public Histogram latencyNanos() {
        Histogram h = fastLatencyNanos.copy();
        h.add(slowLatencyNanos);
        return h;
    }
}
