package dev.jvmm.gic;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.irq.IrqLine;
import dev.jvmm.core.vcpu.SystemRegister;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static dev.jvmm.core.vcpu.SystemRegister.*;
import static dev.jvmm.gic.CpuInterfaceRegisterDescriptor.sgir;
import static dev.jvmm.gic.CpuInterfaceRegisterDescriptor.sgirAllButSelf;
import static dev.jvmm.gic.DistributorRegisterDescriptor.*;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Where interrupts go: SGIs by affinity target list or to all but self (ICC_SGI1R_EL1 and friends, IHI 0069
 * "Forwarding an SGI to a target PE"), SPIs by GICD_IROUTER ("Routing SPIs and SGIs by PE affinity", including the
 * 1 of N mode), and PPIs to their own vCPU only.
 */
class RoutingConformanceTest {
    private static final int SPURIOUS = SystemRegister.SPURIOUS_INTID;

    private static GicRig rig(int vcpus) {
        GicRig rig = GicRig.booted(vcpus, 1, CacheStrategy.PER_ITS, 1);
        rig.enableDistributor();
        return rig;
    }

    private static long sgisPending(GicRig rig, int pe) {
        return rig.readGicr(pe, GICR_ISPENDR0, 4) & 0xFFFF;
    }

    /**
     * ICC_SGI1R_EL1 with IRM = 0: the SGI goes to the PEs Aff3.Aff2.Aff1.n for each bit n of the target list; bits
     * naming no PE are ignored (QEMU's icc_generate_sgi compares GICR_TYPER's affinity).
     */
    @Test
    void sgiTargetListWithAffinity() {
        try (GicRig rig = rig(20)) {
            rig.sysreg(0, ICC_SGI1R_EL1, sgir(5, 0, 0, 1, 0b1000_0000_0000_1001)); // 1.0, 1.3 and 1.15 (absent)
            for (int pe = 0; pe < 20; pe++) {
                assertThat(sgisPending(rig, pe)).as("PE %d", pe).isEqualTo(pe == 16 || pe == 19 ? 1 << 5 : 0);
            }
            rig.sysreg(17, ICC_SGI1R_EL1, sgir(7, 0, 0, 0, 0b1));
            assertThat(sgisPending(rig, 0)).as("from PE 17 to 0.0").isEqualTo(1 << 7);
            rig.sysreg(17, ICC_SGI1R_EL1, sgir(8, 1, 0, 0, 0b1));
            rig.sysreg(17, ICC_SGI1R_EL1, sgir(8, 0, 1, 0, 0b1));
            assertThat(sgisPending(rig, 0)).as("Aff3 or Aff2 non-zero names no PE").isEqualTo(1 << 7);
            assertThat(rig.stats().sgisRaised()).isEqualTo(3);
        }
    }

    /** IRM = 1: every PE but the writer. */
    @Test
    void sgiToAllButSelf() {
        try (GicRig rig = rig(4)) {
            rig.sysreg(2, ICC_SGI1R_EL1, sgirAllButSelf(1));
            assertThat(new long[]{sgisPending(rig, 0), sgisPending(rig, 1), sgisPending(rig, 2), sgisPending(rig, 3)})
                    .containsExactly(2, 2, 0, 2);
        }
    }

    /**
     * "Forwarding an SGI to a target PE" with one security state: ICC_SGI1R_EL1 raises an SGI only where it is Group
     * 1; ICC_SGI0R_EL1 only where it is Group 0; ICC_ASGI1R_EL1 (Secure Group 1, which DS = 1 makes Group 0) as
     * ICC_SGI0R_EL1 (QEMU's icc_generate_sgi and gicv3_redist_send_sgi; KVM allows ASGI1R Group 0 SGIs only too).
     */
    @Test
    void eachSgiRegisterRaisesOnlyItsGroup() {
        try (GicRig rig = rig(2)) {
            rig.writeGicr(1, GICR_IGROUPR0, 4, 0xFFFF_FFFFL & ~(1L << 2)); // SGI 2 is Group 0 at PE 1
            rig.sysreg(0, ICC_SGI1R_EL1, sgir(2, 0, 0, 0, 0b10));
            assertThat(sgisPending(rig, 1)).as("SGI1R, Group 0 SGI").isZero();
            rig.sysreg(0, ICC_SGI0R_EL1, sgir(2, 0, 0, 0, 0b10));
            assertThat(sgisPending(rig, 1)).as("SGI0R, Group 0 SGI").isEqualTo(1 << 2);
            rig.writeGicr(1, GICR_ICPENDR0, 4, 1 << 2);
            rig.sysreg(0, ICC_ASGI1R_EL1, sgir(2, 0, 0, 0, 0b10));
            assertThat(sgisPending(rig, 1)).as("ASGI1R, Group 0 SGI").isEqualTo(1 << 2);
            rig.sysreg(0, ICC_SGI0R_EL1, sgir(4, 0, 0, 0, 0b10));
            rig.sysreg(0, ICC_ASGI1R_EL1, sgir(4, 0, 0, 0, 0b10));
            assertThat(sgisPending(rig, 1) & (1 << 4)).as("SGI0R and ASGI1R, Group 1 SGI").isZero();
            rig.sysreg(0, ICC_SGI1R_EL1, sgir(4, 0, 0, 0, 0b10));
            assertThat(sgisPending(rig, 1) & (1 << 4)).as("SGI1R, Group 1 SGI").isEqualTo(1 << 4);
            assertThat(rig.stats().sgisRefused()).isEqualTo(3);
        }
    }

