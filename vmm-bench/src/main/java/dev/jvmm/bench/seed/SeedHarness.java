package dev.jvmm.bench.seed;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.jvmm.bench.BenchFailure;
import dev.jvmm.net.IoTransport;
import dev.jvmm.net.NetConfig;
import io.netty.util.ResourceLeakDetector;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The seed patch's measurement, end to end: chooses the sender, runs the schedule ({@link SeedBenchmark}) on machines
 * the caller builds ({@link MachineFactory}), prints the seed's table and writes {@code seed.json} and
 * {@code report.html}. {@code vmm bench seed} is its command line; see the package documentation for the figures.
 */
public final class SeedHarness {
    private SeedHarness() {
    }

    /**
     * Runs {@code o} and reports to {@code out}. Missed targets are reported, not failed.
     *
     * @throws IllegalArgumentException when an option cannot be used here (iperf asked for but not installed)
     * @throws BenchFailure when the run cannot complete (a port, a guest, the sender)
     */
    public static SeedResults run(SeedOptions o, MachineFactory machines, PrintWriter out, PrintWriter err)
            throws InterruptedException, IOException {
        return run(o, machines, null, out, err);
    }

    /**
     * As {@link #run(SeedOptions, MachineFactory, PrintWriter, PrintWriter)}, with the compiled udp-sink
     * {@code kernel} on the virt board in every cell instead of the toy guest when it is not null (the plain receiver
     * is the same). The figures keep their meaning: t1 → t2 is the same host path; t0 → t3 ends where the compiled
     * guest's IRQ vector reads ICC_IAR1_EL1; delivered datagrams are those the NICs placed in the guest's rings, and
     * the guest's receive interrupts those it acknowledged; the guest's own loss count is not read.
     */
    public static SeedResults run(SeedOptions o, MachineFactory machines, Path kernel, PrintWriter out,
                                  PrintWriter err) throws InterruptedException, IOException {
        TrafficSender traffic = TrafficSender.choose(o.sender(), o.senderNice());
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            // Production setting, for the NICs and the plain receiver alike: the sampling leak detector allocates a
            // stack trace now and then on the receive path.
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
        Map<String, Object> machine = machineFacts(traffic, o);
        if (kernel != null) {
            machine.put("guest", "compiled udp-sink " + kernel + " on the virt board (AArch64 CPU, GICv3 and ITS);"
                    + " delivered = datagrams the NICs placed in the guest's rings, guest interrupts = receive INTIDs"
                    + " it acknowledged, guest lost not read");
        } else {
            machine.put("guest", "the Java toy guest's udp-sink");
        }
        // Each run: boot, warm-up, measurement, stop (about a second besides); the JVM warm-up pass runs every cell once.
        double perRun = o.seconds() + o.warmup() + 1;
        double jvmWarmup = o.warmup() > 0 ? (o.cells().size() + 1) * (2 * o.warmup() + 1) : 0;
        out.printf(Locale.ROOT, "vmm bench seed: %d runs (%d repetition%s x NICs %s x plain + %s), about %.0f s;"
                        + " sender: %s%n", o.runs(), o.repeat(), o.repeat() == 1 ? "" : "s", SeedOptions.join(o.nics()),
                String.join(", ", o.cells().stream().map(SeedCell::configName).toList()), o.runs() * perRun + jvmWarmup,
                traffic.describe());
        if (kernel != null) {
            out.printf("guest: the compiled udp-sink (%s) on the virt board; t0 -> t3 ends at its ICC_IAR1_EL1 read%n",
                    kernel);
        }
        out.flush();
        Thread reaper = new Thread(SeedHarness::destroyChildren, "seed-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
        List<CellRun> runs;
        try {
            runs = new SeedBenchmark(o, traffic, machines, kernel, out, err).run();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(reaper);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running
            }
        }
        machine.put("finished", Instant.now().toString());
        machine.put("load_average_end", loadAverage());
        SeedResults results = new SeedResults(o, machine, runs);
        out.println();
        out.print(SeedReport.text(results));
        if (o.report() != null) {
            write(o.report().resolve("seed.json"), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(results.json()));
            write(o.report().resolve("report.html"), HtmlReport.render(results));
            out.printf("%nreport: %s, %s%n", o.report().resolve("seed.json"), o.report().resolve("report.html"));
        }
        out.flush();
        return results;
    }

    /** What the figures depend on besides the options: the machine, the JVM, the transport, the sender. */
    static Map<String, Object> machineFacts(TrafficSender traffic, SeedOptions o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("cpu", cpuModel());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        m.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("transport", IoTransport.select(NetConfig.Transport.AUTO).configName());
        m.put("sender", traffic.describe());
        m.put("sender_name", traffic.name());
        m.put("machine_shape", "vCPUs = min(4, NICs); irq.halt-poll 200us (yielding), injector-spin 0; gic: 1 ITS,"
                + " cache-shards 8, 16 entries per vCPU; net: " + o.eventLoopThreads() + " event loop thread(s),"
                + " transport auto, socket receive buffer " + bufferSize(o.socketBuffer()) + "; NICs: udp backend on"
                + " 127.0.0.1:0, queue-size 256, mrg-rxbuf, MSIs (wired cell: each slot's SPI); guest: udp-sink with"
                + " iperf sequence checks");
        m.put("socket_receive_buffer", o.socketBuffer());
        m.put("sender_nice", o.senderNice());
        m.put("netty_leak_detection", ResourceLeakDetector.getLevel().name().toLowerCase(Locale.ROOT));
        m.put("kernel_socket_drops", java.nio.file.Files.isReadable(java.nio.file.Path.of("/proc/net/udp")) ? "/proc/net/udp" : "unavailable");
        m.put("started", Instant.now().toString());
        m.put("load_average_start", loadAverage());
        return m;
    }

    /** A socket buffer size for the report: {@code 4 MiB}, or the kernel's default. */
    static String bufferSize(long bytes) {
        if (bytes == 0) {
            return "the kernel's default";
        }
        return bytes % (1 << 20) == 0 ? (bytes >> 20) + " MiB" : bytes % 1024 == 0 ? (bytes >> 10) + " KiB" : bytes + " B";
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return "unknown";
    }

    /** The 1, 5 and 15 minute load averages: how busy the shared machine was around the run. */
    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** On Ctrl-C: end the iperf clients this JVM started (they would otherwise send for the rest of their time). */
    private static void destroyChildren() {
        ProcessHandle.current().children().forEach(ProcessHandle::destroy);
    }

    /** Writes through a temporary file, so that a reader never sees half a report. */
    private static void write(Path file, String text) {
        try {
            Path dir = file.getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".seed", ".tmp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            try {
                // createTempFile makes it private (0600); a report is for reading.
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException notPosix) {
                // keep the default
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new BenchFailure("cannot write " + file + ": " + e.getMessage());
        }
    }
}
