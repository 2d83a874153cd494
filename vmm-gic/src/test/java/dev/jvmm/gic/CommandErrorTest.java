package dev.jvmm.gic;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.gic.guest.ItsCommandQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.function.Consumer;
import java.util.stream.Stream;

import static dev.jvmm.gic.ItsRegisterDescriptor.*;
import static dev.jvmm.gic.LpiTableDescriptor.CONFIG_DEFAULT;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * KVM's error policy: a command with bad parameters is ignored, GITS_CREADR moves past it, later commands run, and
 * the error is counted by code.
 */
class CommandErrorTest {
    static final int VCPUS = 2;

    /** Device 1 (8 EventID bits) mapped, collection 0 on PE 0, event 0 -> LPI 8192, collection 5 unmapped. */
    static GicRig rig() {
        GicRig rig = GicRig.booted(VCPUS, 1, CacheStrategy.PER_ITS, 1);
        ItsCommandQueue its = rig.its();
        rig.driver.setConfig(8192, CONFIG_DEFAULT);
        its.mapd(1, 8, rig.driver.allocateItt(8), true);
        its.mapc(0, 0, true);
        its.mapti(1, 0, 8192, 0);
        its.mapti(1, 7, 8199, 5); // collection 5 is never mapped
        return rig;
    }

    static Stream<Arguments> badCommands() {
        return Stream.of(
                bad("MOVI of an unmapped event", ItsCommandError.MOVI_UNMAPPED_INTERRUPT, q -> q.movi(1, 3, 0)),
                bad("MOVI to an unmapped collection", ItsCommandError.MOVI_UNMAPPED_COLLECTION, q -> q.movi(1, 0, 9)),
                bad("MOVI of an event in an unmapped collection", ItsCommandError.MOVI_UNMAPPED_COLLECTION, q -> q.movi(1, 7, 0)),
                bad("INT of an unmapped device", ItsCommandError.INT_UNMAPPED_INTERRUPT, q -> q.interrupt(2, 0)),
                bad("INT in an unmapped collection", ItsCommandError.INT_UNMAPPED_INTERRUPT, q -> q.interrupt(1, 7)),
                bad("CLEAR of an unmapped event", ItsCommandError.CLEAR_UNMAPPED_INTERRUPT, q -> q.clear(1, 100)),
                bad("MAPD beyond 16 DeviceID bits", ItsCommandError.MAPD_DEVICE_OOR, q -> q.mapd(1L << 16, 4, 0, true)),
                bad("MAPD with 17 EventID bits", ItsCommandError.MAPD_ITTSIZE_OOR, q -> q.mapd(4, 17, 0, true)),
                bad("MAPC to a processor that does not exist", ItsCommandError.MAPC_PROCNUM_OOR, q -> q.mapc(1, VCPUS, true)),
                bad("MAPC beyond the collection table", ItsCommandError.MAPC_COLLECTION_OOR, q -> q.mapc(4096, 1, true)),
                bad("MAPTI of an unmapped device", ItsCommandError.MAPTI_UNMAPPED_DEVICE, q -> q.mapti(9, 0, 8300, 0)),
                bad("MAPTI beyond the device's EventID bits", ItsCommandError.MAPTI_ID_OOR, q -> q.mapti(1, 256, 8300, 0)),
                bad("MAPTI of an SPI INTID", ItsCommandError.MAPTI_PHYSICALID_OOR, q -> q.mapti(1, 1, 100, 0)),
                bad("MAPTI beyond 16 INTID bits", ItsCommandError.MAPTI_PHYSICALID_OOR, q -> q.mapti(1, 1, 1 << 16, 0)),
                bad("MAPI of an EventID below 8192", ItsCommandError.MAPTI_PHYSICALID_OOR, q -> q.mapi(1, 2, 0)),
                bad("MAPTI into a collection beyond the table", ItsCommandError.MAPC_COLLECTION_OOR, q -> q.mapti(1, 1, 8300, 4096)),
                bad("INV of an unmapped event", ItsCommandError.INV_UNMAPPED_INTERRUPT, q -> q.inv(1, 100)),
                bad("INVALL of an unmapped collection", ItsCommandError.INVALL_UNMAPPED_COLLECTION, q -> q.invall(5)),
                bad("MOVALL from a processor that does not exist", ItsCommandError.MOVALL_PROCNUM_OOR, q -> q.movall(VCPUS, 0)),
                bad("MOVALL to a processor that does not exist", ItsCommandError.MOVALL_PROCNUM_OOR, q -> q.movall(0, 1000)),
                bad("DISCARD of an unmapped event", ItsCommandError.DISCARD_UNMAPPED_INTERRUPT, q -> q.discard(1, 100)),
                bad("DISCARD in an unmapped collection", ItsCommandError.DISCARD_UNMAPPED_INTERRUPT, q -> q.discard(1, 7)),
                bad("an unknown opcode", ItsCommandError.UNKNOWN_COMMAND, q -> q.send(0x20, 0, 0, 0)),
                bad("a GICv4 VMAPP", ItsCommandError.UNKNOWN_COMMAND, q -> q.send(0x29, -1L, -1L, -1L)));
    }

