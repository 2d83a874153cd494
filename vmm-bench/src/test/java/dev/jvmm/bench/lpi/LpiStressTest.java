package dev.jvmm.bench.lpi;

import dev.jvmm.gic.cache.CacheStrategy;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The benchmark as a (small, untimed) test: every injection delivered, each strategy on one machine. */
class LpiStressTest {

    @Test
    void everyStrategyDeliversEveryInjectionOnOneMachine() {
        LpiStress.Options shape = new LpiStress.Options(2, 3, 5, 300, CacheStrategy.NONE, 100, 0);
        List<LpiStress.Result> results = LpiStress.runStrategies(shape, List.of(CacheStrategy.values()));
        assertThat(results).hasSize(4);
        for (LpiStress.Result r : results) {
            assertThat(r.injections()).isEqualTo(3L * 300 * 5);
            assertThat(r.undelivered()).as("%s: every injection delivered", r.options().cache()).isZero();
            assertThat(r.lpisPerSecond()).isPositive();
            assertThat(r.cache().strategy()).isEqualTo(r.options().cache());
            if (r.options().cache() != CacheStrategy.NONE) {
                assertThat(r.cache().hits()).as("%s: the cached path is used", r.options().cache()).isPositive();
            }
            assertThat(r.summary()).contains("LPIs/s", r.options().cache().configName());
        }
    }

    @Test
    void upstreamShapesAreTheFiveReportedOnes() {
        assertThat(LpiStress.upstreamShapes(10, CacheStrategy.PER_ITS)).extracting(LpiStress.Options::shape)
                .containsExactly("-v 1 -d 1 -e 1", "-v 16 -d 16 -e 16", "-v 16 -d 16 -e 17", "-v 64 -d 64 -e 1",
                        "-v 1 -d 1 -e 17");
    }
}
