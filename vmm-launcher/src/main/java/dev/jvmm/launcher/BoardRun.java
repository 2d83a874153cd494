package dev.jvmm.launcher;

import dev.jvmm.bench.traffic.UdpSender;
import dev.jvmm.core.config.ConfigException;
import dev.jvmm.core.config.ConfigLoader;
import dev.jvmm.core.config.ConfigSection;
import dev.jvmm.core.config.ConfigValues;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.IrqStats;
import dev.jvmm.guest.ToyGuestConfig;
import dev.jvmm.net.KernelUdpSockets;
import dev.jvmm.net.NetConfig;
import dev.jvmm.net.NicConfig;
import dev.jvmm.net.NicStats;
import dev.jvmm.net.VirtioNetDevice;
import dev.jvmm.virt.BootException;
import dev.jvmm.virt.KernelConfig;
import dev.jvmm.virt.SerialConsole;
import dev.jvmm.virt.VirtMachine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A compiled guest on the {@code virt} board (vmm-virt) as the command line runs it: {@code vmm boot} (the guest's
 * console on standard output, as QEMU's {@code -nographic}; jvmm's own words on standard error) and {@code vmm run}
 * of a configuration whose guest is a kernel (the guest's console lines beside a status line every second, and a
 * summary of the host's counters and the guest's last counter lines).
 *
 * <p>Exit status: the run's ({@link VirtMachine.Outcome#exitStatus()}: 0 for a power-off, a refused reset or a stop;
 * 1 for a guest that faulted beyond its vectors or a vCPU that stopped); 2 for a kernel that cannot be booted.
 */
final class BoardRun {

    /** The sections {@code vmm boot} reads: the board's, and the toy guest's only to say it is the wrong guest. */
    static final List<ConfigSection<?>> BOOT_SECTIONS;

    static {
        List<ConfigSection<?>> s = new ArrayList<>(VirtMachine.SECTIONS);
        s.add(ToyGuestConfig.SECTION);
        BOOT_SECTIONS = List.copyOf(s);
    }

    private BoardRun() {
    }

    static ConfigLoader bootLoader() {
        return ConfigLoader.of(BOOT_SECTIONS);
    }

    /** Whether {@code config}'s guest is a kernel for the board (its {@code guest} section names {@code kernel}). */
    static boolean isBoard(VmConfig config) {
        return config.find(KernelConfig.SECTION).isPresent();
    }

