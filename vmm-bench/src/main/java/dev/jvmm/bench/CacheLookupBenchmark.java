package dev.jvmm.bench;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.gic.GicStats;
import dev.jvmm.gic.GicV3;
import dev.jvmm.gic.LpiTableDescriptor;
import dev.jvmm.gic.cache.CacheStats;
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
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Translation cache lookup and injection throughput, per cache strategy, with one and two injecting threads: the
 * cost of one MSI from "the doorbell was written" to "the LPI is pending and has been taken", on a GIC whose
 * mappings were made by real ITS commands.
 *
 * <h2>What one operation is</h2>
 * <pre>
 *  injecting thread t (plays device t and vCPU t)
 *    e = next EventID of device t (round-robin over its working set)
 *    r = gic.tryInjectCached(doorbell, e, t)   ── hit ──▶ LPI 8192 + t*E + e pending at vCPU t
 *          └─ miss ─▶ gic.injectSlow(...)        (ITS lock, device → ITT → collection walk, cache insert)
 *    intid = ICC_IAR1_EL1 on vCPU t ; ICC_EOIR1_EL1(intid)         (the vCPU takes it: no longer pending)
 *  strategy none: injectSlow directly (its lookup can only miss), then IAR1/EOIR1 as above
 * </pre>
 * This is what {@code KVM_SIGNAL_MSI} and an irqfd's inline path do (cached path first, slow path on a miss), with
 * the vCPU's acknowledge appended.
 *
 * <h2>Why the benchmark thread acknowledges the LPI itself</h2>
 * Without an acknowledge, the LPI stays pending after the first round, and every later injection of it stops at
 * "already pending" (coalesced): the benchmark would measure the lookup and one bitmap read, never a delivery. A
 * separate vCPU thread draining the LPIs would make each injection a real one, but on this 2-core machine a third
 * spinning thread competes with the injecting threads for a core, and what the figure then shows depends on the
 * scheduler more than on the cache. So thread t takes its own LPI right after injecting it, through the same
 * ICC_IAR1_EL1/ICC_EOIR1_EL1 system-register calls a vCPU's trap makes. Every operation is then a full delivery
 * (pending bit set, the vCPU kicked, the LPI taken), the figure is reproducible, and it includes the acknowledge
 * (two system-register calls, some tens of nanoseconds). {@code coalesced} is the same loop without the acknowledge:
 * the lookup alone, for comparison. {@link LpiStressBenchmark} has vCPU threads draining in parallel instead.
 * Each operation checks that IAR1 returned exactly the LPI it injected; a mismatch fails the run at tear-down.
 *
 * <h2>Shape: threads, vCPUs and the working set</h2>
 * The GIC gets one vCPU per benchmark thread, and thread t owns device t whose {@code eventsPerVcpu} events all
 * target vCPU t, as in Linux's {@code vgic_lpi_stress -v T -d T -e E}. The LRU strategies hold 16 entries per vCPU
 * (the {@code global-lru} list, and each {@code sharded} shard), so the working set of T x E translations:
 * <ul>
 *   <li>{@code eventsPerVcpu = 1}: tiny, always hits;</li>
 *   <li>{@code 16}: exactly fills the LRU;</li>
 *   <li>{@code 17}: one more than fits: cycling through it, an LRU evicts each entry just before it is needed again,
 *       so with one thread {@code global-lru} and {@code sharded} miss on every MSI (the thrash case) while
 *       {@code per-its}, which has no size limit, still hits. With two threads the LRU thrashes only as far as the
 *       threads' injections interleave one by one; when one thread runs a burst while the other waits (a lock, a
 *       preemption), its 17 entries fit and hit. The tear-down prints the hit rate, so every figure says which case
 *       it measured.</li>
 * </ul>
 *
 * <h2>Run</h2>
 * <pre>
 *  java -jar vmm-bench/target/benchmarks.jar CacheLookup -f 1 -wi 3 -i 5
 *  java -jar vmm-bench/target/benchmarks.jar CacheLookup -prof gc -f 1 -wi 3 -i 5      # bytes per injection
 *  java -jar vmm-bench/target/benchmarks.jar 'CacheLookupBenchmark.oneThread' -p strategy=per-its -p eventsPerVcpu=16
 * </pre>
 *
 * <h2>Reading the figures</h2>
 * The score is injections per second, summed over the threads ({@code twoThreads} reports both together). The
 * issue's target is {@code per-its} at 5,000,000/s or more with one thread. With {@code -prof gc},
 * {@code gc.alloc.rate.norm} is the bytes allocated per injection by every thread of the JVM: it must be about 0
 * (a few hundredths of a byte can come from JMH's own iteration bookkeeping). On a 2-core machine the two-thread
 * figures show lock hand-offs between two cores, not the contention of 16 or 64 CPUs: a strategy whose two-thread
 * score is not about twice its one-thread score is serialising somewhere.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class CacheLookupBenchmark {

    /** The translation cache strategy, in its configuration spelling. */
    @Param({"none", "global-lru", "sharded", "per-its"})
    public String strategy;

    /** EventIDs per device (= per vCPU = per thread): the working set per vCPU. */
    @Param({"1", "16", "17"})
    public int eventsPerVcpu;

    GicFixture fixture;
    CacheStrategy cache;
    private final AtomicInteger nextThread = new AtomicInteger();
    private CacheStats before;
    private int threads;

    /** Boots a GIC with one vCPU per benchmark thread and maps device t's events to vCPU t. */
    @Setup(Level.Trial)
    public void boot(BenchmarkParams params) {
        cache = CacheStrategy.fromConfigName(strategy);
        if (cache == null) {
            throw new IllegalArgumentException("unknown strategy " + strategy);
        }
        threads = params.getThreads();
        fixture = GicFixture.boot(threads, cache);
        for (int t = 0; t < threads; t++) {
            fixture.mapDevice(t, eventsPerVcpu, firstIntid(t, eventsPerVcpu), t);
        }
    }

    static int firstIntid(int device, int events) {
        return LpiTableDescriptor.FIRST_LPI + device * events;
    }

    /** The cache's counters at the start of the measured iterations, for the hit rate the tear-down prints. */
    @Setup(Level.Iteration)
    public void markMeasurement(IterationParams iteration) {
        if (iteration.getType() == IterationType.MEASUREMENT && before == null) {
            before = fixture.gic.stats().cache();
        }
    }

    /** Prints the hit rate over the measured iterations, then releases the GIC and its RAM. */
    @TearDown(Level.Trial)
    public void close() {
        try {
            GicStats s = fixture.gic.stats();
            CacheStats now = s.cache();
            CacheStats b = before == null ? CacheStats.empty(cache) : before;
            long hits = now.hits() - b.hits();
            long misses = now.misses() - b.misses();
            System.out.printf(Locale.ROOT, "%n[cache] %s, %d thread(s), %d events/vCPU: %s%n", strategy, threads,
                    eventsPerVcpu, cache == CacheStrategy.NONE ? "no cache (slow path on every MSI)"
                            : String.format(Locale.ROOT, "hit rate %.1f%% (%,d hits, %,d misses, %,d evictions)",
                            hits + misses == 0 ? 0.0 : 100.0 * hits / (hits + misses), hits, misses,
                            now.evictions() - b.evictions()));
        } finally {
            fixture.close();
        }
    }

    /**
     * One injecting thread: device {@code t}, vCPU {@code t}. Its counters are plain fields, owned by its thread.
     */
    @State(Scope.Thread)
    public static class Injector {
        private GicV3 gic;
        private GicFixture fixture;
        private long doorbell;
        private boolean slowOnly;
        private int vcpu;
        private int events;
        private int firstIntid;
        private int next;
        /** Injections that were not delivered, or whose acknowledge returned another INTID. */
        private long failures;
        private String firstFailure;

        /** Takes the next thread index, and warms the cache: every event once through the full path. */
        @Setup(Level.Trial)
        public void attach(CacheLookupBenchmark b) {
            fixture = b.fixture;
            gic = fixture.gic;
            doorbell = gic.doorbell(0);
            slowOnly = b.cache == CacheStrategy.NONE;
            vcpu = b.nextThread.getAndIncrement();
            events = b.eventsPerVcpu;
            firstIntid = firstIntid(vcpu, events);
            for (int e = 0; e < events; e++) {
                injectAndTake();
            }
        }

        /** The measured operation: one MSI, on the cached path with the slow path behind it, and its acknowledge. */
        long injectAndTake() {
            int e = next;
            next = e + 1 == events ? 0 : e + 1;
            long r = inject(e);
            int intid = fixture.take(vcpu);
            if (!InjectResult.isDelivered(r) || intid != firstIntid + e) {
                fail(e, r, intid);
            }
            return r + intid;
        }

        /** The lookup alone: the LPI stays pending, so after the first round every injection is coalesced. */
        long injectOnly() {
            int e = next;
            next = e + 1 == events ? 0 : e + 1;
            long r = inject(e);
            if (!InjectResult.isDelivered(r)) {
                fail(e, r, -1);
            }
            return r;
        }

        private long inject(int e) {
            // signalNanos 0: no observer is attached, so the GIC records no timestamps and the clock is not read.
            if (slowOnly) {
                return gic.injectSlow(doorbell, e, vcpu, 0L);
            }
            long r = gic.tryInjectCached(doorbell, e, vcpu, 0L);
            if (InjectResult.isMiss(r)) {
                r = gic.injectSlow(doorbell, e, vcpu, 0L);
            }
            return r;
        }

        private void fail(int e, long r, int intid) {
            if (failures++ == 0) {
                firstFailure = "device " + vcpu + " event " + e + ": " + InjectResult.describe(r)
                        + (intid < 0 ? "" : ", IAR1 returned " + intid + " instead of " + (firstIntid + e));
            }
        }

        /** Fails the run if any injection went wrong: a figure from a broken path is worthless. */
        @TearDown(Level.Trial)
        public void check() {
            if (failures != 0) {
                throw new IllegalStateException(failures + " injections failed; first: " + firstFailure);
            }
        }
    }

    /** One injecting thread: MSI + acknowledge per operation. */
    @Benchmark
    @Threads(1)
    public long oneThread(Injector in) {
        return in.injectAndTake();
    }

    /** Two injecting threads, each with its own device and vCPU, sharing the GIC, the ITS and the cache. */
    @Benchmark
    @Threads(2)
    public long twoThreads(Injector in) {
        return in.injectAndTake();
    }

    /** One thread, no acknowledge: the cost of the lookup and of finding the LPI already pending. */
    @Benchmark
    @Threads(1)
    public long coalesced(Injector in) {
        return in.injectOnly();
    }
}
