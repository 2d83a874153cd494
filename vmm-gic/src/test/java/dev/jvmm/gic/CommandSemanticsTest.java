package dev.jvmm.gic;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.core.irq.IrqObserver;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.vcpu.SystemRegister;
import dev.jvmm.gic.guest.GicDriver;
import dev.jvmm.core.vcpu.GuestAccess;
import dev.jvmm.gic.guest.ItsCommandQueue;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.jvmm.gic.LpiTableDescriptor.CONFIG_DEFAULT;
import static org.assertj.core.api.Assertions.assertThat;

/** What each command does to mappings and pending state, beyond the kvm-unit-tests sequences. */
class CommandSemanticsTest {

    /** Device 1, events 0..3 -> LPIs 8192..8195, event e in collection e (collection c on PE c). */
    private static GicRig fourOnFour(CacheStrategy strategy) {
        GicRig rig = GicRig.booted(4, strategy);
        ItsCommandQueue its = rig.its();
        its.mapd(1, 2, rig.driver.allocateItt(2), true);
        for (int e = 0; e < 4; e++) {
            its.mapc(e, e, true);
            rig.driver.setConfig(8192 + e, CONFIG_DEFAULT);
            its.mapti(1, e, 8192 + e, e);
        }
        return rig;
    }

    @Test
    void movallMovesOnlyTheLpisThatTargetRdbase1() {
        try (GicRig rig = fourOnFour(CacheStrategy.PER_ITS)) {
            for (int e = 0; e < 4; e++) {
                rig.msi(1, e);
            }
            rig.its().movall(0, 2);
            assertThat(rig.takeAllEverywhere()).as("only PE 0's LPI moved, to PE 2")
                    .containsExactly(List.of(), List.of(8193), List.of(8192, 8194), List.of(8195));
            assertThat(InjectResult.describe(rig.msi(1, 0))).isEqualTo("delivered INTID 8192 to vCPU 2");
            assertThat(InjectResult.describe(rig.msi(1, 1))).as("PE 1's LPI stayed").isEqualTo("delivered INTID 8193 to vCPU 1");
        }
    }

    @Test
    void moviAndMapcRetargetMovePendingState() {
        try (GicRig rig = fourOnFour(CacheStrategy.GLOBAL_LRU)) {
            rig.msi(1, 0);
            rig.msi(1, 1);
            rig.its().movi(1, 0, 3);
            rig.its().mapc(1, 2, true);
            assertThat(rig.takeAllEverywhere()).as("MOVI moved 8192 to PE 3; MAPC moved collection 1 to PE 2")
                    .containsExactly(List.of(), List.of(), List.of(8193), List.of(8192));
            assertThat(InjectResult.describe(rig.msi(1, 1))).isEqualTo("delivered INTID 8193 to vCPU 2");
        }
    }

    @Test
    void clearRemovesThePendingStateAndDiscardRemovesMappingAndPendingState() {
        try (GicRig rig = fourOnFour(CacheStrategy.SHARDED)) {
            rig.msi(1, 0);
            rig.msi(1, 1);
            rig.its().clear(1, 0);
            rig.its().discard(1, 1);
            assertThat(rig.takeAllEverywhere()).containsOnly(List.of());
            assertThat(InjectResult.describe(rig.msi(1, 0))).as("CLEAR kept the mapping").isEqualTo("delivered INTID 8192 to vCPU 0");
            assertThat(InjectResult.describe(rig.msi(1, 1))).isEqualTo("dropped: EVENT_UNMAPPED");
            assertThat(rig.stats().lpisMapped()).isEqualTo(3);
        }
    }

    @Test
    void invPicksUpANewPriority() {
        try (GicRig rig = GicRig.booted(1, CacheStrategy.PER_ITS)) {
            ItsCommandQueue its = rig.its();
            rig.raiseEventsOnPe0(1, 2, 2);
            rig.driver.setConfig(8193, 0x23);
            its.inv(1, 1);
            assertThat(rig.takeAll(0)).as("8193 became more urgent while pending").containsExactly(8193, 8192);
        }
    }