    /** An SGI is pending at a PE whose SGI is disabled, and taken once enabled; the receiver's IAR reads its INTID. */
    @Test
    void anSgiIsTakenByItsTargetOnceEnabled() {
        try (GicRig rig = rig(2)) {
            rig.sysreg(0, ICC_SGI1R_EL1, sgir(6, 0, 0, 0, 0b10));
            assertThat(rig.gic.hasPendingInterrupt(1)).as("disabled").isFalse();
            int kicks = rig.kicks.get(1);
            rig.enablePrivate(1, 6, 0x80);
            assertThat(rig.kicks.get(1)).as("enabling it kicks the target").isGreaterThan(kicks);
            assertThat(rig.iar1(1)).isEqualTo(6);
            rig.eoi1(1, 6);
            assertThat(rig.iar1(0)).isEqualTo(SPURIOUS);
        }
    }

    /** GICD_IROUTER with IRM = 0: the SPI goes to the PE of that affinity, and moves when the register changes. */
    @Test
    void spisFollowIrouter() {
        try (GicRig rig = rig(4)) {
            rig.enableSpi(60, 0x80, 2);
            rig.gic.spiLine(60).set(true);
            assertThat(rig.gic.hasPendingInterrupt(2)).isTrue();
            for (int pe : new int[]{0, 1, 3}) {
                assertThat(rig.gic.hasPendingInterrupt(pe)).as("PE %d", pe).isFalse();
            }
            rig.writeGicd(irouter(60), 8, 0x0000_0105L); // 0.0.1.5: no such PE
            assertThat(rig.gic.hasPendingInterrupt(2)).isFalse();
            assertThat(rig.readGicd(GICD_ISPENDR + 4, 4)).as("still pending, forwarded to nobody").isEqualTo(1L << 28);
            rig.writeGicd(irouter(60), 4, Affinity.of(1));
            assertThat(rig.iar1(1)).as("the pending SPI reached its new target").isEqualTo(60);
            rig.eoi1(1, 60);
            rig.gic.spiLine(60).set(false);
        }
    }

