package dev.jvmm.launcher.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.jvmm.core.config.NetConfig;
import dev.jvmm.launcher.Main;
import dev.jvmm.net.IoTransport;
import io.netty.util.ResourceLeakDetector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

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
import java.util.concurrent.Callable;

/**
 * {@code vmm bench seed}: the seed patch's measurement, reproduced on this machine and set beside the paths that
 * came after it. For 1 and 10 NICs receiving iperf2 UDP traffic at once, it measures how long an MSI takes from the
 * NIC's irqfd signal until its LPI is pending (t1 → t2, what the seed measured), and from a datagram's arrival until
 * the guest acknowledges the interrupt that covered it (t0 → t3), for every injection setup:
 *
 * <pre>
 *   vmm bench seed                                   # 1 and 10 NICs, every cell, 3 x 10 s each, iperf if installed
 *   vmm bench seed --nics 1 --seconds 2 --repeat 1 --cells worker,per-its --report /tmp/seed
 *
 *   repetition 1:  1 NIC: plain, worker, none, global-lru, sharded, per-its   10 NICs: plain, worker, ...
 *   repetition 2:  the same, in the same order ...     (each cell a fresh machine, the same traffic)
 * </pre>
 *
 * It prints the seed's table (p50 and p99 per path, changes against {@code worker} and {@code global-lru}), the
 * end-to-end latencies, the traffic with the plain Netty receiver as the receive path's limit, the seed's own kernel
 * figures for orientation (marked as such) and the issue's targets with a verdict each. {@code --report DIR} adds
 * {@code seed.json} and {@code report.html}. Missed targets are reported, not failed: the exit status is 0 for a
 * completed run, 2 for bad options, 1 for a run that could not complete (a port, a guest, the sender).
 */
@Command(name = "seed", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The seed patch's measurement: MSI injection latency (signal -> pending) and datagram arrival ->"
                + " guest acknowledge, for 1 and 10 NICs under UDP load, through the worker thread and each cached"
                + " path, with a plain Netty receiver as baseline.",
                "Cells: worker (every MSI through the injector thread), none (inline, the cache forced to miss),"
                        + " global-lru (Linux 5.4), sharded (the seed patch), per-its (Linux 6.10)."})
public final class SeedCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--nics", paramLabel = "N[,N...]", description = "NIC counts, one table row each (default 1,10).")
    String nics;

    @Option(names = "--seconds", paramLabel = "S", description = "Measured seconds per cell and repetition (default 10).")
    String seconds;

    @Option(names = "--warmup", paramLabel = "S", description = "Seconds of the same traffic before each measurement,"
            + " not measured (default 2).")
    String warmup;

    @Option(names = "--rate", paramLabel = "RATE", description = "Payload bits/s per NIC, as iperf's -b (default 40m).")
    String rate;

    @Option(names = "--length", paramLabel = "BYTES", description = "UDP payload bytes, as iperf's -l (default 64).")
    String length;

    @Option(names = "--sender", paramLabel = "WHO", description = "iperf, builtin or auto: iperf when installed"
            + " (default auto).")
    String sender;

    @Option(names = "--repeat", paramLabel = "R", description = "Runs of every cell, interleaved; medians and"
            + " min..max are reported (default 3).")
    String repeat;

    @Option(names = "--cells", paramLabel = "CELL[,CELL...]", description = "A subset of worker, none, global-lru,"
            + " sharded, per-its (default all; the plain receiver always runs).")
    String cells;

    @Option(names = "--event-loop-threads", paramLabel = "N", description = "Netty event loop threads the NICs"
            + " share (default 1, as configs/seed-10nics.yaml: one thread signals every NIC's interrupts).")
    String eventLoopThreads;

    @Option(names = "--socket-buffer", paramLabel = "SIZE", description = "SO_RCVBUF of every receiving socket,"
            + " the NICs' and the plain receiver's (default 4M; 0: the kernel's default).")
    String socketBuffer;

    @Option(names = "--sender-nice", paramLabel = "N", description = "Nice value of the senders, 0..19 (default 19:"
            + " they take only the CPU the receiving side leaves).")
    String senderNice;

    @Option(names = "--report", paramLabel = "DIR", description = "Write seed.json and report.html into DIR.")
    String report;

    @Override
    public Integer call() throws Exception {
        SeedOptions o = SeedOptions.parse(nics, seconds, warmup, rate, length, sender, repeat, report, cells,
                eventLoopThreads, socketBuffer, senderNice);
        TrafficSender traffic = TrafficSender.choose(o.sender(), o.senderNice());
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            // Production setting, for the NICs and the plain receiver alike: the sampling leak detector allocates a
            // stack trace now and then on the receive path.
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
        Map<String, Object> machine = machineFacts(traffic, o);
        // Each run: boot, warm-up, measurement, stop (about a second besides); the JVM warm-up pass runs every cell once.
        double perRun = o.seconds() + o.warmup() + 1;
        double jvmWarmup = o.warmup() > 0 ? (o.cells().size() + 1) * (2 * o.warmup() + 1) : 0;
        out.printf(Locale.ROOT, "vmm bench seed: %d runs (%d repetition%s x NICs %s x plain + %s), about %.0f s;"
                        + " sender: %s%n", o.runs(), o.repeat(), o.repeat() == 1 ? "" : "s", SeedOptions.join(o.nics()),
                String.join(", ", o.cells().stream().map(SeedCell::configName).toList()), o.runs() * perRun + jvmWarmup,
                traffic.describe());
        out.flush();
        Thread reaper = new Thread(SeedCommand::destroyChildren, "seed-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
        List<CellRun> runs;
        try {
            runs = new SeedBenchmark(o, traffic, out, err).run();
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
        return Main.EXIT_OK;
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
                + " 127.0.0.1:0, queue-size 256, mrg-rxbuf; guest: udp-sink with iperf sequence checks");
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
            throw new Main.RunFailure("cannot write " + file + ": " + e.getMessage());
        }
    }
}
