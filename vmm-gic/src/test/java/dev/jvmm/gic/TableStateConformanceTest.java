package dev.jvmm.gic;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.irq.DropReason;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.gic.guest.ItsCommandQueue;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import static dev.jvmm.gic.ItsRegisterDescriptor.*;
import static dev.jvmm.gic.LpiTableDescriptor.CONFIG_DEFAULT;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Registers whose writes drop or replace state the ITS and the redistributors keep in host structures (issue 13):
 * a guest must not be able to tell those structures from the tables in its memory.
 */
class TableStateConformanceTest {

    private static final int DEV = 7;
    private static final int LPI = 8300;

    /** Device 7 event 3 -> LPI 8300 in collection 2 on PE 1, delivered once so that the cache holds it. */
    private static GicRig mappedAndWarm(CacheStrategy strategy) {
        GicRig rig = GicRig.booted(2, strategy);
        ItsCommandQueue its = rig.its();
        rig.driver.setConfig(LPI, CONFIG_DEFAULT);
        its.mapd(DEV, 4, rig.driver.allocateItt(4), true);
        its.mapc(2, 1, true);
        its.mapti(DEV, 3, LPI, 2);
        assertThat(InjectResult.describe(rig.msi(DEV, 3))).isEqualTo("delivered INTID " + LPI + " to vCPU 1");
        assertThat(rig.takeAll(1)).containsExactly(LPI);
        assertThat(InjectResult.describe(rig.msi(DEV, 3))).as("warm: now from the cache")
                .isEqualTo("delivered INTID " + LPI + " to vCPU 1");
        assertThat(rig.takeAll(1)).containsExactly(LPI);
        return rig;
    }

    /** GICv3 GITS_BASER<n>.Page_Size: KVM (INITIAL_BASER_VALUE) and QEMU (its_reset_hold) reset it to 64 KiB. */
    @Test
    void baserPageSizeResetsTo64K() {
        try (GicRig rig = GicRig.bare(1, 1, CacheStrategy.PER_ITS)) {
            for (int n = 0; n < 2; n++) {
                long baser = rig.readIts(0, baser(n), 8);
                assertThat((baser & BASER_PAGE_SIZE_MASK) >>> BASER_PAGE_SIZE_SHIFT)
                        .as("GITS_BASER%d.Page_Size out of reset", n).isEqualTo(BASER_PAGE_SIZE_64K);
                assertThat(baser & BASER_VALID).as("not valid out of reset").isZero();
            }
            assertThat(rig.readIts(0, baser(2), 8)).as("BASER2 describes no table").isZero();
        }
    }

    /**
     * GITS_BASER0.Valid written 0 (KVM: vgic_its_free_device_list): the devices, their entries and their cached
     * translations are gone; with a fresh table neither an MSI nor INT delivers for the old DeviceID.
     */
    @ParameterizedTest
    @EnumSource(CacheStrategy.class)
    void clearingDeviceTableValidForgetsDevicesAndTheirCachedTranslations(CacheStrategy strategy) {
        try (GicRig rig = mappedAndWarm(strategy)) {
            rig.writeIts(0, GITS_CTLR, 4, 0);
            rig.writeIts(0, baser(0), 8, rig.readIts(0, baser(0), 8) & ~BASER_VALID);
            assertThat(rig.stats().its().get(0).devices()).as("devices once Valid = 0").isZero();
            ItsCommandQueue its = rig.driver.initIts(0, 1); // a fresh, zeroed device table, and enabled again
            assertThat(InjectResult.describe(rig.msi(DEV, 3))).as("an MSI for a device mapped only in the old table")
                    .isEqualTo("dropped: " + DropReason.DEVICE_UNMAPPED);
            its.interrupt(DEV, 3);
            assertThat(rig.takeAll(1)).as("INT for a device mapped only in the old table").isEmpty();
            assertThat(rig.stats().its().get(0).errors(ItsCommandError.INT_UNMAPPED_INTERRUPT)).isEqualTo(1);
            assertThat(rig.stats().lpisMapped()).as("the LPI went with its last entry").isZero();

            its.mapd(DEV, 4, rig.driver.allocateItt(4), true);
            its.mapti(DEV, 3, LPI, 2);
            assertThat(InjectResult.describe(rig.msi(DEV, 3))).as("mapped again in the new table")
                    .isEqualTo("delivered INTID " + LPI + " to vCPU 1");
            assertThat(rig.stats().cacheDoubleReleases()).isZero();
        }
    }