    private static Arguments bad(String what, ItsCommandError error, Consumer<ItsCommandQueue> command) {
        return Arguments.of(what, error, command);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("badCommands")
    void aBadCommandIsIgnoredCountedAndTheQueueMovesOn(String what, ItsCommandError error,
                                                       Consumer<ItsCommandQueue> command) {
        try (GicRig rig = rig()) {
            ItsCommandQueue its = rig.its();
            long before = its.creadr();
            command.accept(its);
            assertThat(its.creadr()).as("CREADR moved past the bad command").isEqualTo(before + 32);
            assertThat(its.stalled()).isFalse();
            ItsStats stats = rig.stats().its().get(0);
            assertThat(stats.errors()).as("exactly one error, counted by its code").containsOnlyKeys(error);
            assertThat(stats.errors(error)).isEqualTo(1);

            its.interrupt(1, 0);
            assertThat(rig.takeAll(0)).as("the mapping is intact and later commands run").containsExactly(8192);
            assertThat(stats.internalErrors()).isZero();
        }
    }

    @Test
    void mapdBeyondASmallDeviceTableIsOutOfRange() {
        try (GicRig rig = GicRig.booted(1, 1, CacheStrategy.PER_ITS, 1)) {
            rig.writeIts(0, GITS_CTLR, 4, 0);
            long table = rig.driver.allocate(4096, 4096);
            rig.writeIts(0, baser(0), 8, BASER_VALID | table); // one 4 KiB page: 512 devices
            rig.writeIts(0, GITS_CTLR, 4, CTLR_ENABLED);
            ItsCommandQueue its = rig.its();
            its.mapd(511, 1, 0, true);
            its.mapd(512, 1, 0, true);
            assertThat(rig.stats().its().get(0).errors()).containsOnlyKeys(ItsCommandError.MAPD_DEVICE_OOR);
            assertThat(rig.stats().its().get(0).devices()).isEqualTo(1);
        }
    }

    @Test
    void anIndirectDeviceTableNeedsAValidLevelOneEntry() {
        try (GicRig rig = GicRig.booted(1, 1, CacheStrategy.PER_ITS, 1)) {
            rig.writeIts(0, GITS_CTLR, 4, 0);
            long l1 = rig.driver.allocate(4096, 4096);
            rig.memory.write64(l1 + 8, BASER_L1_ENTRY_VALID | rig.driver.allocate(4096, 4096)); // devices 512..1023
            rig.writeIts(0, baser(0), 8, BASER_VALID | BASER_INDIRECT | l1);
            rig.writeIts(0, GITS_CTLR, 4, CTLR_ENABLED);
            ItsCommandQueue its = rig.its();
            its.mapd(600, 1, 0, true);
            its.mapd(10, 1, 0, true);
            assertThat(rig.stats().its().get(0).errors(ItsCommandError.MAPD_DEVICE_OOR)).as("L1 entry 0 is invalid").isEqualTo(1);
            assertThat(rig.stats().its().get(0).devices()).isEqualTo(1);
        }
    }

    @Test
    void maptiOnAnAlreadyMappedEventKeepsTheFirstMapping() {
        try (GicRig rig = rig()) {
            ItsCommandQueue its = rig.its();
            rig.driver.setConfig(8300, CONFIG_DEFAULT);
            its.mapc(1, 1, true);
            its.mapti(1, 0, 8300, 1);
            its.interrupt(1, 0);
            assertThat(rig.takeAll(0)).as("KVM keeps the first mapping (QEMU would overwrite it)").containsExactly(8192);
            assertThat(rig.takeAll(1)).isEmpty();
            assertThat(rig.stats().its().get(0).totalErrors()).as("not an error").isZero();
        }
    }

    @Test
    void maptiBeyondThePropbaserIdBitsIsOutOfRange() {
        try (GicRig rig = rig()) {
            rig.driver.disableLpis(0);
            rig.driver.disableLpis(1);
            rig.writeGicr(0, RedistributorRegisterDescriptor.GICR_PROPBASER, 8, rig.driver.configTable() | 13);
            rig.its().mapti(1, 2, 16383, 0);
            rig.its().mapti(1, 3, 16384, 0);
            assertThat(rig.stats().its().get(0).errors()).as("IDbits = 13: LPIs end at 2^14")
                    .containsOnlyKeys(ItsCommandError.MAPTI_PHYSICALID_OOR);
        }
    }
}