    @Test
    void lpisAreMachineWideAcrossTwoItses() {
        try (GicRig rig = GicRig.booted(2, 2, CacheStrategy.PER_ITS, 1)) {
            for (int i = 0; i < 2; i++) {
                ItsCommandQueue its = rig.its(i);
                its.mapd(5, 2, rig.driver.allocateItt(2), true);
                its.mapc(0, 0, true);
                rig.driver.setConfig(8192 + i, CONFIG_DEFAULT);
                its.mapti(5, 0, 8192 + i, 0);
            }
            assertThat(InjectResult.describe(rig.msi(0, 5, 0))).isEqualTo("delivered INTID 8192 to vCPU 0");
            assertThat(InjectResult.describe(rig.msi(1, 5, 0))).as("same DeviceID, other ITS").isEqualTo("delivered INTID 8193 to vCPU 0");
            rig.its(1).movall(0, 1);
            assertThat(rig.takeAllEverywhere()).as("MOVALL moves every LPI of PE 0, whichever ITS maps it")
                    .containsExactly(List.of(), List.of(8192, 8193));
            assertThat(rig.stats().cache().size()).as("MOVALL flushed ITS 1 only").isEqualTo(1);
        }
    }

    @Test
    void theObserverSeesSignalAndPendingTimesOfMsisAndZeroForInt() {
        GuestMemory ram = GuestMemory.create(MemoryMap.RAM_BASE, GicRig.RAM_SIZE);
        List<long[]> acks = new ArrayList<>();
        IrqObserver observer = new IrqObserver() {
            @Override
            public void acknowledged(int vcpu, int intid, long signalNanos, long pendingNanos, long ackNanos) {
                acks.add(new long[]{vcpu, intid, signalNanos, pendingNanos, ackNanos});
            }
        };
        MmioBus bus = new MmioBus();
        GicV3 gic = GicV3.builder(ram, bus).vcpus(1).observer(observer).build();
        try {
            GicDriver d = new GicDriver(GuestAccess.of(bus, ram), 1, 1, GicRig.ARENA, GicRig.ARENA_SIZE);
            d.initLpiTables(true);
            d.enableLpis(0);
            gic.writeSystemRegister(0, SystemRegister.ICC_PMR_EL1, 0xFF);
            gic.writeSystemRegister(0, SystemRegister.ICC_IGRPEN1_EL1, 1);
            ItsCommandQueue its = d.initIts(0, 1);
            its.mapd(1, 1, d.allocateItt(1), true);
            its.mapc(0, 0, true);
            d.setConfig(8192, CONFIG_DEFAULT);
            its.mapti(1, 0, 8192, 0);
            long signal = System.nanoTime();
            gic.injectSlow(gic.doorbell(0), 0, 1, signal);
            assertThat(gic.readSystemRegister(0, SystemRegister.ICC_IAR1_EL1)).isEqualTo(8192);
            gic.writeSystemRegister(0, SystemRegister.ICC_EOIR1_EL1, 8192);
            its.interrupt(1, 0);
            assertThat(gic.readSystemRegister(0, SystemRegister.ICC_IAR1_EL1)).isEqualTo(8192);
            assertThat(acks).hasSize(2);
            long[] msi = acks.get(0);
            assertThat(msi[2]).as("signal time of the MSI").isEqualTo(signal);
            assertThat(msi[3]).as("made pending after it was signalled").isGreaterThanOrEqualTo(signal);
            assertThat(msi[4]).as("acknowledged after it was pending").isGreaterThanOrEqualTo(msi[3]);
            assertThat(acks.get(1)[2]).as("INT: not raised by an MSI").isZero();
            assertThat(acks.get(1)[3]).isZero();
        } finally {
            gic.close();
            ram.close();
        }
    }
}
