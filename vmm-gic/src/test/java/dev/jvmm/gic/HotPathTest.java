package dev.jvmm.gic;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.core.testing.ThreadAllocations;
import dev.jvmm.gic.guest.ItsCommandQueue;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The MSI path allocates nothing in steady state, and the strategy can be swapped under load. */
class HotPathTest {

    private static GicRig rig(CacheStrategy strategy, int events) {
        GicRig rig = GicRig.booted(2, strategy);
        ItsCommandQueue its = rig.its();
        its.mapd(1, 5, rig.driver.allocateItt(5), true);
        its.mapc(0, 0, true);
        its.mapc(1, 1, true);
        for (int e = 0; e < events; e++) {
            rig.driver.setConfig(8192 + e, LpiTableDescriptor.CONFIG_DEFAULT);
            its.mapti(1, e, 8192 + e, e % 2);
        }
        return rig;
    }

    /**
     * Bytes allocated by this thread per MSI (cached path, slow path on a miss), with the LPIs taken in between so
     * that deliveries are real. 17 events on an LRU of 32 entries: hits; 'none' runs the slow path every time.
     */
    @ParameterizedTest
    @EnumSource(CacheStrategy.class)
    void anMsiAllocatesNothingInSteadyState(CacheStrategy strategy) {
        try (GicRig rig = rig(strategy, 17)) {
            inject(rig, 20_000);
            int n = 100_000;
            long bytes = ThreadAllocations.minimumOf(5, () -> inject(rig, n));
            assertThat((double) bytes / n).as("%s: bytes allocated per MSI (%d in the best of 5 rounds)", strategy, bytes)
                    .isLessThan(0.01);
        }
    }

    private static long inject(GicRig rig, int rounds) {
        long doorbell = rig.gic.doorbell(0);
        long n = 0;
        for (int i = 0; i < rounds; i++) {
            int e = i % 17;
            long r = rig.gic.tryInjectCached(doorbell, e, 1, 1);
            if (InjectResult.isMiss(r)) {
                r = rig.gic.injectSlow(doorbell, e, 1, 1);
            }
            if (!InjectResult.isDelivered(r)) {
                throw new AssertionError(InjectResult.describe(r));
            }
            n++;
            if ((i & 15) == 0) {
                rig.take(e % 2);
            }
        }
        return n;
    }

    @ParameterizedTest
    @EnumSource(CacheStrategy.class)
    void theStrategyCanBeSwappedWhileThreadsInject(CacheStrategy first) throws Exception {
        try (GicRig rig = rig(first, 17)) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong undelivered = new AtomicLong();
            AtomicLong injected = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                final int base = t;
                Thread th = new Thread(() -> {
                    for (int i = base; !stop.get(); i++) {
                        long r = rig.msi(1, i % 17);
                        if (!InjectResult.isDelivered(r)) {
                            undelivered.incrementAndGet();
                        }
                        injected.incrementAndGet();
                    }
                });
                th.start();
                threads.add(th);
            }
            CacheStrategy[] order = CacheStrategy.values();
            for (int round = 0; round < 40; round++) {
                rig.gic.setCacheStrategy(order[round % order.length]);
                long target = injected.get() + 500;
                while (injected.get() < target) {
                    Thread.onSpinWait();
                }
            }
            stop.set(true);
            for (Thread th : threads) {
                th.join();
            }
            assertThat(undelivered.get()).as("every MSI delivered across 40 swaps").isZero();
            GicStats stats = rig.stats();
            assertThat(stats.cacheByStrategy()).as("every strategy counted its own lookups").hasSize(4);
            for (CacheStrategy s : CacheStrategy.values()) {
                assertThat(stats.cache(s).lookups()).as("%s was used", s).isPositive();
            }
            assertThat(stats.cacheDoubleReleases()).isZero();
            rig.gic.close();
            assertThat(rig.gic.stats().cacheReferences()).as("every retired cache released its copies").isZero();
        }
    }
}
