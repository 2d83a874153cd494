package dev.jvmm.gic;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.core.machine.MemoryMap;
import org.junit.jupiter.api.Test;

import static dev.jvmm.gic.ItsRegisterDescriptor.*;
import static org.assertj.core.api.Assertions.assertThat;

/** Registers as a guest probes them (kvm-unit-tests {@code its-introspection} and the reference's register list). */
class RegisterConformanceTest {

    @Test
    void itsIntrospection() {
        try (GicRig rig = GicRig.bare(4, 1, CacheStrategy.PER_ITS)) {
            long typer = rig.readIts(0, GITS_TYPER, 8);
            assertThat(typer & TYPER_PHYSICAL).as("TYPER.Physical").isEqualTo(1);
            assertThat((typer >>> TYPER_ID_BITS_SHIFT) & 0x1F).as("EventID bits - 1").isEqualTo(15);
            assertThat((typer >>> TYPER_DEVICE_BITS_SHIFT) & 0x1F).as("DeviceID bits - 1").isEqualTo(15);
            assertThat((typer >>> TYPER_ITT_ENTRY_SIZE_SHIFT) & 0xF).as("ITT entry size - 1").isEqualTo(7);
            assertThat(typer & TYPER_PTA).as("PTA = 0: RDbase is a processor number").isZero();
            assertThat(typer & TYPER_CIL).as("CIL = 0: 16-bit ICIDs").isZero();
            assertThat(rig.readIts(0, GITS_TYPER + 4, 4)).as("upper half through a 32-bit read").isEqualTo(typer >>> 32);

            long iidr = rig.readIts(0, GITS_IIDR, 4);
            rig.writeIts(0, GITS_IIDR, 4, ~iidr & 0xFFFF_FFFFL);
            rig.writeIts(0, GITS_TYPER, 8, ~typer);
            rig.writeIts(0, GITS_TYPER, 4, 0);
            assertThat(rig.readIts(0, GITS_IIDR, 4)).as("GITS_IIDR is read-only").isEqualTo(iidr);
            assertThat(rig.readIts(0, GITS_TYPER, 8)).as("GITS_TYPER is read-only").isEqualTo(typer);
            assertThat(rig.readIts(0, GITS_PIDR2, 4) >>> 4 & 0xF).as("PIDR2.ArchRev = GICv3").isEqualTo(3);

            long dev = rig.readIts(0, baser(0), 8);
            long col = rig.readIts(0, baser(1), 8);
            assertThat((dev & BASER_TYPE_MASK) >>> BASER_TYPE_SHIFT).as("BASER0 is the device table").isEqualTo(BASER_TYPE_DEVICE);
            assertThat((col & BASER_TYPE_MASK) >>> BASER_TYPE_SHIFT).as("BASER1 is the collection table").isEqualTo(BASER_TYPE_COLLECTION);
            assertThat((dev & BASER_ENTRY_SIZE_MASK) >>> BASER_ENTRY_SIZE_SHIFT).as("8-byte entries").isEqualTo(7);
            for (int n = 2; n < BASER_COUNT; n++) {
                rig.writeIts(0, baser(n), 8, -1L);
                assertThat(rig.readIts(0, baser(n), 8)).as("BASER%d is RAZ/WI", n).isZero();
            }
        }
    }

    @Test
    void baserTypeAndEntrySizeAreReadOnlyAndWritesAreIgnoredWhileEnabled() {
        try (GicRig rig = GicRig.bare(2, 1, CacheStrategy.PER_ITS)) {
            long before = rig.readIts(0, baser(0), 8);
            rig.writeIts(0, baser(0), 8, BASER_VALID | 0x4010_0000L | (0x1FL << BASER_ENTRY_SIZE_SHIFT)
                    | (7L << BASER_TYPE_SHIFT) | 3);
            long after = rig.readIts(0, baser(0), 8);
            assertThat(after & (BASER_TYPE_MASK | BASER_ENTRY_SIZE_MASK))
                    .as("Type and Entry_Size ignore writes").isEqualTo(before & (BASER_TYPE_MASK | BASER_ENTRY_SIZE_MASK));
            assertThat(after & BASER_PA_MASK).isEqualTo(0x4010_0000L);
            assertThat(after & BASER_SIZE_MASK).isEqualTo(3);
            rig.writeIts(0, baser(0), 4, 0x4020_0000L);
            assertThat(rig.readIts(0, baser(0), 8) & BASER_PA_MASK).as("32-bit write of the low half").isEqualTo(0x4020_0000L);

            rig.driver.initIts(0, 1);
            long enabled = rig.readIts(0, baser(1), 8);
            rig.writeIts(0, baser(1), 8, 0);
            assertThat(rig.readIts(0, baser(1), 8)).as("BASER writes are ignored while the ITS is enabled").isEqualTo(enabled);
            long cbaser = rig.readIts(0, GITS_CBASER, 8);
            rig.writeIts(0, GITS_CBASER, 8, 0);
            assertThat(rig.readIts(0, GITS_CBASER, 8)).as("CBASER writes are ignored while enabled").isEqualTo(cbaser);
        }
    }

