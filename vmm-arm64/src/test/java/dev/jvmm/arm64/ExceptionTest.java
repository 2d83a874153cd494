package dev.jvmm.arm64;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The exception model (Arm ARM D1.10): each exception's ESR_EL1, FAR_EL1, ELR_EL1, SPSR_EL1 and vector. */
@NeedsAssembler
class ExceptionTest {
    static final long VBAR = BareMetal.RAM_BASE + 0x8_0000L;

    static BareMetal machine(String code) {
        BareMetal m = new BareMetal();
        m.assemble(BareMetal.CODE, code);
        m.cpu.writeSystemRegister("VBAR_EL1", VBAR);
        m.cpu.setPc(BareMetal.CODE);
        return m;
    }

    static Stop runToException(BareMetal m) {
        return m.run(RunOptions.instructions(10_000).withBreakpoint(0xFFFF).withStopOnException(true));
    }

    static long sys(BareMetal m, String name) {
        return m.cpu.readSystemRegister(name);
    }

    @Test
    void svcFromEl0GoesToTheLowerElVector() {
        try (BareMetal m = machine("mov x0, #1\n svc #0x42\n")) {
            m.cpu.setElAndSpSel(0, 0);
            m.cpu.setNzcv(0x6000_0000);
            m.cpu.setDaif(0);
            Stop s = runToException(m);
            assertThat(s.reason()).isEqualTo(StopReason.EXCEPTION);
            assertThat(s.pc()).as("PC: VBAR_EL1 + 0x400 (lower EL, AArch64, synchronous)").isEqualTo(VBAR + 0x400);
            assertThat(sys(m, "ESR_EL1")).as("EC 0x15, IL, imm16").isEqualTo(0x15L << 26 | 1L << 25 | 0x42);
            assertThat(sys(m, "ELR_EL1")).as("preferred return: the instruction after SVC")
                    .isEqualTo(BareMetal.CODE + 8);
            assertThat(sys(m, "SPSR_EL1")).as("SPSR: NZCV of the caller, DAIF clear, EL0t").isEqualTo(0x6000_0000L);
            assertThat(m.cpu.el()).isEqualTo(1);
            assertThat(m.cpu.spSel()).isEqualTo(1);
            assertThat(m.cpu.daif()).as("all of DAIF masked on entry").isEqualTo(0x3C0);
        }
    }

    @Test
    void undefinedAtEl1WithSpxUsesTheCurrentElSpxVector() {
        try (BareMetal m = machine("nop\n .inst 0x00000000\n")) {
            Stop s = runToException(m);
            assertThat(s.pc()).isEqualTo(VBAR + 0x200);
            assertThat(sys(m, "ESR_EL1")).as("EC 0 (unknown reason), IL").isEqualTo(1L << 25);
            assertThat(sys(m, "ELR_EL1")).as("ELR: the UNDEFINED instruction").isEqualTo(BareMetal.CODE + 4);
            assertThat(sys(m, "SPSR_EL1") & 0x1F).as("EL1h").isEqualTo(5);
        }
    }

    @Test
    void floatingPointIsUndefinedOnThisCpu() {
        try (BareMetal m = machine("fadd d0, d1, d2\n")) {
            runToException(m);
            assertThat(sys(m, "ESR_EL1") >>> 26).as("FP/AdvSIMD absent: UNDEFINED (EC 0), not an FP trap")
                    .isEqualTo(0);
        }
    }

    @Test
    void lseAtomicsAreUndefined() {
        try (BareMetal m = machine(".inst 0xf8200020\n")) { // ldadd x0, x0, [x1]
            m.cpu.setX(1, BareMetal.DATA);
            runToException(m);
            assertThat(sys(m, "ESR_EL1") >>> 26).isEqualTo(0);
        }
    }

    @Test
    void currentElSp0UsesVectorZero() {
        try (BareMetal m = machine(".inst 0x00000000\n")) {
            m.cpu.setElAndSpSel(1, 0);
            Stop s = runToException(m);
            assertThat(s.pc()).isEqualTo(VBAR);
            assertThat(sys(m, "SPSR_EL1") & 0x1F).as("EL1t").isEqualTo(4);
        }
    }

    @Test
    void brkTakesItsExceptionWithTheImmediate() {
        try (BareMetal m = machine("brk #0x1234\n")) {
            Stop s = m.run(RunOptions.instructions(100).withBreakpoint(RunOptions.NO_BRK).withStopOnException(true));
            assertThat(s.pc()).isEqualTo(VBAR + 0x200);
            assertThat(sys(m, "ESR_EL1")).isEqualTo(0x3CL << 26 | 1L << 25 | 0x1234);
            assertThat(sys(m, "ELR_EL1")).as("ELR: the BRK itself").isEqualTo(BareMetal.CODE);
        }
    }

