package dev.jvmm.bench.seed;

import dev.jvmm.bench.BenchFailure;
import dev.jvmm.bench.Medians;
import dev.jvmm.bench.traffic.PlainReceiver;
import dev.jvmm.core.config.IrqConfig;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.InjectionMode;
import dev.jvmm.core.irq.IrqStats;
import dev.jvmm.core.machine.Machine;
import dev.jvmm.core.vcpu.Vcpu;
import dev.jvmm.core.vcpu.VcpuStats;
import dev.jvmm.gic.GicConfig;
import dev.jvmm.gic.GicV3;
import dev.jvmm.gic.cache.CacheStats;
import dev.jvmm.guest.ToyGuestConfig;
import dev.jvmm.net.KernelUdpSockets;
import dev.jvmm.net.NetBackend;
import dev.jvmm.net.NetConfig;
import dev.jvmm.net.NicConfig;
import dev.jvmm.net.NicStats;
import dev.jvmm.net.VirtioNetDevice;
import dev.jvmm.net.VirtioNetDevices;
import dev.jvmm.virt.KernelConfig;
import org.HdrHistogram.Histogram;

import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs the seed benchmark's schedule: for every repetition, for every NIC count, the plain receiver and then each
 * cell, each on a fresh machine, so that whatever drifts on a shared machine (other jobs, thermal state, the JIT)
 * hits every cell of a repetition alike.
 *
 * <p>With a warm-up, a JVM warm-up pass runs first: every cell once, not recorded (see {@link #warmUpJvm()}).
 *
 * <pre>
 *  one run:  build + boot ─▶ warm-up traffic (not measured) ─▶ settle ─▶ reset counters
 *            ─▶ measured traffic for --seconds ─▶ the sender's count ─▶ grace for datagrams in flight ─▶ snapshot
 * </pre>
 */
public final class SeedBenchmark {
    /** After the warm-up: time for the sockets' backlog to drain before counters are reset. */
    private static final long SETTLE_MILLIS = 100;
    /** After the measured traffic: time for datagrams in flight to reach the guest before the snapshot. */
    private static final long GRACE_MILLIS = 100;
    /** Guest RAM: enough for 32 NICs' rings and buffers (the shipped seed-10nics config uses the same). */
    private static final long MEMORY = 512L << 20;

    private final SeedOptions options;
    private final TrafficSender sender;
    private final MachineFactory machines;
    private final Path kernel;
    private final PrintWriter out;
    private final PrintWriter err;

    SeedBenchmark(SeedOptions options, TrafficSender sender, MachineFactory machines, PrintWriter out, PrintWriter err) {
        this(options, sender, machines, null, out, err);
    }

    /** @param kernel a compiled udp-sink to run on the virt board instead of the toy guest, or null */
    SeedBenchmark(SeedOptions options, TrafficSender sender, MachineFactory machines, Path kernel, PrintWriter out,
                  PrintWriter err) {
        this.kernel = kernel;
        this.options = options;
        this.sender = sender;
        this.machines = machines;
        this.out = out;
        this.err = err;
    }

    /** Every run of the schedule, in the order they ran. */
    List<CellRun> run() throws InterruptedException {
        if (options.warmup() > 0) {
            warmUpJvm();
        }
        List<CellRun> runs = new ArrayList<>();
        int total = options.runs();
        int done = 0;
        for (int rep = 1; rep <= options.repeat(); rep++) {
            for (int n : options.nics()) {
                CellRun plain = runPlain(n, rep, options.seconds());
                runs.add(plain);
                progress(++done, total, plain);
                for (SeedCell cell : options.cells()) {
                    CellRun r = runMachine(n, cell, rep, options.seconds());
                    runs.add(r);
                    progress(++done, total, r);
                }
            }
        }
        return runs;
    }

    /**
     * Every cell once at the largest NIC count, measured for --warmup seconds and thrown away. On a 2-core machine
     * the JIT compiler's threads take a core for many seconds while the machine's code gets hot; without this pass
     * the first cells of repetition 1 pay for it (and drop datagrams the later ones do not).
     */
    private void warmUpJvm() throws InterruptedException {
        int n = options.nics().get(options.nics().size() - 1);
        if (out != null) {
            out.printf(Locale.ROOT, "JVM warm-up: the plain receiver and every cell once at %d NIC%s, not recorded%n", n,
                    n == 1 ? "" : "s");
            out.flush();
        }
        runPlain(n, 0, options.warmup());
        for (SeedCell cell : options.cells()) {
            runMachine(n, cell, 0, options.warmup());
        }
    }

    /**
     * The machine of one cell: vCPUs = min(4, NICs), NICs on free ports of 127.0.0.1 forwarding to guest port 5001,
     * interrupting as the cell says, the toy guest's udp-sink with iperf sequence checks.
     */
    static VmConfig config(int nics, SeedCell cell, int eventLoopThreads, long socketBuffer) {
        List<NicConfig> list = new ArrayList<>();
        for (int i = 0; i < nics; i++) {
            list.add(NicConfig.builder(i).listen(0).guestPort(NicConfig.DEFAULT_GUEST_PORT).interrupt(cell.interrupt())
                    .build());
        }
        return VmConfig.builder()
                .vcpus(SeedOptions.vcpusFor(nics))
                .memorySize(MEMORY)
                .irq(IrqConfig.defaults().withMode(cell.mode()))
                .with(GicConfig.SECTION, GicConfig.defaults().withCache(cell.cache()))
                .with(NetConfig.SECTION, new NetConfig(NetConfig.Transport.AUTO, eventLoopThreads, socketBuffer))
                .with(NicConfig.SECTION, list)
                .with(ToyGuestConfig.SECTION, ToyGuestConfig.of("udp-sink").withIperfSequence(true))
                .build();
    }

    // -------------------------------------------------------------------------------------------- plain receiver

    private CellRun runPlain(int n, int rep, double seconds) throws InterruptedException {
        try (PlainReceiver r = new PlainReceiver(n, NetConfig.Transport.AUTO, options.eventLoopThreads(),
                options.socketBuffer())) {
            List<InetSocketAddress> targets = r.addresses();
            List<InetSocketAddress> sockets = targets;
            warmUp(targets);
            long k0 = KernelUdpSockets.drops(sockets);
            long c0 = r.received();
            Measured m = measure(targets, seconds);
            long c1 = r.received();
            long k1 = KernelUdpSockets.drops(sockets);
            long received = c1 - c0;
            return new CellRun(n, CellRun.PLAIN, rep, 0, seconds, m.windowSeconds, m.sent, received,
                    received, 0, diff(k0, k1), -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, Medians.loadAverage(), null, null, null,
                    null);
        }
    }

    // -------------------------------------------------------------------------------------------- one machine

    private CellRun runMachine(int n, SeedCell cell, int rep, double seconds) throws InterruptedException {
        VmConfig cfg = kernel == null ? config(n, cell, options.eventLoopThreads(), options.socketBuffer())
                : boardConfig(n, cell, options.eventLoopThreads(), options.socketBuffer(), kernel);
        EndToEndProbe probe = new EndToEndProbe(cfg.get(NicConfig.SECTION));
        NetBackend.Factory backends = probe.backends(VirtioNetDevices::defaultBackend, cfg.get(NicConfig.SECTION));
        String name = "seed-" + cell.configName();
        CellMachine cm = kernel == null ? new CellMachine.Toy(machines.build(cfg, name, probe, backends))
                : new CellMachine.Board(cfg, name, probe, backends);
        try {
            Machine vm = cm.machine();
            List<VirtioNetDevice> nics = cm.nics();
            probe.attach(nics);
            cm.start();
            cm.awaitReady(cell);
            List<InetSocketAddress> targets = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                targets.add(new InetSocketAddress("127.0.0.1", nics.get(i).boundPort()));
            }
            List<InetSocketAddress> sockets = targets;
            warmUp(targets);
            cm.check(cell);

            Counters before = Counters.of(cm, nics, sockets);
            vm.irqRouter().resetStats();
            probe.reset();
            Measured m = measure(targets, seconds);
            IrqStats irq = vm.irqRouter().stats();
            Histogram arrivalToAck = probe.arrivalToAck();
            Histogram pendingToAck = probe.pendingToAck();
            Counters after = Counters.of(cm, nics, sockets);
            cm.check(cell);

            // MSIs made pending or, in the wired cell, SPI edges raised: the cell's one kind of injection.
            Histogram signalToPending = irq.latencyNanos();
            signalToPending.add(irq.irqchipLatencyNanos());
            long injected = irq.injected() + irq.irqchipRaised();
            long inThread = irq.fastPath() + (cell.mode() == InjectionMode.INLINE ? irq.irqchipRaised() : 0);
            return new CellRun(n, cell.configName(), rep, cfg.machine().vcpus(), seconds, m.windowSeconds,
                    m.sent, after.received - before.received, after.delivered - before.delivered,
                    after.deviceDropped - before.deviceDropped, diff(before.kernelDropped, after.kernelDropped),
                    diff(before.guestLost, after.guestLost), after.msis - before.msis, injected, inThread,
                    irq.coalesced(), after.cacheHits - before.cacheHits, after.cacheMisses - before.cacheMisses,
                    after.guestIrqs - before.guestIrqs, after.haltPolls - before.haltPolls, after.halts - before.halts,
                    Medians.loadAverage(), LatencySummary.of(signalToPending),
                    LatencySummary.of(arrivalToAck), LatencySummary.of(pendingToAck),
                    new Histogram[]{signalToPending, arrivalToAck, pendingToAck});
        } finally {
            for (String p : cm.stop()) {
                err.println("vmm: warning: " + p);
            }
        }
    }

    /**
     * The machine of one cell for a compiled guest on the virt board: as {@link #config}, with the kernel instead of
     * the toy guest (udp-sink's defaults: iperf sequence checks, NIC i's interrupts to CPU i % vCPUs; no counter
     * lines, which nobody reads here).
     */
    static VmConfig boardConfig(int nics, SeedCell cell, int eventLoopThreads, long socketBuffer, Path kernel) {
        VmConfig toy = config(nics, cell, eventLoopThreads, socketBuffer);
        return VmConfig.builder().machine(toy.machine()).irq(toy.irq())
                .with(GicConfig.SECTION, toy.get(GicConfig.SECTION))
                .with(NetConfig.SECTION, toy.get(NetConfig.SECTION))
                .with(NicConfig.SECTION, toy.get(NicConfig.SECTION))
                .with(KernelConfig.SECTION, KernelConfig.of(kernel.toAbsolutePath()).withAppend("interval=0"))
                .build();
    }

    /** What the machine counted up to one moment: each figure is a difference of two of these. */
    private record Counters(long received, long delivered, long deviceDropped, long kernelDropped, long guestLost,
                            long msis, long cacheHits, long cacheMisses, long guestIrqs, long haltPolls,
                            long halts) {
        static Counters of(CellMachine cm, List<VirtioNetDevice> nics, List<InetSocketAddress> sockets) {
            long received = 0;
            long dropped = 0;
            long msis = 0;
            for (VirtioNetDevice d : nics) {
                NicStats s = d.stats();
                received += s.rxDatagrams();
                dropped += s.rxDropped();
                msis += s.msisSignalled();
            }
            long polls = 0;
            long halts = 0;
            for (Vcpu v : cm.machine().vcpus()) {
                VcpuStats s = v.stats();
                polls += s.haltPollSuccesses();
                halts += s.halts();
            }
            CacheStats c = ((GicV3) cm.machine().interruptController()).stats().cache();
            return new Counters(received, cm.delivered(), dropped, KernelUdpSockets.drops(sockets), cm.guestLost(),
                    msis, c.hits(), c.misses(), cm.guestIrqs(), polls, halts);
        }
    }

    // -------------------------------------------------------------------------------------------- traffic

    private record Measured(long sent, double windowSeconds) {
    }

    /** The same traffic as the measurement, for --warmup seconds, then a pause for the backlog to drain. */
    private void warmUp(List<InetSocketAddress> targets) throws InterruptedException {
        // A collection now rather than in the measured window (a fresh machine leaves the last one's garbage).
        System.gc();
        if (options.warmup() > 0) {
            long end = System.nanoTime() + (long) (options.warmup() * 1e9);
            TrafficSender.Flow f = sender.start(targets, options.bitsPerSecond(), options.length(), options.warmup());
            try {
                sleepUntil(end);
            } finally {
                f.close();
            }
        }
        Thread.sleep(SETTLE_MILLIS);
    }

    /** Sends for {@code seconds}; returns the sender's count and the window's length (traffic, count, grace). */
    private Measured measure(List<InetSocketAddress> targets, double seconds) throws InterruptedException {
        long start = System.nanoTime();
        long sent;
        try (TrafficSender.Flow f = sender.start(targets, options.bitsPerSecond(), options.length(), seconds)) {
            sleepUntil(start + (long) (seconds * 1e9));
            sent = f.awaitSent(5_000);
        }
        Thread.sleep(GRACE_MILLIS);
        return new Measured(sent, (System.nanoTime() - start) / 1e9);
    }

    private static void sleepUntil(long deadline) throws InterruptedException {
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            Thread.sleep(Math.max(1, left / 1_000_000));
        }
    }



    private static long diff(long before, long after) {
        return before < 0 || after < 0 ? -1 : after - before;
    }

    private void progress(int done, int total, CellRun r) {
        if (out == null) {
            return;
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "[%d/%d] rep %d  %2d NIC%s %-10s", done, total, r.repetition(), r.nics(),
                r.nics() == 1 ? " " : "s", r.cell()));
        if (!r.plain()) {
            sb.append(String.format(Locale.ROOT, " t1->t2 p50 %s p99 %s | t0->t3 p50 %s p99 %s | fast %s |",
                    SeedReport.us(r.signalToPending().p50()), SeedReport.us(r.signalToPending().p99()),
                    SeedReport.us(r.arrivalToAck().p50()), SeedReport.us(r.arrivalToAck().p99()),
                    SeedReport.percent(r.fastPathShare())));
        }
        sb.append(String.format(Locale.ROOT, " sent %s/s delivered %s/s", SeedReport.count(r.perSecond(r.sent())),
                SeedReport.count(r.perSecond(r.delivered()))));
        if (r.kernelDropped() > 0 || r.deviceDropped() > 0) {
            sb.append(String.format(Locale.ROOT, " dropped %d+%d", r.deviceDropped(), r.kernelDropped()));
        }
        out.println(sb);
        out.flush();
    }
}
