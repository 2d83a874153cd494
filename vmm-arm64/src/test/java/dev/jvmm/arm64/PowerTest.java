package dev.jvmm.arm64;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.core.testing.Await;
import dev.jvmm.core.testing.TestInterruptController;
import dev.jvmm.core.vcpu.Vcpu;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The board's hooks on real vCPU threads: a secondary CPU sleeps until CPU_ON, and CPU_OFF puts it back. */
@NeedsAssembler
class PowerTest {
    @Test
    void secondaryCpuRunsFromCpuOnWithItsContextIdAndCpuOffParksIt() throws Exception {
        try (BareMetal m = new BareMetal(2)) {
            // Secondary entry: store x0 (the context id) and MPIDR, then CPU_OFF through HVC.
            m.assemble(BareMetal.CODE, String.join("\n",
                    "ldr x1, =0x40200000",
                    "str x0, [x1]",
                    "mrs x2, mpidr_el1",
                    "str x2, [x1, #8]",
                    "ldr x0, =0x84000002",
                    "hvc #0",
                    "1: b 1b",
                    ".ltorg"));
            m.system.setHypervisorCall((cpu, conduit, imm) -> {
                if (cpu.x(0) == 0x8400_0002L) {
                    cpu.powerOff();
                }
            });
            Arm64Cpu secondary = m.system.cpu(1);
            secondary.startPoweredOff();
            TestInterruptController gic = new TestInterruptController(0, 2, v -> { });
            Vcpu vcpu = new Vcpu(1, 2, m.memory, new MmioBus(), gic, 0, secondary, "test");
            secondary.setWaker(vcpu::kick);
            vcpu.start();
            try {
                Thread.sleep(100);
                assertThat(secondary.instructionsRetired()).as("off until CPU_ON").isZero();
                assertThat(secondary.powerOn(BareMetal.CODE, 0xC0FFEE)).isTrue();
                Await.until(() -> m.memory.read64(BareMetal.DATA + 8) != 0, "the secondary's stores (MPIDR last)");
                assertThat(m.memory.read64(BareMetal.DATA)).as("x0 = context id at entry").isEqualTo(0xC0FFEE);
                assertThat(m.memory.read64(BareMetal.DATA + 8)).as("MPIDR of CPU 1").isEqualTo(0x8000_0001L);
                Await.until(() -> !secondary.isPoweredOn(), "CPU_OFF");
                m.memory.write64(BareMetal.DATA, 0);
                assertThat(secondary.powerOn(BareMetal.CODE, 7)).as("CPU_ON again after CPU_OFF").isTrue();
                Await.until(() -> m.memory.read64(BareMetal.DATA) == 7, "x0 = context id 7 at the second entry");
            } finally {
                vcpu.requestStop();
                assertThat(vcpu.join(Duration.ofSeconds(10))).isTrue();
            }
        }
    }
}
