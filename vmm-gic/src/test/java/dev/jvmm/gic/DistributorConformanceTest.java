package dev.jvmm.gic;

import dev.jvmm.gic.cache.CacheStrategy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static dev.jvmm.gic.DistributorRegisterDescriptor.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The distributor's registers one by one, as a guest probes them (IHI 0069, "The GIC Distributor register descriptions";
 * the behaviour where the architecture leaves a choice is QEMU's arm_gicv3_dist.c or KVM's vgic-mmio-v3.c, named in
 * each test).
 */
class DistributorConformanceTest {
    private GicRig rig;

    @BeforeEach
    void setUp() {
        rig = GicRig.bare(2, 1, CacheStrategy.PER_ITS);
    }

    @AfterEach
    void tearDown() {
        rig.close();
    }

    /** IHI 0069, GICD_TYPER: 288 INTIDs, LPIs, 16 ID bits, 1 of N supported, no Aff3, no MBIs. */
    @Test
    void typerDescribesTheImplementation() {
        long typer = rig.readGicd(GICD_TYPER, 4);
        assertThat(typer & TYPER_IT_LINES_MASK).as("ITLinesNumber: 32 * (N + 1) = 288 INTIDs").isEqualTo(8);
        assertThat(typer & TYPER_LPIS).as("LPIS").isNotZero();
        assertThat(typer >>> TYPER_ID_BITS_SHIFT & 0x1F).as("IDbits + 1 = 16").isEqualTo(15);
        assertThat(typer & TYPER_NO1N).as("No1N = 0: 1-of-N SPIs supported").isZero();
        assertThat(typer & TYPER_A3V).as("A3V = 0: Aff3 is 0").isZero();
        assertThat(typer & TYPER_MBIS).as("MBIS = 0").isZero();
        assertThat(typer >>> 5 & 7).as("CPUNumber = 0 with affinity routing (QEMU)").isZero();
        assertThat(rig.readGicd(GICD_TYPER2, 4)).as("GICD_TYPER2: no vPE IDs, no nASSGIcap").isZero();
        rig.writeGicd(GICD_TYPER, 4, 0);
        rig.writeGicd(GICD_IIDR, 4, 0);
        assertThat(rig.readGicd(GICD_TYPER, 4)).as("read-only").isEqualTo(typer);
        assertThat(rig.readGicd(GICD_IIDR, 4)).isEqualTo(RegisterAccess.IIDR);
        assertThat(rig.readGicd(GICD_PIDR2, 4) >>> 4 & 0xF).as("GICD_PIDR2.ArchRev").isEqualTo(3);
    }

    /** IHI 0069, GICD_CTLR with DS = 1: ARE and DS RAO/WI, RWP 0, EnableGrp0/1 read-write, E1NWF RAZ/WI. */
    @Test
    void ctlrIsTheSingleSecurityStateView() {
        assertThat(rig.readGicd(GICD_CTLR, 4)).as("out of reset").isEqualTo(CTLR_ARE | CTLR_DS);
        rig.writeGicd(GICD_CTLR, 4, 0xFFFF_FFFFL);
        assertThat(rig.readGicd(GICD_CTLR, 4)).as("only the group enables are writable; RWP reads 0")
                .isEqualTo(CTLR_ARE | CTLR_DS | CTLR_ENABLE_GRP0 | CTLR_ENABLE_GRP1);
        rig.writeGicd(GICD_CTLR, 4, 0);
        assertThat(rig.readGicd(GICD_CTLR, 4)).as("ARE and DS cannot be cleared").isEqualTo(CTLR_ARE | CTLR_DS);
        assertThat(rig.readGicd(GICD_CTLR, 1)).as("a byte access is not supported: RAZ").isZero();
    }

    /** IHI 0069, GICD_IGROUPR&lt;n&gt;: SPIs reset to Group 1 (KVM's vGICv3, QEMU virt); word 0 is RAZ/WI (ARE). */
    @Test
    void igrouprResetsToGroupOneAndKeepsWrites() {
        assertThat(rig.readGicd(GICD_IGROUPR, 4)).as("INTIDs 0..31 live in the redistributors").isZero();
        for (int n = 1; n <= 8; n++) {
            assertThat(rig.readGicd(GICD_IGROUPR + 4L * n, 4)).as("IGROUPR%d", n).isEqualTo(0xFFFF_FFFFL);
        }
        assertThat(rig.readGicd(GICD_IGROUPR + 4L * 9, 4)).as("INTIDs 288.. are not implemented").isZero();
        rig.writeGicd(GICD_IGROUPR + 4, 4, 0x0F0F_0F0FL);
        assertThat(rig.readGicd(GICD_IGROUPR + 4, 4)).isEqualTo(0x0F0F_0F0FL);
        rig.writeGicd(GICD_IGROUPR, 4, 0);
        rig.writeGicd(GICD_IGROUPR + 4L * 31, 4, 0xFFFF_FFFFL);
        assertThat(rig.readGicd(GICD_IGROUPR + 4L * 31, 4)).isZero();
    }

