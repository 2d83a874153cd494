package dev.jvmm.bench.peer;

import dev.jvmm.bench.BenchFailure;
import dev.jvmm.bench.Medians;
import dev.jvmm.bench.board.ConsoleLines;
import dev.jvmm.bench.board.QemuProcess;
import dev.jvmm.bench.traffic.UdpSender;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.net.NicConfig;
import dev.jvmm.virt.BootException;
import dev.jvmm.virt.KernelConfig;
import dev.jvmm.virt.SerialConsole;
import dev.jvmm.virt.VirtMachine;

import java.io.PrintWriter;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code vmm bench peer}: the compiled udp-sink on QEMU TCG (user networking, {@code hostfwd=udp:}, its NIC's wired
 * SPI) and on jvmm (wired, and MSIs through the ITS), fed by the same sender at the same rate, one side after the
 * other in one run: what a user choosing between the two would compare.
 *
 * <pre>
 *  each side:  boot ─▶ the guest's first counter line (driver up) ─▶ baseline line ─▶ traffic for --seconds
 *              ─▶ the sender's count ─▶ 2.2 s for the guest's next lines ─▶ last line ─▶ stop
 *  figures:    delivered = the guest's datagram counter, last line - baseline; loss = sent - delivered;
 *              receive interrupts from the guest's irqs counter; the guest-measured interval between receive
 *              interrupts: its per-second averages over the traffic's seconds, weighted by that second's interrupts
 * </pre>
 */
public final class PeerBench {
    /** After the traffic: long enough for the guest's next per-second line to cover its end. */
    private static final long TAIL_MILLIS = 2_200;
    private static final long MEMORY = 128L << 20;

    /** What a run measured on one side; the medians' inputs. */
    public record SideRun(String side, int repetition, double seconds, long sent, long delivered, long guestLost,
                          long irqs, double irqIntervalMicros, double load) {
        public double sentPerSecond() {
            return sent / seconds;
        }

        public double deliveredPerSecond() {
            return delivered / seconds;
        }

        public double lossShare() {
            return sent == 0 ? Double.NaN : Math.max(0, sent - delivered) / (double) sent;
        }
    }

    /** The sides a run compares. */
    public enum Side {
        QEMU_WIRED("QEMU TCG, wired"), JVMM_WIRED("jvmm, wired"), JVMM_MSI("jvmm, MSI (ITS)");

        final String label;

        Side(String label) {
            this.label = label;
        }
    }

    private final PeerBenchOptions o;
    private final PrintWriter out;

    private PeerBench(PeerBenchOptions o, PrintWriter out) {
        this.o = o;
        this.out = out;
    }

    /** Runs every side {@code repetitions} times, alternating, and prints the table; returns every run. */
    public static List<SideRun> run(PeerBenchOptions o, PrintWriter out) throws InterruptedException {
        return new PeerBench(o, out).run();
    }

