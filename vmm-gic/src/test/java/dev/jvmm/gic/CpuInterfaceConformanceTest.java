package dev.jvmm.gic;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.irq.IrqLine;
import dev.jvmm.core.vcpu.SystemRegister;
import dev.jvmm.gic.guest.ItsCommandQueue;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.jvmm.core.vcpu.SystemRegister.*;
import static dev.jvmm.gic.DistributorRegisterDescriptor.*;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.GICR_ISPENDR0;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CPU interface and the one arbitration behind it (IHI 0069, "Interrupt prioritization", "Preemption",
 * "Priority grouping", "Interrupt lifecycle", "Priority drop and interrupt deactivation", and the ICC_*_EL1
 * register descriptions), checked rule by rule with every kind of interrupt: SGIs, PPIs, SPIs and LPIs.
 */
class CpuInterfaceConformanceTest {
    private static final int SPURIOUS = SystemRegister.SPURIOUS_INTID;

    /** Two vCPUs booted as Linux boots them, the distributor's groups enabled, LPIs 8192.. mappable on PE 0. */
    private static GicRig rig() {
        GicRig rig = GicRig.booted(2, CacheStrategy.PER_ITS);
        rig.enableDistributor();
        ItsCommandQueue its = rig.its();
        its.mapd(1, 4, rig.driver.allocateItt(4), true);
        its.mapc(0, 0, true);
        return rig;
    }

    /** LPI {@code intid} (event e of device 1) on PE 0 at {@code priority}, enabled. */
    private static void mapLpi(GicRig rig, int event, int intid, int priority) {
        rig.driver.setConfig(intid, (priority & 0xFC) | LpiTableDescriptor.CONFIG_RES1 | LpiTableDescriptor.CONFIG_ENABLE);
        rig.its().mapti(1, event, intid, 0);
    }