    /**
     * {@code vmm run CONFIG} for a kernel guest: the guest's console lines among a status line every second (unless
     * quiet), optional built-in traffic once the guest's NICs are up, and the summary.
     */
    static int runConfig(VmConfig cfg, PrintWriter out, PrintWriter err, Duration limit, Traffic traffic,
                         boolean quiet, Duration bootTimeout, Path statsJson, Path trace,
                         InetSocketAddress metrics, Path configFile) throws Exception {
        if (trace != null || cfg.get(dev.jvmm.launcher.trace.TraceConfig.SECTION).dir() != null) {
            throw new Main.UsageException("--trace: not available for a kernel guest (guest.kernel) yet");
        }
        if (metrics != null) {
            throw new Main.UsageException("--metrics: not available for a kernel guest (guest.kernel) yet");
        }
        GuestLines lines = new GuestLines(out, "guest: ");
        KernelConfig k = cfg.get(KernelConfig.SECTION);
        VirtMachine vm = build(cfg, runConsole(k, lines));
        out.printf("%s on the virt board, %d vCPU(s): %s%s%n", k.kernelPath(cfg).getFileName(),
                cfg.machine().vcpus(), vm.bootSummary(), ShutdownHook.howItStops(limit));
        out.flush();
        int status = run(vm, out, err, new Options(limit, traffic, !quiet, true, bootTimeout), lines);
        if (statsJson != null) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("config", configFile.toString());
            doc.put("outcome", vm.outcome() == null ? "stopped" : vm.outcome().kind().name().toLowerCase(Locale.ROOT));
            List<Map<String, Object>> nics = new ArrayList<>();
            for (VirtioNetDevice d : vm.nics()) {
                NicStats n = d.stats();
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("id", n.nic());
                m.put("rx_datagrams", n.rxDatagrams());
                m.put("rx_delivered", n.rxDelivered());
                m.put("rx_dropped", n.rxDropped());
                m.put("tx_frames", n.txFrames());
                m.put("msi_signalled", n.msisSignalled());
                nics.add(m);
            }
            doc.put("nics", nics);
            doc.put("guest_counter_lines", lines.lastCounterLines());
            RunStats.writeJson(statsJson, doc);
            out.printf("  counters written to %s%n", statsJson);
        }
        return status;
    }

    /** Builds the machine; a kernel that cannot be booted is a usage error (exit status 2) with its message. */
    static VirtMachine build(VmConfig config, SerialConsole console) {
        try {
            return VirtMachine.builder(config).name("virt").console(console).build();
        } catch (BootException e) {
            console.close();
            throw new Main.UsageException(e.getMessage());
        } catch (ConfigException e) {
            console.close();
            throw e;
        }
    }

    /** What a run is asked to do beside booting: stop after {@code limit} (null: never), traffic, what it prints. */
    record Options(Duration limit, Traffic traffic, boolean statusLines, boolean summary, Duration bootTimeout) {
    }

    /**
     * Runs {@code vm} until it ends (a power-off, a refused reset, a fatal error), the limit passes, or Ctrl-C;
     * prints status lines and a summary when asked. Returns the exit status.
     */
    static int run(VirtMachine vm, PrintWriter out, PrintWriter err, Options o, GuestLines lines) throws Exception {
        ShutdownHook hook = ShutdownHook.install(vm::requestStop);
        UdpSender sender = null;
        long start = System.nanoTime();
        try {
            vm.start();
            for (int i = 0; i < vm.nics().size(); i++) {
                NicConfig nic = vm.nics().get(i).config();
                err.printf("vmm: %s: udp %s:%d -> guest %s:%d (virtio-mmio slot %d)%n", nic.id(),
                        nic.listen().getAddress().getHostAddress(), vm.nicPort(i), nic.guestIp().getHostAddress(),
                        nic.guestPort(), nic.slot());
            }
            err.flush();
            VirtMachine.Outcome end = null;
            if (o.traffic() != null && !vm.nics().isEmpty()) {
                if (vm.awaitDrivers(o.bootTimeout())) {
                    sender = new UdpSender(Traffic.targets(vm.nics()), o.traffic().bitsPerSecond(),
                            o.traffic().length(), o.limit().toNanos(), "vmm-traffic").start();
                } else {
                    end = vm.outcome();
                    if (end == null) {
                        throw new Main.RunFailure("the guest did not bring up its NICs within "
                                + ConfigValues.describeNanos(o.bootTimeout().toNanos())
                                + " (no virtio-net driver reached DRIVER_OK)");
                    }
                }
            }
            start = System.nanoTime();
            long deadline = o.limit() == null ? Long.MAX_VALUE : start + o.limit().toNanos();
            Snapshot prev = o.statusLines() ? Snapshot.of(vm) : null;
            while (end == null) {
                long wait = Math.min(1_000_000_000L, deadline - System.nanoTime());
                if (wait <= 0) {
                    break;
                }
                end = vm.awaitEnd(Duration.ofNanos(wait));
                if (end == null && o.statusLines() && System.nanoTime() < deadline) {
                    Snapshot s = Snapshot.of(vm);
                    lines.print(s.statusLine(prev, start));
                    prev = s;
                }
            }
            if (sender != null) {
                sender.close();
                Thread.sleep(200);                           // the last datagrams in flight reach the guest
            }
            Snapshot last = snapshotOrNull(vm);
            if (end == null) {
                vm.requestStop();
                end = vm.awaitEnd(Duration.ofSeconds(10));
            }
            vm.console().flush(5_000);
            if (o.summary() && lines != null) {
                lines.print(summary(vm, last, start, lines, sender, o).stripTrailing());
            }
            if (end == null) {
                throw new Main.RunFailure("the machine did not stop");
            }
            if (end.kind() == VirtMachine.Outcome.Kind.STOPPED) {
                if (hook.fired()) {
                    err.println("vmm: stopped by a signal");
                } else if (o.limit() != null) {
                    if (!o.summary()) {
                        err.println("vmm: stopped after " + ConfigValues.describeNanos(o.limit().toNanos()));
                    }
                }
            } else if (end.kind() != VirtMachine.Outcome.Kind.POWER_OFF) {
                err.println("vmm: " + end.message());
            }
            return end.exitStatus();
        } finally {
            if (sender != null) {
                sender.close();
            }
            VmmCommand.warn(err, vm.stop());
            vm.close();
            out.flush();
            err.flush();
            hook.close();
        }
    }

    /** The counters now (also after the guest ended the run: the devices keep them), or null if unreadable. */
    private static Snapshot snapshotOrNull(VirtMachine vm) {
        try {
            return Snapshot.of(vm);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** The host's counters at one moment. */
    record Snapshot(long nanos, List<NicStats> nics, List<Integer> ports, List<KernelUdpSockets.Counters> kernel,
                    IrqStats irq) {
        static Snapshot of(VirtMachine vm) {
            List<NicStats> n = new ArrayList<>();
            List<Integer> p = new ArrayList<>();
            List<KernelUdpSockets.Counters> k = new ArrayList<>();
            for (int i = 0; i < vm.nics().size(); i++) {
                VirtioNetDevice d = vm.nics().get(i);
                n.add(d.stats());
                p.add(d.boundPort());
                k.add(KernelUdpSockets.of(d.localAddress()));
            }
            return new Snapshot(System.nanoTime(), n, p, k, vm.machine().irqRouter().stats());
        }

        String statusLine(Snapshot prev, long start) {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%5.1fs ", (nanos - start) / 1e9));
            for (int i = 0; i < nics.size(); i++) {
                NicStats s = nics.get(i);
                NicStats p = prev == null || prev.nics.size() <= i ? null : prev.nics.get(i);
                sb.append(String.format(Locale.ROOT, "| %s in %d deliv %d drop %d ", s.nic(),
                        s.rxDatagrams() - (p == null ? 0 : p.rxDatagrams()),
                        s.rxDelivered() - (p == null ? 0 : p.rxDelivered()),
                        s.rxDropped() - (p == null ? 0 : p.rxDropped())));
            }
            long spis = irq.irqchipRaised() - (prev == null ? 0 : prev.irq.irqchipRaised());
            sb.append(String.format(Locale.ROOT, "| msi %d%s", irq.injected() - (prev == null ? 0 : prev.irq.injected()),
                    spis == 0 ? "" : " spi " + spis));
            return sb.toString();
        }
    }

    private static String summary(VirtMachine vm, Snapshot last, long start, GuestLines lines, UdpSender sender,
                                  Options o) {
        StringBuilder sb = new StringBuilder();
        if (last != null) {
            sb.append(String.format(Locale.ROOT, "summary after %.1f s%n", (last.nanos() - start) / 1e9));
            sb.append(String.format(Locale.ROOT, "  %-8s %6s %12s %12s %10s %11s %10s%n", "nic", "port", "rx dgrams",
                    "delivered", "dropped", "kernel drop", "tx frames"));
            for (int i = 0; i < last.nics().size(); i++) {
                NicStats n = last.nics().get(i);
                long kd = last.kernel().get(i).drops();
                sb.append(String.format(Locale.ROOT, "  %-8s %6d %12d %12d %10d %11s %10d%n", n.nic(), last.ports().get(i),
                        n.rxDatagrams(), n.rxDelivered(), n.rxDropped(), kd < 0 ? "?" : Long.toString(kd),
                        n.txFrames()));
            }
            sb.append(String.format(Locale.ROOT, "  MSIs: injected %d (fast path %d, slow path %d), not delivered %d; "
                    + "wired SPIs: %d edges raised%n", last.irq().injected(), last.irq().fastPath(),
                    last.irq().slowPath(), last.irq().droppedTotal(), last.irq().irqchipRaised()));
            if (!last.nics().isEmpty()) {
                sb.append("  ").append(lossLine(vm, last, sender)).append('\n');
            }
        } else {
            sb.append(String.format(Locale.ROOT, "summary after %.1f s (the guest ended the run)%n",
                    (System.nanoTime() - start) / 1e9));
        }
        if (sender != null) {
            sb.append(String.format(Locale.ROOT, "  built-in sender: %d datagrams of %d bytes sent%n",
                    sender.totalSent(), o.traffic().length()));
        }
        List<String> g = lines.lastCounterLines();
        if (!g.isEmpty()) {
            sb.append("  the guest's last counters:\n");
            for (String l : g) {
                sb.append("    ").append(l).append('\n');
            }
        }
        return sb.toString();
    }

    /**
     * Where received datagrams were lost ({@link LossLine}), from the host's counters: a compiled guest's own
     * discards are not known to the host (its counter lines above say what it lost), so the guest's share reads 0.
     */
    static String lossLine(VirtMachine vm, Snapshot last, UdpSender sender) {
        List<LossLine.Nic> l = new ArrayList<>();
        long asked = vm.config().get(NetConfig.SECTION).socketReceiveBuffer();
        for (int i = 0; i < last.nics().size(); i++) {
            NicStats n = last.nics().get(i);
            VirtioNetDevice d = vm.nics().get(i);
            long sent = sender == null || sender.targets().size() <= i ? -1 : sender.targets().get(i).sent();
            l.add(new LossLine.Nic(n.nic(), d.config().mrgRxbuf(), sent, n.rxDatagrams(), last.kernel().get(i).drops(),
                    n.rxDroppedNoBuffer(), n.rxDroppedTooBig(), n.rxDroppedUnsupported(), 0, d.socketReceiveBuffer(),
                    asked));
        }
        // The board's built-in sender runs at the JVM's own priority; -1 keeps --sender-nice out of the advice.
        return LossLine.of(l, KernelUdpSockets.rmemMax(), -1);
    }

    /**
     * The guest's console as whole lines (carriage returns dropped), printed with a {@code guest: } prefix among the
     * status lines, and the last counter line of each NIC ({@code [T s] nic N: ...}) and of the guest's own summary
     * kept for the run's summary.
     */
    static final class GuestLines extends OutputStream {
        private static final Pattern COUNTER = Pattern.compile("^\\[[^]]*] (nic \\d+):.*");
        private final PrintWriter out;
        private final String prefix;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();
        private final Map<String, String> counters = new LinkedHashMap<>();
        private final List<String> summaries = new ArrayList<>();

        GuestLines(PrintWriter out, String prefix) {
            this.out = out;
            this.prefix = prefix;
        }

        @Override
        public synchronized void write(int b) {
            if (b == '\n') {
                String l = line.toString(StandardCharsets.UTF_8);
                line.reset();
                guestLine(l);
            } else if (b != '\r') {
                line.write(b);
                if (line.size() > 4096) {
                    guestLine(line.toString(StandardCharsets.UTF_8));
                    line.reset();
                }
            }
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            for (int i = 0; i < len; i++) {
                write(b[off + i]);
            }
        }

        private void guestLine(String l) {
            Matcher m = COUNTER.matcher(l);
            if (m.matches()) {
                counters.put(m.group(1), l);
            } else if (l.startsWith("summary ")) {
                summaries.add(l);
            }
            print(prefix + l);
        }

        /** A line of jvmm's own, between two of the guest's. */
        synchronized void print(String l) {
            out.println(l);
            out.flush();
        }

        @Override
        public synchronized void flush() {
            out.flush();
        }

        synchronized List<String> lastCounterLines() {
            List<String> all = new ArrayList<>(counters.values());
            all.addAll(summaries);
            return all;
        }
    }

    /** The console a {@code guest.serial} value names, for {@code vmm run}: stdio means jvmm's own output. */
    static SerialConsole runConsole(KernelConfig k, GuestLines lines) {
        if (k.serial().equals("stdio")) {
            return SerialConsole.of(null, lines);
        }
        try {
            return SerialConsole.open(k.serial());
        } catch (IOException | IllegalArgumentException e) {
            throw new Main.UsageException("guest.serial: " + e.getMessage());
        }
    }

    static Path absolute(Path p) {
        return p == null ? null : p.toAbsolutePath().normalize();
    }
}
