package dev.jvmm.launcher;

import dev.jvmm.bench.traffic.UdpSender;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.guest.GuestReport;
import dev.jvmm.guest.ToyGuestConfig;
import dev.jvmm.net.NetConfig;
import dev.jvmm.net.NicConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code vmm run CONFIG}: start the machine, print its NICs' host ports, a status line every second, and on Ctrl-C,
 * SIGTERM or the end of {@code --duration} stop cleanly and print a summary.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the toy guest of CONFIG; its NICs take UDP datagrams on their host ports.")
final class RunCommand extends VmmCommand {

    @Parameters(index = "0", paramLabel = "CONFIG", description = "The machine configuration (YAML), e.g. configs/toy-guest.yaml.")
    Path config;

    @Option(names = "--duration", paramLabel = "D", converter = Converters.DurationConverter.class,
            description = "Stop after this long (10s, 2m, ...); default: until Ctrl-C.")
    Duration duration;

    @Option(names = "--trace", paramLabel = "DIR", description = "Record every MSI and datagram into a Chronicle Queue in DIR.")
    Path trace;

    @Option(names = "--traffic", paramLabel = "RATE[:LEN]",
            converter = Converters.TrafficConverter.class,
            description = "Send iperf2-style UDP datagrams into every NIC with the built-in sender: RATE bits/s per NIC "
                    + "(e.g. 40m), LEN payload bytes (default 64). Stops after --duration (default 10s).")
    Traffic traffic;

    @Option(names = "--sender-nice", paramLabel = "N", defaultValue = "0",
            description = "Nice value of the built-in sender's thread (0..19; default: ${DEFAULT-VALUE}). On a busy "
                    + "machine, 19 lets it take only the CPU the event loop and vCPUs leave, so the kernel drops "
                    + "nothing, but it then sends less than RATE (and says so).")
    int senderNice;

    @Option(names = "--ramp-up", paramLabel = "D", defaultValue = "1s", converter = Converters.DurationConverter.class,
            description = "The built-in sender reaches RATE linearly over this long (default: ${DEFAULT-VALUE}; 0: at "
                    + "once). A JVM that has just started interprets its data path while compiling it: at full rate "
                    + "at once, the kernel dropped 1,400-5,800 datagrams of the first second on an idle 2-core machine.")
    Duration rampUp;

    @Option(names = "--metrics", paramLabel = "HOST:PORT", converter = Converters.HostPortConverter.class,
            description = "Serve the counters at http://HOST:PORT/metrics (Prometheus text format); a bare PORT binds 127.0.0.1.")
    InetSocketAddress metrics;

    @Option(names = "--quiet", description = "No status line every second; the summary only.")
    boolean quiet;