    /** IHI 0069, GICD_ISENABLER&lt;n&gt; and GICD_ICENABLER&lt;n&gt;: write 1 sets / clears, 0 has no effect. */
    @Test
    void enableSetAndClearRegisters() {
        long set = GICD_ISENABLER + 4;
        long clear = GICD_ICENABLER + 4;
        rig.writeGicd(set, 4, 0b1011);
        rig.writeGicd(set, 4, 0);
        assertThat(rig.readGicd(set, 4)).isEqualTo(0b1011);
        assertThat(rig.readGicd(clear, 4)).as("both read the enables").isEqualTo(0b1011);
        rig.writeGicd(clear, 4, 0b0010);
        assertThat(rig.readGicd(set, 4)).isEqualTo(0b1001);
        rig.writeGicd(GICD_ISENABLER, 4, 0xFFFF_FFFFL);
        assertThat(rig.readGicd(GICD_ISENABLER, 4)).as("word 0 is RAZ/WI with affinity routing").isZero();
        rig.writeGicd(GICD_ISENABLER + 4L * 20, 4, 1);
        assertThat(rig.readGicd(GICD_ISENABLER + 4L * 20, 4)).as("unimplemented INTIDs").isZero();
    }

    /** IHI 0069, GICD_ISPENDR, GICD_ICPENDR, GICD_ISACTIVER and GICD_ICACTIVER. */
    @Test
    void pendingAndActiveSetAndClearRegisters() {
        rig.writeGicd(GICD_ISPENDR + 8, 4, 0x8000_0001L);
        assertThat(rig.readGicd(GICD_ICPENDR + 8, 4)).isEqualTo(0x8000_0001L);
        rig.writeGicd(GICD_ICPENDR + 8, 4, 1);
        assertThat(rig.readGicd(GICD_ISPENDR + 8, 4)).isEqualTo(0x8000_0000L);
        rig.writeGicd(GICD_ISACTIVER + 12, 4, 0x10);
        assertThat(rig.readGicd(GICD_ICACTIVER + 12, 4)).isEqualTo(0x10);
        rig.writeGicd(GICD_ICACTIVER + 12, 4, 0x10);
        assertThat(rig.readGicd(GICD_ISACTIVER + 12, 4)).isZero();
    }

    /**
     * IHI 0069, GICD_IPRIORITYR&lt;n&gt;: byte-accessible; five priority bits are implemented (KVM's VGIC_PRI_BITS,
     * QEMU's Cortex-A57), the others RAZ/WI. Half-word accesses are not defined: RAZ/WI.
     */
    @Test
    void ipriorityrTakesBytesAndWordsAndKeepsFiveBits() {
        rig.writeGicd(GICD_IPRIORITYR + 40, 4, 0xFFA5_3C07L);
        assertThat(rig.readGicd(GICD_IPRIORITYR + 40, 4)).as("[2:0] of each byte RAZ").isEqualTo(0xF8A0_3800L);
        assertThat(rig.readGicd(GICD_IPRIORITYR + 42, 1)).as("byte read of INTID 42").isEqualTo(0xA0);
        rig.writeGicd(GICD_IPRIORITYR + 43, 1, 0x11);
        assertThat(rig.readGicd(GICD_IPRIORITYR + 40, 4)).isEqualTo(0x10A0_3800L);
        rig.writeGicd(GICD_IPRIORITYR + 40, 2, 0xFFFF);
        assertThat(rig.readGicd(GICD_IPRIORITYR + 40, 2)).as("half-words: RAZ/WI").isZero();
        assertThat(rig.readGicd(GICD_IPRIORITYR + 40, 4)).isEqualTo(0x10A0_3800L);
        rig.writeGicd(GICD_IPRIORITYR + 4, 4, 0xFFFF_FFFFL);
        assertThat(rig.readGicd(GICD_IPRIORITYR + 4, 4)).as("INTIDs 4..7 are in the redistributor").isZero();
        rig.writeGicd(GICD_IPRIORITYR + 41, 4, 0xFFFF_FFFFL);
        assertThat(rig.readGicd(GICD_IPRIORITYR + 40, 4)).as("a misaligned word is RAZ/WI").isEqualTo(0x10A0_3800L);
    }

