package dev.jvmm.arm64;

import org.junit.jupiter.api.Test;

import static dev.jvmm.arm64.PageTables.AF;
import static dev.jvmm.arm64.PageTables.AP_EL0;
import static dev.jvmm.arm64.PageTables.AP_RO;
import static dev.jvmm.arm64.PageTables.PXN;
import static dev.jvmm.arm64.PageTables.UXN;
import static org.assertj.core.api.Assertions.assertThat;

/** Stage 1 translation (Arm ARM D5): both granules, both TTBRs, faults with their levels, the TLB and AT. */
@NeedsAssembler
class MmuTest {
    static final long VBAR = BareMetal.RAM_BASE + 0x8_0000L;
    static final long POOL = BareMetal.RAM_BASE + 0x40_0000L;
    static final long VA = 0x0000_1234_5678_9000L;

    /** 4K granule, 48-bit VAs (walk from level 0); code and vectors identity-mapped by a 2 MiB block at EL1. */
    static PageTables fourK(BareMetal m, String code) {
        m.assemble(BareMetal.CODE, code);
        PageTables t = new PageTables(m.memory, 12, 48, POOL);
        t.map(BareMetal.RAM_BASE, BareMetal.RAM_BASE, 2, AF);            // vectors at RAM_BASE + 0x80000
        t.map(BareMetal.CODE & -(1L << 21), BareMetal.CODE & -(1L << 21), 2, AF);
        enable(m, t.root, 16, 0);
        return t;
    }

    static void enable(BareMetal m, long ttbr0, int t0sz, int tg0) {
        m.cpu.writeSystemRegister("VBAR_EL1", VBAR);
        m.cpu.writeSystemRegister("MAIR_EL1", IdentityMap.MAIR);
        m.cpu.writeSystemRegister("TCR_EL1", t0sz | (long) tg0 << 14 | 16L << 16 | 5L << 32);
        m.cpu.writeSystemRegister("TTBR0_EL1", ttbr0);
        m.cpu.writeSystemRegister("SCTLR_EL1", m.cpu.readSystemRegister("SCTLR_EL1") | 1);
        m.cpu.setPc(BareMetal.CODE);
    }

    static Stop run(BareMetal m) {
        return m.run(RunOptions.instructions(10_000).withStopOnException(true));
    }

    static long esr(BareMetal m) {
        return m.cpu.readSystemRegister("ESR_EL1");
    }

    /** Runs until the exception and checks its fault status code (ESR_EL1 bits 5:0). */
    static void runToFault(BareMetal m, int fsc, String what) {
        run(m);
        assertThat(esr(m) & 0x3F).as(what).isEqualTo(fsc);
    }

