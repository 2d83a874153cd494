package dev.jvmm.gic;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.vcpu.SystemRegister;
import dev.jvmm.gic.guest.ItsCommandQueue;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** ICC_IAR1_EL1 and friends: priority order, ties, the priority mask, the running priority, the group enable. */
class CpuInterfaceTest {

    /** Device 1 events 0..5 -> LPIs with the given configuration bytes, all on PE 0. */
    private static GicRig rigWith(int... configs) {
        GicRig rig = GicRig.booted(1, CacheStrategy.PER_ITS);
        ItsCommandQueue its = rig.its();
        its.mapd(1, 4, rig.driver.allocateItt(4), true);
        its.mapc(0, 0, true);
        for (int e = 0; e < configs.length; e++) {
            rig.driver.setConfig(lpi(e), configs[e]);
            its.mapti(1, e, lpi(e), 0);
        }
        return rig;
    }

    /** Event e's LPI: descending INTIDs, so that priority, not INTID, must decide. */
    private static int lpi(int e) {
        return 9000 - e;
    }

    @Test
    void mostUrgentPriorityFirstThenLowestIntid() {
        try (GicRig rig = rigWith(0xA3, 0x43, 0xA3, 0x23, 0x43)) {
            for (int e = 0; e < 5; e++) {
                rig.msi(1, e);
            }
            assertThat(rig.takeAll(0)).as("0x20 first, then the two 0x40 (lowest INTID first), then the 0xA0")
                    .containsExactly(lpi(3), lpi(4), lpi(1), lpi(2), lpi(0));
        }
    }

    @Test
    void thePriorityMaskHoldsBackLessUrgentLpis() {
        try (GicRig rig = rigWith(0xA3, 0x43)) {
            rig.msi(1, 0);
            rig.msi(1, 1);
            rig.gic.writeSystemRegister(0, SystemRegister.ICC_PMR_EL1, 0x80);
            assertThat(rig.gic.readSystemRegister(0, SystemRegister.ICC_PMR_EL1)).isEqualTo(0x80);
            assertThat(rig.takeAll(0)).as("PMR 0x80 lets 0x40 through only").containsExactly(lpi(1));
            assertThat(rig.gic.hasPendingInterrupt(0)).as("0xA0 is masked").isFalse();
            rig.gic.writeSystemRegister(0, SystemRegister.ICC_PMR_EL1, 0xA0);
            assertThat(rig.gic.hasPendingInterrupt(0)).as("equal to the mask is still masked").isFalse();
            rig.gic.writeSystemRegister(0, SystemRegister.ICC_PMR_EL1, 0xA8);
            assertThat(rig.gic.hasPendingInterrupt(0)).isTrue();
            assertThat(rig.takeAll(0)).containsExactly(lpi(0));
        }
    }

    @Test
    void anActiveInterruptBlocksOthersOfEqualOrLowerUrgencyUntilItsEoi() {
        try (GicRig rig = rigWith(0x43, 0x43, 0x23)) {
            rig.msi(1, 0);
            rig.msi(1, 1);
            long first = rig.gic.readSystemRegister(0, SystemRegister.ICC_IAR1_EL1);
            assertThat(first).isEqualTo(lpi(1));
            assertThat(rig.gic.readSystemRegister(0, SystemRegister.ICC_IAR1_EL1))
                    .as("same priority does not preempt the running one").isEqualTo(SystemRegister.SPURIOUS_INTID);
            rig.msi(1, 2);
            assertThat(rig.gic.readSystemRegister(0, SystemRegister.ICC_IAR1_EL1))
                    .as("a more urgent one preempts").isEqualTo(lpi(2));
            rig.gic.writeSystemRegister(0, SystemRegister.ICC_EOIR1_EL1, lpi(2));
            rig.gic.writeSystemRegister(0, SystemRegister.ICC_EOIR1_EL1, first);
            assertThat(rig.takeAll(0)).containsExactly(lpi(0));
        }
    }

    @Test
    void groupOneDisabledSignalsNothing() {
        try (GicRig rig = rigWith(0xA3)) {
            rig.gic.writeSystemRegister(0, SystemRegister.ICC_IGRPEN1_EL1, 0);
            rig.msi(1, 0);
            assertThat(rig.gic.hasPendingInterrupt(0)).isFalse();
            assertThat(rig.gic.readSystemRegister(0, SystemRegister.ICC_IAR1_EL1)).isEqualTo(SystemRegister.SPURIOUS_INTID);
            rig.gic.writeSystemRegister(0, SystemRegister.ICC_IGRPEN1_EL1, 1);
            assertThat(rig.gic.readSystemRegister(0, SystemRegister.ICC_IGRPEN1_EL1)).isEqualTo(1);
            assertThat(rig.takeAll(0)).containsExactly(lpi(0));
        }
    }

    @Test
    void anMsiCoalescesWithAPendingLpiAndAnMsiAfterTheAcknowledgeIsTakenAgain() {
        try (GicRig rig = rigWith(0xA3)) {
            rig.msi(1, 0);
            rig.msi(1, 0);
            assertThat(rig.gic.readSystemRegister(0, SystemRegister.ICC_IAR1_EL1)).isEqualTo(lpi(0));
            rig.msi(1, 0);
            rig.gic.writeSystemRegister(0, SystemRegister.ICC_EOIR1_EL1, lpi(0));
            assertThat(rig.takeAll(0)).as("raised again after the acknowledge: taken once more").containsExactly(lpi(0));
            assertThat(rig.stats().lpisAcknowledged()).isEqualTo(2);
        }
    }

    @Test
    void ctlrReportsFivePriorityBitsAndSixteenIdBits() {
        try (GicRig rig = rigWith()) {
            long ctlr = rig.gic.readSystemRegister(0, SystemRegister.ICC_CTLR_EL1);
            assertThat(ctlr >>> 8 & 7).as("PRIbits = 5 - 1").isEqualTo(4);
            assertThat(ctlr >>> 11 & 7).as("IDbits = 16 bits").isZero();
            rig.gic.writeSystemRegister(0, SystemRegister.ICC_CTLR_EL1, 0x2);
            assertThat(rig.gic.readSystemRegister(0, SystemRegister.ICC_CTLR_EL1) & 3).as("EOImode stored").isEqualTo(2);
        }
    }
}