    @Test
    void enablingNeedsValidTablesAndQueue() {
        try (GicRig rig = GicRig.bare(1, 1, CacheStrategy.PER_ITS)) {
            rig.writeIts(0, GITS_CTLR, 4, CTLR_ENABLED);
            assertThat(rig.readIts(0, GITS_CTLR, 4) & CTLR_ENABLED).as("no valid BASER/CBASER: stays disabled").isZero();
            rig.driver.initIts(0, 1);
            assertThat(rig.readIts(0, GITS_CTLR, 4) & CTLR_ENABLED).isEqualTo(1);
            assertThat(rig.readIts(0, GITS_CTLR, 4) & 0x8000_0000L).as("Quiescent with an empty queue").isNotZero();
        }
    }

    @Test
    void cbaserWriteResetsCreadrAndCwriterBeyondTheQueueIsIgnored() {
        try (GicRig rig = GicRig.booted(1, 1, CacheStrategy.PER_ITS, 1)) {
            rig.its().sync(0);
            rig.its().sync(0);
            assertThat(rig.readIts(0, GITS_CREADR, 8)).isEqualTo(64);
            rig.writeIts(0, GITS_CREADR, 8, 0);
            assertThat(rig.readIts(0, GITS_CREADR, 8)).as("GITS_CREADR is read-only").isEqualTo(64);
            rig.writeIts(0, GITS_CWRITER, 8, 4096);
            assertThat(rig.readIts(0, GITS_CWRITER, 8)).as("CWRITER beyond a 1-page queue is ignored").isEqualTo(64);

            rig.writeIts(0, GITS_CTLR, 4, 0);
            rig.writeIts(0, GITS_CBASER, 8, rig.readIts(0, GITS_CBASER, 8));
            assertThat(rig.readIts(0, GITS_CREADR, 8)).as("a CBASER write resets CREADR").isZero();
            assertThat(rig.readIts(0, GITS_CWRITER, 8)).isZero();
        }
    }

    @Test
    void distributorAndRedistributors() {
        try (GicRig rig = GicRig.bare(3, 1, CacheStrategy.PER_ITS)) {
            long typer = rig.bus.read(MemoryMap.GICD_BASE + DistributorRegisterDescriptor.GICD_TYPER, 4);
            assertThat(typer & DistributorRegisterDescriptor.TYPER_LPIS).as("GICD_TYPER.LPIS").isNotZero();
            assertThat(typer >>> DistributorRegisterDescriptor.TYPER_ID_BITS_SHIFT & 0x1F).as("16 INTID bits").isEqualTo(15);
            rig.bus.write(MemoryMap.GICD_BASE + DistributorRegisterDescriptor.GICD_TYPER, 4, 0);
            assertThat(rig.bus.read(MemoryMap.GICD_BASE + DistributorRegisterDescriptor.GICD_TYPER, 4)).isEqualTo(typer);
            rig.bus.write(MemoryMap.GICD_BASE, 4, DistributorRegisterDescriptor.CTLR_ENABLE_GRP1);
            assertThat(rig.bus.read(MemoryMap.GICD_BASE, 4)).as("ARE and DS read as one")
                    .isEqualTo(DistributorRegisterDescriptor.CTLR_ENABLE_GRP1 | DistributorRegisterDescriptor.CTLR_ARE
                            | DistributorRegisterDescriptor.CTLR_DS);
            assertThat(rig.bus.read(MemoryMap.GICD_BASE + DistributorRegisterDescriptor.GICD_PIDR2, 4) >>> 4 & 0xF).isEqualTo(3);

            for (int pe = 0; pe < 3; pe++) {
                long t = rig.readGicr(pe, RedistributorRegisterDescriptor.GICR_TYPER, 8);
                assertThat(t & RedistributorRegisterDescriptor.TYPER_PLPIS).isEqualTo(1);
                assertThat(t >>> 8 & 0xFFFF).as("Processor_Number").isEqualTo(pe);
                assertThat(t & RedistributorRegisterDescriptor.TYPER_LAST).as("Last on the last one only")
                        .isEqualTo(pe == 2 ? RedistributorRegisterDescriptor.TYPER_LAST : 0);
                assertThat(t >>> 32).as("affinity Aff0 = processor").isEqualTo(pe);
                assertThat(rig.readGicr(pe, RedistributorRegisterDescriptor.GICR_PIDR2, 4) >>> 4 & 0xF).isEqualTo(3);
                rig.writeGicr(pe, RedistributorRegisterDescriptor.GICR_TYPER, 8, 0);
                assertThat(rig.readGicr(pe, RedistributorRegisterDescriptor.GICR_TYPER, 8)).isEqualTo(t);
            }

            int waker = (int) rig.readGicr(0, RedistributorRegisterDescriptor.GICR_WAKER, 4);
            assertThat(waker).as("asleep out of reset").isEqualTo(RedistributorRegisterDescriptor.WAKER_PROCESSOR_SLEEP
                    | RedistributorRegisterDescriptor.WAKER_CHILDREN_ASLEEP);
            rig.writeGicr(0, RedistributorRegisterDescriptor.GICR_WAKER, 4, 0);
            assertThat(rig.readGicr(0, RedistributorRegisterDescriptor.GICR_WAKER, 4)).as("awake: ChildrenAsleep = 0").isZero();
        }
    }