    @Test
    void loadFromAddressWithoutDeviceIsSynchronousExternalAbort() {
        try (BareMetal m = machine("ldr w0, [x1]\n")) {
            m.cpu.setX(1, 0x0900_0000L);
            runToException(m);
            assertThat(sys(m, "ESR_EL1")).as("EC 0x25 (data abort, same EL), DFSC 0x10, WnR 0")
                    .isEqualTo(0x25L << 26 | 1L << 25 | 0x10);
            assertThat(sys(m, "FAR_EL1")).isEqualTo(0x0900_0000L);
            assertThat(sys(m, "ELR_EL1")).isEqualTo(BareMetal.CODE);
        }
    }

    @Test
    void storeToMmioReachesTheBus() {
        try (BareMetal m = machine("str w0, [x1]\n ldr w2, [x1, #4]\n brk #0\n")) {
            long[] seen = new long[3];
            m.io.mmio = new TestGuestCpu.Mmio() {
                @Override
                public long read(long address, int size) {
                    return 0xABCD;
                }

                @Override
                public void write(long address, int size, long value) {
                    seen[0] = address;
                    seen[1] = size;
                    seen[2] = value;
                }
            };
            m.cpu.setX(0, 0x1234_5678L);
            m.cpu.setX(1, 0x0900_0000L);
            assertThat(m.run(100).reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(seen).containsExactly(0x0900_0000L, 4, 0x1234_5678L);
            assertThat(m.cpu.x(2)).isEqualTo(0xABCD);
        }
    }

    @Test
    void unalignedAccessWithMmuOffIsAnAlignmentFault() {
        try (BareMetal m = machine("str x0, [x1]\n")) {
            m.cpu.setX(1, BareMetal.DATA + 3);
            runToException(m);
            assertThat(sys(m, "ESR_EL1")).as("Device memory: DFSC 0x21, WnR 1")
                    .isEqualTo(0x25L << 26 | 1L << 25 | 1 << 6 | 0x21);
            assertThat(sys(m, "FAR_EL1")).isEqualTo(BareMetal.DATA + 3);
        }
    }

    @Test
    void unalignedAccessToNormalMemoryWorksUnlessSctlrA() {
        try (BareMetal m = machine("str x0, [x1]\n ldr x2, [x1]\n brk #0\n")) {
            IdentityMap.install(m, false);
            m.cpu.setX(0, 0x1122_3344_5566_7788L);
            m.cpu.setX(1, BareMetal.DATA + 0xFFD);   // crosses a page, too
            assertThat(m.run(100).reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(m.cpu.x(2)).isEqualTo(0x1122_3344_5566_7788L);
            m.cpu.setPc(BareMetal.CODE);
            m.cpu.writeSystemRegister("SCTLR_EL1", sys(m, "SCTLR_EL1") | 2);
            runToException(m);
            assertThat(sys(m, "ESR_EL1") & 0x3F).as("SCTLR_EL1.A: alignment fault").isEqualTo(0x21);
        }
    }

    @Test
    void branchToMisalignedAddressIsPcAlignmentFault() {
        try (BareMetal m = machine("br x1\n")) {
            m.cpu.setX(1, BareMetal.CODE + 0x102);
            runToException(m);
            assertThat(sys(m, "ESR_EL1")).isEqualTo(0x22L << 26 | 1L << 25);
            assertThat(sys(m, "FAR_EL1")).isEqualTo(BareMetal.CODE + 0x102);
            assertThat(sys(m, "ELR_EL1")).isEqualTo(BareMetal.CODE + 0x102);
        }
    }

    @Test
    void misalignedSpIsSpAlignmentFaultWhenSctlrSa() {
        try (BareMetal m = machine("ldr x0, [sp, #8]\n")) {
            m.cpu.writeSystemRegister("SCTLR_EL1", sys(m, "SCTLR_EL1") | SysRegs.SCTLR_SA);
            m.cpu.setSp(BareMetal.DATA + 8);
            runToException(m);
            assertThat(sys(m, "ESR_EL1")).isEqualTo(0x26L << 26 | 1L << 25);
        }
    }

    @Test
    void eretReturnsToEl0AndIllegalReturnSetsIl() {
        try (BareMetal m = machine("eret\n")) {
            m.assemble(BareMetal.CODE + 0x100, "mov x0, #7\n svc #1\n");
            m.cpu.writeSystemRegister("ELR_EL1", BareMetal.CODE + 0x100);
            m.cpu.writeSystemRegister("SPSR_EL1", 0x8000_0000L);   // EL0t, N set, DAIF clear
            Stop s = runToException(m);
            assertThat(m.cpu.x(0)).as("ran at EL0 after ERET").isEqualTo(7);
            assertThat(s.pc()).isEqualTo(VBAR + 0x400);
            assertThat(sys(m, "SPSR_EL1")).as("N survived the round trip").isEqualTo(0x8000_0000L);

            m.cpu.setPc(BareMetal.CODE);
            m.cpu.setElAndSpSel(1, 1);
            m.cpu.writeSystemRegister("ELR_EL1", BareMetal.CODE + 0x100);
            m.cpu.writeSystemRegister("SPSR_EL1", 0b1001);          // EL2h: not implemented, illegal
            runToException(m);
            assertThat(sys(m, "ESR_EL1")).as("Illegal Execution state, EC 0x0E").isEqualTo(0x0EL << 26 | 1L << 25);
            assertThat(sys(m, "SPSR_EL1") >>> 20 & 1).as("SPSR.IL").isEqualTo(1);
        }
    }

    @Test
    void irqIsTakenWhenUnmaskedAndSignalled() {
        try (BareMetal m = machine("nop\n nop\n msr daifclr, #2\n nop\n nop\n")) {
            m.io.irq = true;
            Stop s = runToException(m);
            assertThat(s.pc()).as("IRQ vector: VBAR + 0x200 + 0x80").isEqualTo(VBAR + 0x280);
            assertThat(sys(m, "ELR_EL1")).as("returns to the instruction after DAIFClr")
                    .isEqualTo(BareMetal.CODE + 12);
            assertThat(sys(m, "SPSR_EL1") & 0x3C0).as("I was clear when taken").isEqualTo(0x340);
        }
    }

    @Test
    void hvcWithoutHandlerAnswersNotSupportedAndIsUndefinedAtEl0() {
        try (BareMetal m = machine("hvc #0\n brk #0\n")) {
            m.cpu.setX(0, 0x8400_0000L);
            assertThat(m.run(100).reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(m.cpu.x(0)).isEqualTo(-1);
            m.cpu.setPc(BareMetal.CODE);
            m.cpu.setElAndSpSel(0, 0);
            runToException(m);
            assertThat(sys(m, "ESR_EL1") >>> 26).isEqualTo(0);
        }
    }

    @Test
    void hypervisorCallHandlerSeesRegistersAndCanPowerOff() {
        try (BareMetal m = machine("hvc #0\n brk #0\n")) {
            m.system.setHypervisorCall((cpu, conduit, imm) -> {
                if (cpu.x(0) == 0x8400_0002L) {
                    cpu.powerOff();
                }
                cpu.setX(0, 0);
            });
            m.cpu.setX(0, 0x8400_0002L);
            Stop s = m.run(100);
            assertThat(s.reason()).isEqualTo(StopReason.POWERED_OFF);
            assertThat(m.cpu.isPoweredOn()).isFalse();
            assertThat(m.cpu.powerOn(BareMetal.CODE + 4, 99)).isTrue();
            Stop again = m.run(100);
            assertThat(again.reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(m.cpu.x(0)).as("context id").isEqualTo(99);
        }
    }

    @Test
    void exceptionLoopIsFatalNotAHang() {
        try (BareMetal m = machine(".inst 0x00000000\n")) {
            m.cpu.writeSystemRegister("VBAR_EL1", 0x0800_0000L);  // no RAM there
            FatalReport[] seen = new FatalReport[1];
            m.system.setFatalListener(r -> seen[0] = r);
            Stop s = m.run(RunOptions.instructions(1_000_000));
            assertThat(s.reason()).isEqualTo(StopReason.FATAL);
            assertThat(seen[0]).isNotNull();
            assertThat(seen[0].message()).contains("faults again");
        }
    }

    @Test
    void smcGoesToTheHandlerOrIsUndefinedAsTheBoardChooses() {
        try (BareMetal m = machine("smc #0\n brk #0\n")) {
            m.system.setHypervisorCall((cpu, conduit, imm) -> cpu.setX(0, conduit == HypervisorCall.Conduit.SMC ? 5 : 6));
            assertThat(m.run(10).reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(m.cpu.x(0)).isEqualTo(5);
            m.system.setSmcUndefined(true);
            m.cpu.setPc(BareMetal.CODE);
            runToException(m);
            assertThat(sys(m, "ESR_EL1")).as("QEMU virt with PSCI over HVC: SMC UNDEFINED").isEqualTo(1L << 25);
        }
    }
}
