package dev.jvmm.gic;

import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(SeedExtension.class)
class PendingLpiSetTest {

    @Test
    void ordersByLevelThenIntidAndRespectsTheThreshold() {
        PendingLpiSet set = new PendingLpiSet();
        set.add(20, 9000);
        set.add(20, 8200);
        set.add(5, 60000);
        set.add(31, 8192);
        assertThat(set.pollHighest(0x100)).isEqualTo(5 << 16 | 60000);
        assertThat(set.pollHighest(0x100)).isEqualTo(20 << 16 | 8200);
        assertThat(set.pollHighest(20 << 3)).as("level 20 is not below a threshold of its own priority").isEqualTo(-1);
        assertThat(set.pollHighest(0x100)).isEqualTo(20 << 16 | 9000);
        assertThat(set.pollHighest(0x100)).isEqualTo(31 << 16 | 8192);
        assertThat(set.pollHighest(0x100)).isEqualTo(-1);
        assertThat(set.highest()).isEqualTo(-1);
    }

    @Test
    void staleHintsNeverHideARealLpi(SeededRandom random) {
        PendingLpiSet set = new PendingLpiSet();
        boolean[] model = new boolean[LpiTableDescriptor.LPI_LIMIT];
        for (int step = 0; step < 20_000; step++) {
            int intid = 8192 + random.nextInt(2048);
            if (random.nextBoolean()) {
                assertThat(set.add(3, intid)).isEqualTo(!model[intid]);
                model[intid] = true;
            } else {
                assertThat(set.remove(3, intid)).isEqualTo(model[intid]);
                model[intid] = false;
            }
            int expected = -1;
            for (int i = 8192; i < 8192 + 2048; i++) {
                if (model[i]) {
                    expected = i;
                    break;
                }
            }
            assertThat(set.first(3)).as("step %d", step).isEqualTo(expected);
            assertThat(set.highest()).isEqualTo(expected < 0 ? -1 : 3);
        }
    }

    /**
     * Adders and removers race on a few shared words while a checker asserts the invariant the CPU interface needs:
     * an LPI that is pending (and stays so) is always found.
     */
    @Test
    void concurrentAddersAndRemoversNeverLoseAnLpi(SeededRandom random) throws Exception {
        PendingLpiSet set = new PendingLpiSet();
        int lpis = 256;
        long seed = random.nextLong();
        AtomicLongArray added = new AtomicLongArray(lpis);
        AtomicLongArray removed = new AtomicLongArray(lpis);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong failures = new AtomicLong();
        int threads = 4;
        CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            final long s = seed + t;
            final boolean adder = t % 2 == 0;
            new Thread(() -> {
                java.util.SplittableRandom r = new java.util.SplittableRandom(s);
                try {
                    for (int i = 0; i < 400_000 && !stop.get(); i++) {
                        int k = r.nextInt(lpis);
                        int level = k % 3;
                        if (adder) {
                            if (set.add(level, 8192 + k * 61)) {
                                added.incrementAndGet(k);
                            }
                        } else if (r.nextBoolean()) {
                            if (set.remove(level, 8192 + k * 61)) {
                                removed.incrementAndGet(k);
                            }
                        } else {
                            int p = set.pollHighest(0x100);
                            if (p >= 0) {
                                int intid = p & 0xFFFF;
                                removed.incrementAndGet((intid - 8192) / 61);
                            }
                        }
                    }
                } catch (Throwable e) {
                    failures.incrementAndGet();
                } finally {
                    done.countDown();
                }
            }).start();
        }
        done.await();
        assertThat(failures.get()).isZero();
        // Quiescent now: exactly the LPIs added more often than removed are pending, and each is found.
        int pending = 0;
        for (int k = 0; k < lpis; k++) {
            long balance = added.get(k) - removed.get(k);
            assertThat(balance).as("LPI %d added/removed balance", 8192 + k * 61).isBetween(0L, 1L);
            assertThat(set.contains(k % 3, 8192 + k * 61)).isEqualTo(balance == 1);
            pending += (int) balance;
        }
        assertThat(set.count()).isEqualTo(pending);
        int polled = 0;
        while (set.pollHighest(0x100) >= 0) {
            polled++;
        }
        assertThat(polled).as("every pending LPI is reachable through the hints").isEqualTo(pending);
        assertThat(set.highest()).isEqualTo(-1);
    }
}
