package dev.jvmm.bench.lpi;

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
import dev.jvmm.gic.GicV3;
import dev.jvmm.gic.LpiTableDescriptor;
import dev.jvmm.gic.cache.CacheStats;
import dev.jvmm.gic.guest.GicDriver;
import dev.jvmm.core.vcpu.GuestAccess;
import dev.jvmm.gic.guest.ItsCommandQueue;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;

/**
 * An LPI injection stress test modelled on Linux's {@code tools/testing/selftests/kvm/arm64/vgic_lpi_stress.c}:
 * how many MSIs per second the interrupt controller takes, for each translation cache strategy.
 *
 * <pre>
 *   V vCPUs, each: ICC_PMR/IGRPEN1 open, then forever { WFI; while ((i = IAR1) != 1023) EOIR1(i) }
 *   vCPU 0 first sets the GIC up through real ITS commands in guest RAM:
 *        LPI tables, EnableLPIs, one ITS, MAPD x D, MAPC x V (collection v -> PE v),
 *        MAPTI dev d event e -> LPI 8192 + d*E + e in collection (d*E + e) mod V  (round-robin)
 *   D injecting threads, thread d: I times, for every event e of device d:
 *        tryInjectCached(doorbell, e, d)  ─miss─▶  injectSlow(...)      (KVM_SIGNAL_MSI's two paths)
 *        the result must be "delivered" (pending, possibly coalesced with a pending one)
 * </pre>
 *
 * Reported: LPIs/s (injections over the wall time of the measured phase, all threads together) and the bytes the
 * injecting threads allocated per injection during it (com.sun.management.ThreadMXBean), after a warm-up phase.
 *
 * <h2>Use</h2>
 * From code, as {@code vmm bench lpi-stress -v V -d D -e E -i I --cache STRATEGY} does:
 * <pre>{@code
 * LpiStress.Result r = LpiStress.run(new LpiStress.Options(16, 16, 16, 10_000, CacheStrategy.PER_ITS));
 * List<LpiStress.Result> all = LpiStress.runStrategies(options, List.of(CacheStrategy.values())); // one machine
 * }</pre>
 * From the command line: {@code vmm bench lpi-stress -v 16 -d 16 -e 16 -i 10000 --cache all}
 * ({@code --upstream} runs the five shapes the upstream change reported, for every strategy).
 */
public final class LpiStress {

    /** Where vCPU 0 tells the host that setup is done (guest RAM, below the GIC's arena). */
    private static final long MAILBOX = MemoryMap.RAM_BASE + 0x1000;
    private static final long ARENA = MemoryMap.RAM_BASE + (1L << 20);
    private static final int READY = 0x600D;
    private static final long SETUP_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(60);

    /**
     * One run's shape.
     *
     * @param vcpus            V: vCPUs, one collection each
     * @param devices          D: devices, one injecting thread each
     * @param eventsPerDevice  E: events (LPIs) per device
     * @param iterations       I: how many times each thread signals each of its events in the measured phase
     * @param cache            the translation cache strategy
     * @param warmupIterations iterations of the same loop before measuring (JIT, first-touch allocations)
     * @param haltPollNanos    how long an idle vCPU spins in WFI before it sleeps (KVM's halt_poll_ns)
     */
    public record Options(int vcpus, int devices, int eventsPerDevice, long iterations, CacheStrategy cache,
                          long warmupIterations, long haltPollNanos) {

        public Options {
            if (vcpus < 1 || devices < 1 || eventsPerDevice < 1 || iterations < 1 || warmupIterations < 0) {
                throw new IllegalArgumentException("vcpus, devices, events and iterations must be positive");
            }
            if (eventsPerDevice > 1 << 16 || devices > 1 << 16
                    || (long) devices * eventsPerDevice > LpiTableDescriptor.LPI_COUNT) {
                throw new IllegalArgumentException("devices x events must fit the " + LpiTableDescriptor.LPI_COUNT
                        + " LPIs");
            }
        }

        /** A shape with a warm-up of a tenth of the iterations (at least 1000) and 50 us of halt polling. */
        public Options(int vcpus, int devices, int eventsPerDevice, long iterations, CacheStrategy cache) {
            this(vcpus, devices, eventsPerDevice, iterations, cache, Math.max(1000, iterations / 10), 50_000);
        }

        public Options withCache(CacheStrategy c) {
            return new Options(vcpus, devices, eventsPerDevice, iterations, c, warmupIterations, haltPollNanos);
        }

        /** The shape as the upstream test's flags. */
        public String shape() {
            return "-v " + vcpus + " -d " + devices + " -e " + eventsPerDevice;
        }
    }