    @Test
    void fourLevelWalkWithFourKPages() {
        try (BareMetal m = new BareMetal()) {
            PageTables t = fourK(m, "ldr x0, [x1]\n str x2, [x1, #8]\n brk #0\n");
            t.map(VA, BareMetal.DATA, 3, AF);
            m.memory.write64(BareMetal.DATA, 0xFEED_F00DL);
            m.cpu.setX(1, VA);
            m.cpu.setX(2, 77);
            assertThat(run(m).reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(m.cpu.x(0)).isEqualTo(0xFEED_F00DL);
            assertThat(m.memory.read64(BareMetal.DATA + 8)).isEqualTo(77);
        }
    }

    @Test
    void translationFaultReportsTheLevel() {
        try (BareMetal m = new BareMetal()) {
            PageTables t = fourK(m, "ldr x0, [x1]\n");
            t.map(VA, BareMetal.DATA, 3, AF);
            m.cpu.setX(1, VA + 0x1000);                 // same level 3 table, invalid entry
            run(m);
            assertThat(esr(m)).isEqualTo(0x25L << 26 | 1L << 25 | 0x07);
            assertThat(m.cpu.readSystemRegister("FAR_EL1")).isEqualTo(VA + 0x1000);
            m.cpu.setPc(BareMetal.CODE);
            m.cpu.setX(1, 0x0000_7000_0000_0000L);      // nothing below level 0
            runToFault(m, 0x04, "translation fault, level 0");
            m.cpu.setPc(BareMetal.CODE);
            m.cpu.setX(1, 0x0001_0000_0000_0000L);      // above the 48-bit TTBR0 range
            runToFault(m, 0x04, "outside both ranges: translation fault, level 0");
        }
    }

    @Test
    void accessFlagAndPermissionFaults() {
        try (BareMetal m = new BareMetal()) {
            PageTables t = fourK(m, "ldr x0, [x1]\n");
            t.map(VA, BareMetal.DATA, 3, 0);            // AF = 0
            m.cpu.setX(1, VA);
            runToFault(m, 0x0B, "access flag fault, level 3 (no hardware AF update)");

            m.assemble(BareMetal.CODE, "str x0, [x1]\n");
            m.system.invalidateCode();
            t.map(VA, BareMetal.DATA, 3, AF | AP_RO);
            m.cpu.writeSystemRegister("TTBR0_EL1", t.root + 0);  // unchanged: a TLBI is what the guest would do
            m.cpu.mmu.flush();
            m.cpu.setPc(BareMetal.CODE);
            run(m);
            assertThat(esr(m)).as("permission fault level 3, WnR").isEqualTo(0x25L << 26 | 1L << 25 | 1 << 6 | 0x0F);
        }
    }

    @Test
    void el0CannotTouchEl1OnlyPagesAndEl1CannotExecuteEl0WritablePages() {
        try (BareMetal m = new BareMetal()) {
            PageTables t = new PageTables(m.memory, 12, 48, POOL);
            m.assemble(BareMetal.CODE, "ldr x0, [x1]\n");
            t.map(BareMetal.RAM_BASE, BareMetal.RAM_BASE, 2, AF);
            t.map(BareMetal.CODE, BareMetal.CODE, 3, AF | AP_EL0 | AP_RO);   // EL0 read-only, executable at EL0
            t.map(VA, BareMetal.DATA, 3, AF);                                // EL1 only
            enable(m, t.root, 16, 0);
            m.cpu.setElAndSpSel(0, 0);
            m.cpu.setX(1, VA);
            run(m);
            assertThat(esr(m)).as("EL0 load of an EL1-only page: data abort from a lower EL, permission level 3")
                    .isEqualTo(0x24L << 26 | 1L << 25 | 0x0F);

            t.map(BareMetal.CODE, BareMetal.CODE, 3, AF | AP_EL0);           // EL0 read/write: PXN implied
            m.cpu.mmu.flush();
            m.cpu.setElAndSpSel(1, 1);
            m.cpu.setPc(BareMetal.CODE);
            run(m);
            assertThat(esr(m)).as("EL1 fetch from EL0-writable memory: instruction abort, permission")
                    .isEqualTo(0x21L << 26 | 1L << 25 | 0x0F);
            assertThat(m.cpu.readSystemRegister("FAR_EL1")).isEqualTo(BareMetal.CODE);
        }
    }

    @Test
    void executeNeverBits() {
        try (BareMetal m = new BareMetal()) {
            PageTables t = fourK(m, "br x1\n");
            m.assemble(BareMetal.DATA, "nop\n nop\n nop\n");
            t.map(VA, BareMetal.DATA, 3, AF | PXN);
            m.cpu.setX(1, VA);
            run(m);
            assertThat(esr(m)).isEqualTo(0x21L << 26 | 1L << 25 | 0x0F);
            t.map(VA, BareMetal.DATA, 3, AF | UXN);
            m.cpu.mmu.flush();
            m.cpu.setPc(BareMetal.CODE);
            m.cpu.setX(1, VA + 4);
            Stop s = m.run(RunOptions.instructions(2).withStopOnException(true));
            assertThat(s.reason()).as("UXN does not stop EL1").isEqualTo(StopReason.INSTRUCTION_LIMIT);
            assertThat(s.pc()).isEqualTo(VA + 8);
        }
    }

    @Test
    void sixtyFourKGranuleWalk() {
        try (BareMetal m = new BareMetal()) {
            m.assemble(BareMetal.CODE, "ldr x0, [x1]\n brk #0\n");
            PageTables t = new PageTables(m.memory, 16, 39, POOL);   // 2 levels: 2 and 3
            assertThat(t.startLevel()).isEqualTo(2);
            t.map(BareMetal.RAM_BASE, BareMetal.RAM_BASE, 2, AF);    // a 512 MiB block
            long va = 0x12_3456_0000L;
            t.map(va, BareMetal.DATA, 3, AF);                         // a 64 KiB page
            m.memory.write64(BareMetal.DATA + 0x1238, 0x6464L);
            enable(m, t.root, 25, 1);
            m.cpu.setX(1, va + 0x1238);
            assertThat(run(m).reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(m.cpu.x(0)).isEqualTo(0x6464L);
        }
    }

    @Test
    void ttbr1TranslatesTheUpperRange() {
        try (BareMetal m = new BareMetal()) {
            PageTables t = fourK(m, "ldr x0, [x1]\n brk #0\n");
            PageTables high = new PageTables(m.memory, 12, 39, POOL + 0x10_0000);
            long va = 0xFFFF_FF80_0020_0000L;
            high.map(va, BareMetal.DATA, 3, AF);
            m.cpu.writeSystemRegister("TTBR1_EL1", high.root);
            m.cpu.writeSystemRegister("TCR_EL1", 16 | 25L << 16 | 2L << 30 | 5L << 32);
            m.memory.write64(BareMetal.DATA, 0x1111L);
            m.cpu.setX(1, va);
            assertThat(run(m).reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(m.cpu.x(0)).isEqualTo(0x1111L);
        }
    }

    @Test
    void tlbKeepsTranslationsUntilTlbi() {
        try (BareMetal m = new BareMetal()) {
            PageTables t = fourK(m, "ldr x0, [x1]\n str x3, [x2]\n ldr x4, [x1]\n tlbi vmalle1\n dsb sy\n"
                    + "ldr x5, [x1]\n brk #0\n");
            t.map(VA, BareMetal.DATA, 3, AF);
            m.memory.write64(BareMetal.DATA, 1);
            m.memory.write64(BareMetal.DATA + 0x1000, 2);
            m.cpu.setX(1, VA);
            m.cpu.setX(2, t.slot(VA, 3));      // the level 3 descriptor, through the identity-mapped block
            m.cpu.setX(3, (BareMetal.DATA + 0x1000) | 3 | AF);
            t.map(t.slot(VA, 3) & -4096L, t.slot(VA, 3) & -4096L, 3, AF);
            m.cpu.mmu.flush();
            assertThat(run(m).reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(m.cpu.x(0)).isEqualTo(1);
            assertThat(m.cpu.x(4)).as("before TLBI the old translation may stay cached (it does here)").isEqualTo(1);
            assertThat(m.cpu.x(5)).as("after TLBI VMALLE1 the new descriptor is used").isEqualTo(2);
        }
    }

    @Test
    void atWritesParEl1() {
        try (BareMetal m = new BareMetal()) {
            PageTables t = fourK(m, "at s1e1r, x1\n mrs x0, par_el1\n at s1e1w, x2\n mrs x3, par_el1\n brk #0\n");
            t.map(VA, BareMetal.DATA, 3, AF | AP_RO);
            m.cpu.setX(1, VA + 0x123);
            m.cpu.setX(2, VA);
            assertThat(run(m).reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(m.cpu.x(0) & 0x0000_FFFF_FFFF_F001L).as("PAR: PA, F = 0").isEqualTo(BareMetal.DATA);
            assertThat(m.cpu.x(0) >>> 56).as("PAR.ATTR = MAIR attribute").isEqualTo(0xFF);
            assertThat(m.cpu.x(3) & 0x7F).as("PAR: F = 1, FST = permission fault level 3").isEqualTo(0x0F << 1 | 1);
        }
    }

    @Test
    void tableOutsideRamIsExternalAbortOnTheWalk() {
        try (BareMetal m = new BareMetal()) {
            m.assemble(BareMetal.CODE, "ldr x0, [x1]\n");
            PageTables t = new PageTables(m.memory, 12, 48, POOL);
            t.map(BareMetal.RAM_BASE, BareMetal.RAM_BASE, 2, AF);
            t.map(BareMetal.CODE & -(1L << 21), BareMetal.CODE & -(1L << 21), 2, AF);
            m.memory.write64(t.root + 8 * ((VA >>> 39) & 511), 0x0800_0000L | 3);  // level 1 table in MMIO space
            enable(m, t.root, 16, 0);
            m.cpu.setX(1, VA);
            runToFault(m, 0x15, "synchronous external abort on table walk, level 1");
        }
    }

    @Test
    void atWhoseWalkLeavesRamTakesADataAbortWithCm() {
        try (BareMetal m = new BareMetal()) {
            PageTables t = fourK(m, "at s1e1r, x1\n");
            t.map(VA, BareMetal.DATA, 3, AF);
            m.memory.write64(t.slot(VA, 2), 0x0800_0000L | 3);     // level 3 table outside RAM
            m.cpu.mmu.flush();
            m.cpu.setX(1, VA);
            run(m);
            assertThat(esr(m)).as("as QEMU: ESR 0x96000157").isEqualTo(0x9600_0157L);
        }
    }
}
