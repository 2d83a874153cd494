package dev.jvmm.bench.seed;

import dev.jvmm.core.config.ConfigValues;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.net.NetConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The validated options of {@code vmm bench seed}. The command line converts each option's text to its type (sizes,
 * durations, rates: the shared spellings of {@link dev.jvmm.core.config.ConfigValues}); this record checks ranges and
 * relations and rejects anything unusable with an {@link IllegalArgumentException} whose message names the option, so
 * the user sees one line and exit status 2 before any machine starts.
 *
 * @param nics         the NIC counts, ascending and distinct (the table's rows)
 * @param seconds      measured seconds per cell and repetition
 * @param warmup       seconds of the same traffic before each measurement, not measured (0: none)
 * @param bitsPerSecond payload bit rate per NIC, as iperf2's {@code -b} counts it
 * @param length       UDP payload bytes per datagram (iperf2's {@code -l})
 * @param sender       who sends the traffic
 * @param repeat       how many times every cell runs (cells interleaved within each repetition)
 * @param report       where {@code seed.json} and {@code report.html} go, or null for no files (it may not exist yet)
 * @param cells        the injection setups to compare, in table order
 * @param eventLoopThreads Netty event loop threads the NICs share (1, as configs/seed-10nics.yaml: then one thread
 *                     raises every NIC's interrupts; N for N NICs gives each NIC its own signalling thread, as each
 *                     NIC had its own vhost thread in the seed's kernel measurement)
 * @param socketBuffer SO_RCVBUF of every receiving socket, the NICs' and the plain receiver's alike (0: the kernel's
 *                     default). 4 MiB by default: with the kernel's 208 KiB a sender that was preempted catches up in
 *                     a burst that overflows the socket before the receiver is scheduled, and the kernel's drops then
 *                     measure the scheduler rather than the receive path
 * @param senderNice   the nice value of the senders (iperf processes or the built-in sender's thread; 0: the
 *                     benchmark's own priority). 19 by default: on a machine with fewer cores than senders and
 *                     receiving threads, the senders then take the CPU the receiving side leaves, as the seed's
 *                     senders did on cores of their own
 */
public record SeedOptions(List<Integer> nics, double seconds, double warmup, long bitsPerSecond, int length,
                          Sender sender, int repeat, Path report, List<SeedCell> cells, int eventLoopThreads,
                          long socketBuffer, int senderNice) {

    /** Who sends the datagrams. */
    public enum Sender {
        /** Debian's iperf2, one client process per NIC, as the seed measured with. */
        IPERF,
        /** {@code UdpSender}: iperf2's datagram format and pacing from one thread of this JVM. */
        BUILTIN,
        /** iperf when it is installed, the built-in sender otherwise. */
        AUTO;

        public String configName() {
            return ConfigValues.configName(this);
        }
    }

    /** The largest NIC count: one virtio-mmio slot each, and the toy guest reports on at most 32 NICs. */
    public static final int MAX_NICS = Math.min(MemoryMap.VIRTIO_MMIO_SLOTS, 32);
    static final double MAX_SECONDS = 3600;
    static final int MAX_REPEAT = 100;
    /** The highest rate accepted per NIC: beyond 10 Gbit/s of loopback per NIC, a typo is likelier than intent. */
    static final long MAX_RATE = 10_000_000_000L;

    public SeedOptions {
        nics = sortedDistinct(nics);
        check("--seconds", seconds > 0 && seconds <= MAX_SECONDS, "must be above 0 and at most " + (int) MAX_SECONDS
                + " seconds, got " + trim(seconds));
        check("--warmup", warmup >= 0 && warmup <= MAX_SECONDS, "must be between 0 and " + (int) MAX_SECONDS
                + " seconds, got " + trim(warmup));
        check("--rate", bitsPerSecond > 0 && bitsPerSecond <= MAX_RATE, "must be a bit rate per NIC between 1 and 10g"
                + " (e.g. 40m, 800k, 1g), got " + bitsPerSecond);
        check("--length", length >= 16 && length <= 65507, "a UDP payload length must be between 16 and 65507, got "
                + length);
        check("--sender", sender != null, "must be iperf, builtin or auto");
        check("--repeat", repeat >= 1 && repeat <= MAX_REPEAT, "must be between 1 and " + MAX_REPEAT + ", got " + repeat);
        check("--cells", cells != null && !cells.isEmpty(), "at least one cell is needed");
        java.util.TreeSet<SeedCell> ordered = new java.util.TreeSet<>(cells);
        check("--cells", ordered.size() == cells.size(), "a cell is listed twice in " + cells);
        // Table order, whatever order they were given in.
        cells = List.copyOf(ordered);
        check("--event-loop-threads", eventLoopThreads >= 1 && eventLoopThreads <= NetConfig.MAX_EVENT_LOOP_THREADS,
                "must be between 1 and " + NetConfig.MAX_EVENT_LOOP_THREADS + ", got " + eventLoopThreads);
        check("--socket-buffer", socketBuffer >= 0 && socketBuffer <= Integer.MAX_VALUE, "must be below 2G, got "
                + socketBuffer);
        check("--sender-nice", senderNice >= 0 && senderNice <= 19, "a nice value must be between 0 and 19, got "
                + senderNice);
        if (report != null) {
            report = checkReportDir(report);
        }
    }

    /** The defaults of the issue: 1 and 10 NICs, 10 s, 2 s warm-up, 40 Mbit/s of 64-byte datagrams, 3 repetitions. */
    public static SeedOptions defaults() {
        return new SeedOptions(List.of(1, 10), 10, 2, 40_000_000L, 64, Sender.AUTO, 3, null, List.of(SeedCell.values()),
                1, 4L << 20, 19);
    }

    private static void check(String option, boolean ok, String problem) {
        if (!ok) {
            throw new IllegalArgumentException(option + ": " + problem);
        }
    }

    private static List<Integer> sortedDistinct(List<Integer> counts) {
        if (counts == null || counts.isEmpty()) {
            throw new IllegalArgumentException("--nics: at least one NIC count is needed");
        }
        List<Integer> out = new ArrayList<>();
        for (int n : counts) {
            check("--nics", n >= 1 && n <= MAX_NICS, "a NIC count must be between 1 and " + MAX_NICS + ", got " + n);
            check("--nics", !out.contains(n), n + " is listed twice");
            out.add(n);
        }
        out.sort(null);
        return List.copyOf(out);
    }

    /** vCPUs of the machine for {@code nics} NICs: as many as NICs, at most 4 (the seed's 10-NIC guest had 4). */
    public static int vcpusFor(int nics) {
        return Math.min(4, nics);
    }

    /** Measured runs the options ask for: repetitions times NIC counts times (cells + the plain receiver). */
    public int runs() {
        return repeat * nics.size() * (cells.size() + 1);
    }

    /** A report directory that exists as a file or cannot be created or written fails now, not after the run. */
    static Path checkReportDir(Path given) {
        Path dir = given.toAbsolutePath();
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--report: " + dir + " exists and is not a directory");
        }
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null || !Files.isDirectory(existing) || !Files.isWritable(existing)) {
            throw new IllegalArgumentException("--report: cannot create or write " + dir);
        }
        return dir;
    }

    /** The options as {@code seed.json} records them. */
    String describe() {
        return String.format(Locale.ROOT, "--nics %s --seconds %s --warmup %s --rate %d --length %d --sender %s --repeat %d"
                        + " --cells %s --event-loop-threads %d", join(nics), trim(seconds), trim(warmup), bitsPerSecond, length,
                sender.configName(), repeat, String.join(",", cells.stream().map(SeedCell::configName).toList()),
                eventLoopThreads);
    }

    static String join(List<Integer> v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.size(); i++) {
            sb.append(i == 0 ? "" : ",").append(v.get(i));
        }
        return sb.toString();
    }

    static String trim(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