    /**
     * One run's outcome.
     *
     * @param injections         MSIs signalled in the measured phase
     * @param undelivered        of those, how many did not return "delivered" (must be 0)
     * @param elapsedNanos       wall time of the measured phase
     * @param lpisPerSecond      injections per second
     * @param bytesPerInjection  bytes the injecting threads allocated per injection in the measured phase
     * @param cache              the cache's counters over the measured phase
     * @param acknowledged       LPIs the vCPUs acknowledged during the measured phase
     */
    public record Result(Options options, long injections, long undelivered, long elapsedNanos, double lpisPerSecond,
                         double bytesPerInjection, CacheStats cache, long acknowledged) {

        /** One line: shape, strategy, rate, allocation, hit rate. */
        public String summary() {
            return String.format(Locale.ROOT, "%-20s %-10s %,14.0f LPIs/s %8.2f bytes/injection  hits %5.1f%%  "
                            + "(%,d injections in %.3f s, %,d acknowledged%s)",
                    options.shape(), options.cache().configName(), lpisPerSecond, bytesPerInjection,
                    100 * cache.hitRate(), injections, elapsedNanos / 1e9, acknowledged,
                    undelivered == 0 ? "" : ", " + undelivered + " NOT DELIVERED");
        }
    }

    private LpiStress() {
    }

    /** One shape with one strategy, on a fresh machine. */
    public static Result run(Options options) {
        return runStrategies(options, List.of(options.cache())).get(0);
    }

    /**
     * One shape with each of {@code strategies} in turn, on one machine: the GIC's cache is swapped between runs
     * ({@link GicV3#setCacheStrategy}), so the strategies see the same vCPUs, mappings and threads.
     */
    public static List<Result> runStrategies(Options options, List<CacheStrategy> strategies) {
        List<Result> results = new ArrayList<>();
        try (Machine machine = startMachine(options.withCache(strategies.get(0)))) {
            GicV3 gic = (GicV3) machine.interruptController();
            for (CacheStrategy s : strategies) {
                gic.setCacheStrategy(s);
                results.add(measure(gic, options.withCache(s)));
            }
            List<String> faults = machine.vcpuFaults();
            if (!faults.isEmpty()) {
                throw new IllegalStateException("guest faulted: " + faults);
            }
        }
        return results;
    }

    /**
     * The machine of one shape, started, with the guest's setup done (every mapping made through ITS commands) and
     * its vCPUs taking LPIs: what a benchmark harness (vmm-bench's JMH form) drives with {@link #inject}. The caller
     * closes it.
     */
    public static Machine startMachine(Options options) {
        VmConfig config = VmConfig.builder()
                .vcpus(options.vcpus())
                .memorySize(64L << 20)
                .with(GicConfig.SECTION, GicConfig.defaults().withCache(options.cache()))
                .irq(new IrqConfig(InjectionMode.INLINE, options.haltPollNanos(), 0))
                .build();
        Machine machine = Machine.builder(config)
                .name("lpi-stress")
                .interruptController(GicV3::create)
                .guest(vcpu -> guestProgram(vcpu, options))
                .build();
        try {
            machine.start();
            awaitSetup(machine);
        } catch (RuntimeException e) {
            machine.stop();
            throw e;
        }
        return machine;
    }

