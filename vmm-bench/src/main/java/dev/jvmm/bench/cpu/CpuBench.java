package dev.jvmm.bench.cpu;

import dev.jvmm.bench.BenchFailure;
import dev.jvmm.bench.Medians;
import dev.jvmm.bench.board.ConsoleLines;
import dev.jvmm.bench.board.QemuProcess;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.vcpu.Vcpu;
import dev.jvmm.net.NicConfig;
import dev.jvmm.virt.BootException;
import dev.jvmm.virt.KernelConfig;
import dev.jvmm.virt.SerialConsole;
import dev.jvmm.virt.VirtMachine;

import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code vmm bench cpu}: the same compute-bound guest on jvmm (in this JVM, a {@link VirtMachine}) and on QEMU TCG
 * (a {@code qemu-system-aarch64} process), alternating, with the figures issue 15 sets targets for.
 *
 * <pre>
 *  QEMU -icount shift=0, once      the guest's instruction count (its timed section, counter ticks x 16)
 *  repetition 1..R:  jvmm run ─▶ QEMU run        boot to power-off; the guest times its work section itself
 *  idle:             udp-sink, one NIC, no traffic, on jvmm and on QEMU: CPU time over wall time
 * </pre>
 *
 * <p>jvmm's figures: wall time from reading the kernel to the guest's PSCI SYSTEM_OFF; the instructions the CPU
 * retired (counted per block); the vCPU thread's CPU time; the bytes the vCPU thread allocated per instruction over
 * the last two thirds of the run (the first third holds boot, JIT compilation and the block translator's first work),
 * from HotSpot's per-thread allocation counter, sampled every 50 ms. QEMU's: wall time from process start to exit,
 * CPU time sampled from {@code /proc} (10 ms ticks).
 */
public final class CpuBench {
    /** The guest's own timing line: {@code timing: T counter ticks (N ns of counter time)}. */
    static final Pattern TIMING = Pattern.compile("timing: (\\d+) counter ticks \\((\\d+) ns of counter time\\)");
    /** Nanoseconds per tick of the virt board's 62.5 MHz counter: with -icount shift=0, instructions per tick. */
    static final long NS_PER_TICK = 16;
    /** Targets of issue 15. */
    static final double WALL_RATIO_TARGET = 4.0;
    static final double IDLE_TARGET = 0.01;
    private static final long SAMPLE_MILLIS = 50;
    /** Before the idle window: time for the JIT compilers and the collector to finish what the runs left them. */
    private static final long IDLE_SETTLE_MILLIS = 3_000;
    /**
     * After the settle time, the idle window waits for this many seconds in a row in which the JIT compiles nothing:
     * an idle machine's Java paths (the timer tick, the console, the NIC's event loop) run a few times a second, so
     * the JIT reaches their thresholds slowly and keeps compiling for a minute or more; a single quiet second comes
     * long before it is done. It waits at most six times the window, between 10 and 60 s.
     */
    private static final int JIT_QUIET_SECONDS = 5;
    private static final long MEMORY = 128L << 20;

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    /** One jvmm run. NaN/-1 where not measured. */
    record JvmmRun(double wallSeconds, double workSeconds, long retired, double vcpuCpuSeconds,
                   double processCpuSeconds, long steadyBytes, long steadyInstructions, String checksum,
                   long blocksEntered, long blocksInterpreted, long translations, long steadyTranslations,
                   long steadyDecodes, long steadyDrops, long quietBytes, long quietInstructions) {
        double bytesPerInstruction() {
            return steadyInstructions <= 0 ? Double.NaN : (double) steadyBytes / steadyInstructions;
        }
    }

    /** One QEMU run. */
    record QemuRun(double wallSeconds, double workSeconds, double cpuSeconds, String checksum) {
    }

    /**
     * An idle measurement: CPU time over wall time of the vCPU thread, of every Java thread (the machine's: vCPU, NIC
     * event loop, console; and this harness's, asleep) and of the whole process (which adds the JVM's own threads:
     * JIT compilers, garbage collector). QEMU: the process alone.
     */
    record Idle(double seconds, double vcpuShare, double javaThreadsShare, double processShare, long jitMillis,
                long gcMillis, long quietWaitMillis) {
    }

    /** Milliseconds the JIT compilers spent so far (-1 where not counted). */
    private static long jitMillis() {
        var c = ManagementFactory.getCompilationMXBean();
        return c != null && c.isCompilationTimeMonitoringSupported() ? c.getTotalCompilationTime() : -1;
    }

    /**
     * Waits until the JIT compilers spend no time for {@link #JIT_QUIET_SECONDS} whole seconds in a row (they finish
     * compiling the idle machine's start-up and what the runs before left queued), at most {@code maxMillis}; returns
     * how long it waited, -1 when the JIT did not become quiet (or its time is not counted).
     */
    private static long awaitQuietJit(long maxMillis) throws InterruptedException {
        long t0 = System.nanoTime();
        long last = jitMillis();
        if (last < 0) {
            return -1;
        }
        int quiet = 0;
        while ((System.nanoTime() - t0) / 1_000_000 < maxMillis) {
            Thread.sleep(1_000);
            long now = jitMillis();
            quiet = now == last ? quiet + 1 : 0;
            if (quiet == JIT_QUIET_SECONDS) {
                return (System.nanoTime() - t0) / 1_000_000;
            }
            last = now;
        }
        return -1;
    }

    /** Milliseconds of garbage collection so far. */
    private static long gcMillis() {
        long t = 0;
        for (var g : ManagementFactory.getGarbageCollectorMXBeans()) {
            t += Math.max(0, g.getCollectionTime());
        }
        return t;
    }

    /** What a run measured (medians over repetitions), for the command and the tests. */
    public record Result(double jvmmWallSeconds, double jvmmWorkSeconds, double jvmmInstructionsPerSecond,
                         long jvmmRetired, double bytesPerInstruction, double qemuWallSeconds, double qemuWorkSeconds,
                         long qemuInstructions, double qemuInstructionsPerSecond, double wallRatio,
                         double idleJvmmProcessShare, double idleJvmmVcpuShare, double idleQemuShare, String checksum) {
    }

    private final CpuBenchOptions o;
    private final PrintWriter out;

    private CpuBench(CpuBenchOptions o, PrintWriter out) {
        this.o = o;
        this.out = out;
    }

    /**
     * Runs the benchmark and prints its table and verdicts on {@code out}.
     *
     * @throws BenchFailure when a run fails (a guest that does not power off, a checksum that differs, QEMU failing)
     */
    public static Result run(CpuBenchOptions o, PrintWriter out) throws InterruptedException {
        return new CpuBench(o, out).run();
    }

    private Result run() throws InterruptedException {
        double load0 = Medians.loadAverage();
        out.printf(Locale.ROOT, "vmm bench cpu: %s, bootargs \"%s\", %d repetition%s, jvmm and QEMU alternating%n",
                o.guest(), o.append(), o.repetitions(), o.repetitions() == 1 ? "" : "s");
        out.printf(Locale.ROOT, "  QEMU: %s%n", o.qemu() == null ? "not run (" + o.qemuNote() + ")"
                : o.qemu() + " (" + QemuProcess.version(o.qemu()) + "), TCG, -smp 1");
        out.flush();
        long qemuInstructions = -1;
        if (o.qemu() != null) {
            QemuRun counted = qemu(List.of("-icount", "shift=0"));
            qemuInstructions = counted.workSeconds() < 0 ? -1
                    : Math.round(counted.workSeconds() * 1e9 / NS_PER_TICK) * NS_PER_TICK;
            progress("QEMU -icount shift=0 (instruction count)", counted.wallSeconds(), counted.workSeconds());
        }
        List<JvmmRun> jvmm = new ArrayList<>();
        List<QemuRun> qemu = new ArrayList<>();
        for (int rep = 1; rep <= o.repetitions(); rep++) {
            JvmmRun j = jvmm();
            jvmm.add(j);
            progress("rep " + rep + " jvmm", j.wallSeconds(), j.workSeconds());
            out.printf(Locale.ROOT, "    %.1f instructions per block entered, %.2f%% of blocks interpreted; %,d"
                    + " translations, vCPU CPU %.3f s%n", (double) j.retired() / Math.max(1, j.blocksEntered()),
                    100.0 * j.blocksInterpreted() / Math.max(1, j.blocksEntered()), j.translations(),
                    j.vcpuCpuSeconds());
            out.printf(Locale.ROOT, "    steady window: %,d bytes allocated, %,d translations, %,d blocks decoded, %,d code"
                    + " drops; intervals with no decoding or translation: %,d bytes over %,d instructions%n",
                    j.steadyBytes(), j.steadyTranslations(), j.steadyDecodes(), j.steadyDrops(), j.quietBytes(),
                    j.quietInstructions());
            if (o.qemu() != null) {
                QemuRun q = qemu(List.of());
                qemu.add(q);
                progress("rep " + rep + " QEMU", q.wallSeconds(), q.workSeconds());
            }
        }
        String checksum = checkChecksums(jvmm, qemu);
        Idle idleJvmm = null;
        Idle idleQemu = null;
        if (o.idleGuest() != null && o.idleSeconds() > 0) {
            idleJvmm = idleJvmm();
            if (o.qemu() != null) {
                idleQemu = idleQemu();
            }
        }
        double load1 = Medians.loadAverage();
        return report(jvmm, qemu, qemuInstructions, idleJvmm, idleQemu, checksum, load0, load1);
    }

    private void progress(String what, double wall, double work) {
        out.printf(Locale.ROOT, "  %-42s wall %7.3f s, timed section %s%n", what, wall,
                work < 0 ? "n/a" : String.format(Locale.ROOT, "%.3f s", work));
        out.flush();
    }

    // ------------------------------------------------------------------------------------------------ jvmm

    private VmConfig config(Path kernel, String append, boolean nic) {
        VmConfig.Builder b = VmConfig.builder().vcpus(1).memorySize(MEMORY)
                .with(KernelConfig.SECTION, KernelConfig.of(kernel.toAbsolutePath()).withAppend(append));
        if (nic) {
            b.with(NicConfig.SECTION, List.of(NicConfig.builder(31).listen(0)
                    .guestPort(NicConfig.DEFAULT_GUEST_PORT).build()));
        }
        return b.build();
    }

    private VirtMachine build(VmConfig cfg, ConsoleLines console) {
        try {
            return VirtMachine.builder(cfg).name("bench-cpu").console(SerialConsole.of(null, console)).build();
        } catch (BootException e) {
            throw new BenchFailure(e.getMessage());
        }
    }

    private JvmmRun jvmm() throws InterruptedException {
        ConsoleLines console = new ConsoleLines(null);
        long t0 = System.nanoTime();
        long p0 = OS.getProcessCpuTime();
        VirtMachine vm = build(config(o.guest(), o.append(), false), console);
        try {
            vm.start();
            Vcpu vcpu = vm.machine().vcpus().get(0);
            long tid = vcpu.thread().getId();
            var cpu = vm.cpus().cpu(0);
            // {nanos, allocated bytes, retired, cpu nanos, translations, blocks decoded, code drops,
            //  code work finished (read before the bytes), code work started (read after them)}
            List<long[]> samples = new ArrayList<>();
            long deadline = t0 + o.timeout().toNanos();
            VirtMachine.Outcome end = null;
            while (end == null && System.nanoTime() < deadline) {
                long now = System.nanoTime();
                long finished = vm.cpus().codeWorkFinished();
                long bytes = THREADS.getThreadAllocatedBytes(tid);
                long started = vm.cpus().codeWorkStarted();
                // The counter is a plain field of the vCPU thread: a sample may lag it by a block, never more.
                samples.add(new long[]{now, bytes, cpu.instructionsRetired(), THREADS.getThreadCpuTime(tid),
                        cpu.translations(), vm.cpus().blocksDecoded(), vm.cpus().codeInvalidations(), finished,
                        started});
                end = vm.awaitEnd(Duration.ofMillis(SAMPLE_MILLIS));
            }
            long t1 = System.nanoTime();
            long p1 = OS.getProcessCpuTime();
            if (end == null) {
                throw new BenchFailure("jvmm: the guest did not power off within " + o.timeout().toSeconds()
                        + " s (raise --timeout or lower --iterations); console:\n" + console.text());
            }
            if (end.kind() != VirtMachine.Outcome.Kind.POWER_OFF) {
                throw new BenchFailure("jvmm: " + end.message() + "; console:\n" + console.text());
            }
            vm.console().flush(5_000);
            long retired = cpu.instructionsRetired();
            long[] last = samples.get(samples.size() - 1);
            long steadyBytes = -1;
            long steadyInsns = -1;
            long steadyTranslations = -1;
            long steadyDecodes = -1;
            long steadyDrops = -1;
            long from = samples.get(0)[0] + (last[0] - samples.get(0)[0]) / 3;
            for (long[] s : samples) {
                if (s[0] >= from && s != last && s[1] >= 0 && last[1] >= 0) {
                    steadyBytes = last[1] - s[1];
                    steadyInsns = last[2] - s[2];
                    steadyTranslations = last[4] - s[4];
                    steadyDecodes = last[5] - s[5];
                    steadyDrops = last[6] - s[6];
                    break;
                }
            }
            // The steady window's sampling intervals in which no block was decoded or translated: what executing
            // code already translated allocates, apart from first-time translation of newly hot code. No such work
            // was in progress at any time between the two byte counts when none had begun without finishing at the
            // first sample (finished, read before its bytes, equals started, read after them) and none began by the
            // second (its started, read after its bytes, is unchanged).
            long quietBytes = 0;
            long quietInsns = 0;
            for (int k = 1; k < samples.size(); k++) {
                long[] a = samples.get(k - 1);
                long[] b = samples.get(k);
                if (a[0] >= from && a[1] >= 0 && b[1] >= 0 && a[7] == a[8] && b[8] == a[8]) {
                    quietBytes += b[1] - a[1];
                    quietInsns += b[2] - a[2];
                }
            }
            return new JvmmRun((t1 - t0) / 1e9, work(console), retired, last[3] < 0 ? Double.NaN : last[3] / 1e9,
                    p0 < 0 || p1 < 0 ? Double.NaN : (p1 - p0) / 1e9, steadyBytes, steadyInsns, checksum(console),
                    cpu.blocksEntered(), cpu.blocksInterpreted(), cpu.translations(), steadyTranslations,
                    steadyDecodes, steadyDrops, quietBytes, quietInsns);
        } finally {
            vm.close();
        }
    }

    /** The guest's timed section in seconds (its counter time), -1 when it printed no timing line. */
    static double work(ConsoleLines console) {
        for (String l : console.lines()) {
            Matcher m = TIMING.matcher(l);
            if (m.find()) {
                return Long.parseLong(m.group(2)) / 1e9;
            }
        }
        return -1;
    }

    static String checksum(ConsoleLines console) {
        String l = console.find("checksum ");
        return l == null ? null : l.substring("checksum ".length()).trim();
    }

    private Idle idleJvmm() throws InterruptedException {
        ConsoleLines console = new ConsoleLines(null);
        VirtMachine vm = build(config(o.idleGuest(), "interval=1", true), console);
        try {
            vm.start();
            awaitLine(console, "[1 s]", () -> vm.awaitEnd(Duration.ofMillis(20)) != null, "jvmm");
            Thread.sleep(IDLE_SETTLE_MILLIS);            // the JIT compilers and the collector settle
            long quietWait = awaitQuietJit(jitQuietMaxMillis());
            long tid = vm.machine().vcpus().get(0).thread().getId();
            long w0 = System.nanoTime();
            long p0 = OS.getProcessCpuTime();
            long v0 = THREADS.getThreadCpuTime(tid);
            long[] ids = THREADS.getAllThreadIds();
            long[] j0 = THREADS.getThreadCpuTime(ids);
            long jit0 = jitMillis();
            long gc0 = gcMillis();
            Thread.sleep((long) (o.idleSeconds() * 1000));
            long p1 = OS.getProcessCpuTime();
            long v1 = THREADS.getThreadCpuTime(tid);
            long[] j1 = THREADS.getThreadCpuTime(ids);
            long jit1 = jitMillis();
            long gc1 = gcMillis();
            long w1 = System.nanoTime();
            long java = 0;
            for (int i = 0; i < ids.length; i++) {
                if (j0[i] >= 0 && j1[i] >= 0) {
                    java += j1[i] - j0[i];
                }
            }
            if (vm.outcome() != null) {
                throw new BenchFailure("jvmm: the idle guest ended: " + vm.outcome().message());
            }
            double wall = (w1 - w0) / 1e9;
            return new Idle(wall, v0 < 0 || v1 < 0 ? Double.NaN : (v1 - v0) / 1e9 / wall, java / 1e9 / wall,
                    p0 < 0 || p1 < 0 ? Double.NaN : (p1 - p0) / 1e9 / wall, jit0 < 0 ? -1 : jit1 - jit0, gc1 - gc0,
                    quietWait);
        } finally {
            vm.close();
        }
    }

    /** The longest wait for a quiet JIT before the idle window: six times the window, between 10 and 60 s. */
    private long jitQuietMaxMillis() {
        return Math.max(10_000, Math.min(60_000, (long) (6_000 * o.idleSeconds())));
    }

    private interface Ended {
        boolean check() throws InterruptedException;
    }

    private void awaitLine(ConsoleLines console, String prefix, Ended ended, String who) throws InterruptedException {
        long deadline = System.nanoTime() + o.timeout().toNanos();
        while (console.find(prefix) == null) {
            if (ended.check()) {
                throw new BenchFailure(who + ": the idle guest ended before its first counter line; console:\n"
                        + console.text());
            }
            if (System.nanoTime() > deadline) {
                throw new BenchFailure(who + ": no '" + prefix + "' line from the idle guest within "
                        + o.timeout().toSeconds() + " s; console:\n" + console.text());
            }
            Thread.sleep(20);
        }
    }

    // ------------------------------------------------------------------------------------------------ QEMU

    private QemuRun qemu(List<String> extra) throws InterruptedException {
        List<String> cmd = QemuProcess.command(o.qemu(), o.guest().toAbsolutePath(), o.append(), 1, "128M", extra);
        QemuProcess q = QemuProcess.start(cmd, null);
        try {
            if (!q.await(o.timeout().toMillis())) {
                throw new BenchFailure("QEMU: the guest did not power off within " + o.timeout().toSeconds()
                        + " s; console:\n" + q.console().text());
            }
            if (q.exitValue() != 0) {
                throw new BenchFailure("QEMU exited with status " + q.exitValue() + ": " + String.join(" ", cmd)
                        + "\n" + q.console().text());
            }
            return new QemuRun(q.wallNanos() / 1e9, work(q.console()), q.cpuNanos() < 0 ? Double.NaN
                    : q.cpuNanos() / 1e9, checksum(q.console()));
        } finally {
            q.close();
        }
    }

    private Idle idleQemu() throws InterruptedException {
        List<String> cmd = QemuProcess.command(o.qemu(), o.idleGuest().toAbsolutePath(), "interval=1", 1, "128M",
                List.of("-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0"));
        QemuProcess q = QemuProcess.start(cmd, null);
        try {
            awaitLine(q.console(), "[1 s]", () -> !q.alive(), "QEMU");
            Thread.sleep(IDLE_SETTLE_MILLIS);
            long w0 = System.nanoTime();
            long c0 = q.cpuNanosNow();
            Thread.sleep((long) (o.idleSeconds() * 1000));
            long c1 = q.cpuNanosNow();
            long w1 = System.nanoTime();
            double wall = (w1 - w0) / 1e9;
            return new Idle(wall, Double.NaN, Double.NaN,
                    c0 < 0 || c1 < 0 ? Double.NaN : (c1 - c0) / 1e9 / wall, -1, -1, 0);
        } finally {
            q.close();
        }
    }

    // ------------------------------------------------------------------------------------------------ report

    private String checkChecksums(List<JvmmRun> jvmm, List<QemuRun> qemu) {
        String first = jvmm.get(0).checksum();
        for (JvmmRun j : jvmm) {
            if (first == null ? j.checksum() != null : !first.equals(j.checksum())) {
                throw new BenchFailure("jvmm printed checksums that differ between runs: " + first + ", "
                        + j.checksum());
            }
        }
        for (QemuRun q : qemu) {
            if (first == null ? q.checksum() != null : !first.equals(q.checksum())) {
                throw new BenchFailure("jvmm and QEMU computed different checksums: jvmm " + first + ", QEMU "
                        + q.checksum());
            }
        }
        return first;
    }

    private Result report(List<JvmmRun> jvmm, List<QemuRun> qemu, long qemuInstructions, Idle idleJvmm,
                          Idle idleQemu, String checksum, double load0, double load1) {
        double[] jWall = jvmm.stream().mapToDouble(JvmmRun::wallSeconds).toArray();
        double[] jWork = jvmm.stream().mapToDouble(r -> r.workSeconds() < 0 ? Double.NaN : r.workSeconds()).toArray();
        double[] jCpu = jvmm.stream().mapToDouble(JvmmRun::vcpuCpuSeconds).toArray();
        double[] jProc = jvmm.stream().mapToDouble(JvmmRun::processCpuSeconds).toArray();
        double[] jIps = jvmm.stream().mapToDouble(r -> r.retired() / r.wallSeconds()).toArray();
        double[] jBpi = jvmm.stream().mapToDouble(JvmmRun::bytesPerInstruction).toArray();
        double[] qWall = qemu.stream().mapToDouble(QemuRun::wallSeconds).toArray();
        double[] qWork = qemu.stream().mapToDouble(r -> r.workSeconds() < 0 ? Double.NaN : r.workSeconds()).toArray();
        double[] qCpu = qemu.stream().mapToDouble(QemuRun::cpuSeconds).toArray();
        long retired = jvmm.get(0).retired();
        double jw = Medians.median(jWall);
        double jk = Medians.median(jWork);
        double qw = Medians.median(qWall);
        double qk = Medians.median(qWork);
        double jips = Medians.median(jIps);
        double bpi = Medians.median(jBpi);
        double qips = qemuInstructions > 0 && qk > 0 ? qemuInstructions / qk : Double.NaN;
        double ratio = qw > 0 ? jw / qw : Double.NaN;

        out.println();
        out.printf(Locale.ROOT, "results: medians of %d repetition%s (min..max); checksum %s%s%n", o.repetitions(),
                o.repetitions() == 1 ? "" : "s", checksum == null ? "not printed" : checksum,
                qemu.isEmpty() ? " (jvmm)" : " on both");
        out.printf(Locale.ROOT, "  %-34s %-26s %-26s %s%n", "", "jvmm", "QEMU TCG", "jvmm / QEMU");
        row("wall time, boot to power-off", jWall, qWall, " s");
        row("timed section (the guest's counter)", jWork, qWork, " s");
        row("CPU time, vCPU thread / process", jCpu, qCpu, " s");
        row("CPU time, whole JVM / process", jProc, qCpu, " s");
        out.printf(Locale.ROOT, "  %-34s %-26s %-26s%n", "guest instructions",
                String.format(Locale.ROOT, "%,d retired", retired), qemuInstructions > 0
                        ? String.format(Locale.ROOT, "%,d (-icount, timed)", qemuInstructions) : "n/a");
        out.printf(Locale.ROOT, "  %-34s %-26s %-26s%n", "instructions per second",
                String.format(Locale.ROOT, "%.3g (retired / wall)", jips), Double.isNaN(qips) ? "n/a"
                        : String.format(Locale.ROOT, "%.3g (count / timed)", qips));
        if (!Double.isNaN(jk) && jk > 0) {
            out.printf(Locale.ROOT, "  %-34s %-26s%n", "", String.format(Locale.ROOT, "%.3g (retired / timed)",
                    retired / jk));
        }
        out.printf(Locale.ROOT, "  %-34s %s%n", "allocation, vCPU thread, steady",
                Double.isNaN(bpi) ? "n/a (run too short to sample; raise --iterations)"
                        : String.format(Locale.ROOT, "%.6f bytes per instruction (last 2/3 of each run; max %.6f)",
                        bpi, Medians.max(jBpi)));
        if (idleJvmm != null) {
            out.printf(Locale.ROOT, "  %-34s jvmm: vCPU thread %.3f%%, Java threads %.3f%%, whole JVM %.3f%% of a"
                    + " core%n", "idle (udp-sink, 1 NIC, no traffic)", idleJvmm.vcpuShare() * 100,
                    idleJvmm.javaThreadsShare() * 100, idleJvmm.processShare() * 100);
            if (idleQemu != null) {
                out.printf(Locale.ROOT, "  %-34s QEMU: process %.3f%% of a core (10 ms ticks: +-%.2f%%)%n", "",
                        idleQemu.processShare() * 100, 1.0 / idleQemu.seconds());
            }
            out.printf(Locale.ROOT, "  %-34s over %.1f s of WFI with a 1 s timer tick, after %d s to settle and %s;"
                    + " in the window the JVM spent %d ms compiling (JIT), %d ms collecting%n", "", idleJvmm.seconds(),
                    IDLE_SETTLE_MILLIS / 1000, idleJvmm.quietWaitMillis() < 0
                            ? String.format(Locale.ROOT, "%d s in which the JIT never had %d quiet seconds in a row",
                            jitQuietMaxMillis() / 1000, JIT_QUIET_SECONDS)
                            : String.format(Locale.ROOT, "%.1f s more until %d seconds in a row without JIT work",
                            idleJvmm.quietWaitMillis() / 1e3, JIT_QUIET_SECONDS), idleJvmm.jitMillis(),
                    idleJvmm.gcMillis());
        }
        out.printf(Locale.ROOT, "  load average %.2f before, %.2f after (%d cores)%n", load0, load1,
                Runtime.getRuntime().availableProcessors());
        out.println();
        out.println("targets (issue 15):");
        if (Double.isNaN(ratio)) {
            out.println("  wall time <= 4x QEMU TCG's: not measured (QEMU not run)");
        } else {
            out.printf(Locale.ROOT, "  wall time <= %.0fx QEMU TCG's: %.2fx: %s%n", WALL_RATIO_TARGET, ratio,
                    ratio <= WALL_RATIO_TARGET ? "met" : "NOT met");
            if (!Double.isNaN(jk) && !Double.isNaN(qk) && qk > 0) {
                out.printf(Locale.ROOT, "    (timed section alone: %.2fx)%n", jk / qk);
            }
            double jp = Medians.median(jProc);
            double qp = Medians.median(qCpu);
            if (!Double.isNaN(jp) && !Double.isNaN(qp) && qp > 0) {
                out.printf(Locale.ROOT, "    (CPU time, whole JVM against QEMU's process: %.2fx; on a loaded machine wall"
                        + " time also measures the other jobs)%n", jp / qp);
            }
        }
        if (Double.isNaN(bpi)) {
            out.println("  0 bytes allocated per instruction in steady state: not measured");
        } else {
            // Steady state: executing code the CPU decoded and translated before. The window (the last two thirds of
            // each run) may still hold first-time translations of blocks that become hot late; the intervals in
            // which no decoding or translation was in progress are what steady state allocates.
            long quietBytes = jvmm.stream().mapToLong(JvmmRun::quietBytes).sum();
            long quietInsns = jvmm.stream().mapToLong(JvmmRun::quietInstructions).sum();
            long windowInsns = jvmm.stream().mapToLong(JvmmRun::steadyInstructions).sum();
            out.printf(Locale.ROOT, "  0 bytes allocated per instruction in steady state: %,d bytes over %,d instructions"
                    + " (%.0f%% of the windows' instructions, in the 50 ms intervals with no decoding or translation in"
                    + " progress): %s%n", quietBytes, quietInsns, 100.0 * quietInsns / Math.max(1, windowInsns),
                    quietBytes == 0 && quietInsns * 2 >= windowInsns ? "met" : "NOT met");
            out.printf(Locale.ROOT, "    (whole windows: at most %.6f B/insn, %s bytes in one run; translations, decodes"
                    + " and code drops per run: %s)%n", Medians.max(jBpi),
                    String.format(Locale.ROOT, "%,d", maxSteadyBytes(jvmm)),
                    jvmm.stream().map(r -> r.steadyTranslations() + "/" + r.steadyDecodes() + "/" + r.steadyDrops())
                            .collect(java.util.stream.Collectors.joining(", ")));
        }
        if (idleJvmm == null) {
            out.println("  idle in WFI under 1% of a core: not measured");
        } else {
            out.printf(Locale.ROOT, "  idle in WFI under 1%% of a core: whole JVM %.3f%%: %s (the machine's threads"
                    + " alone: %.3f%%)%n", idleJvmm.processShare() * 100,
                    idleJvmm.processShare() < IDLE_TARGET ? "met" : "NOT met", idleJvmm.javaThreadsShare() * 100);
        }
        out.flush();
        return new Result(jw, jk, jips, retired, bpi, qw, qk, qemuInstructions, qips, ratio,
                idleJvmm == null ? Double.NaN : idleJvmm.processShare(),
                idleJvmm == null ? Double.NaN : idleJvmm.vcpuShare(),
                idleQemu == null ? Double.NaN : idleQemu.processShare(), checksum);
    }

    private static long maxSteadyBytes(List<JvmmRun> runs) {
        return runs.stream().mapToLong(JvmmRun::steadyBytes).max().orElse(-1);
    }

    private void row(String label, double[] j, double[] q, String unit) {
        double jm = Medians.median(j);
        double qm = Medians.median(q);
        out.printf(Locale.ROOT, "  %-34s %-26s %-26s %s%n", label, cell(j, unit), q.length == 0 ? "n/a" : cell(q, unit),
                Double.isNaN(jm) || Double.isNaN(qm) || qm == 0 ? "" : String.format(Locale.ROOT, "%.2fx", jm / qm));
    }

    private static String cell(double[] v, String unit) {
        double m = Medians.median(v);
        if (Double.isNaN(m)) {
            return "n/a";
        }
        return String.format(Locale.ROOT, "%.3f%s (%.3f..%.3f)", m, unit, Medians.min(v), Medians.max(v));
    }
}
