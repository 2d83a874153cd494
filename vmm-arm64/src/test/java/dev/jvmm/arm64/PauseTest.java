package dev.jvmm.arm64;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.core.testing.TestInterruptController;
import dev.jvmm.core.vcpu.Vcpu;
import dev.jvmm.core.vcpu.VcpuState;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Pause and stop reach a CPU in a tight loop, at a checkpoint at least every few thousand instructions. */
@NeedsAssembler
class PauseTest {
    @Test
    void checkpointsComeAtLeastEveryFewThousandInstructions() {
        for (String loop : new String[] {"1: b 1b", "1: add x0, x0, #1\n add x1, x1, #1\n b 1b"}) {
            try (BareMetal m = new BareMetal()) {
                m.assemble(BareMetal.CODE, loop);
                m.cpu.setPc(BareMetal.CODE);
                Stop s = m.run(1_000_000);
                assertThat(s.instructions()).isEqualTo(1_000_000);
                assertThat((long) m.io.checkpoints).as("checkpoints for a million instructions of '%s'", loop)
                        .isGreaterThanOrEqualTo(1_000_000 / Arm64Cpu.CHECK_INTERVAL);
            }
        }
    }

    /** Waits up to 10 s until the CPU retired more than {@code than} (the counter is read racily, as a monitor does). */
    static void waitForProgress(Arm64Cpu cpu, long than) {
        for (int i = 0; i < 1000 && cpu.instructionsRetired() <= than; i++) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Test
    void vcpuRunningATightLoopPausesResumesAndStops() {
        try (BareMetal m = new BareMetal()) {
            m.assemble(BareMetal.CODE, "1: add x0, x0, #1\n b 1b\n");
            m.cpu.setBootState(BareMetal.CODE, 0, 0, 0, 0);
            TestInterruptController gic = new TestInterruptController(0, 1, v -> { });
            Vcpu vcpu = new Vcpu(0, 1, m.memory, new MmioBus(), gic, 0, m.cpu, "test");
            m.cpu.setWaker(vcpu::kick);
            vcpu.start();
            try {
                waitForProgress(m.cpu, 0);
                vcpu.requestPause();
                assertThat(vcpu.awaitPaused(Duration.ofSeconds(10))).as("paused").isTrue();
                long at = m.cpu.instructionsRetired();
                assertThat(at).isPositive();
                vcpu.resume();
                waitForProgress(m.cpu, at);
                assertThat(m.cpu.instructionsRetired()).as("runs again after resume").isGreaterThan(at);
            } finally {
                vcpu.requestStop();
                assertThat(vcpu.join(Duration.ofSeconds(10))).as("stopped").isTrue();
            }
            assertThat(vcpu.state()).isEqualTo(VcpuState.STOPPED);
        }
    }
}
