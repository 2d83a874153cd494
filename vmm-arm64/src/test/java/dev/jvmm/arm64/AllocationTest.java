package dev.jvmm.arm64;

import dev.jvmm.core.testing.ThreadAllocations;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * No allocation per instruction in steady state: once the code is decoded and translated, running it (ALU, loads,
 * stores, calls and returns through the dispatcher) allocates nothing but the run's {@link Stop} record.
 */
@NeedsAssembler
class AllocationTest {
    @Test
    void steadyStateExecutionAllocatesNothingPerInstruction() {
        for (String code : new String[] {CpuSpeed.LOOP, CpuSpeed.CALLS}) {
            try (BareMetal m = new BareMetal()) {
                m.assemble(BareMetal.CODE, code);
                IdentityMap.install(m, false);
                m.cpu.setX(6, BareMetal.DATA);
                Runnable run = () -> {
                    m.cpu.setX(1, 200_000);
                    m.cpu.setPc(BareMetal.CODE);
                    Stop s = m.run(Long.MAX_VALUE);
                    if (s.reason() != StopReason.BREAKPOINT) {
                        throw new AssertionError("stopped: " + s);
                    }
                };
                for (int i = 0; i < 20; i++) {
                    run.run();      // decode, translate, and let HotSpot compile
                }
                long bytes = ThreadAllocations.minimumOf(5, run);
                assertThat(bytes).as("bytes allocated by a run of about two million instructions").isLessThan(512);
            }
        }
    }
}
