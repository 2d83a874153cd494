package dev.jvmm.gic;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.gic.guest.GicDriver;
import dev.jvmm.gic.guest.ItsCommandQueue;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

import static dev.jvmm.gic.LpiTableDescriptor.CONFIG_DEFAULT;
import static dev.jvmm.gic.LpiTableDescriptor.CONFIG_ENABLE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * kvm-unit-tests {@code arm/gic.c}, {@code its-trigger}: the ITS driven through MMIO and guest memory only, as
 * that guest does, on four vCPUs.
 */
class ItsTriggerConformanceTest {

    /** its_setup1: dev 2 event 20 -> LPI 8195 on PE 3; dev 7 event 255 -> LPI 8196 on PE 2. */
    static void setup1(GicRig rig) {
        ItsCommandQueue its = rig.its();
        setup1(rig.driver, its);
        assertThat(its.drained()).as("every setup command ran").isTrue();
    }

    /** its_setup1's commands through {@code driver}'s ITS queue {@code its} (also what MachineGuestTest's guest does). */
    static void setup1(GicDriver driver, ItsCommandQueue its) {
        driver.setConfig(8195, CONFIG_DEFAULT);
        driver.setConfig(8196, CONFIG_DEFAULT);
        its.mapd(2, 8, driver.allocateItt(8), true);
        its.mapd(7, 8, driver.allocateItt(8), true);
        its.mapc(3, 3, true);
        its.mapc(2, 2, true);
        its.invall(2);
        its.invall(3);
        its.mapti(2, 20, 8195, 3);
        its.mapti(7, 255, 8196, 2);
    }

    @ParameterizedTest
    @EnumSource(CacheStrategy.class)
    void triggerSequence(CacheStrategy strategy) {
        try (GicRig rig = GicRig.booted(4, strategy)) {
            setup1(rig);
            ItsCommandQueue its = rig.its();

            its.interrupt(2, 20);
            assertThat(rig.takeAllEverywhere()).as("INT dev 2 ev 20: only PE 3 takes LPI 8195")
                    .containsExactly(List.of(), List.of(), List.of(), List.of(8195));

            its.interrupt(7, 255);
            assertThat(rig.takeAllEverywhere()).as("INT dev 7 ev 255: PE 2 takes LPI 8196")
                    .containsExactly(List.of(), List.of(), List.of(8196), List.of());

            rig.driver.setConfig(8195, CONFIG_DEFAULT & ~CONFIG_ENABLE);
            its.inv(2, 20);
            its.interrupt(2, 20);
            assertThat(rig.takeAllEverywhere()).as("LPI 8195 disabled and INV: nobody takes it")
                    .containsOnly(List.of());

            rig.driver.setConfig(8195, CONFIG_DEFAULT);
            its.interrupt(2, 20);
            assertThat(rig.takeAllEverywhere()).as("re-enabled in memory without INV/INVALL: still nobody")
                    .containsOnly(List.of());

            its.invall(3);
            assertThat(rig.takeAllEverywhere()).as("INVALL: the latched LPI 8195 arrives exactly once, on PE 3")
                    .containsExactly(List.of(), List.of(), List.of(), List.of(8195));

            its.interrupt(2, 20);
            assertThat(rig.takeAllEverywhere()).as("INT dev 2 ev 20 now triggers")
                    .containsExactly(List.of(), List.of(), List.of(), List.of(8195));

            its.mapd(2, 8, 0, false);
            its.interrupt(2, 20);
            assertThat(rig.takeAllEverywhere()).as("no LPI after the device is unmapped").containsOnly(List.of());
            assertThat(rig.stats().commandErrors(ItsCommandError.INT_UNMAPPED_INTERRUPT)).isEqualTo(1);
            assertThat(its.drained()).isTrue();
        }
    }

    @ParameterizedTest
    @EnumSource(CacheStrategy.class)
    void msisFollowTheSameMappings(CacheStrategy strategy) {
        try (GicRig rig = GicRig.booted(4, strategy)) {
            setup1(rig);
            for (int round = 0; round < 3; round++) {
                assertThat(dev.jvmm.core.irq.InjectResult.describe(rig.msi(2, 20)))
                        .isEqualTo("delivered INTID 8195 to vCPU 3");
                assertThat(rig.takeAllEverywhere()).containsExactly(List.of(), List.of(), List.of(), List.of(8195));
            }
            assertThat(rig.kicks.get(3)).as("PE 3 was kicked for each new pending LPI").isGreaterThanOrEqualTo(3);
        }
    }
}
