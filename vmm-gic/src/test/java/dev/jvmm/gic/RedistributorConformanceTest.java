package dev.jvmm.gic;

import dev.jvmm.gic.cache.CacheStrategy;
import org.junit.jupiter.api.Test;

import static dev.jvmm.gic.RedistributorRegisterDescriptor.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A redistributor's registers (IHI 0069, "The GIC Redistributor register descriptions"): the SGI_base frame that
 * holds SGIs and PPIs under affinity routing, and the RD_base registers besides the LPI ones.
 */
class RedistributorConformanceTest {

    /** IHI 0069, GICR_IGROUPR0 and the set/clear registers of SGI_base: 1 sets or clears, 0 does nothing. */
    @Test
    void sgiFrameSetAndClearRegisters() {
        try (GicRig rig = GicRig.bare(2, 1, CacheStrategy.PER_ITS)) {
            assertThat(rig.readGicr(0, GICR_IGROUPR0, 4)).as("Group 1 out of reset").isEqualTo(0xFFFF_FFFFL);
            rig.writeGicr(0, GICR_IGROUPR0, 4, 0xFFFF_0000L);
            assertThat(rig.readGicr(0, GICR_IGROUPR0, 4)).isEqualTo(0xFFFF_0000L);
            assertThat(rig.readGicr(1, GICR_IGROUPR0, 4)).as("each redistributor has its own").isEqualTo(0xFFFF_FFFFL);

            assertThat(rig.readGicr(0, GICR_ISENABLER0, 4)).as("disabled out of reset (QEMU)").isZero();
            rig.writeGicr(0, GICR_ISENABLER0, 4, 0x0800_0003L);
            rig.writeGicr(0, GICR_ICENABLER0, 4, 0x1);
            assertThat(rig.readGicr(0, GICR_ICENABLER0, 4)).isEqualTo(0x0800_0002L);

            rig.writeGicr(0, GICR_ISPENDR0, 4, 0x0000_0105L);
            rig.writeGicr(0, GICR_ICPENDR0, 4, 0x4);
            assertThat(rig.readGicr(0, GICR_ISPENDR0, 4)).isEqualTo(0x101L);
            rig.writeGicr(0, GICR_ISACTIVER0, 4, 0x8000_0000L);
            assertThat(rig.readGicr(0, GICR_ICACTIVER0, 4)).isEqualTo(0x8000_0000L);
            rig.writeGicr(0, GICR_ICACTIVER0, 4, 0x8000_0000L);
            assertThat(rig.readGicr(0, GICR_ISACTIVER0, 4)).isZero();
            assertThat(rig.readGicr(1, GICR_ISPENDR0, 4)).as("vCPU 1 untouched").isZero();
        }
    }

    /** IHI 0069, GICR_IPRIORITYR&lt;n&gt;: byte-accessible, 5 bits kept. */
    @Test
    void ipriorityrBytesAndWords() {
        try (GicRig rig = GicRig.bare(1, 1, CacheStrategy.PER_ITS)) {
            rig.writeGicr(0, GICR_IPRIORITYR0 + 24, 4, 0x8040_2010L);
            rig.writeGicr(0, GICR_IPRIORITYR0 + 27, 1, 0xFF);
            assertThat(rig.readGicr(0, GICR_IPRIORITYR0 + 24, 4)).isEqualTo(0xF840_2010L);
            assertThat(rig.readGicr(0, GICR_IPRIORITYR0 + 25, 1)).isEqualTo(0x20);
            assertThat(rig.readGicr(0, GICR_IPRIORITYR0 + 24, 2)).as("half-words: RAZ").isZero();
        }
    }

    /**
     * IHI 0069, GICR_ICFGR0 and GICR_ICFGR1: SGIs are always edge-triggered (read-only 0b10 fields); whether PPIs
     * are configurable is IMPLEMENTATION DEFINED: configurable here, as in QEMU.
     */
    @Test
    void icfgrSgisEdgePpisConfigurable() {
        try (GicRig rig = GicRig.bare(1, 1, CacheStrategy.PER_ITS)) {
            assertThat(rig.readGicr(0, GICR_ICFGR0, 4)).isEqualTo(ICFGR0_SGIS_EDGE & 0xFFFF_FFFFL);
            rig.writeGicr(0, GICR_ICFGR0, 4, 0);
            assertThat(rig.readGicr(0, GICR_ICFGR0, 4)).as("read-only").isEqualTo(ICFGR0_SGIS_EDGE & 0xFFFF_FFFFL);
            assertThat(rig.readGicr(0, GICR_ICFGR1, 4)).as("PPIs reset level-sensitive").isZero();
            rig.writeGicr(0, GICR_ICFGR1, 4, 0x0000_0083L);
            assertThat(rig.readGicr(0, GICR_ICFGR1, 4)).as("PPI 16 and 19 edge").isEqualTo(0x82L);
        }
    }

