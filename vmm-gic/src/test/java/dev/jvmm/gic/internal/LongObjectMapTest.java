package dev.jvmm.gic.internal;

import dev.jvmm.core.testing.Race;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(SeedExtension.class)
class LongObjectMapTest {

    @Test
    void behavesLikeAMapUnderRandomOperations(SeededRandom random) {
        LongObjectMap<Long> map = new LongObjectMap<>();
        Map<Long, Long> model = new HashMap<>();
        for (int i = 0; i < 50_000; i++) {
            long key = random.nextInt(500);
            switch (random.nextInt(4)) {
                case 0:
                case 1:
                    assertThat(map.put(key, (long) i)).isEqualTo(model.put(key, (long) i));
                    break;
                case 2:
                    assertThat(map.remove(key)).isEqualTo(model.remove(key));
                    break;
                default:
                    if (random.nextInt(100) == 0) {
                        List<Long> drained = new ArrayList<>();
                        assertThat(map.clear(drained)).isEqualTo(model.size());
                        assertThat(drained).containsExactlyInAnyOrderElementsOf(model.values());
                        model.clear();
                    }
            }
            assertThat(map.get(key)).isEqualTo(model.get(key));
            assertThat(map.size()).isEqualTo(model.size());
        }
        List<Long> values = new ArrayList<>();
        map.values(values);
        assertThat(values).containsExactlyInAnyOrderElementsOf(model.values());
    }

    @Test
    void rejectsNegativeKeysAndNullValues() {
        LongObjectMap<String> map = new LongObjectMap<>();
        assertThatThrownBy(() -> map.put(-1, "x")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> map.put(1, null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(map.get(-1)).isNull();
    }

    /** Readers never see a value under the wrong key while one writer churns (puts, removes, rehashes). */
    @Test
    void lockFreeReadersSeeOnlyConsistentEntries() throws Exception {
        LongObjectMap<Long> map = new LongObjectMap<>();
        AtomicLong wrong = new AtomicLong();
        Throwable failure = Race.readersDuring(2, (reader, n) -> {
            long k = n * 7 % 1000;
            Long v = map.get(k);
            if (v != null && v / 1_000_000 != k) {
                wrong.incrementAndGet();
            }
        }, () -> {
            for (int round = 0; round < 300; round++) {
                for (long k = 0; k < 1000; k++) {
                    map.put(k, k * 1_000_000 + round);
                }
                for (long k = 0; k < 1000; k += 2) {
                    map.remove(k);
                }
                if (round % 50 == 0) {
                    map.clear(null);
                }
            }
        });
        assertThat(failure).as("a reader threw").isNull();
        assertThat(wrong.get()).as("values read under another key").isZero();
    }
}