    /** IHI 0069, GICD_ICFGR&lt;n&gt;: two bits per SPI, [2i+1] selects edge; words 0 and 1 are RAZ/WI (ARE). */
    @Test
    void icfgrSelectsEdgeOrLevelPerSpi() {
        assertThat(rig.readGicd(GICD_ICFGR + 8, 4)).as("SPIs reset level-sensitive").isZero();
        rig.writeGicd(GICD_ICFGR + 8, 4, 0xFFFF_FFFFL);
        assertThat(rig.readGicd(GICD_ICFGR + 8, 4)).as("only the upper bit of each field is kept")
                .isEqualTo(0xAAAA_AAAAL);
        rig.writeGicd(GICD_ICFGR, 4, 0xAAAA_AAAAL);
        rig.writeGicd(GICD_ICFGR + 4, 4, 0xAAAA_AAAAL);
        assertThat(rig.readGicd(GICD_ICFGR, 4) | rig.readGicd(GICD_ICFGR + 4, 4)).isZero();
        rig.writeGicd(GICD_ICFGR + 4L * 18, 4, 0xAAAA_AAAAL);
        assertThat(rig.readGicd(GICD_ICFGR + 4L * 18, 4)).as("INTIDs 288.. are not implemented").isZero();
    }

    /**
     * IHI 0069, GICD_IROUTER&lt;n&gt;: 64-bit or 32-bit halves; Aff2.Aff1.Aff0 and Interrupt_Routing_Mode kept,
     * Aff3 RAZ/WI (A3V = 0; KVM: "the upper word is WI"), reset to 0; INTIDs 0..31 reserved.
     */
    @Test
    void irouterKeepsAffinityAndRoutingMode() {
        long at = irouter(40);
        assertThat(rig.readGicd(at, 8)).isZero();
        rig.writeGicd(at, 8, 0xFF00_0000_8012_3401L);
        assertThat(rig.readGicd(at, 8)).as("Aff3 and RES0 dropped").isEqualTo(0x8012_3401L);
        assertThat(rig.readGicd(at, 4)).isEqualTo(0x8012_3401L);
        assertThat(rig.readGicd(at + 4, 4)).isZero();
        rig.writeGicd(at, 4, 0x0000_0101L);
        assertThat(rig.readGicd(at, 8)).as("a 32-bit write of the low half").isEqualTo(0x101L);
        rig.writeGicd(at + 4, 4, 0xFF);
        assertThat(rig.readGicd(at, 8)).isEqualTo(0x101L);
        rig.writeGicd(irouter(31), 8, 1);
        assertThat(rig.readGicd(irouter(31), 8)).as("no GICD_IROUTER for INTID 31").isZero();
        rig.writeGicd(irouter(288), 8, 1);
        assertThat(rig.readGicd(irouter(288), 8)).as("nor for unimplemented SPIs").isZero();
        rig.writeGicd(at, 2, 0xFFFF);
        assertThat(rig.readGicd(at, 8)).as("half-words: RAZ/WI").isEqualTo(0x101L);
    }

    /**
     * Registers that affinity routing or one security state retire: GICD_ITARGETSR, GICD_SGIR, GICD_C/SPENDSGIR
     * (ARE = 1), GICD_IGRPMODR, GICD_NSACR (DS = 1), GICD_STATUSR: RAZ/WI, and accesses to reserved offsets too.
     */
    @Test
    void retiredAndReservedRegistersAreRazWi() {
        long[] offsets = {GICD_ITARGETSR + 32, GICD_SGIR, GICD_CPENDSGIR, GICD_SPENDSGIR, GICD_IGRPMODR + 4,
                GICD_NSACR + 8, GICD_STATUSR, 0x0040, 0x5000, 0x8000, 0xFFCC};
        long unsupportedBefore = rig.stats().unsupportedAccesses();
        for (long off : offsets) {
            rig.writeGicd(off, 4, 0xFFFF_FFFFL);
            assertThat(rig.readGicd(off, 4)).as("offset 0x%x", off).isZero();
        }
        assertThat(rig.stats().unsupportedAccesses()).as("reserved offsets are counted")
                .isGreaterThan(unsupportedBefore);
        assertThat(rig.readGicd(GICD_ISENABLER + 4, 8)).as("a 64-bit access to 32-bit registers").isZero();
        assertThat(rig.readGicd(GICD_CTLR + 2, 2)).isZero();
    }
}