    @Mixin
    GuestRunOptions guestRun;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = out();
        Duration limit = duration;
        Traffic t = traffic;
        if (t != null && limit == null) {
            limit = Duration.ofSeconds(10);
        }
        Duration boot = guestRun.bootTimeout;
        if (senderNice < 0 || senderNice > 19) {
            throw new Main.UsageException("--sender-nice: a nice value must be between 0 and 19, got " + senderNice);
        }
        InetSocketAddress metricsAt = metrics;
        guestRun.checkStatsJson();
        VmConfig cfg = VirtualMachine.configLoader().load(config);
        if (BoardRun.isBoard(cfg)) {
            // guest.kernel: a compiled guest on the virt board (vmm-virt), not the toy guest.
            return BoardRun.runConfig(cfg, out, err(), limit, t, quiet, boot, guestRun.statsJson, trace,
                    metricsAt, config);
        }
        VirtualMachine.Builder builder = VirtualMachine.builder(cfg);
        if (trace != null) {
            builder.trace(trace);
        }
        return run(builder.build(), out, limit, t, boot, metricsAt);
    }

    private int run(VirtualMachine vm, PrintWriter out, Duration limit, Traffic t, Duration boot,
                    InetSocketAddress metricsAt) throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        ShutdownHook hook = ShutdownHook.install(stop::countDown);
        UdpSender sender = null;
        MetricsServer metricsServer = null;
        long start = System.nanoTime();
        try {
            vm.start();
            if (metricsAt != null) {
                metricsServer = MetricsServer.start(vm, metricsAt);
                out.printf("metrics: http://%s:%d/metrics%n", metricsServer.address().getHostString(),
                        metricsServer.address().getPort());
            }
            for (int i = 0; i < vm.nics().size(); i++) {
                NicConfig nic = vm.nics().get(i).config();
                if (nic.backend() == NicConfig.NicBackend.UDP) {
                    out.printf("%s: udp %s:%d -> guest %s:%d%s%n", nic.id(),
                            nic.listen().getAddress().getHostAddress(), vm.nicPort(i), nic.guestIp().getHostAddress(),
                            nic.guestPort(), socketBuffer(vm, i));
                } else {
                    out.printf("%s: udp-tunnel %s:%d <-> %s%s%n", nic.id(), nic.listen().getAddress().getHostAddress(),
                            vm.nicPort(i), nic.remote(), socketBuffer(vm, i));
                }
            }
            vm.awaitGuestRunning(boot);
            out.printf("guest %s running on %d vCPU(s); irq mode %s, translation cache %s%s%n",
                    vm.config().get(ToyGuestConfig.SECTION).program(), vm.config().machine().vcpus(),
                    vm.config().irq().mode().configName(), vm.gic().cacheStrategy().configName(),
                    ShutdownHook.howItStops(limit));
            out.flush();
            if (t != null) {
                sender = new UdpSender(Traffic.targets(vm.nics()), t.bitsPerSecond(), t.length(), limit.toNanos(),
                        "vmm-traffic").nice(senderNice).rampUp(rampUp.toNanos()).start();
            }
            start = System.nanoTime();
            RunStats prev = null;
            long deadline = limit == null ? Long.MAX_VALUE : start + limit.toNanos();
            while (true) {
                long now = System.nanoTime();
                long wait = Math.min(1_000_000_000L, deadline - now);
                if (wait <= 0 || stop.await(wait, TimeUnit.NANOSECONDS)) {
                    break;
                }
                RunStats s = RunStats.of(vm);
                if (!quiet && System.nanoTime() < deadline) {
                    out.println(s.statusLine(prev, start));
                    out.flush();
                }
                prev = s;
                if (vm.guest().state() == GuestReport.STATE_PANICKED) {
                    throw new Main.RunFailure("the guest panicked: " + vm.guest().panicMessage());
                }
            }
            if (sender != null) {
                sender.close();
                // Let the last datagrams in flight reach the guest before the final count.
                Thread.sleep(200);
            }
            RunStats last = RunStats.of(vm);
            out.print(last.summary(start));
            long[] sent = null;
            if (sender != null) {
                out.printf("  built-in sender: %d datagrams of %d bytes sent%n", sender.totalSent(), t.length());
                sent = sender.targets().stream().mapToLong(UdpSender.Target::sent).toArray();
            }
            out.println("  " + last.lossLine(sent, sender == null ? -1 : senderNice));
            if (vm.trace() != null) {
                out.printf("  trace: %d records into %s%n", vm.trace().records(), trace != null ? trace
                        : vm.config().get(dev.jvmm.launcher.trace.TraceConfig.SECTION).dir());
            }
            Path statsJson = guestRun.statsJson;
            if (statsJson != null) {
                var doc = last.json(config.toString(), start);
                if (sender != null) {
                    doc.put("sender_sent", sender.totalSent());
                }
                RunStats.writeJson(statsJson, doc);
                out.printf("  counters written to %s%n", statsJson);
            }
            List<String> faults = vm.machine().vcpuFaults();
            if (!faults.isEmpty()) {
                throw new Main.RunFailure("a vCPU faulted: " + faults.get(0));
            }
            return Main.EXIT_OK;
        } finally {
            if (sender != null) {
                sender.close();
            }
            if (metricsServer != null) {
                metricsServer.close();
            }
            warn(err(), vm.stop());
            out.flush();
            hook.close();
        }
    }

    /**
     * ", socket receive buffer 8M (4M asked, doubled by Linux)": what the kernel holds for the socket and whether it
     * cut the request at net.core.rmem_max; "" when unknown.
     */
    static String socketBuffer(VirtualMachine vm, int nic) {
        int got = vm.nics().get(nic).socketReceiveBuffer();
        long asked = vm.config().get(NetConfig.SECTION).socketReceiveBuffer();
        if (got <= 0) {
            return "";
        }
        String why = asked == 0 ? "the kernel's default"
                : got < 2 * asked ? LossLine.size(asked) + " asked: net.core.rmem_max cut it to " + LossLine.size(got / 2)
                : LossLine.size(asked) + " asked, doubled by Linux";
        return ", socket receive buffer " + LossLine.size(got) + " (" + why + ")";
    }
}
