package dev.jvmm.launcher;

import dev.jvmm.bench.traffic.UdpSender;
import dev.jvmm.core.config.ConfigValues;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.guest.GuestReport;
import dev.jvmm.net.NicStats;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code vmm soak}: the seed's traffic (64-byte datagrams at 40 Mbit/s into each of ten NICs) for a long time, with
 * one line per interval (default a minute) of counters, heap after GC, live threads and latency percentiles of that
 * interval, so that drift and leaks show. Not part of the test suite: run it by hand, e.g.
 * {@code ./vmm soak --duration 10m}.
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = "Run traffic for a long time and report counters, heap after GC and latency per interval.")
final class SoakCommand extends VmmCommand {

    @Parameters(index = "0", arity = "0..1", paramLabel = "CONFIG", defaultValue = "configs/seed-10nics.yaml",
            description = "The machine (default: ${DEFAULT-VALUE}).")
    Path config;

    @Option(names = "--duration", paramLabel = "D", defaultValue = "10m", converter = Converters.DurationConverter.class,
            description = "How long (default ${DEFAULT-VALUE}).")
    Duration duration;

    @Option(names = "--interval", paramLabel = "D", defaultValue = "60s", converter = Converters.DurationConverter.class,
            description = "One report line per interval (default ${DEFAULT-VALUE}).")
    Duration interval;

    @Option(names = "--traffic", paramLabel = "RATE[:LEN]", defaultValue = "40m:64",
            converter = Converters.TrafficConverter.class,
            description = "Built-in sender into every NIC (default ${DEFAULT-VALUE}: the seed's iperf -b 40m -l 64).")
    Traffic traffic;

    @Option(names = "--stats-json", paramLabel = "FILE", description = "Write every interval's figures as JSON.")
    Path statsJson;

    @Override
    public Integer call() throws Exception {
        Duration total = duration;
        Duration step = interval;
        if (step.isZero() || step.compareTo(total) > 0) {
            throw new Main.UsageException("--interval must be positive and at most --duration");
        }
        Traffic t = traffic;
        if (statsJson != null) {
            GuestRunOptions.checkWritable(statsJson);
        }
        VmConfig cfg = VirtualMachine.configLoader().load(config);
        PrintWriter out = out();
        List<Map<String, Object>> rows = new ArrayList<>();
        try (VirtualMachine vm = VirtualMachine.builder(cfg).name("soak").build()) {
            vm.start();
            vm.awaitGuestRunning(Duration.ofSeconds(30));
            List<InetSocketAddress> to = Traffic.targets(vm.nics());
            out.printf(Locale.ROOT, "soak: %s, %d NICs, %d bit/s per NIC of %d-byte datagrams, %s, a line every %s%n",
                    config, to.size(), t.bitsPerSecond(), t.length(), ConfigValues.describeNanos(total.toNanos()),
                    ConfigValues.describeNanos(step.toNanos()));
            out.printf(Locale.ROOT, "%8s %12s %12s %10s %10s %12s %10s %10s %9s %9s %9s %8s %7s%n", "time", "offered",
                    "delivered", "dev drop", "krn drop", "guest rcvd", "lost", "msis", "p50 us", "p99 us", "max us",
                    "heap MB", "threads");
            out.flush();
            try (UdpSender sender = new UdpSender(to, t.bitsPerSecond(), t.length(), total.toNanos(), "soak-traffic")
                    .start()) {
                long start = System.nanoTime();
                RunStats prev = RunStats.of(vm);
                long prevSent = 0;
                for (long at = step.toNanos(); at <= total.toNanos(); at += step.toNanos()) {
                    long wait = start + at - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                    RunStats now = RunStats.of(vm);
                    long sent = sender.totalSent();
                    Map<String, Object> row = row(prev, now, sent - prevSent, (System.nanoTime() - start) / 1e9);
                    rows.add(row);
                    out.printf(Locale.ROOT, "%7.0fs %12d %12d %10d %10d %12d %10d %10d %9.2f %9.2f %9.2f %8.1f %7d%n",
                            row.get("time_s"), row.get("offered"), row.get("delivered"), row.get("device_drops"),
                            row.get("kernel_drops"), row.get("guest_received"), row.get("guest_lost"), row.get("msis"),
                            (Long) row.get("p50_ns") / 1e3, (Long) row.get("p99_ns") / 1e3, (Long) row.get("max_ns") / 1e3,
                            (Long) row.get("heap_after_gc") / 1048576.0, row.get("threads"));
                    out.flush();
                    if (vm.guest().state() == GuestReport.STATE_PANICKED) {
                        throw new Main.RunFailure("the guest panicked: " + vm.guest().panicMessage());
                    }
                    prev = now;
                    prevSent = sent;
                }
            }
            if (statsJson != null) {
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("config", config.toString());
                doc.put("traffic", t.bitsPerSecond() + ":" + t.length());
                doc.put("intervals", rows);
                RunStats.writeJson(statsJson, doc);
            }
            if (rows.size() >= 2) {
                Map<String, Object> first = rows.get(0);
                Map<String, Object> last = rows.get(rows.size() - 1);
                out.printf(Locale.ROOT, "drift first -> last interval: heap after GC %+.1f MB, threads %+d, p99 %.2f -> %.2f us%n",
                        ((Long) last.get("heap_after_gc") - (Long) first.get("heap_after_gc")) / 1048576.0,
                        (Integer) last.get("threads") - (Integer) first.get("threads"),
                        (Long) first.get("p99_ns") / 1e3, (Long) last.get("p99_ns") / 1e3);
            }
            warn(err(), vm.stop());
        }
        return Main.EXIT_OK;
    }

    private static Map<String, Object> row(RunStats prev, RunStats now, long offered, double seconds) {
        long delivered = 0;
        long dropped = 0;
        for (int i = 0; i < now.nics.size(); i++) {
            NicStats a = prev.nics.get(i);
            NicStats b = now.nics.get(i);
            delivered += b.rxDelivered() - a.rxDelivered();
            dropped += b.rxDropped() - a.rxDropped();
        }
        Histogram lat = now.irq.latencyNanos();
        lat.subtract(prev.irq.latencyNanos());
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("time_s", seconds);
        r.put("offered", offered);
        r.put("delivered", delivered);
        r.put("device_drops", dropped);
        r.put("kernel_drops", now.kernelDrops() - prev.kernelDrops());
        r.put("guest_received", now.guestTotal(GuestReport.Counter.FRAMES) - prev.guestTotal(GuestReport.Counter.FRAMES));
        r.put("guest_lost", now.guestTotal(GuestReport.Counter.LOST) - prev.guestTotal(GuestReport.Counter.LOST));
        r.put("msis", now.irq.injected() - prev.irq.injected());
        r.put("p50_ns", lat.getTotalCount() == 0 ? 0L : lat.getValueAtPercentile(50));
        r.put("p99_ns", lat.getTotalCount() == 0 ? 0L : lat.getValueAtPercentile(99));
        r.put("max_ns", lat.getMaxValue());
        r.put("heap_after_gc", ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        r.put("threads", ManagementFactory.getThreadMXBean().getThreadCount());
        return r;
    }
}
