package dev.jvmm.bench;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.event.EventFd;
import dev.jvmm.core.irq.InjectionMode;
import dev.jvmm.core.irq.IrqObserver;
import dev.jvmm.core.irq.IrqRouter;
import dev.jvmm.core.irq.IrqStats;
import dev.jvmm.core.irq.IrqchipRoute;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.irq.MsiRoute;
import dev.jvmm.gic.GicV3;
import dev.jvmm.gic.LpiTableDescriptor;
import org.HdrHistogram.Histogram;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The seed's measurement, on the JVM: from a device's {@code EventFd.signal()} through its irqfd until the LPI is
 * pending at the vCPU, on the inline fast path and through the injector thread, on a real {@link IrqRouter} and
 * {@link GicV3} whose mapping was made by ITS commands.
 *
 * <pre>
 *  benchmark thread (the device)                         injector thread ("kworker")
 *   eventFd.signal()                          t1
 *    └ irqfd wake-up, in this thread
 *       inline:      tryInjectCached ─ hit ─▶ LPI pending  t2            (no other thread involved)
 *       inline-miss: tryInjectCached ─ miss ─▶ MPSC queue ─────────────▶ injectSlow ─▶ LPI pending t2
 *       worker:      MPSC queue (unpark) ──────────────────────────────▶ injectSlow ─▶ LPI pending t2
 *       wired:       irqchip route: an edge on SPI 48 ─▶ SPI pending t2  (no translation, no other thread)
 *   wait until vCPU 0 has the LPI pending (inline: already true; worker: halt-poll 50 us, then park until kicked)
 *   ICC_IAR1_EL1 + ICC_EOIR1_EL1 on vCPU 0 (so the next signal is a new delivery)
 * </pre>
 *
 * <h2>The paths ({@code path})</h2>
 * <ul>
 *   <li>{@code inline}: INLINE mode with the {@code cache} strategy (per-its by default), warmed: every signal
 *       hits. The JVM analogue of the seed patch's irqfd_wakeup fast path.</li>
 *   <li>{@code inline-miss}: INLINE mode with the cache strategy forced to {@code none}: every lookup misses and the
 *       MSI goes to the injector thread: the fast path's overhead on top of the worker path.</li>
 *   <li>{@code worker}: WORKER mode, injector idle policy as configured by default (park at once,
 *       {@code injectorSpinNanos = 0}): every signal wakes a parked thread, as {@code schedule_work} wakes a
 *       kworker.</li>
 *   <li>{@code worker-spin}: WORKER mode with the injector spinning 50 us before it parks: the hand-off without the
 *       wake-up, at the price of a core spinning.</li>
 *   <li>{@code wired}: INLINE mode, the irqfd on an irqchip route to SPI 48 (virtio-mmio slot 0's, edge-triggered,
 *       routed to vCPU 0): the distributor's wired path with no translation at all, the base that prices the
 *       {@code inline} path's ITS translation ({@code vmm bench seed}'s {@code wired} cell).</li>
 * </ul>
 *
 * <h2>Reading the figures</h2>
 * The score (AverageTime, ns/op) is one signal's round trip as the signalling thread sees it: signal, injection
 * (inline: in this thread; worker: in the other, while this thread waits as a vCPU in WFI would: halt polling for
 * 50 us, then parked until the GIC kicks it), and the acknowledge. On the worker paths it includes the time for
 * this thread to notice the pending LPI (tens of nanoseconds while polling; a wake-up if it had parked, and the
 * tear-down says how often it did). For percentiles run with {@code -bm sample}.
 * The tear-down also prints the router's own t1-to-t2 histogram (HdrHistogram, the figure the seed reports and that
 * {@code vmm bench seed} reports per cell) over the measured iterations, with no benchmark overhead in it.
 * With {@code -prof gc}, {@code gc.alloc.rate.norm} counts every thread of the JVM, JMH's own included: on the
 * microsecond-scale worker paths the harness's background shows as some B/op. The tear-down's per-thread line
 * ({@link ThreadAllocation}: this thread and the injector only) is the path's own figure; the target is 0.
 *
 * <p>On this 2-core machine the worker paths need both cores (the signalling thread polls while the injector
 * works), and {@code worker-spin} a third spinning phase after every MSI: the other engineers' processes on the box
 * show up there first, as outliers and as parks.
 *
 * <h2>Run</h2>
 * <pre>
 *  java -jar vmm-bench/target/benchmarks.jar IrqfdInject -f 1 -wi 3 -i 5
 *  java -jar vmm-bench/target/benchmarks.jar IrqfdInject -bm sample -p path=inline,worker      # percentiles
 *  java -jar vmm-bench/target/benchmarks.jar IrqfdInject -p path=inline -p cache=global-lru,sharded,per-its
 *  java -jar vmm-bench/target/benchmarks.jar IrqfdInject -p path=inline,wired                  # translation's cost
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(1)
@State(Scope.Benchmark)
public class IrqfdInjectBenchmark {
    private static final int VCPU = 0;
    private static final int DEVICE_ID = 0;
    private static final int EVENT_ID = 0;
    private static final int LPI = LpiTableDescriptor.FIRST_LPI;
    /** The {@code wired} path's SPI: virtio-mmio slot 0's on QEMU's virt. */
    private static final int SPI = MemoryMap.virtioSlotIntid(0);
    /** The injector thread's spin before parking on {@code worker-spin}. */
    private static final long SPIN_NANOS = 50_000;
    /** A delivery that takes longer than this is a bug, not a slow machine: the run fails instead of hanging. */
    private static final long STUCK_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** How long the waiting thread spins before it parks (as a vCPU's halt polling; the machine default is 200 us). */
    private static final long HALT_POLL_NANOS = 50_000;
    /** Longest single park: a lost kick costs at most this much, never a hang. */
    private static final long PARK_NANOS = 1_000_000;

    /** {@code inline}, {@code inline-miss}, {@code worker}, {@code worker-spin} or {@code wired}. */
    @Param({"inline", "inline-miss", "worker", "worker-spin", "wired"})
    public String path;

    /** The cache strategy of the {@code inline} path ({@code inline-miss} always uses {@code none}). */
    @Param({"per-its"})
    public String cache;

    private GicFixture fixture;
    private GicV3 gic;
    private IrqRouter router;
    private EventFd eventFd;
    private boolean recording;
    private long failures;
    /** Waits that outlasted the halt polling and parked (worker paths on a busy machine). */
    private long halts;
    private long haltsAtMark;
    /** The benchmark thread while it is parked waiting for the kick, else null. */
    private volatile Thread halted;
    private int intid;
    private long operations;
    private long operationsAtMark;
    private ThreadAllocation allocation;

    /** Boots the GIC, maps (DeviceID 0, EventID 0) to LPI 8192 on vCPU 0, binds an irqfd, starts the injector. */
    @Setup(Level.Trial)
    public void boot() {
        CacheStrategy strategy = CacheStrategy.fromConfigName(cache);
        if (strategy == null) {
            throw new IllegalArgumentException("unknown strategy " + cache);
        }
        InjectionMode mode;
        long spin = 0;
        switch (path) {
            case "inline": mode = InjectionMode.INLINE; break;
            case "inline-miss": mode = InjectionMode.INLINE; strategy = CacheStrategy.NONE; break;
            case "worker": mode = InjectionMode.WORKER; break;
            case "worker-spin": mode = InjectionMode.WORKER; spin = SPIN_NANOS; break;
            case "wired": mode = InjectionMode.INLINE; break;
            default: throw new IllegalArgumentException("unknown path " + path);
        }
        fixture = GicFixture.boot(1, strategy, this::kick);
        gic = fixture.gic;
        router = new IrqRouter(gic, mode, spin, IrqObserver.NONE, "bench");
        if (path.equals("wired")) {
            intid = SPI;
            fixture.configureSpi(SPI, VCPU);
            router.setRoute(IrqchipRoute.forSpi(0, SPI));
        } else {
            intid = LPI;
            fixture.mapDevice(DEVICE_ID, 1, LPI, VCPU);
            router.setRoute(new MsiRoute(0, gic.doorbell(0), EVENT_ID, DEVICE_ID));
        }
        eventFd = new EventFd("bench-irqfd", false);
        router.bind(eventFd, 0);
        router.start();
        // The first signal fills the cache (inline: through the injector thread); later ones hit it.
        for (int i = 0; i < 1000; i++) {
            signalToPending();
        }
    }

    /**
     * At the first measured iteration: resets the router's histograms and starts counting the allocation of this
     * thread and the injector, so both cover the measurement only.
     */
    @Setup(Level.Iteration)
    public void startRecording(IterationParams iteration) {
        if (iteration.getType() == IterationType.MEASUREMENT && !recording) {
            recording = true;
            router.resetStats();
            allocation = new ThreadAllocation(List.of(Thread.currentThread(), router.injectorThread()));
            allocation.start();
            operationsAtMark = operations;
            haltsAtMark = halts;
        }
    }

    /** One signal, until its LPI is pending at vCPU 0 and taken. */
    @Benchmark
    public int signalToPending() {
        eventFd.signal();
        if (!gic.hasPendingInterrupt(VCPU)) {
            awaitPending();
        }
        int taken = fixture.take(VCPU);
        if (taken != intid) {
            failures++;
        }
        operations++;
        return taken;
    }

    /**
     * The worker paths: wait as a vCPU in WFI does. Halt polling first (spin up to {@value #HALT_POLL_NANOS} ns,
     * KVM's halt_poll_ns), then park until the GIC's kick ({@link #kick}) says an LPI became pending. On a quiet
     * machine the injector finishes within the poll and nothing parks; when other processes take the cores, the
     * park leaves the injector a core instead of spinning against it.
     */
    private void awaitPending() {
        long start = System.nanoTime();
        while (!gic.hasPendingInterrupt(VCPU)) {
            long waited = System.nanoTime() - start;
            if (waited < HALT_POLL_NANOS) {
                Thread.onSpinWait();
                continue;
            }
            if (waited > STUCK_NANOS) {
                throw new IllegalStateException("the interrupt did not become pending within 5 s on path " + path);
            }
            // Publish that this thread sleeps, then look once more: a kick that ran before the write finds null and
            // does not unpark, but its LPI is then visible to this re-check (both sides are volatile).
            halted = Thread.currentThread();
            if (!gic.hasPendingInterrupt(VCPU)) {
                LockSupport.parkNanos(this, PARK_NANOS);
                halts++;
            }
            halted = null;
        }
    }

    /** The GIC's kick: an LPI became pending at vCPU 0 (called in the injecting thread). Unparks a halted waiter. */
    private void kick(int vcpu) {
        Thread t = halted;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** Prints the router's t1-to-t2 figures, checks every delivery, stops the injector and frees the GIC. */
    @TearDown(Level.Trial)
    public void close() {
        if (allocation != null) {
            allocation.stop();
        }
        try {
            IrqStats s = router.stats();
            Histogram fast = s.fastLatencyNanos();
            Histogram slow = s.slowLatencyNanos();
            System.out.printf(Locale.ROOT, "%n[irqfd] %s (%s): signal->pending, router histogram over the measured "
                            + "iterations: fast path %s; slow path %s; irqchip route %s; dropped %d%n",
                    path, gic.cacheStrategy().configName(), describe(fast), describe(slow),
                    describe(s.irqchipLatencyNanos()), s.droppedTotal());
            if (allocation != null) {
                System.out.printf(Locale.ROOT, "[irqfd] %s: %s; the waiting thread parked %,d times%n", path,
                        allocation.describe(operations - operationsAtMark), halts - haltsAtMark);
            }
            if (failures != 0 || s.droppedTotal() != 0) {
                throw new IllegalStateException(failures + " acknowledges returned another INTID, "
                        + s.droppedTotal() + " interrupts dropped");
            }
        } finally {
            router.close();
            fixture.close();
        }
    }

    private static String describe(Histogram h) {
        if (h.getTotalCount() == 0) {
            return "none";
        }
        return String.format(Locale.ROOT, "%,d, p50 %,d ns, p90 %,d ns, p99 %,d ns, p99.9 %,d ns, max %,d ns",
                h.getTotalCount(), h.getValueAtPercentile(50), h.getValueAtPercentile(90),
                h.getValueAtPercentile(99), h.getValueAtPercentile(99.9), h.getMaxValue());
    }
}