    /**
     * GICD_IROUTER.Interrupt_Routing_Mode = 1 ("1 of N"): each time the SPI becomes pending it goes to one
     * participating PE (awake, its group enabled, GICR_CTLR.DPG1NS = 0), spread over them; a pending one moves when
     * its PE stops participating, and waits when none does.
     */
    @Test
    void oneOfNGoesToParticipatingPesOnly() {
        try (GicRig rig = rig(4)) {
            // The driver woke every redistributor (Linux's gic_enable_redist); PE 0 goes back to sleep.
            rig.writeGicr(0, GICR_WAKER, 4, WAKER_PROCESSOR_SLEEP);
            rig.enableSpi(70, 0x80, 0);
            rig.makeEdge(70);
            rig.writeGicd(irouter(70), 8, IROUTER_IRM);
            IrqLine line = rig.gic.spiLine(70);
            Set<Integer> takers = new HashSet<>();
            for (int round = 0; round < 9; round++) {
                line.pulse();
                int pe = rig.wiredTarget(70);
                assertThat(pe).as("round %d: an awake PE", round).isBetween(1, 3);
                assertThat(rig.iar1(pe)).isEqualTo(70);
                rig.eoi1(pe, 70);
                takers.add(pe);
            }
            assertThat(takers).as("spread over the participating PEs").containsExactlyInAnyOrder(1, 2, 3);

            rig.sysreg(2, ICC_IGRPEN1_EL1, 0);
            rig.writeGicr(3, GICR_CTLR, 4, CTLR_ENABLE_LPIS | CTLR_DPG1NS);
            for (int round = 0; round < 3; round++) {
                line.pulse();
                assertThat(rig.wiredTarget(70)).as("only PE 1 participates").isEqualTo(1);
                assertThat(rig.iar1(1)).isEqualTo(70);
                rig.eoi1(1, 70);
            }
            line.pulse();
            rig.writeGicr(1, GICR_WAKER, 4, WAKER_PROCESSOR_SLEEP);
            assertThat(rig.wiredTarget(70)).as("nobody participates: it waits").isEqualTo(WiredInterrupts.NO_TARGET);
            for (int pe = 0; pe < 4; pe++) {
                assertThat(rig.gic.hasPendingInterrupt(pe)).as("PE %d", pe).isFalse();
            }
            rig.writeGicr(3, GICR_CTLR, 4, CTLR_ENABLE_LPIS);
            assertThat(rig.wiredTarget(70)).as("PE 3 participates again").isEqualTo(3);
            assertThat(rig.iar1(3)).isEqualTo(70);
        }
    }

    /** PPIs are private: vCPU n's line raises INTID n's PPI at vCPU n only (the timer's 27 and 30 per vCPU). */
    @Test
    void ppisArePerVcpu() {
        try (GicRig rig = rig(3)) {
            for (int pe = 0; pe < 3; pe++) {
                rig.enablePrivate(pe, 27, 0xA0);
                rig.enablePrivate(pe, 30, 0xA0);
            }
            rig.gic.ppiLine(0, 27).set(true);
            rig.gic.ppiLine(2, 30).set(true);
            assertThat(rig.readGicr(0, GICR_ISPENDR0, 4)).isEqualTo(1L << 27);
            assertThat(rig.readGicr(1, GICR_ISPENDR0, 4)).isZero();
            assertThat(rig.readGicr(2, GICR_ISPENDR0, 4)).isEqualTo(1L << 30);
            assertThat(rig.iar1(0)).isEqualTo(27);
            assertThat(rig.iar1(1)).isEqualTo(SPURIOUS);
            assertThat(rig.iar1(2)).isEqualTo(30);
            rig.gic.ppiLine(0, 27).set(false); // the handler reprograms the timer
            rig.eoi1(0, 27);
            rig.eoi1(2, 30);
            assertThat(rig.iar1(0)).isEqualTo(SPURIOUS);
            assertThat(rig.iar1(2)).as("PE 2's line is still high").isEqualTo(30);
        }
    }

    /** The line API: SPIs are 32..287, PPIs 16..31 of an existing vCPU, and each line is one object. */
    @Test
    void linesExistForSpisAndPpisOnly() {
        try (GicRig rig = rig(2)) {
            assertThat(rig.gic.spiLine(48)).isSameAs(rig.gic.spiLine(48));
            assertThat(rig.gic.spiLine(287).intid()).isEqualTo(287);
            assertThat(rig.gic.ppiLine(1, 16).intid()).isEqualTo(16);
            assertThat(rig.gic.ppiLine(1, 27)).isNotSameAs(rig.gic.ppiLine(0, 27));
            assertThatThrownBy(() -> rig.gic.spiLine(31)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> rig.gic.spiLine(288)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> rig.gic.ppiLine(0, 15)).as("SGIs have no line").isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> rig.gic.ppiLine(2, 27)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    /** A machine without vCPUs (a device-only machine): SPIs have nowhere to go and stay pending; nothing breaks. */
    @Test
    void withoutVcpusSpisStayPendingAndRoutingNamesNobody() {
        try (GicRig rig = GicRig.bare(0, 1, CacheStrategy.PER_ITS)) {
            rig.enableDistributor();
            rig.writeGicd(GICD_ISENABLER + 4, 4, 1);
            rig.gic.spiLine(32).set(true);
            rig.gic.spiLine(33).pulse();
            rig.writeGicd(irouter(32), 8, IROUTER_IRM);
            assertThat(rig.wiredTarget(32)).isEqualTo(WiredInterrupts.NO_TARGET);
            assertThat(rig.readGicd(GICD_ISPENDR + 4, 4)).as("pending, forwarded to nobody").isEqualTo(1);
        }
    }
}
