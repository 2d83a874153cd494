package dev.jvmm.arm64;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** System registers (Arm ARM D17) as guest code sees them: identification, EL0 access rules, GIC routing, DC ZVA. */
@NeedsAssembler
class SystemRegisterTest {
    static final long VBAR = BareMetal.RAM_BASE + 0x8_0000L;

    static BareMetal machine(int cpus, String code) {
        BareMetal m = new BareMetal(cpus);
        m.assemble(BareMetal.CODE, code);
        m.cpu.writeSystemRegister("VBAR_EL1", VBAR);
        m.cpu.setPc(BareMetal.CODE);
        return m;
    }

    static Stop run(BareMetal m) {
        return m.run(RunOptions.instructions(10_000).withStopOnException(true));
    }

    @Test
    void identifiesAsCortexA57WithoutFpOrLse() {
        try (BareMetal m = machine(1, String.join("\n", "mrs x0, midr_el1", "mrs x1, mpidr_el1",
                "mrs x2, id_aa64pfr0_el1", "mrs x3, id_aa64isar0_el1", "mrs x4, id_aa64mmfr0_el1",
                "mrs x5, ctr_el0", "mrs x6, dczid_el0", "mrs x7, cntfrq_el0", "mrs x8, s3_0_c0_c1_0",
                "mrs x9, currentel", "brk #0"))) {
            assertThat(run(m).reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(m.cpu.x(0)).as("MIDR: Cortex-A57 r1p0").isEqualTo(0x411F_D070L);
            assertThat(m.cpu.x(1)).as("MPIDR: bit 31, CPU 0").isEqualTo(0x8000_0000L);
            assertThat(m.cpu.x(2) >>> 16 & 0xFF).as("FP and AdvSIMD not implemented").isEqualTo(0xFF);
            assertThat(m.cpu.x(2) >>> 24 & 0xF).as("GIC system registers").isEqualTo(1);
            assertThat(m.cpu.x(3) >>> 20 & 0xF).as("no LSE atomics").isEqualTo(0);
            assertThat(m.cpu.x(3) >>> 16 & 0xF).as("CRC32").isEqualTo(1);
            assertThat(m.cpu.x(4) & 0xF).as("44-bit PA").isEqualTo(4);
            assertThat(m.cpu.x(5)).isEqualTo(0x8444_C004L);
            assertThat(m.cpu.x(6)).as("DC ZVA block 64 bytes").isEqualTo(4);
            assertThat(m.cpu.x(7)).isEqualTo(62_500_000L);
            assertThat(m.cpu.x(8)).as("AArch32 ID space reads as zero").isZero();
            assertThat(m.cpu.x(9)).isEqualTo(4);
        }
    }

    @Test
    void mpidrFollowsVirtsClustersOfSixteen() {
        try (BareMetal m = new BareMetal(20)) {
            assertThat(m.system.cpu(17).mpidr()).isEqualTo(0x8000_0101L);
            assertThat(m.system.cpu(5).mpidr()).isEqualTo(0x8000_0005L);
        }
    }

    @Test
    void unknownRegisterIsUndefinedAndWrongDirectionToo() {
        try (BareMetal m = machine(1, "mrs x0, s3_0_c15_c15_7\n")) {
            run(m);
            assertThat(m.cpu.readSystemRegister("ESR_EL1")).isEqualTo(1L << 25);
            m.assemble(BareMetal.CODE, "msr midr_el1, x0\n");
            m.system.invalidateCode();
            m.cpu.setPc(BareMetal.CODE);
            run(m);
            assertThat(m.cpu.readSystemRegister("ESR_EL1") >>> 26).as("MSR to read-only MIDR").isEqualTo(0);
            assertThat(m.cpu.readSystemRegister("ELR_EL1")).isEqualTo(BareMetal.CODE);
        }
    }

    @Test
    void el0AccessIsTrappedOrUndefinedAsTheArchitectureSays() {
        try (BareMetal m = machine(1, "msr tpidr_el0, x1\n mrs x2, tpidr_el0\n mrs x3, ctr_el0\n")) {
            m.cpu.setElAndSpSel(0, 0);
            m.cpu.setX(1, 0x55);
            Stop s = run(m);
            assertThat(m.cpu.x(2)).as("TPIDR_EL0 is EL0's").isEqualTo(0x55);
            assertThat(s.pc()).isEqualTo(VBAR + 0x400);
            long esr = m.cpu.readSystemRegister("ESR_EL1");
            assertThat(esr >>> 26).as("CTR_EL0 at EL0 with SCTLR_EL1.UCT = 0: trapped, EC 0x18").isEqualTo(0x18);
            assertThat(esr & 1).as("direction: read").isEqualTo(1);
            assertThat(esr >>> 5 & 31).as("Rt").isEqualTo(3);

            m.cpu.writeSystemRegister("SCTLR_EL1", m.cpu.readSystemRegister("SCTLR_EL1") | SysRegs.SCTLR_UCT);
            m.cpu.setElAndSpSel(0, 0);
            m.cpu.setPc(BareMetal.CODE + 8);
            Stop again = m.run(RunOptions.instructions(1));
            assertThat(again.reason()).isEqualTo(StopReason.INSTRUCTION_LIMIT);
            assertThat(m.cpu.x(3)).isEqualTo(0x8444_C004L);

            m.assemble(BareMetal.CODE + 12, "mrs x4, sctlr_el1\n");
            m.system.invalidateCode();
            m.cpu.setPc(BareMetal.CODE + 12);
            run(m);
            assertThat(m.cpu.readSystemRegister("ESR_EL1") >>> 26).as("SCTLR_EL1 at EL0: UNDEFINED").isEqualTo(0);
        }
    }

    @Test
    void gicRegistersGoToTheInterruptController() {
        try (BareMetal m = machine(1, "msr icc_pmr_el1, x1\n mrs x2, icc_iar1_el1\n msr icc_iar1_el1, x1\n")) {
            m.cpu.setX(1, 0xF0);
            m.io.lines[27] = true;
            m.cpu.setDaif(0x3C0);
            run(m);
            assertThat(m.io.sysregWrites).containsExactly("ICC_PMR_EL1=240");
            assertThat(m.cpu.x(2)).isEqualTo(27);
            assertThat(m.cpu.readSystemRegister("ESR_EL1") >>> 26).as("MSR to read-only ICC_IAR1_EL1: UNDEFINED")
                    .isEqualTo(0);
        }
    }

    @Test
    void dcZvaZeroesSixtyFourAlignedBytes() {
        try (BareMetal m = machine(1, "dc zva, x1\n brk #0\n")) {
            m.memory.fill(BareMetal.DATA, 256, (byte) 0x5A);
            m.cpu.setX(1, BareMetal.DATA + 64 + 17);
            IdentityMap.install(m, false);
            assertThat(run(m).reason()).isEqualTo(StopReason.BREAKPOINT);
            for (int i = 0; i < 256; i++) {
                byte expected = i >= 64 && i < 128 ? 0 : (byte) 0x5A;
                assertThat(m.memory.read8(BareMetal.DATA + i)).as("byte %d", i).isEqualTo(expected);
            }
        }
    }

    @Test
    void storesToDecodedCodeTakeEffect() {
        try (BareMetal m = machine(1, String.join("\n",
                "1: mov x0, #1",
                "str w2, [x1]",        // overwrite 'mov x0, #1' with 'mov x0, #2'
                "cbnz x3, 2f",
                "mov x3, #1",
                "b 1b",
                "2: brk #0"))) {
            m.cpu.setX(1, BareMetal.CODE);
            m.cpu.setX(2, Assembler.words("mov x0, #2")[0]);
            assertThat(run(m).reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(m.cpu.x(0)).as("the second pass runs the stored instruction").isEqualTo(2);
        }
    }

    @Test
    void spSelAndSpEl0() {
        try (BareMetal m = machine(1, String.join("\n", "mov x0, #0x100", "msr sp_el0, x0", "mov x1, sp",
                "msr spsel, #0", "mov x2, sp", "mrs x3, spsel", "brk #0"))) {
            m.cpu.setSpEl1(0x4000);
            assertThat(run(m).reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(m.cpu.x(1)).isEqualTo(0x4000);
            assertThat(m.cpu.x(2)).isEqualTo(0x100);
            assertThat(m.cpu.x(3)).isZero();
            assertThat(m.cpu.spEl1()).isEqualTo(0x4000);
        }
    }
}