    private List<SideRun> run() throws InterruptedException {
        List<Side> sides = new ArrayList<>();
        if (o.qemu() != null) {
            sides.add(Side.QEMU_WIRED);
        }
        sides.add(Side.JVMM_WIRED);
        sides.add(Side.JVMM_MSI);
        double load0 = Medians.loadAverage();
        out.printf(Locale.ROOT, "vmm bench peer: %s, one NIC, %s bit/s of %d-byte datagrams for %.1f s per side, %d"
                        + " repetition%s%n", o.guest(), rate(o.bitsPerSecond()), o.length(), o.seconds(),
                o.repetitions(), o.repetitions() == 1 ? "" : "s");
        out.printf(Locale.ROOT, "  QEMU: %s%n", o.qemu() == null ? "not run (" + o.qemuNote() + ")"
                : o.qemu() + " (" + QemuProcess.version(o.qemu()) + "), TCG, -smp 1, user networking");
        out.flush();
        List<SideRun> runs = new ArrayList<>();
        for (int rep = 1; rep <= o.repetitions(); rep++) {
            for (Side s : sides) {
                SideRun r = s == Side.QEMU_WIRED ? qemu(rep) : jvmm(s, rep);
                runs.add(r);
                out.printf(Locale.ROOT, "  rep %d %-18s sent %9.0f/s delivered %9.0f/s loss %5.1f%% irqs %7d"
                                + " irq-interval %s%n", rep, s.label, r.sentPerSecond(), r.deliveredPerSecond(),
                        r.lossShare() * 100, r.irqs(), micros(r.irqIntervalMicros()));
                out.flush();
            }
        }
        double load1 = Medians.loadAverage();
        out.println();
        out.printf(Locale.ROOT, "results: medians of %d repetition%s (min..max)%n", o.repetitions(),
                o.repetitions() == 1 ? "" : "s");
        out.printf(Locale.ROOT, "  %-18s %-24s %-24s %-22s %-22s %-20s %s%n", "side", "sent/s", "delivered/s", "loss",
                "guest lost", "datagrams/irq", "irq interval (guest-measured)");
        for (Side s : sides) {
            List<SideRun> mine = runs.stream().filter(r -> r.side().equals(s.label)).toList();
            double[] sent = mine.stream().mapToDouble(SideRun::sentPerSecond).toArray();
            double[] del = mine.stream().mapToDouble(SideRun::deliveredPerSecond).toArray();
            double[] loss = mine.stream().mapToDouble(r -> r.lossShare() * 100).toArray();
            double[] per = mine.stream().mapToDouble(r -> r.irqs() == 0 ? Double.NaN
                    : (double) r.delivered() / r.irqs()).toArray();
            double[] iv = mine.stream().mapToDouble(SideRun::irqIntervalMicros).toArray();
            double[] lost = mine.stream().mapToDouble(SideRun::guestLost).toArray();
            out.printf(Locale.ROOT, "  %-18s %-24s %-24s %-22s %-22s %-20s %s%n", s.label, range(sent, "%.0f"),
                    range(del, "%.0f"), range(loss, "%.1f%%"), range(lost, "%.0f"), range(per, "%.2f"),
                    range(iv, "%.1f us"));
        }
        out.printf(Locale.ROOT, "  load average %.2f before, %.2f after (%d cores); loss = sent - delivered (the"
                + " guest's datagram counter); guest lost = gaps in the iperf sequence numbers the guest saw%n", load0,
                load1, Runtime.getRuntime().availableProcessors());
        out.flush();
        return runs;
    }

    private static String range(double[] v, String fmt) {
        double m = Medians.median(v);
        if (Double.isNaN(m)) {
            return "n/a";
        }
        String s = String.format(Locale.ROOT, fmt, m);
        if (v.length > 1) {
            s += String.format(Locale.ROOT, " (" + fmt + ".." + fmt + ")", Medians.min(v), Medians.max(v));
        }
        return s;
    }

    private static String micros(double us) {
        return Double.isNaN(us) ? "n/a" : String.format(Locale.ROOT, "%.1f us", us);
    }

    private static String rate(long bps) {
        if (bps % 1_000_000 == 0) {
            return (bps / 1_000_000) + "M";
        }
        return bps % 1000 == 0 ? (bps / 1000) + "k" : Long.toString(bps);
    }

    // ------------------------------------------------------------------------------------------------ one side

    /** Lines of NIC 0 with the host time they arrived. */
    private static final class Lines {
        final List<SinkLine> lines = new ArrayList<>();
        final List<Long> at = new ArrayList<>();

        synchronized void accept(String l) {
            SinkLine s = SinkLine.parse(l);
            if (s != null && s.nic() == 0) {
                lines.add(s);
                at.add(System.nanoTime());
            }
        }

        synchronized SinkLine last() {
            return lines.isEmpty() ? null : lines.get(lines.size() - 1);
        }

        /** The guest's interval average over lines that arrived in (from, to], weighted by their interrupts. */
        synchronized double interval(long from, long to) {
            double sum = 0;
            long n = 0;
            for (int i = 0; i < lines.size(); i++) {
                SinkLine s = lines.get(i);
                if (at.get(i) > from && at.get(i) <= to && s.irqsDelta() > 1 && s.irqIntervalMicros() > 0) {
                    sum += (double) s.irqIntervalMicros() * s.irqsDelta();
                    n += s.irqsDelta();
                }
            }
            return n == 0 ? Double.NaN : sum / n;
        }
    }

