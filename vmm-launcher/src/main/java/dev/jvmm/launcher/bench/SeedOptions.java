package dev.jvmm.launcher.bench;

import dev.jvmm.core.config.ConfigLoader;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.launcher.Main;
import dev.jvmm.launcher.traffic.UdpSender;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The validated options of {@code vmm bench seed}. {@link #parse} turns the command line's text into values and
 * rejects anything unusable with a {@link Main.UsageException} whose message names the option, so the user sees one
 * line and exit status 2 before any machine starts.
 *
 * @param nics         the NIC counts, ascending and distinct (the table's rows)
 * @param seconds      measured seconds per cell and repetition
 * @param warmup       seconds of the same traffic before each measurement, not measured (0: none)
 * @param bitsPerSecond payload bit rate per NIC, as iperf2's {@code -b} counts it
 * @param length       UDP payload bytes per datagram (iperf2's {@code -l})
 * @param sender       who sends the traffic
 * @param repeat       how many times every cell runs (cells interleaved within each repetition)
 * @param report       where {@code seed.json} and {@code report.html} go, or null for no files
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
        /** {@link UdpSender}: iperf2's datagram format and pacing from one thread of this JVM. */
        BUILTIN,
        /** iperf when it is installed, the built-in sender otherwise. */
        AUTO;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The largest NIC count: one virtio-mmio slot each, and the toy guest reports on at most 32 NICs. */
    public static final int MAX_NICS = Math.min(MemoryMap.VIRTIO_MMIO_SLOTS, 32);
    static final double MAX_SECONDS = 3600;
    static final int MAX_REPEAT = 100;
    /** The highest rate accepted per NIC: beyond 10 Gbit/s of loopback per NIC, a typo is likelier than intent. */
    static final long MAX_RATE = 10_000_000_000L;

    public SeedOptions {
        nics = List.copyOf(nics);
        cells = List.copyOf(cells);
    }

    /** The defaults of the issue: 1 and 10 NICs, 10 s, 2 s warm-up, 40 Mbit/s of 64-byte datagrams, 3 repetitions. */
    public static SeedOptions defaults() {
        return parse("1,10", "10", "2", "40m", "64", "auto", "3", null, null, null, null, null);
    }

    /**
     * Parses and validates the command line's text (null: the default of that option).
     *
     * @throws Main.UsageException naming the option and the value it cannot use
     */
    public static SeedOptions parse(String nics, String seconds, String warmup, String rate, String length,
                                    String sender, String repeat, String report, String cells, String eventLoopThreads,
                                    String socketBuffer, String senderNice) {
        List<Integer> nicCounts = parseNics(nics == null ? "1,10" : nics);
        double secs = parseSeconds("--seconds", seconds == null ? "10" : seconds, false);
        double warm = parseSeconds("--warmup", warmup == null ? "2" : warmup, true);
        long bits = parseRate(rate == null ? "40m" : rate);
        int len = parseInt("--length", length == null ? "64" : length, 16, 65507, "a UDP payload length");
        Sender s = parseSender(sender == null ? "auto" : sender);
        int rep = parseInt("--repeat", repeat == null ? "3" : repeat, 1, MAX_REPEAT, "a number of repetitions");
        Path dir = report == null ? null : checkReportDir(report);
        List<SeedCell> cellList = parseCells(cells);
        int loops = parseInt("--event-loop-threads", eventLoopThreads == null ? "1" : eventLoopThreads, 1,
                VmConfig.MAX_EVENT_LOOP_THREADS, "a number of threads");
        long rcvbuf = parseSocketBuffer(socketBuffer == null ? "4M" : socketBuffer);
        int nice = parseInt("--sender-nice", senderNice == null ? "19" : senderNice, 0, 19, "a nice value");
        return new SeedOptions(nicCounts, secs, warm, bits, len, s, rep, dir, cellList, loops, rcvbuf, nice);
    }

    /** vCPUs of the machine for {@code nics} NICs: as many as NICs, at most 4 (the seed's 10-NIC guest had 4). */
    public static int vcpusFor(int nics) {
        return Math.min(4, nics);
    }

    /** Measured runs the options ask for: repetitions times NIC counts times (cells + the plain receiver). */
    public int runs() {
        return repeat * nics.size() * (cells.size() + 1);
    }

    static List<Integer> parseNics(String text) {
        List<Integer> out = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            int n = parseInt("--nics", part.trim(), 1, MAX_NICS, "a NIC count");
            if (out.contains(n)) {
                throw new Main.UsageException("--nics: " + n + " is listed twice in '" + text + "'");
            }
            out.add(n);
        }
        out.sort(null);
        return out;
    }

    static double parseSeconds(String option, String text, boolean zeroAllowed) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        double scale = 1;
        if (t.endsWith("ms")) {
            scale = 1e-3;
            t = t.substring(0, t.length() - 2);
        } else if (t.endsWith("s")) {
            t = t.substring(0, t.length() - 1);
        }
        double v;
        try {
            v = Double.parseDouble(t) * scale;
        } catch (NumberFormatException e) {
            v = Double.NaN;
        }
        if (Double.isNaN(v) || Double.isInfinite(v) || v < 0 || (!zeroAllowed && v == 0) || v > MAX_SECONDS
                || !t.matches("[0-9.]+")) {
            throw new Main.UsageException(option + ": '" + text + "' is not a number of seconds "
                    + (zeroAllowed ? "between 0" : "above 0") + " and " + (int) MAX_SECONDS + " (e.g. 10, 2.5 or 500ms)");
        }
        return v;
    }

    static long parseRate(String text) {
        long bits;
        try {
            bits = UdpSender.parseRate(text);
        } catch (NumberFormatException e) {
            bits = -1;
        }
        if (bits <= 0 || bits > MAX_RATE) {
            throw new Main.UsageException("--rate: '" + text + "' is not a bit rate per NIC between 1 and 10g"
                    + " (e.g. 40m, 800k, 1g)");
        }
        return bits;
    }

    static int parseInt(String option, String text, int min, int max, String what) {
        int v;
        try {
            v = Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new Main.UsageException(option + ": '" + text + "' is not " + what + " (" + min + ".." + max + ")");
        }
        if (v < min || v > max) {
            throw new Main.UsageException(option + ": " + what + " must be between " + min + " and " + max + ", got " + v);
        }
        return v;
    }

    static long parseSocketBuffer(String text) {
        long v;
        try {
            v = ConfigLoader.sizeBytes(text);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException("--socket-buffer: " + e.getMessage());
        }
        if (v > Integer.MAX_VALUE) {
            throw new Main.UsageException("--socket-buffer: must be below 2G, got '" + text + "'");
        }
        return v;
    }

    static Sender parseSender(String text) {
        for (Sender s : Sender.values()) {
            if (s.configName().equals(text.trim().toLowerCase(Locale.ROOT))) {
                return s;
            }
        }
        throw new Main.UsageException("--sender: must be iperf, builtin or auto, got '" + text + "'");
    }

    static List<SeedCell> parseCells(String text) {
        if (text == null) {
            return List.of(SeedCell.values());
        }
        List<SeedCell> chosen = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            SeedCell c = SeedCell.fromConfigName(part.trim());
            if (c == null) {
                throw new Main.UsageException("--cells: unknown cell '" + part.trim() + "'; known cells are worker, none,"
                        + " global-lru, sharded, per-its (the plain receiver always runs)");
            }
            if (chosen.contains(c)) {
                throw new Main.UsageException("--cells: " + c.configName() + " is listed twice");
            }
            chosen.add(c);
        }
        // Table order, whatever order they were given in.
        chosen.sort(null);
        return chosen;
    }

    /** A report directory that exists as a file or cannot be created or written fails now, not after the run. */
    static Path checkReportDir(String text) {
        if (text.isBlank()) {
            throw new Main.UsageException("--report: a directory is required");
        }
        Path dir = Path.of(text).toAbsolutePath();
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new Main.UsageException("--report: " + dir + " exists and is not a directory");
        }
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null || !Files.isDirectory(existing) || !Files.isWritable(existing)) {
            throw new Main.UsageException("--report: cannot create or write " + dir);
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