    /** Takes everything on {@code pe} (IAR1, then EOIR1), lowering the PPI lines it takes as a timer handler would. */
    private static List<Integer> drain(GicRig rig, int pe) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            int intid = rig.iar1(pe);
            if (intid == SPURIOUS) {
                break;
            }
            if (WiredInterrupts.isPpi(intid)) {
                rig.gic.ppiLine(pe, intid).set(false);
            }
            rig.eoi1(pe, intid);
            out.add(intid);
        }
        return out;
    }

    /**
     * "Interrupt prioritization": SGIs, PPIs, SPIs and LPIs pending at once are taken most urgent first; equal
     * priorities go to the lowest INTID (QEMU's irqbetter), so a wired interrupt beats an LPI of its priority.
     */
    @Test
    void everyKindPendingAtOnceIsTakenInPriorityOrder() {
        try (GicRig rig = rig()) {
            rig.enablePrivate(0, 3, 0x60);
            rig.enablePrivate(0, 27, 0x40);
            rig.enableSpi(40, 0x50, 0);
            rig.enableSpi(41, 0x40, 0);
            rig.makeEdge(40);
            rig.makeEdge(41);
            mapLpi(rig, 0, 8192, 0x30);
            mapLpi(rig, 1, 8193, 0x40);

            rig.sysreg(1, ICC_SGI1R_EL1, CpuInterfaceRegisterDescriptor.sgir(3, 0, 0, 0, 1)); // from PE 1 to PE 0
            rig.gic.ppiLine(0, 27).set(true);
            rig.gic.spiLine(40).pulse();
            rig.gic.spiLine(41).pulse();
            rig.msi(1, 0);
            rig.msi(1, 1);

            assertThat(rig.gic.hasPendingInterrupt(0)).isTrue();
            assertThat(rig.sysreg(0, ICC_HPPIR1_EL1)).as("HPPIR1: the most urgent").isEqualTo(8192);
            assertThat(drain(rig, 0)).as("0x30 LPI; 0x40: PPI 27, SPI 41, LPI 8193; 0x50 SPI; 0x60 SGI")
                    .containsExactly(8192, 27, 41, 8193, 40, 3);
            assertThat(rig.gic.hasPendingInterrupt(0)).isFalse();
            assertThat(drain(rig, 1)).as("nothing was routed to PE 1").isEmpty();
            assertThat(rig.stats().wiredAcknowledged()).isEqualTo(4);
        }
    }

    /** ICC_PMR_EL1: only priorities strictly below the mask are signalled; [2:0] are RAZ/WI. */
    @Test
    void thePriorityMaskHoldsBackEqualAndLowerPriorities() {
        try (GicRig rig = rig()) {
            rig.enableSpi(33, 0x50, 0);
            rig.enableSpi(34, 0x48, 0);
            rig.writeGicd(GICD_ISPENDR + 4, 4, 0b110);
            rig.sysreg(0, ICC_PMR_EL1, 0x57);
            assertThat(rig.sysreg(0, ICC_PMR_EL1)).isEqualTo(0x50);
            assertThat(rig.sysreg(0, ICC_HPPIR1_EL1)).as("HPPIR ignores the mask").isEqualTo(34);
            assertThat(drain(rig, 0)).as("0x48 passes a mask of 0x50; 0x50 does not").containsExactly(34);
            assertThat(rig.gic.hasPendingInterrupt(0)).isFalse();
            assertThat(rig.sysreg(0, ICC_HPPIR1_EL1)).isEqualTo(33);
            rig.sysreg(0, ICC_PMR_EL1, 0x58);
            assertThat(rig.gic.hasPendingInterrupt(0)).isTrue();
            assertThat(drain(rig, 0)).containsExactly(33);
        }
    }

    /**
     * "Preemption" and "Priority grouping": a pending interrupt preempts an active one only if its group priority
     * (the bits above ICC_BPR1_EL1's binary point) is higher; ICC_RPR_EL1 shows the active group priority.
     */
    @Test
    void preemptionIsDecidedByGroupPriority() {
        try (GicRig rig = rig()) {
            rig.enableSpi(33, 0x50, 0);
            rig.enableSpi(34, 0x48, 0);
            rig.makeEdge(33);
            rig.makeEdge(34);
            assertThat(rig.sysreg(0, ICC_BPR1_EL1)).as("BPR1 resets to its minimum, 3").isEqualTo(3);
            assertThat(rig.sysreg(0, ICC_RPR_EL1)).as("idle").isEqualTo(0xFF);

            rig.gic.spiLine(33).pulse();
            assertThat(rig.iar1(0)).isEqualTo(33);
            assertThat(rig.sysreg(0, ICC_RPR_EL1)).isEqualTo(0x50);
            rig.gic.spiLine(34).pulse();
            assertThat(rig.gic.hasPendingInterrupt(0)).as("BPR1 = 3: group priority [7:3], 0x48 beats 0x50").isTrue();
            assertThat(rig.iar1(0)).isEqualTo(34);
            assertThat(rig.sysreg(0, ICC_RPR_EL1)).isEqualTo(0x48);
            rig.eoi1(0, 34);
            rig.eoi1(0, 33);
            assertThat(rig.sysreg(0, ICC_RPR_EL1)).isEqualTo(0xFF);

            rig.sysreg(0, ICC_BPR1_EL1, 5); // group priority [7:5]: 0x48 and 0x50 are both 0x40
            rig.gic.spiLine(33).pulse();
            assertThat(rig.iar1(0)).isEqualTo(33);
            assertThat(rig.sysreg(0, ICC_RPR_EL1)).as("the running priority is the group priority").isEqualTo(0x40);
            rig.gic.spiLine(34).pulse();
            assertThat(rig.gic.hasPendingInterrupt(0)).as("same group priority: no preemption").isFalse();
            assertThat(rig.iar1(0)).isEqualTo(SPURIOUS);
            assertThat(rig.sysreg(0, ICC_HPPIR1_EL1)).isEqualTo(34);
            rig.eoi1(0, 33);
            assertThat(rig.iar1(0)).as("taken once 33 ended").isEqualTo(34);
            rig.eoi1(0, 34);
        }
    }

    /** ICC_AP1R0_EL1 holds the active group priorities; writing it changes the running priority (QEMU). */
    @Test
    void activePrioritiesRegister() {
        try (GicRig rig = rig()) {
            rig.enableSpi(33, 0x50, 0);
            rig.writeGicd(GICD_ISPENDR + 4, 4, 0b10);
            assertThat(rig.iar1(0)).isEqualTo(33);
            assertThat(rig.sysreg(0, ICC_AP1R0_EL1)).as("bit 0x50 >> 3").isEqualTo(1L << 10);
            rig.eoi1(0, 33);
            assertThat(rig.sysreg(0, ICC_AP1R0_EL1)).isZero();
            rig.sysreg(0, ICC_AP1R0_EL1, 1L << 2);
            assertThat(rig.sysreg(0, ICC_RPR_EL1)).isEqualTo(0x10);
            rig.writeGicd(GICD_ISPENDR + 4, 4, 0b10);
            assertThat(rig.iar1(0)).as("masked by the running priority 0x10").isEqualTo(SPURIOUS);
            rig.sysreg(0, ICC_AP1R0_EL1, 0);
            assertThat(rig.iar1(0)).isEqualTo(33);
        }
    }

    /** "Priority drop and interrupt deactivation", EOImode = 0: ICC_EOIR1_EL1 drops the priority and deactivates. */
    @Test
    void eoiModeZeroDeactivatesOnEoi() {
        try (GicRig rig = rig()) {
            rig.enableSpi(70, 0x80, 0);
            rig.writeGicd(GICD_ISPENDR + 8, 4, 1L << 6);
            assertThat(rig.iar1(0)).isEqualTo(70);
            assertThat(rig.readGicd(GICD_ISACTIVER + 8, 4)).as("active once acknowledged").isEqualTo(1L << 6);
            assertThat(rig.readGicd(GICD_ISPENDR + 8, 4)).as("no longer pending").isZero();
            rig.sysreg(0, ICC_DIR_EL1, 70);
            assertThat(rig.readGicd(GICD_ISACTIVER + 8, 4)).as("DIR with EOImode 0 is ignored").isEqualTo(1L << 6);
            rig.eoi1(0, 70);
            assertThat(rig.readGicd(GICD_ISACTIVER + 8, 4)).isZero();
            assertThat(rig.sysreg(0, ICC_RPR_EL1)).isEqualTo(0xFF);
        }
    }

    /**
     * EOImode = 1: ICC_EOIR1_EL1 only drops the priority; the interrupt stays active (and, pending again, is not
     * taken) until ICC_DIR_EL1 deactivates it.
     */
    @Test
    void eoiModeOneSplitsPriorityDropFromDeactivation() {
        try (GicRig rig = rig()) {
            rig.sysreg(0, ICC_CTLR_EL1, CpuInterfaceRegisterDescriptor.CTLR_EOIMODE);
            assertThat(rig.sysreg(0, ICC_CTLR_EL1) & CpuInterfaceRegisterDescriptor.CTLR_EOIMODE).isNotZero();
            rig.enableSpi(70, 0x80, 0);
            rig.makeEdge(70);
            IrqLine line = rig.gic.spiLine(70);
            line.pulse();
            assertThat(rig.iar1(0)).isEqualTo(70);
            rig.eoi1(0, 70);
            assertThat(rig.sysreg(0, ICC_RPR_EL1)).as("priority dropped").isEqualTo(0xFF);
            assertThat(rig.readGicd(GICD_ISACTIVER + 8, 4)).as("still active").isEqualTo(1L << 6);
            line.pulse();
            assertThat(rig.readGicd(GICD_ISPENDR + 8, 4)).as("active and pending").isEqualTo(1L << 6);
            assertThat(rig.gic.hasPendingInterrupt(0)).as("an active interrupt is not signalled").isFalse();
            assertThat(rig.iar1(0)).isEqualTo(SPURIOUS);
            rig.sysreg(0, ICC_DIR_EL1, 70);
            assertThat(rig.readGicd(GICD_ISACTIVER + 8, 4)).isZero();
            assertThat(rig.iar1(0)).as("pending again, now taken").isEqualTo(70);
            rig.eoi1(0, 70);
            rig.sysreg(0, ICC_DIR_EL1, 70);
            assertThat(rig.iar1(0)).isEqualTo(SPURIOUS);
        }
    }

    /**
     * "Interrupt lifecycle", level-sensitive: pending while the line is high, active and pending once acknowledged,
     * pending again after deactivation while the line stays high; GICD_ICPENDR does not clear it then.
     */
    @Test
    void aLevelInterruptStaysPendingWhileItsLineIsHigh() {
        try (GicRig rig = rig()) {
            rig.enableSpi(33, 0xA0, 0);
            IrqLine line = rig.gic.spiLine(33);
            line.set(true);
            assertThat(rig.iar1(0)).isEqualTo(33);
            assertThat(rig.readGicd(GICD_ISPENDR + 4, 4)).as("active and pending").isEqualTo(0b10);
            assertThat(rig.iar1(0)).as("active: not taken twice").isEqualTo(SPURIOUS);
            rig.eoi1(0, 33);
            assertThat(rig.gic.hasPendingInterrupt(0)).as("deactivated with the line high: pending again").isTrue();
            assertThat(rig.iar1(0)).isEqualTo(33);
            rig.eoi1(0, 33);
            rig.writeGicd(GICD_ICPENDR + 4, 4, 0b10);
            assertThat(rig.readGicd(GICD_ISPENDR + 4, 4)).as("ICPENDR cannot clear a high line").isEqualTo(0b10);
            line.set(false);
            assertThat(rig.gic.hasPendingInterrupt(0)).isFalse();
            assertThat(rig.iar1(0)).isEqualTo(SPURIOUS);
            rig.writeGicd(GICD_ISPENDR + 4, 4, 0b10);
            assertThat(rig.iar1(0)).as("ISPENDR latches a level interrupt too").isEqualTo(33);
            rig.eoi1(0, 33);
            assertThat(rig.iar1(0)).as("the latch was consumed").isEqualTo(SPURIOUS);
        }
    }

    /**
     * "Interrupt lifecycle", edge-triggered: a rising edge latches pending once; edges before the acknowledge
     * coalesce; an edge while active makes it active and pending, taken once more after deactivation.
     */
    @Test
    void anEdgeInterruptLatchesOnRisingEdges() {
        try (GicRig rig = rig()) {
            rig.enableSpi(34, 0xA0, 0);
            rig.makeEdge(34);
            IrqLine line = rig.gic.spiLine(34);
            line.pulse();
            line.pulse();
            assertThat(drain(rig, 0)).as("two edges before the acknowledge: one interrupt").containsExactly(34);
            line.set(true);
            line.set(true);
            assertThat(rig.iar1(0)).as("one rising edge").isEqualTo(34);
            line.set(false);
            line.set(true);
            assertThat(rig.readGicd(GICD_ISPENDR + 4, 4)).as("an edge while active").isEqualTo(0b100);
            rig.eoi1(0, 34);
            assertThat(drain(rig, 0)).as("taken once more, after deactivation").containsExactly(34);
            assertThat(rig.readGicd(GICD_ISPENDR + 4, 4)).as("a high line does not keep an edge interrupt pending")
                    .isZero();
        }
    }

    /**
     * Group 0 with one security state: it is an FIQ, so it signals no IRQ; ICC_IAR1_EL1 and ICC_HPPIR1_EL1 read 1023
     * while it is the highest priority pending interrupt (QEMU's CheckGroup1ForSpecialIdentifiers); ICC_IAR0_EL1
     * takes it; ICC_EOIR1_EL1 cannot end it (QEMU's icc_eoir_write), ICC_EOIR0_EL1 does.
     */
    @Test
    void groupZeroIsTakenThroughTheGroupZeroRegisters() {
        try (GicRig rig = rig()) {
            rig.enableSpi(50, 0x20, 0);
            rig.enableSpi(51, 0x40, 0);
            rig.writeGicd(GICD_IGROUPR + 4, 4, 0xFFFF_FFFFL & ~(1L << 18)); // SPI 50 in Group 0
            rig.writeGicd(GICD_ISPENDR + 4, 4, 0b11L << 18);
            assertThat(rig.gic.hasPendingFiq(0)).as("Group 0 disabled at the CPU interface").isFalse();
            assertThat(rig.iar1(0)).as("ICC_IGRPEN0 = 0: Group 0 does not count").isEqualTo(51);
            rig.eoi1(0, 51);
            rig.writeGicd(GICD_ISPENDR + 4, 4, 0b10L << 18);

            rig.sysreg(0, ICC_IGRPEN0_EL1, 1);
            assertThat(rig.sysreg(0, ICC_IGRPEN0_EL1)).isEqualTo(1);
            assertThat(rig.gic.hasPendingFiq(0)).isTrue();
            assertThat(rig.gic.hasPendingInterrupt(0)).as("the most urgent is Group 0: an FIQ, not an IRQ").isFalse();
            assertThat(rig.sysreg(0, ICC_HPPIR1_EL1)).isEqualTo(SPURIOUS);
            assertThat(rig.sysreg(0, ICC_HPPIR0_EL1)).isEqualTo(50);
            assertThat(rig.iar1(0)).isEqualTo(SPURIOUS);
            assertThat(rig.sysreg(0, ICC_IAR0_EL1)).isEqualTo(50);
            assertThat(rig.sysreg(0, ICC_AP0R0_EL1)).isEqualTo(1L << 4);
            assertThat(rig.iar1(0)).as("0x40 does not preempt an active 0x20").isEqualTo(SPURIOUS);
            rig.eoi1(0, 50);
            assertThat(rig.sysreg(0, ICC_AP0R0_EL1)).as("EOIR1 cannot drop a Group 0 priority").isEqualTo(1L << 4);
            rig.sysreg(0, ICC_EOIR0_EL1, 50);
            assertThat(rig.sysreg(0, ICC_AP0R0_EL1)).isZero();
            assertThat(rig.readGicd(GICD_ISACTIVER + 4, 4)).isZero();
            assertThat(rig.iar1(0)).isEqualTo(51);
            rig.eoi1(0, 51);
        }
    }

    /**
     * ICC_IGRPEN1_EL1 and GICD_CTLR.EnableGrp1: a disabled group signals nothing. GICD_CTLR gates SGIs, PPIs and
     * SPIs; LPIs are not gated by it (QEMU; GICR_CTLR.EnableLPIs gates them).
     */
    @Test
    void groupEnablesGateWiredInterruptsAndTheCpuInterfaceGatesAll() {
        try (GicRig rig = rig()) {
            rig.enableSpi(33, 0x40, 0);
            mapLpi(rig, 0, 8200, 0x40);
            rig.writeGicd(GICD_ISPENDR + 4, 4, 0b10);
            rig.msi(1, 0);
            rig.sysreg(0, ICC_IGRPEN1_EL1, 0);
            assertThat(rig.gic.hasPendingInterrupt(0)).isFalse();
            assertThat(rig.iar1(0)).isEqualTo(SPURIOUS);
            rig.sysreg(0, ICC_IGRPEN1_EL1, 1);
            rig.writeGicd(GICD_CTLR, 4, CTLR_ENABLE_GRP0);
            assertThat(drain(rig, 0)).as("Group 1 disabled at the distributor: the LPI only").containsExactly(8200);
            rig.writeGicd(GICD_CTLR, 4, CTLR_ENABLE_GRP1);
            assertThat(drain(rig, 0)).containsExactly(33);
        }
    }

    /** ICC_HPPIR1_EL1 reports without side effects; 1023 when nothing is pending. */
    @Test
    void hppirHasNoSideEffect() {
        try (GicRig rig = rig()) {
            assertThat(rig.sysreg(0, ICC_HPPIR1_EL1)).isEqualTo(SPURIOUS);
            rig.enablePrivate(0, 9, 0x30);
            rig.writeGicr(0, GICR_ISPENDR0, 4, 1 << 9);
            assertThat(rig.sysreg(0, ICC_HPPIR1_EL1)).isEqualTo(9);
            assertThat(rig.sysreg(0, ICC_HPPIR1_EL1)).isEqualTo(9);
            assertThat(rig.iar1(0)).isEqualTo(9);
            assertThat(rig.sysreg(0, ICC_HPPIR1_EL1)).as("active, not pending").isEqualTo(SPURIOUS);
        }
    }

    /**
     * ICC_CTLR_EL1 (PRIbits = 4, IDbits = 0, A3V = 0), ICC_SRE_EL1 (RAO/WI), ICC_BPR0/1_EL1 (minimums 2 and 3, CBPR),
     * and the registers five priority bits leave out (ICC_AP*R1..3_EL1: UNDEFINED, not implemented).
     */
    @Test
    void controlAndIdentificationRegisters() {
        try (GicRig rig = rig()) {
            long ctlr = rig.sysreg(0, ICC_CTLR_EL1);
            assertThat(ctlr >>> 8 & 7).as("PRIbits").isEqualTo(4);
            assertThat(ctlr >>> 11 & 7).as("IDbits: 16 bits").isZero();
            assertThat(ctlr & CpuInterfaceRegisterDescriptor.CTLR_A3V).isZero();
            assertThat(rig.sysreg(0, ICC_SRE_EL1)).isEqualTo(7);
            rig.sysreg(0, ICC_SRE_EL1, 0);
            assertThat(rig.sysreg(0, ICC_SRE_EL1)).as("SRE cannot be cleared").isEqualTo(7);

            assertThat(rig.sysreg(0, ICC_BPR0_EL1)).isEqualTo(2);
            rig.sysreg(0, ICC_BPR0_EL1, 0);
            rig.sysreg(0, ICC_BPR1_EL1, 0);
            assertThat(rig.sysreg(0, ICC_BPR0_EL1)).as("below the minimum: the minimum").isEqualTo(2);
            assertThat(rig.sysreg(0, ICC_BPR1_EL1)).isEqualTo(3);
            rig.sysreg(0, ICC_BPR0_EL1, 4);
            rig.sysreg(0, ICC_CTLR_EL1, CpuInterfaceRegisterDescriptor.CTLR_CBPR);
            assertThat(rig.sysreg(0, ICC_BPR1_EL1)).as("CBPR: BPR1 reads BPR0 + 1").isEqualTo(5);
            rig.sysreg(0, ICC_BPR1_EL1, 7);
            rig.sysreg(0, ICC_CTLR_EL1, 0);
            assertThat(rig.sysreg(0, ICC_BPR1_EL1)).as("BPR1 writes were ignored under CBPR").isEqualTo(3);

            for (SystemRegister r : new SystemRegister[]{ICC_AP0R1_EL1, ICC_AP0R2_EL1, ICC_AP0R3_EL1, ICC_AP1R1_EL1,
                    ICC_AP1R2_EL1, ICC_AP1R3_EL1}) {
                assertThat(rig.gic.implementsRegister(r)).as("%s with five priority bits", r).isFalse();
                rig.sysreg(0, r, -1L);
                assertThat(rig.sysreg(0, r)).isZero();
            }
            assertThat(rig.gic.implementsRegister(ICC_AP1R0_EL1)).isTrue();
            assertThat(rig.sysreg(0, ICC_RPR_EL1)).as("writing AP*R1..3 changed nothing").isEqualTo(0xFF);
        }
    }

    /** A wired interrupt made pending for a vCPU kicks that vCPU (so WFI wakes), and no other. */
    @Test
    void aSignalledWiredInterruptKicksItsVcpu() {
        try (GicRig rig = rig()) {
            rig.enableSpi(33, 0x40, 1);
            int before0 = rig.kicks.get(0);
            int before1 = rig.kicks.get(1);
            rig.gic.spiLine(33).set(true);
            assertThat(rig.kicks.get(1)).as("PE 1 kicked").isGreaterThan(before1);
            assertThat(rig.kicks.get(0)).as("PE 0 not kicked").isEqualTo(before0);
            rig.gic.spiLine(33).set(false);
            rig.sysreg(1, ICC_PMR_EL1, 0);
            int masked = rig.kicks.get(1);
            rig.gic.spiLine(33).set(true);
            assertThat(rig.kicks.get(1)).as("masked by PMR: nothing to wake for").isEqualTo(masked);
        }
    }
}