    /**
     * One injecting thread's work: {@code rounds} times, every event of device {@code deviceId} once, each on the
     * cached path and on the slow path after a miss, as {@code KVM_SIGNAL_MSI} injects. The clock is read per MSI
     * (the signal time the GIC keeps). No allocation. Returns how many injections were not delivered (should be 0).
     */
    public static long inject(GicV3 gic, long doorbell, int deviceId, int events, long rounds) {
        long failed = 0;
        for (long i = 0; i < rounds; i++) {
            for (int e = 0; e < events; e++) {
                long t = System.nanoTime();
                long r = gic.tryInjectCached(doorbell, e, deviceId, t);
                if (InjectResult.isMiss(r)) {
                    r = gic.injectSlow(doorbell, e, deviceId, t);
                }
                if (!InjectResult.isDelivered(r)) {
                    failed++;
                }
            }
        }
        return failed;
    }

    // ------------------------------------------------------------------------------------------ the guest

    private static GuestProgram guestProgram(int vcpu, Options o) {
        return cpu -> {
            GicDriver.initCpuInterface(cpu);
            if (vcpu == 0) {
                setUpGic(cpu, o);
                cpu.memory().storeRelease32(MAILBOX, READY);
            }
            while (true) {
                cpu.waitForInterrupt();
                long intid;
                while ((intid = cpu.readSystemRegister(SystemRegister.ICC_IAR1_EL1)) != SystemRegister.SPURIOUS_INTID) {
                    cpu.writeSystemRegister(SystemRegister.ICC_EOIR1_EL1, intid);
                }
            }
        };
    }

    /** The guest's GIC driver work, on vCPU 0: every mapping through an ITS command in guest RAM. */
    private static void setUpGic(GuestCpu cpu, Options o) {
        GicDriver gic = new GicDriver(cpu, o.vcpus(), 1, ARENA, 48L << 20);
        gic.initDistributor();
        gic.initLpiTables(true);
        for (int pe = 0; pe < o.vcpus(); pe++) {
            gic.enableLpis(pe);
        }
        ItsCommandQueue its = gic.initIts(0, 16);
        int eventBits = Math.max(1, 32 - Integer.numberOfLeadingZeros(o.eventsPerDevice() - 1));
        for (int pe = 0; pe < o.vcpus(); pe++) {
            its.mapc(pe, pe, true);
        }
        for (int d = 0; d < o.devices(); d++) {
            its.mapd(d, eventBits, gic.allocateItt(eventBits), true);
            for (int e = 0; e < o.eventsPerDevice(); e++) {
                int n = d * o.eventsPerDevice() + e;
                int intid = LpiTableDescriptor.FIRST_LPI + n;
                gic.setConfig(intid, LpiTableDescriptor.CONFIG_DEFAULT);
                its.mapti(d, e, intid, n % o.vcpus());
            }
        }
        its.sync(0);
        if (!its.drained()) {
            throw new IllegalStateException("the ITS did not run the setup commands");
        }
    }

    private static void awaitSetup(Machine machine) {
        long start = System.nanoTime();
        while (machine.memory().loadAcquire32(MAILBOX) != READY) {
            if (!machine.vcpuFaults().isEmpty()) {
                throw new IllegalStateException("guest setup failed: " + machine.vcpuFaults());
            }
            if (System.nanoTime() - start > SETUP_TIMEOUT_NANOS) {
                throw new IllegalStateException("guest setup did not finish in time");
            }
            Thread.onSpinWait();
        }
    }

    // ------------------------------------------------------------------------------------------ the injectors

    /** One injecting thread's loop and counters (the analogue of a vgic_lpi_stress worker). */
    private static final class Injector implements Runnable {
        private final GicV3 gic;
        private final long doorbell;
        private final int deviceId;
        private final int events;
        private final long warmup;
        private final long iterations;
        private final CyclicBarrier warmedUp;
        private final CyclicBarrier start;
        private final CyclicBarrier end;
        long undelivered;
        long allocatedBytes;
        long startNanos;
        long endNanos;
        volatile Throwable failure;