    @Test
    void propbaserAndPendbaserIgnoreWritesWhileLpisAreEnabledAndPtzReadsAsZero() {
        try (GicRig rig = GicRig.bare(2, 1, CacheStrategy.PER_ITS)) {
            rig.driver.initLpiTables(true);
            long pend = rig.readGicr(0, RedistributorRegisterDescriptor.GICR_PENDBASER, 8);
            assertThat(pend & RedistributorRegisterDescriptor.PENDBASER_PTZ).as("PTZ reads as zero").isZero();
            assertThat(pend).isEqualTo(rig.driver.pendingTable(0));
            long prop = rig.readGicr(1, RedistributorRegisterDescriptor.GICR_PROPBASER, 8);
            assertThat(prop).as("PROPBASER is common to every redistributor").isEqualTo(rig.driver.configTable() | 15);

            rig.driver.enableLpis(0);
            assertThat(rig.driver.lpisEnabled(0)).isTrue();
            rig.writeGicr(0, RedistributorRegisterDescriptor.GICR_PENDBASER, 8, 0x4100_0000L);
            rig.writeGicr(0, RedistributorRegisterDescriptor.GICR_PROPBASER, 8, 0x4100_0000L);
            assertThat(rig.readGicr(0, RedistributorRegisterDescriptor.GICR_PENDBASER, 8)).isEqualTo(pend);
            assertThat(rig.readGicr(0, RedistributorRegisterDescriptor.GICR_PROPBASER, 8)).isEqualTo(prop);
        }
    }

    /**
     * IHI 0069, GITS_TRANSLATER: the DeviceID comes from the bus (a device's MSI write); a vCPU's store carries
     * DeviceID 0, as QEMU gives a CPU access requester id 0 (the guests of guests/its test the ITS that way).
     * 16- and 32-bit writes only; other widths and offsets of the translation frame are ignored.
     */
    @Test
    void translaterTakesTheDeviceIdFromTheBusAndACpuStoreIsDeviceZero() {
        try (GicRig rig = GicRig.booted(2, 1, CacheStrategy.PER_ITS, 1)) {
            rig.driver.setConfig(8200, LpiTableDescriptor.CONFIG_DEFAULT);
            rig.driver.setConfig(8201, LpiTableDescriptor.CONFIG_DEFAULT);
            rig.its().mapd(5, 4, rig.driver.allocateItt(4), true);
            rig.its().mapd(0, 4, rig.driver.allocateItt(4), true);
            rig.its().mapc(1, 1, true);
            rig.its().mapti(5, 3, 8200, 1);
            rig.its().mapti(0, 3, 8201, 1);
            long translater = rig.gic.msiTarget(0, 5).doorbell();
            rig.bus.write(translater, 4, 3, 5);
            assertThat(rig.takeAll(1)).as("an MSI write from DeviceID 5").containsExactly(8200);
            rig.bus.write(translater, 4, 3);
            assertThat(rig.takeAll(1)).as("a vCPU store is DeviceID 0 (QEMU)").containsExactly(8201);
            rig.bus.write(translater, 2, 3, 5);
            assertThat(rig.takeAll(1)).as("a 16-bit write").containsExactly(8200);
            rig.bus.write(translater, 1, 3, 5);
            rig.bus.write(translater, 8, 3, 5);
            rig.bus.write(translater + 4, 4, 3, 5);
            assertThat(rig.takeAll(1)).as("byte, 64-bit and misplaced writes").isEmpty();
            assertThat(rig.stats().its().get(0).translaterIgnored()).isEqualTo(3);
            assertThat(rig.bus.read(translater, 4)).as("write-only").isZero();
            assertThat(InjectResult.isDropped(rig.gic.injectSlow(translater + 4, 3, 5, 0))).as("not a doorbell").isTrue();
        }
    }
}
