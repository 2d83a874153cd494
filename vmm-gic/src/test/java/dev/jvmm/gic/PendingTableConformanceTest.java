package dev.jvmm.gic;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.gic.guest.ItsCommandQueue;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import static dev.jvmm.gic.LpiTableDescriptor.CONFIG_DEFAULT;
import static org.assertj.core.api.Assertions.assertThat;

/** kvm-unit-tests {@code its-pending-migration}: LPIs made pending by the pending table at EnableLPIs. */
class PendingTableConformanceTest {

    @ParameterizedTest(name = "PTZ = {0}")
    @ValueSource(booleans = {false, true})
    void pendingTableAtEnableLpis(boolean ptz) {
        try (GicRig rig = GicRig.booted(4, CacheStrategy.PER_ITS)) {
            int pe0 = 3;
            int pe1 = 2;
            ItsCommandQueue its = rig.its();
            its.mapd(2, 8, rig.driver.allocateItt(8), true);
            its.mapc(pe0, pe0, true);
            its.mapc(pe1, pe1, true);
            rig.driver.disableLpis(pe0);
            rig.driver.disableLpis(pe1);
            for (int i = 0; i < 256; i++) {
                int col = i % 2 == 1 ? pe0 : pe1;
                int lpi = 8192 + i;
                its.mapti(2, i, lpi, col);
                rig.driver.setConfig(lpi, CONFIG_DEFAULT);
                rig.driver.setPendingBit(col, lpi, true);
            }
            its.invall(pe0);
            its.invall(pe1);
            rig.driver.writePendbaser(pe0, ptz);
            rig.driver.writePendbaser(pe1, ptz);
            rig.driver.enableLpis(pe0);
            rig.driver.enableLpis(pe1);

            int expected = ptz ? 0 : 128;
            assertThat(rig.takeAll(pe0)).as("PE %d takes the LPIs marked in its table", pe0).hasSize(expected)
                    .allMatch(lpi -> lpi % 2 == 1);
            assertThat(rig.takeAll(pe1)).as("PE %d too", pe1).hasSize(expected).allMatch(lpi -> lpi % 2 == 0);
            assertThat(rig.takeAll(0)).isEmpty();
            assertThat(rig.takeAll(1)).isEmpty();
        }
    }

    @Test
    void aPendingLpiIsVisibleInThePendingTableAndDroppedOnesAreCleared() {
        try (GicRig rig = GicRig.booted(2, CacheStrategy.GLOBAL_LRU)) {
            ItsCommandQueue its = rig.its();
            rig.driver.setConfig(9000, CONFIG_DEFAULT);
            rig.driver.setConfig(9001, CONFIG_DEFAULT);
            its.mapd(1, 4, rig.driver.allocateItt(4), true);
            its.mapc(0, 1, true);
            its.mapti(1, 0, 9000, 0);
            its.mapti(1, 1, 9001, 0);
            rig.msi(1, 0);
            rig.msi(1, 1);
            assertThat(rig.driver.pendingBit(1, 9000)).as("the MSI shows in PE 1's pending table").isTrue();
            assertThat(rig.driver.pendingBit(0, 9000)).isFalse();
            its.clear(1, 1);
            assertThat(rig.driver.pendingBit(1, 9001)).as("CLEAR clears the bit").isFalse();
            assertThat(rig.take(1)).isEqualTo(9000);
            rig.driver.disableLpis(1);
            assertThat(rig.driver.pendingBit(1, 9000)).as("with LPIs disabled the table holds nothing dropped").isFalse();
        }
    }

    @Test
    void clearingEnableLpisDropsPendingLpisAndReEnablingWithPtzZeroFindsNoneLeft() {
        try (GicRig rig = GicRig.booted(2, CacheStrategy.SHARDED)) {
            rig.raiseEventsOnPe0(1, 4, 8);
            assertThat(rig.gic.hasPendingInterrupt(0)).isTrue();
            rig.driver.disableLpis(0);
            assertThat(rig.gic.hasPendingInterrupt(0)).isFalse();
            assertThat(dev.jvmm.core.irq.InjectResult.reason(rig.msi(1, 0)))
                    .isEqualTo(dev.jvmm.core.irq.DropReason.LPIS_DISABLED);
            assertThat(rig.gic.stats().cache().size()).as("EnableLPIs 1 -> 0 flushed the cache").isZero();
            rig.driver.writePendbaser(0, false);
            rig.driver.enableLpis(0);
            assertThat(rig.takeAll(0)).as("dropped LPIs do not come back from the table").isEmpty();
        }
    }

    /**
     * The pending table belongs to its redistributor: a bit set there is a pending LPI at EnableLPIs (PTZ = 0) even
     * when no ITS maps that INTID (IHI 0069H 5.1.1; QEMU scans the table the same way; KVM loads mapped LPIs only).
     * guests/its prepares a CPU's table before any MAPTI and expects QEMU's answer. Disabled ones stay in the table;
     * once taken and dropped by EnableLPIs 1 to 0, none comes back.
     */
    @Test
    void unmappedLpisPendingInTheTableAreTakenAtEnableLpis() {
        try (GicRig rig = GicRig.booted(2, CacheStrategy.PER_ITS)) {
            rig.driver.disableLpis(1);
            for (int i = 0; i < 16; i++) {
                rig.driver.setConfig(8492 + i, CONFIG_DEFAULT);
                rig.driver.setPendingBit(1, 8492 + i, true);
            }
            rig.driver.setConfig(8600, CONFIG_DEFAULT & ~1);            // disabled: stays a bit in the table
            rig.driver.setPendingBit(1, 8600, true);
            rig.driver.writePendbaser(1, false);
            rig.driver.enableLpis(1);
            assertThat(rig.takeAll(1)).as("PE 1 takes the 16 enabled LPIs its table marks, once each")
                    .containsExactlyInAnyOrderElementsOf(java.util.stream.IntStream.range(8492, 8508).boxed().toList());
            assertThat(rig.takeAll(0)).isEmpty();
            rig.driver.disableLpis(1);
            rig.driver.writePendbaser(1, false);
            rig.driver.enableLpis(1);
            assertThat(rig.takeAll(1)).as("LPIs taken before EnableLPIs 1 -> 0 do not come back").isEmpty();
        }
    }
}