        Injector(GicV3 gic, int deviceId, Options o, CyclicBarrier warmedUp, CyclicBarrier start, CyclicBarrier end) {
            this.warmedUp = warmedUp;
            this.gic = gic;
            this.doorbell = gic.doorbell(0);
            this.deviceId = deviceId;
            this.events = o.eventsPerDevice();
            this.warmup = o.warmupIterations();
            this.iterations = o.iterations();
            this.start = start;
            this.end = end;
        }

        @Override
        public void run() {
            try {
                inject(warmup);
                undelivered = 0;
                com.sun.management.ThreadMXBean mx = threadMxBean();
                warmedUp.await();
                start.await();
                long before = mx.getCurrentThreadAllocatedBytes();
                startNanos = System.nanoTime();
                inject(iterations);
                endNanos = System.nanoTime();
                allocatedBytes = mx.getCurrentThreadAllocatedBytes() - before;
                end.await();
            } catch (Throwable t) {
                failure = t;
                warmedUp.reset();
                start.reset();
                end.reset();
            }
        }

        /** The measured loop: no allocation, no boxing; results are packed longs. */
        private void inject(long rounds) {
            undelivered += LpiStress.inject(gic, doorbell, deviceId, events, rounds);
        }
    }

    private static com.sun.management.ThreadMXBean threadMxBean() {
        return (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    }

    private static Result measure(GicV3 gic, Options o) {
        int threads = o.devices();
        // The last party of each barrier is this thread: it reads the counters while every injector waits after its
        // warm-up. The measured phase runs from the first injector's start to the last one's end (each thread
        // reads the clock itself: with more threads than cores, this thread may wake long after the others).
        CyclicBarrier warmedUp = new CyclicBarrier(threads + 1);
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        CyclicBarrier end = new CyclicBarrier(threads + 1);
        List<Injector> injectors = new ArrayList<>();
        List<Thread> started = new ArrayList<>();
        for (int d = 0; d < threads; d++) {
            Injector inj = new Injector(gic, d, o, warmedUp, start, end);
            injectors.add(inj);
            Thread t = new Thread(inj, "lpi-stress-injector-" + d);
            t.setDaemon(true);
            started.add(t);
            t.start();
        }
        CacheStats before;
        long ackedBefore;
        try {
            warmedUp.await();
            GicStats s0 = gic.stats();
            before = s0.cache();
            ackedBefore = s0.lpisAcknowledged();
            start.await();
            end.await();
        } catch (Exception e) {
            for (Injector inj : injectors) {
                if (inj.failure != null) {
                    throw new IllegalStateException("injector failed", inj.failure);
                }
            }
            throw new IllegalStateException("the benchmark was interrupted", e);
        }
        for (Thread t : started) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        CacheStats after = gic.stats().cache();
        long acked = gic.stats().lpisAcknowledged() - ackedBefore;
        long injections = (long) threads * o.iterations() * o.eventsPerDevice();
        long undelivered = 0;
        long bytes = 0;
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        for (Injector inj : injectors) {
            undelivered += inj.undelivered;
            bytes += inj.allocatedBytes;
            first = Math.min(first, inj.startNanos);
            last = Math.max(last, inj.endNanos);
        }
        long elapsed = last - first;
        CacheStats delta = new CacheStats(after.strategy(), after.hits() - before.hits(),
                after.misses() - before.misses(), after.inserts() - before.inserts(),
                after.evictions() - before.evictions(), after.flushes() - before.flushes(),
                after.releases() - before.releases(), after.size());
        return new Result(o, injections, undelivered, elapsed, injections * 1e9 / Math.max(1, elapsed),
                (double) bytes / injections, delta, acked);
    }

    // ------------------------------------------------------------------------------------------ command line

    /** The five shapes the upstream change (Linux 6.10) reported. */
    public static List<Options> upstreamShapes(long iterations, CacheStrategy cache) {
        return List.of(
                new Options(1, 1, 1, iterations, cache),
                new Options(16, 16, 16, iterations, cache),
                new Options(16, 16, 17, iterations, cache),
                new Options(64, 64, 1, iterations, cache),
                new Options(1, 1, 17, iterations, cache));
    }
}
