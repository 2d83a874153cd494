package dev.jvmm.arm64;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The generic timer (Arm ARM D11) on a fake clock: WFI sleeps to the deadline, the PPI is a level while it holds. */
@NeedsAssembler
class TimerTest {
    static final long VBAR = BareMetal.RAM_BASE + 0x8_0000L;

    @Test
    void virtualTimerFiresAfterTvalTicksAndWfiSleepsUntilThen() {
        try (BareMetal m = new BareMetal()) {
            m.assemble(BareMetal.CODE, String.join("\n",
                    "mov x0, #1000",
                    "msr cntv_tval_el0, x0",
                    "mov x0, #1",
                    "msr cntv_ctl_el0, x0",
                    "mrs x1, cntv_ctl_el0",
                    "wfi",
                    "mrs x2, cntv_ctl_el0",
                    "mrs x3, cntvct_el0",
                    "mov x0, #3",
                    "msr cntv_ctl_el0, x0",      // IMASK: the line falls, ISTATUS stays
                    "mrs x4, cntv_ctl_el0",
                    "brk #0"));
            m.io.clock = 160;                    // counter = 10
            m.cpu.setPc(BareMetal.CODE);
            assertThat(m.run(100).reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(m.cpu.x(1)).as("enabled, not yet fired").isEqualTo(1);
            assertThat(m.io.wfiDeadlines).as("WFI sleeps exactly until CVAL = 10 + 1000 ticks of 16 ns")
                    .containsExactly(1010L * 16);
            assertThat(m.cpu.x(2)).as("ENABLE | ISTATUS").isEqualTo(5);
            assertThat(m.cpu.x(3)).isEqualTo(1010);
            assertThat(m.cpu.x(4)).as("ENABLE | IMASK | ISTATUS").isEqualTo(7);
            assertThat(m.io.lines[27]).as("masked: the PPI line is low").isFalse();
        }
    }

    @Test
    void physicalTimerRaisesPpi30AndTheIrqIsTaken() {
        try (BareMetal m = new BareMetal()) {
            m.assemble(BareMetal.CODE, String.join("\n",
                    "mov x0, #500",
                    "msr cntp_cval_el0, x0",
                    "mov x0, #1",
                    "msr cntp_ctl_el0, x0",
                    "msr daifclr, #2",
                    "1: wfi",
                    "b 1b"));
            m.cpu.writeSystemRegister("VBAR_EL1", VBAR);
            m.cpu.setPc(BareMetal.CODE);
            Stop s = m.run(RunOptions.instructions(100).withStopOnException(true));
            assertThat(s.pc()).as("IRQ vector").isEqualTo(VBAR + 0x280);
            assertThat(m.io.lines[30]).isTrue();
            assertThat(m.io.clock).isEqualTo(500L * 16);
        }
    }

    @Test
    void el0CounterAccessFollowsCntkctl() {
        try (BareMetal m = new BareMetal()) {
            m.assemble(BareMetal.CODE, "mrs x0, cntvct_el0\n brk #0\n");
            m.cpu.writeSystemRegister("VBAR_EL1", VBAR);
            m.cpu.setPc(BareMetal.CODE);
            m.cpu.setElAndSpSel(0, 0);
            m.run(RunOptions.instructions(10).withStopOnException(true));
            assertThat(m.cpu.readSystemRegister("ESR_EL1") >>> 26).isEqualTo(0x18);
            m.cpu.writeSystemRegister("CNTKCTL_EL1", 2);   // EL0VCTEN
            m.cpu.setElAndSpSel(0, 0);
            m.cpu.setPc(BareMetal.CODE);
            m.io.clock = 1600;
            assertThat(m.run(10).reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(m.cpu.x(0)).isEqualTo(100);
        }
    }
}
