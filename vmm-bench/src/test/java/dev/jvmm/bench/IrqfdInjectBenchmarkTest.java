package dev.jvmm.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JMH benchmark's paths deliver what they claim to measure: each signal's interrupt is the one taken (the
 * tear-down throws otherwise). Not a measurement: a check that a figure would mean what its name says.
 */
class IrqfdInjectBenchmarkTest {

    @Test
    void everyPathDeliversTheInterruptItsSignalRaised() {
        for (String path : new String[]{"inline", "inline-miss", "worker", "wired"}) {
            IrqfdInjectBenchmark b = new IrqfdInjectBenchmark();
            b.path = path;
            b.cache = "per-its";
            b.boot();
            int expected = path.equals("wired") ? 48 : 8192;
            for (int i = 0; i < 2000; i++) {
                assertThat(b.signalToPending()).as("%s: signal %d", path, i).isEqualTo(expected);
            }
            b.close();
        }
    }
}