    /** GITS_BASER1.Valid written 0 (KVM: vgic_its_free_collection_list): every collection is unmapped. */
    @ParameterizedTest
    @EnumSource(CacheStrategy.class)
    void clearingCollectionTableValidUnmapsEveryCollection(CacheStrategy strategy) {
        try (GicRig rig = mappedAndWarm(strategy)) {
            rig.msi(DEV, 3); // pending at PE 1 while the table goes
            rig.writeIts(0, GITS_CTLR, 4, 0);
            rig.writeIts(0, baser(1), 4, 0); // the low half: Valid stays as it was (it is bit 63)
            assertThat(rig.readIts(0, baser(1), 8) & BASER_VALID).isNotZero();
            rig.writeIts(0, baser(1) + 4, 4, 0); // the high half: Valid = 0
            ItsCommandQueue its = rig.driver.initIts(0, 1);
            assertThat(rig.takeAll(1)).as("the pending LPI of the unmapped collection was dropped").isEmpty();
            assertThat(InjectResult.describe(rig.msi(DEV, 3))).as("an MSI whose collection exists only in the old table")
                    .isEqualTo("dropped: " + DropReason.COLLECTION_UNMAPPED);
            its.interrupt(DEV, 3);
            assertThat(rig.takeAll(1)).as("INT in an unmapped collection").isEmpty();

            its.mapc(2, 0, true);
            assertThat(InjectResult.describe(rig.msi(DEV, 3))).as("the entry kept its ICID; MAPC maps it anew")
                    .isEqualTo("delivered INTID " + LPI + " to vCPU 0");
        }
    }

    /** GITS_BASER<n> is read-only while the ITS is enabled (IHI 0069, GITS_BASER<n>): Valid = 0 then changes nothing. */
    @Test
    void baserValidZeroIsIgnoredWhileTheItsIsEnabled() {
        try (GicRig rig = mappedAndWarm(CacheStrategy.PER_ITS)) {
            rig.writeIts(0, baser(0), 8, 0);
            rig.writeIts(0, baser(1), 8, 0);
            assertThat(InjectResult.describe(rig.msi(DEV, 3))).isEqualTo("delivered INTID " + LPI + " to vCPU 1");
            assertThat(rig.stats().its().get(0).tablesForgotten()).isZero();
        }
    }

    /**
     * GICR_PROPBASER moved while EnableLPIs is 0: once LPIs are enabled again, the new table's configuration
     * applies, not a byte cached from the old one (IHI 0069, GICR_PROPBASER; the redistributor may cache only
     * what the current table holds).
     */
    @Test
    void propbaserMovedWhileLpisAreOffTakesTheNewTablesConfiguration() {
        try (GicRig rig = mappedAndWarm(CacheStrategy.PER_ITS)) {
            rig.driver.setConfig(LPI + 1, 0xA2); // disabled in the old table
            rig.its().mapti(DEV, 4, LPI + 1, 2);
            for (int pe = 0; pe < 2; pe++) {
                rig.driver.disableLpis(pe);
            }
            rig.driver.initLpiTables(true); // a new configuration table, all zero: every LPI disabled
            rig.driver.setConfig(LPI + 1, CONFIG_DEFAULT); // enabled in the new table
            for (int pe = 0; pe < 2; pe++) {
                rig.driver.enableLpis(pe);
            }
            rig.msi(DEV, 3);
            assertThat(rig.takeAll(1)).as("LPI %d is disabled in the new table", LPI).isEmpty();
            rig.msi(DEV, 4);
            assertThat(rig.takeAll(1)).as("LPI %d is enabled in the new table", LPI + 1).containsExactly(LPI + 1);
        }
    }

