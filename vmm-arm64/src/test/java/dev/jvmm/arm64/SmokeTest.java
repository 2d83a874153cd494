package dev.jvmm.arm64;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

@NeedsAssembler
class SmokeTest {
    @Test
    void addsAndStopsAtBreakpoint() {
        try (BareMetal m = new BareMetal()) {
            m.assemble(BareMetal.CODE, "add x0, x1, x2\n brk #0x7\n");
            m.cpu.setX(1, 40);
            m.cpu.setX(2, 2);
            m.cpu.setPc(BareMetal.CODE);
            Stop s = m.run(RunOptions.instructions(100).withBreakpoint(7));
            assertThat(s.reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(s.pc()).isEqualTo(BareMetal.CODE + 4);
            assertThat(m.cpu.x(0)).isEqualTo(42);
            assertThat(s.instructions()).isEqualTo(1);
        }
    }

    @Test
    void loopSumsMemory() {
        try (BareMetal m = new BareMetal()) {
            for (int i = 0; i < 100; i++) {
                m.memory.write64(BareMetal.DATA + 8L * i, i + 1);
            }
            m.assemble(BareMetal.CODE, String.join("\n",
                    "mov x0, #0",
                    "mov x2, #100",
                    "1: ldr x3, [x1], #8",
                    "add x0, x0, x3",
                    "subs x2, x2, #1",
                    "b.ne 1b",
                    "str x0, [x1]",
                    "brk #0"));
            m.cpu.setX(1, BareMetal.DATA);
            m.cpu.setPc(BareMetal.CODE);
            Stop s = m.run(10_000);
            assertThat(s.reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(m.cpu.x(0)).isEqualTo(5050);
            assertThat(m.memory.read64(BareMetal.DATA + 800)).isEqualTo(5050);
        }
    }
}