    /** IHI 0069, GICR_IGRPMODR0 and GICR_NSACR: RAZ/WI with one security state (GICD_CTLR.DS = 1). */
    @Test
    void securityRegistersAreRazWi() {
        try (GicRig rig = GicRig.bare(1, 1, CacheStrategy.PER_ITS)) {
            for (long off : new long[]{GICR_IGRPMODR0, GICR_NSACR, GICR_STATUSR, SGI_BASE + 0x0D04, SGI_BASE + 0x4}) {
                rig.writeGicr(0, off, 4, 0xFFFF_FFFFL);
                assertThat(rig.readGicr(0, off, 4)).as("offset 0x%x", off).isZero();
            }
            assertThat(rig.readGicr(0, SGI_BASE + 0xFFE8, 4) >>> 4 & 0xF).as("SGI_base has the ID registers too")
                    .isEqualTo(3);
        }
    }

    /**
     * IHI 0069, GICR_WAKER, as Linux's gic_enable_redist drives it: ProcessorSleep and ChildrenAsleep are 1 out of
     * reset; clearing ProcessorSleep makes ChildrenAsleep read 0 at the first poll; setting it puts both back.
     */
    @Test
    void wakerHandshakeAsLinuxPerformsIt() {
        try (GicRig rig = GicRig.bare(2, 1, CacheStrategy.PER_ITS)) {
            assertThat(rig.readGicr(1, GICR_WAKER, 4)).isEqualTo(WAKER_PROCESSOR_SLEEP | WAKER_CHILDREN_ASLEEP);
            long waker = rig.readGicr(1, GICR_WAKER, 4);
            rig.writeGicr(1, GICR_WAKER, 4, waker & ~WAKER_PROCESSOR_SLEEP);
            int polls = 0;
            while ((rig.readGicr(1, GICR_WAKER, 4) & WAKER_CHILDREN_ASLEEP) != 0 && polls < 1_000_000) {
                polls++;
            }
            assertThat(polls).as("ChildrenAsleep clears by the first poll").isZero();
            assertThat(rig.readGicr(0, GICR_WAKER, 4)).as("vCPU 0 still asleep")
                    .isEqualTo(WAKER_PROCESSOR_SLEEP | WAKER_CHILDREN_ASLEEP);
            rig.writeGicr(1, GICR_WAKER, 4, WAKER_CHILDREN_ASLEEP);
            assertThat(rig.readGicr(1, GICR_WAKER, 4)).as("ChildrenAsleep is read-only").isZero();
            rig.writeGicr(1, GICR_WAKER, 4, WAKER_PROCESSOR_SLEEP);
            assertThat(rig.readGicr(1, GICR_WAKER, 4)).isEqualTo(WAKER_PROCESSOR_SLEEP | WAKER_CHILDREN_ASLEEP);
        }
    }

    /**
     * IHI 0069, GICR_TYPER: Processor_Number, Last on the last redistributor, DPGS, and the affinity as QEMU's
     * virt lays MPIDR out (Aff0 = n mod 16, Aff1 = n / 16); 32-bit halves readable.
     */
    @Test
    void typerNamesEachPe() {
        try (GicRig rig = GicRig.bare(18, 1, CacheStrategy.PER_ITS)) {
            for (int pe = 0; pe < 18; pe++) {
                long t = rig.readGicr(pe, GICR_TYPER, 8);
                assertThat(t >>> TYPER_PROCESSOR_NUMBER_SHIFT & 0xFFFF).isEqualTo(pe);
                assertThat(t & TYPER_LAST).as("Last, PE %d", pe).isEqualTo(pe == 17 ? TYPER_LAST : 0);
                assertThat(t & TYPER_DPGS).as("DPG bits implemented").isNotZero();
                assertThat(t >>> 32 & 0xFF).as("Aff0 of PE %d", pe).isEqualTo(pe % 16);
                assertThat(t >>> 40 & 0xFF).as("Aff1 of PE %d", pe).isEqualTo(pe / 16);
                assertThat(rig.readGicr(pe, GICR_TYPER + 4, 4)).isEqualTo(t >>> 32);
            }
        }
    }

    /** IHI 0069, GICR_CTLR: EnableLPIs kept as before, DPG0/DPG1NS read-write, DPG1S RAZ/WI (DS = 1), RWP 0. */
    @Test
    void ctlrKeepsEnableLpisAndDpgBits() {
        try (GicRig rig = GicRig.bare(1, 1, CacheStrategy.PER_ITS)) {
            rig.driver.initLpiTables(true);
            rig.writeGicr(0, GICR_CTLR, 4, 0xFFFF_FFFFL);
            assertThat(rig.readGicr(0, GICR_CTLR, 4))
                    .isEqualTo(CTLR_ENABLE_LPIS | CTLR_DPG0 | CTLR_DPG1NS);
            rig.writeGicr(0, GICR_CTLR, 4, CTLR_ENABLE_LPIS);
            assertThat(rig.readGicr(0, GICR_CTLR, 4)).isEqualTo(CTLR_ENABLE_LPIS);
            rig.writeGicr(0, GICR_CTLR, 4, 0);
            assertThat(rig.readGicr(0, GICR_CTLR, 4)).as("EnableLPIs 1 to 0, as KVM allows").isZero();
        }
    }
}