    /** GICR_PROPBASER.IDbits shrunk while LPIs are off: an LPI beyond the new table is disabled. */
    @Test
    void propbaserWithFewerIdBitsDisablesLpisBeyondTheTable() {
        try (GicRig rig = GicRig.booted(1, CacheStrategy.PER_ITS)) {
            ItsCommandQueue its = rig.its();
            rig.driver.setConfig(60000, CONFIG_DEFAULT);
            its.mapd(1, 4, rig.driver.allocateItt(4), true);
            its.mapc(0, 0, true);
            its.mapti(1, 0, 60000, 0);
            rig.msi(1, 0);
            assertThat(rig.takeAll(0)).containsExactly(60000);
            rig.driver.disableLpis(0);
            long prop = rig.readGicr(0, RedistributorRegisterDescriptor.GICR_PROPBASER, 8);
            rig.writeGicr(0, RedistributorRegisterDescriptor.GICR_PROPBASER, 8, (prop & ~0x1FL) | 13); // 14 bits
            rig.driver.enableLpis(0);
            rig.msi(1, 0);
            assertThat(rig.takeAll(0)).as("INTID 60000 lies beyond a 14-bit configuration table").isEmpty();
        }
    }

    /**
     * GICR_PENDBASER moved while EnableLPIs is 0: the new table's bits become pending (PTZ = 0), and nothing of
     * the old table or of the pending state before the disable comes back (IHI 0069, "LPI Pending tables").
     */
    @Test
    void pendbaserMovedWhileLpisAreOffReadsOnlyTheNewTable() {
        try (GicRig rig = mappedAndWarm(CacheStrategy.PER_ITS)) {
            rig.driver.setConfig(LPI + 1, CONFIG_DEFAULT);
            rig.its().mapti(DEV, 4, LPI + 1, 2);
            rig.msi(DEV, 3); // pending at PE 1 before the disable: dropped by it
            rig.driver.disableLpis(1);
            rig.driver.setPendingBit(1, LPI, true); // in the old table
            long fresh = rig.driver.allocate(LpiTableDescriptor.PENDING_TABLE_BYTES, LpiTableDescriptor.PENDING_TABLE_ALIGN);
            rig.memory.write8(fresh + LpiTableDescriptor.pendingByteOffset(LPI + 1),
                    (byte) (1 << LpiTableDescriptor.pendingBit(LPI + 1)));
            rig.writeGicr(1, RedistributorRegisterDescriptor.GICR_PENDBASER, 8, fresh);
            rig.driver.enableLpis(1);
            assertThat(rig.takeAll(1)).as("only the new table's pending bit").containsExactly(LPI + 1);
        }
    }

    /**
     * GITS_CBASER rewritten while the ITS is disabled: CREADR and CWRITER restart at 0 (KVM), so commands written in
     * the old queue never run, even when CWRITER had moved past them before the rewrite.
     */
    @Test
    void cbaserRewriteDropsCommandsOfTheOldQueue() {
        try (GicRig rig = GicRig.booted(1, 1, CacheStrategy.PER_ITS, 1)) {
            ItsCommandQueue its = rig.its();
            rig.driver.setConfig(8192, CONFIG_DEFAULT);
            its.mapd(1, 4, rig.driver.allocateItt(4), true);
            its.mapc(0, 0, true);
            rig.writeIts(0, GITS_CTLR, 4, 0);
            its.enqueue(ItsCommandDescriptor.dw0(ItsCommandDescriptor.MAPTI, 1), ItsCommandDescriptor.dw1(0, 8192),
                    ItsCommandDescriptor.dw2(0, 0, false), 0);
            its.publish(); // CWRITER moves; the disabled ITS runs nothing
            assertThat(rig.readIts(0, GITS_CWRITER, 8)).isNotEqualTo(rig.readIts(0, GITS_CREADR, 8));
            ItsCommandQueue fresh = rig.driver.replaceCommandQueue(0, 1);
            assertThat(rig.readIts(0, GITS_CREADR, 8)).isZero();
            fresh.sync(0);
            assertThat(rig.msi(1, 0)).as("the MAPTI left in the old queue never ran")
                    .isEqualTo(InjectResult.dropped(DropReason.EVENT_UNMAPPED));
        }
    }
}
