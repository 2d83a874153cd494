package dev.jvmm.gic;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.irq.DropReason;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.gic.guest.ItsCommandQueue;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static dev.jvmm.gic.LpiTableDescriptor.CONFIG_DEFAULT;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cache coherence rule, for every flushing event of the reference with every strategy: warm the cache with a
 * delivered MSI, run the event, and check that no MSI signalled after it completed goes through the mapping it
 * removed or moved, with one injecting thread and with several injecting all along.
 */
class CacheCoherenceTest {
    static final int DEVICE = 1;
    static final int EVENT = 0;
    static final int LPI = 8192;

    /** A flushing event, what an MSI gives after it, and whether the LPI stays pending at PE 0. */
    enum Flush {
        DISCARD(g -> g.its().discard(DEVICE, EVENT), InjectResult.dropped(DropReason.EVENT_UNMAPPED)),
        MOVI(g -> g.its().movi(DEVICE, EVENT, 1), InjectResult.delivered(LPI, 1)),
        MAPD_REMAP(g -> g.its().mapd(DEVICE, 4, g.driver.allocateItt(4), true),
                InjectResult.dropped(DropReason.EVENT_UNMAPPED)),
        MAPD_UNMAP(g -> g.its().mapd(DEVICE, 4, 0, false), InjectResult.dropped(DropReason.DEVICE_UNMAPPED)),
        MAPC_UNMAP(g -> g.its().mapc(0, 0, false), InjectResult.dropped(DropReason.COLLECTION_UNMAPPED)),
        MOVALL(g -> g.its().movall(0, 1), InjectResult.delivered(LPI, 1)),
        ITS_DISABLE(g -> g.writeIts(0, ItsRegisterDescriptor.GITS_CTLR, 4, 0),
                InjectResult.dropped(DropReason.ITS_DISABLED)),
        ENABLE_LPIS_OFF(g -> g.driver.disableLpis(0), InjectResult.dropped(DropReason.LPIS_DISABLED));

        final Consumer<GicRig> command;
        final long after;

        Flush(Consumer<GicRig> command, long after) {
            this.command = command;
            this.after = after;
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Flush f : Flush.values()) {
            for (CacheStrategy s : CacheStrategy.values()) {
                out.add(Arguments.of(f, s));
            }
        }
        return out.stream();
    }

    static GicRig setUp(CacheStrategy strategy) {
        GicRig rig = GicRig.booted(4, strategy);
        ItsCommandQueue its = rig.its();
        rig.driver.setConfig(LPI, CONFIG_DEFAULT);
        its.mapd(DEVICE, 4, rig.driver.allocateItt(4), true);
        its.mapc(0, 0, true);
        its.mapc(1, 1, true);
        its.mapti(DEVICE, EVENT, LPI, 0);
        return rig;
    }

    @ParameterizedTest(name = "{0} with {1}, one thread")
    @MethodSource("cases")
    void oneThread(Flush flush, CacheStrategy strategy) {
        try (GicRig rig = setUp(strategy)) {
            assertThat(InjectResult.describe(rig.msi(DEVICE, EVENT))).isEqualTo("delivered INTID 8192 to vCPU 0");
            long hits = rig.stats().cache().hits();
            long warm = rig.gic.tryInjectCached(rig.gic.doorbell(0), EVENT, DEVICE, 1);
            if (strategy != CacheStrategy.NONE) {
                assertThat(InjectResult.describe(warm)).as("the cache is warm").isEqualTo("delivered INTID 8192 to vCPU 0");
                assertThat(rig.stats().cache().hits()).isEqualTo(hits + 1);
            }
            // LPI 8192 is pending at PE 0 now (nobody took it).
            long flushes = rig.stats().cache().flushes();
            flush.command.accept(rig);
            assertThat(rig.stats().cache().flushes()).as("%s flushes the cache", flush).isGreaterThan(flushes);
            assertThat(rig.stats().cache().size()).isZero();

            long r = rig.msi(DEVICE, EVENT);
            assertThat(InjectResult.describe(r)).as("the MSI after %s", flush).isEqualTo(InjectResult.describe(flush.after));
            assertPendingStateAfter(rig, flush);
            assertThat(rig.stats().cacheDoubleReleases()).isZero();
        }
    }

    /** Where LPI 8192 may be pending once the event completed. */
    private static void assertPendingStateAfter(GicRig rig, Flush flush) {
        List<Integer> pe0 = rig.takeAll(0);
        List<Integer> pe1 = rig.takeAll(1);
        switch (flush) {
            case MOVI:
            case MOVALL:
                assertThat(pe0).as("nothing left at the old target after %s", flush).isEmpty();
                assertThat(pe1).as("the pending LPI moved with %s", flush).containsExactly(LPI);
                break;
            case ITS_DISABLE:
                assertThat(pe0).as("disabling the ITS does not clear a pending LPI").containsExactly(LPI);
                assertThat(pe1).isEmpty();
                break;
            default:
                assertThat(pe0).as("%s removed the pending LPI", flush).isEmpty();
                assertThat(pe1).isEmpty();
        }
    }

