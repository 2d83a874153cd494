package dev.jvmm.bench.rx;

import dev.jvmm.net.NetConfig;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keeps the benchmark runner working (it is not a timed test: nothing here depends on how fast the machine is).
 * One short round; the figures go to the test's output.
 */
class RxThroughputSmokeTest {

    @Test
    void theBenchmarkRunsBothReceiversAndReportsItsFigures() throws Exception {
        RxThroughput.Options o = new RxThroughput.Options(0.3, 0.2, 1, NetConfig.Transport.AUTO, 64, 64);
        RxThroughput.Result r = RxThroughput.run(o, System.out);
        assertThat(r.plain()).hasSize(1);
        assertThat(r.device()).hasSize(1);
        assertThat(r.device().get(0).datagrams()).as("datagrams delivered into guest buffers").isPositive();
        assertThat(r.plain().get(0).datagrams()).as("datagrams the plain receiver counted").isPositive();
        System.out.println(RxThroughput.summary(r, o));
    }
}