    private interface Running {
        /** A failure message when the guest stopped, else null. */
        String ended() throws InterruptedException;
    }

    private SideRun measure(Side side, int rep, Lines lines, ConsoleLines console, InetSocketAddress target,
                            Running running) throws InterruptedException {
        long deadline = System.nanoTime() + o.bootTimeout().toNanos();
        while (lines.last() == null) {
            String e = running.ended();
            if (e != null) {
                throw new BenchFailure(side.label + ": " + e + "; console:\n" + console.text());
            }
            if (System.nanoTime() > deadline) {
                throw new BenchFailure(side.label + ": no counter line from the guest within "
                        + o.bootTimeout().toSeconds() + " s; console:\n" + console.text());
            }
            Thread.sleep(20);
        }
        SinkLine before = lines.last();
        long t0 = System.nanoTime();
        long sent;
        try (UdpSender sender = new UdpSender(List.of(target), o.bitsPerSecond(), o.length(),
                (long) (o.seconds() * 1e9), "peer-traffic").nice(o.senderNice()).start()) {
            Thread.sleep((long) (o.seconds() * 1000));
            sender.close();
            sent = sender.totalSent();
        }
        long t1 = System.nanoTime();
        Thread.sleep(TAIL_MILLIS);
        String e = running.ended();
        if (e != null) {
            throw new BenchFailure(side.label + ": " + e + "; console:\n" + console.text());
        }
        SinkLine after = lines.last();
        double window = (t1 - t0) / 1e9;
        return new SideRun(side.label, rep, window, sent, after.datagrams() - before.datagrams(),
                after.lost() - before.lost(), after.irqs() - before.irqs(),
                lines.interval(t0, t1 + 1_100_000_000L), Medians.loadAverage());
    }

    private SideRun jvmm(Side side, int rep) throws InterruptedException {
        Lines lines = new Lines();
        ConsoleLines console = new ConsoleLines(lines::accept);
        NicConfig nic = NicConfig.builder(31).listen(0).guestPort(NicConfig.DEFAULT_GUEST_PORT)
                .interrupt(side == Side.JVMM_WIRED ? NicConfig.NicInterrupt.WIRED : NicConfig.NicInterrupt.MSI)
                .build();
        VmConfig cfg = VmConfig.builder().vcpus(1).memorySize(MEMORY)
                .with(KernelConfig.SECTION, KernelConfig.of(o.guest().toAbsolutePath()).withAppend("interval=1"))
                .with(NicConfig.SECTION, List.of(nic)).build();
        VirtMachine vm;
        try {
            vm = VirtMachine.builder(cfg).name("peer").console(SerialConsole.of(null, console)).build();
        } catch (BootException ex) {
            throw new BenchFailure(ex.getMessage());
        }
        try {
            vm.start();
            InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), vm.nicPort(0));
            return measure(side, rep, lines, console, target, () -> {
                VirtMachine.Outcome end = vm.awaitEnd(Duration.ofMillis(1));
                return end == null ? null : "the guest ended: " + end.message();
            });
        } finally {
            vm.close();
        }
    }

    private SideRun qemu(int rep) throws InterruptedException {
        int port = freeUdpPort();
        Lines lines = new Lines();
        List<String> cmd = QemuProcess.command(o.qemu(), o.guest().toAbsolutePath(), "interval=1", 1, "128M",
                List.of("-netdev", "user,id=n0,hostfwd=udp:127.0.0.1:" + port + "-:" + port,
                        "-device", "virtio-net-device,netdev=n0"));
        QemuProcess q = QemuProcess.start(cmd, lines::accept);
        try {
            return measure(Side.QEMU_WIRED, rep, lines, q.console(),
                    new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                    () -> q.alive() ? null : "QEMU exited with status " + q.exitValue());
        } finally {
            q.close();
        }
    }

    /** A UDP port of 127.0.0.1 that was free a moment ago (QEMU binds it for hostfwd). */
    private static int freeUdpPort() {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            return s.getLocalPort();
        } catch (SocketException e) {
            throw new BenchFailure("no free UDP port on 127.0.0.1: " + e.getMessage());
        }
    }
}
