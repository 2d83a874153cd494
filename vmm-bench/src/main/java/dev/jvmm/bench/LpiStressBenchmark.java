package dev.jvmm.bench;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.gic.GicConfig;
import dev.jvmm.core.config.IrqConfig;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.core.irq.InjectionMode;
import dev.jvmm.core.machine.Machine;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.vcpu.GuestCpu;
import dev.jvmm.core.vcpu.GuestProgram;
import dev.jvmm.core.vcpu.SystemRegister;
import dev.jvmm.gic.GicStats;
import dev.jvmm.bench.lpi.LpiStress;
import dev.jvmm.gic.GicV3;
import dev.jvmm.gic.LpiTableDescriptor;
import dev.jvmm.gic.cache.CacheStats;
import dev.jvmm.gic.guest.GicDriver;
import dev.jvmm.core.vcpu.GuestAccess;
import dev.jvmm.gic.guest.ItsCommandQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
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

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;

/**
 * The five shapes of Linux's {@code vgic_lpi_stress} that the upstream per-ITS cache change (Linux 6.10) reported,
 * for each translation cache strategy: how many MSIs per second the GIC takes when D threads inject into a machine
 * whose V vCPU threads take the LPIs as they come. The JMH form of {@code vmm bench lpi-stress}
 * ({@link dev.jvmm.bench.lpi.LpiStress}), with the same guest, mappings and injection loop, and JMH timing exactly
 * the measured phase.
 *
 * <pre>
 *  trial set-up (per shape x strategy, not timed):
 *    machine: V vCPU threads, GICv3 with one ITS and the strategy, inline irq mode, 50 us halt polling
 *    vCPU 0 (guest code): LPI tables, EnableLPIs, MAPC x V (collection v -&gt; PE v), MAPD x D,
 *                         MAPTI dev d event e -&gt; LPI 8192 + d*E + e in collection (d*E + e) mod V
 *    every vCPU (guest code): forever { WFI; while ((i = IAR1) != 1023) EOIR1(i) }
 *    D injector threads started, parked on a barrier
 *  each JMH invocation (one per iteration, timed):
 *    release the D injectors; thread d, {@code 2,001,920 / (D*E)} times over its E events:
 *        tryInjectCached(doorbell, e, d) ─miss─▶ injectSlow(...)       (KVM_SIGNAL_MSI's two paths)
 *    wait until all D are done
 * </pre>
 *
 * <h2>Shapes ({@code shape = VxDxE})</h2>
 * {@code 1x1x1} one LPI, one thread; {@code 16x16x16} the LRU exactly full; {@code 16x16x17} one entry per vCPU
 * too many for an LRU of 16 per vCPU (the thrash case on 16 CPUs; see below); {@code 64x64x1} many threads;
 * {@code 1x1x17} thrash with one thread. Every invocation does exactly {@value #INJECTIONS} injections (a multiple of D x E for every shape
 * above; another shape must divide it too), so the scores compare across shapes.
 *
 * <h2>Reading the figures</h2>
 * The score (SingleShotTime, reported per injection thanks to {@code @OperationsPerInvocation}) is wall time per
 * injection, all injector threads together: {@code 1e9 / score} is LPIs per second. The targets: {@code
 * per-its} at 5,000,000 LPIs/s or more (200 ns/op or less) at {@code 1x1x1}, and no strategy more than twice as slow
 * at {@code 16x16x17} as at {@code 16x16x16}. The timed phase includes waking the parked injectors and noticing the
 * last one finish (well under a millisecond against a phase of a few hundred). With {@code -prof gc},
 * {@code gc.alloc.rate.norm} is bytes per injection over every thread (injectors, vCPUs, JMH): the target is 0.
 * Each trial prints the cache hit rate and the LPIs the vCPUs took over the measured iterations; an injection that
 * is not delivered, or a guest fault, fails the trial.
 *
 * <p>With 16 or 64 injector threads and as many vCPU threads, this 2-core machine is heavily oversubscribed: a
 * thread is often preempted inside a critical section, which is where a global lock hurts most, and the figures
 * show the scheduler as much as the cache. The spread between iterations is the honest error bar. Two more things
 * the 2 cores cannot show: {@code 16x16x17} hardly misses here (each injector runs alone for a scheduler time slice,
 * cycling over its own 17 events, which fit the 256-entry LRU; it thrashes only when 16 threads interleave
 * injection by injection, as on 16 CPUs; {@code 1x1x17} shows the thrash), and the vCPU threads rarely get a core
 * while the injectors run, so most injections find their LPI still pending (coalesced). The trial's output says
 * how many LPIs the vCPUs took; {@link CacheLookupBenchmark} measures full deliveries one by one.
 *
 * <h2>Run</h2>
 * <pre>
 *  java -jar vmm-bench/target/benchmarks.jar LpiStress -f 1 -wi 3 -i 5
 *  java -jar vmm-bench/target/benchmarks.jar LpiStress -p shape=16x16x16,16x16x17 -p strategy=global-lru,per-its
 *  java -jar vmm-bench/target/benchmarks.jar LpiStress -prof gc -p shape=1x1x1
 * </pre>
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 5)
@Fork(1)
@Threads(1)
@State(Scope.Benchmark)
public class LpiStressBenchmark {
    /** Injections per invocation: 2^10 x 5 x 17 x 23, a multiple of D x E of every upstream shape. */
    static final int INJECTIONS = 2_001_920;
    /** Where vCPU 0 tells the host that its setup is done (guest RAM, below the GIC's arena). */
    private static final long MAILBOX = MemoryMap.RAM_BASE + 0x1000;
    private static final long ARENA = MemoryMap.RAM_BASE + (1L << 20);
    private static final long ARENA_SIZE = 48L << 20;
    private static final int READY = 0x600D;
    private static final long HALT_POLL_NANOS = 50_000;
    private static final long TIMEOUT_SECONDS = 120;

    /** {@code VxDxE}: vCPUs, devices (one injector thread each), events per device. */
    @Param({"1x1x1", "16x16x16", "16x16x17", "64x64x1", "1x1x17"})
    public String shape;

    @Param({"none", "global-lru", "sharded", "per-its"})
    public String strategy;

    private int vcpus;
    private int devices;
    private int events;
    private Machine machine;
    private GicV3 gic;
    private Injector[] injectors;
    private CyclicBarrier start;
    private CyclicBarrier end;
    private volatile boolean stopping;
    private CacheStats before;
    private long acknowledgedBefore;
    private long invocations;
    private long invocationsAtMark;
    private ThreadAllocation allocation;

    /** Builds the machine, waits for the guest's GIC setup, and starts the injector threads. */
    @Setup(Level.Trial)
    public void boot() {
        String[] vde = shape.toLowerCase(Locale.ROOT).split("x");
        if (vde.length != 3) {
            throw new IllegalArgumentException("shape must be VxDxE, like 16x16x17; got " + shape);
        }
        vcpus = Integer.parseInt(vde[0]);
        devices = Integer.parseInt(vde[1]);
        events = Integer.parseInt(vde[2]);
        if (INJECTIONS % (devices * events) != 0) {
            throw new IllegalArgumentException("D x E = " + devices * events + " must divide " + INJECTIONS
                    + " so that every invocation does exactly that many injections");
        }
        CacheStrategy cache = CacheStrategy.fromConfigName(strategy);
        if (cache == null) {
            throw new IllegalArgumentException("unknown strategy " + strategy);
        }
        machine = LpiStress.startMachine(new LpiStress.Options(vcpus, devices, events, 1, cache, 0, HALT_POLL_NANOS));
        gic = (GicV3) machine.interruptController();

        start = new CyclicBarrier(devices + 1);
        end = new CyclicBarrier(devices + 1);
        int rounds = INJECTIONS / (devices * events);
        injectors = new Injector[devices];
        for (int d = 0; d < devices; d++) {
            injectors[d] = new Injector(d, rounds);
            injectors[d].thread.start();
        }
    }

    /** The cache's and the vCPUs' counters at the first measured iteration, for the figures the trial prints. */
    @Setup(Level.Iteration)
    public void markMeasurement(IterationParams iteration) {
        if (iteration.getType() == IterationType.MEASUREMENT && before == null) {
            GicStats s = gic.stats();
            before = s.cache();
            acknowledgedBefore = s.lpisAcknowledged();
            List<Thread> threads = new ArrayList<>();
            for (Injector inj : injectors) {
                threads.add(inj.thread);
            }
            machine.vcpus().forEach(v -> threads.add(v.thread()));
            allocation = new ThreadAllocation(threads);
            allocation.start();
            invocationsAtMark = invocations;
        }
    }

    /** One measured phase: every injector signals each of its events {@code INJECTIONS / (D x E)} times. */
    @Benchmark
    @OperationsPerInvocation(INJECTIONS)
    public int injectAll() throws Exception {
        start.await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        int arrival = end.await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        invocations++;
        return arrival;
    }

    /** Stops the injectors and the machine; fails the trial if an injection was lost or the guest faulted. */
    @TearDown(Level.Trial)
    public void close() throws Exception {
        if (allocation != null) {
            allocation.stop();
        }
        long undelivered = 0;
        Throwable failure = null;
        try {
            GicStats s = gic.stats();
            CacheStats now = s.cache();
            CacheStats b = before == null ? CacheStats.empty(now.strategy()) : before;
            long hits = now.hits() - b.hits();
            long misses = now.misses() - b.misses();
            for (Injector inj : injectors) {
                undelivered += inj.undelivered;
                failure = failure == null ? inj.failure : failure;
            }
            System.out.printf(Locale.ROOT, "%n[lpi-stress] -v %d -d %d -e %d %s: hit rate %.1f%% over the measured "
                            + "iterations (%,d hits, %,d misses), %,d LPIs taken by the vCPUs, %d not delivered%n",
                    vcpus, devices, events, strategy, hits + misses == 0 ? 0.0 : 100.0 * hits / (hits + misses),
                    hits, misses, s.lpisAcknowledged() - acknowledgedBefore, undelivered);
            if (allocation != null) {
                System.out.printf("[lpi-stress] injector and vCPU threads: %s%n",
                        allocation.describe((invocations - invocationsAtMark) * INJECTIONS));
            }
        } finally {
            stopping = true;
            start.reset();   // wakes the injectors parked on it (BrokenBarrierException): they see stopping
            for (Injector inj : injectors) {
                inj.thread.join(TimeUnit.SECONDS.toMillis(10));
            }
            List<String> faults = machine.vcpuFaults();
            List<String> problems = machine.stop();
            if (!faults.isEmpty() || !problems.isEmpty()) {
                throw new IllegalStateException("guest faults " + faults + ", stop problems " + problems);
            }
        }
        if (failure != null) {
            throw new IllegalStateException("an injector failed", failure);
        }
        if (undelivered != 0) {
            throw new IllegalStateException(undelivered + " injections were not delivered");
        }
    }

    // ------------------------------------------------------------------------------------------ the injectors

    /** One injecting thread, the analogue of a vgic_lpi_stress worker; its counters are owned by its thread. */
    private final class Injector implements Runnable {
        final Thread thread;
        private final int deviceId;
        private final int rounds;
        private final long doorbell;
        long undelivered;
        volatile Throwable failure;

        Injector(int deviceId, int rounds) {
            this.deviceId = deviceId;
            this.rounds = rounds;
            this.doorbell = gic.doorbell(0);
            this.thread = new Thread(this, "lpi-stress-injector-" + deviceId);
            thread.setDaemon(true);
        }

        @Override
        public void run() {
            try {
                while (true) {
                    start.await();
                    if (stopping) {
                        return;
                    }
                    inject();
                    end.await();
                }
            } catch (BrokenBarrierException e) {
                if (!stopping) {
                    failure = e;
                }
            } catch (Throwable t) {
                failure = t;
                end.reset();   // the benchmark thread must not wait for this thread forever
            }
        }

        /** The measured loop: LpiStress's own (the clock read per MSI, as KVM_SIGNAL_MSI does; no allocation). */
        private void inject() {
            undelivered += LpiStress.inject(gic, doorbell, deviceId, events, rounds);
        }
    }
}
