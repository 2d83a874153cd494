package dev.jvmm.bench.seed;

import org.HdrHistogram.Histogram;

/**
 * The figures of one cell in one repetition: one fresh machine (or the plain receiver) fed for {@code seconds}.
 * Counts are over the measured window only (taken as differences of counters, or after a reset at its start).
 * -1 stands for "not known" (iperf did not report, /proc/net/udp is missing); for the plain receiver the machine's
 * figures (injections, latencies, guest counters) do not exist and stay 0 or null.
 *
 * @param nics            NIC count (the plain receiver: sockets)
 * @param cell            a {@link SeedCell#configName()}, or {@code plain}
 * @param repetition      1-based
 * @param vcpus           vCPUs of the machine (0 for the plain receiver)
 * @param seconds         how long the sender sent: every rate is a count divided by this
 * @param windowSeconds   from the start of the traffic to the final snapshot (the traffic's time plus the wait
 *                        for the sender's count and for datagrams still in flight)
 * @param sent            datagrams the sender sent
 * @param received        datagrams the NICs' backends read from their sockets (plain: the receiver's count)
 * @param delivered       datagrams the guest's UDP application received (plain: the receiver's count)
 * @param deviceDropped   datagrams the NICs dropped (no guest buffer, too big, unsupported)
 * @param kernelDropped   datagrams the kernel dropped at the sockets (their receive buffers were full)
 * @param guestLost       gaps in iperf sequence numbers the guest saw (every loss on the way, kernel's included)
 * @param msisSignalled   interrupts the NICs signalled (MSIs; edges of their SPIs in the wired cell)
 * @param injected        MSIs made pending, both paths (the wired cell: SPI edges raised)
 * @param fastPath        of which in the signalling thread: through the cached path (the wired cell: every inline
 *                        edge, which needs no translation)
 * @param coalesced       signals folded into an injection already queued for the injector thread
 * @param cacheHits       translation cache hits
 * @param cacheMisses     translation cache misses
 * @param guestIrqs       interrupts the guest took for its NICs
 * @param haltPolls       vCPU WFIs that an interrupt ended while the vCPU was still polling (no sleep)
 * @param halts           vCPU WFIs that slept until the interrupt's kick woke them (a futex wake on t1 → t2's path)
 * @param loadAverage     the host's 1-minute load average at the end of the run (other jobs share the machine)
 * @param signalToPending t1 → t2, both paths
 * @param arrivalToAck    t0 → t3 ({@link EndToEndProbe})
 * @param pendingToAck    t2 → t3
 * @param histograms      the three distributions (same order), kept to merge over repetitions; not serialized
 */
record CellRun(int nics, String cell, int repetition, int vcpus, double seconds, double windowSeconds,
               long sent, long received, long delivered, long deviceDropped, long kernelDropped, long guestLost,
               long msisSignalled, long injected, long fastPath, long coalesced, long cacheHits, long cacheMisses,
               long guestIrqs, long haltPolls, long halts, double loadAverage, LatencySummary signalToPending, LatencySummary arrivalToAck,
               LatencySummary pendingToAck, Histogram[] histograms) {

    static final String PLAIN = "plain";

    boolean plain() {
        return PLAIN.equals(cell);
    }

    double perSecond(long count) {
        return count < 0 ? Double.NaN : count / seconds;
    }

    /** Share of injections completed in the signalling thread (the cached path, or a wired edge); NaN with none. */
    double fastPathShare() {
        return injected == 0 ? Double.NaN : (double) fastPath / injected;
    }

    /** Share of the vCPUs' waits for an interrupt that ended asleep rather than polling; NaN with none. */
    double haltShare() {
        long w = haltPolls + halts;
        return w == 0 ? Double.NaN : (double) halts / w;
    }

    /** Translation cache hits over lookups; NaN with no lookups (the worker path never looks up). */
    double cacheHitRate() {
        long l = cacheHits + cacheMisses;
        return l == 0 ? Double.NaN : (double) cacheHits / l;
    }
}