    /**
     * The race of the cached path, replayed deterministically: a lookup returned the entry before the event; its
     * delivery runs after the event completed. It must not deliver through the removed or moved mapping.
     */
    @ParameterizedTest(name = "{0} with {1}: a stale lookup")
    @MethodSource("cases")
    void aLookupFromBeforeTheEventCannotDeliverThroughItAfterwards(Flush flush, CacheStrategy strategy) {
        try (GicRig rig = setUp(strategy)) {
            rig.msi(DEVICE, EVENT);
            assertThat(rig.takeAll(0)).containsExactly(LPI);
            Its its = rig.gic.itsFor(rig.gic.doorbell(0));
            Ite stale = strategy == CacheStrategy.NONE ? its.entry(DEVICE, EVENT)
                    : rig.gic.cache().lookup(0, DEVICE, EVENT);
            assertThat(stale).as("the entry a lookup found before the event").isNotNull();

            flush.command.accept(rig);
            long r = rig.gic.deliverCached(its, stale, 1);

            if (flush == Flush.MOVI || flush == Flush.MOVALL) {
                assertThat(InjectResult.isMiss(r) || r == InjectResult.delivered(LPI, 1))
                        .as("after %s: a miss, or the new target; got %s", flush, InjectResult.describe(r)).isTrue();
            } else {
                assertThat(InjectResult.describe(r)).as("after %s", flush).isEqualTo("cache miss");
            }
            assertThat(rig.takeAll(0)).as("nothing reached the old target").isEmpty();
        }
    }

    /** A delivery in flight when the event starts: the event waits for it, then deals with what it made pending. */
    @ParameterizedTest(name = "{0} waits for a delivery in flight")
    @org.junit.jupiter.params.provider.EnumSource(Flush.class)
    void theEventWaitsForADeliveryInFlightAndHandlesItsEffect(Flush flush) throws Exception {
        try (GicRig rig = setUp(CacheStrategy.PER_ITS)) {
            Its its = rig.gic.itsFor(rig.gic.doorbell(0));
            Lpi lpi = its.entry(DEVICE, EVENT).lpi;
            assertThat(lpi.tryEnter()).as("a delivery enters the guard").isTrue();
            Thread event = new Thread(() -> flush.command.accept(rig), "event");
            event.start();
            // Wait (bounded) until the event holds the LPI: a new delivery is then refused.
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (true) {
                if (!lpi.tryEnter()) {
                    break;
                }
                lpi.exit();
                assertThat(System.nanoTime()).as("the event never quiesced the LPI").isLessThan(deadline);
                Thread.onSpinWait();
            }
            assertThat(event.isAlive()).as("%s must wait for the delivery in flight", flush).isTrue();
            rig.gic.redistributor(0).makePending(lpi, 1); // the delivery lands
            lpi.exit();
            event.join(10_000);
            assertThat(event.isAlive()).as("%s completes once the delivery left", flush).isFalse();
            assertPendingStateAfter(rig, flush);
        }
    }

    @ParameterizedTest(name = "{0} with {1}, three threads")
    @MethodSource("cases")
    void severalThreads(Flush flush, CacheStrategy strategy) throws Exception {
        try (GicRig rig = setUp(strategy)) {
            rig.msi(DEVICE, EVENT);
            int threads = 3;
            AtomicBoolean completed = new AtomicBoolean();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong before = new AtomicLong();
            AtomicLong after = new AtomicLong();
            AtomicLong violations = new AtomicLong();
            List<String> firstViolation = new ArrayList<>();
            CountDownLatch warm = new CountDownLatch(threads);
            CountDownLatch done = new CountDownLatch(threads);
            for (int t = 0; t < threads; t++) {
                new Thread(() -> {
                    long n = 0;
                    long afterMine = 0;
                    try {
                        while (!stop.get() && afterMine < 20_000) {
                            boolean startedAfter = completed.get();
                            long r = rig.msi(DEVICE, EVENT);
                            if (++n == 1000) {
                                warm.countDown();
                            }
                            if (startedAfter) {
                                afterMine++;
                                after.incrementAndGet();
                                if (r != flush.after) {
                                    violations.incrementAndGet();
                                    synchronized (firstViolation) {
                                        if (firstViolation.isEmpty()) {
                                            firstViolation.add(InjectResult.describe(r));
                                        }
                                    }
                                }
                            } else {
                                before.incrementAndGet();
                            }
                        }
                    } finally {
                        if (n < 1000) {
                            warm.countDown();
                        }
                        done.countDown();
                    }
                }, "injector-" + t).start();
            }
            warm.await();
            flush.command.accept(rig);
            completed.set(true);
            done.await();
            stop.set(true);
            assertThat(violations.get())
                    .as("MSIs signalled after %s completed that did not give %s; first: %s", flush,
                            InjectResult.describe(flush.after), firstViolation)
                    .isZero();
            assertThat(after.get()).as("injections after the event").isEqualTo(threads * 20_000L);
            assertPendingStateAfter(rig, flush);
            assertThat(rig.stats().cacheDoubleReleases()).isZero();
        }
    }
}
