package dev.jvmm.gic;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.core.config.ConfigException;
import dev.jvmm.core.config.ConfigLoader;
import dev.jvmm.core.irq.DropReason;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.core.irq.MsiTarget;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.gic.cache.CacheStrategy;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What an embedder of the GIC alone relies on (the README's embedding section). */
class EmbeddingTest {

    @Test
    void theGicTellsWhereEachFrameIsAndHandsDevicesTheirMsiTargets() {
        try (GuestMemory ram = GuestMemory.create(MemoryMap.RAM_BASE, 16L << 20)) {
            MmioBus bus = new MmioBus();
            GicV3 gic = GicV3.builder(ram, bus).vcpus(2).itsCount(2).cache(CacheStrategy.PER_ITS).build();
            try {
                assertThat(gic.distributorBase()).isEqualTo(0x0800_0000L);
                assertThat(gic.itsBase(0)).as("ITS 0 of QEMU's virt map").isEqualTo(0x0808_0000L);
                assertThat(gic.itsBase(1)).as("ITS 1, after the last redistributor").isEqualTo(MemoryMap.its(1, 2));
                assertThat(gic.redistributorBase(1)).isEqualTo(0x080A_0000L + 0x2_0000L);
                MsiTarget t = gic.msiTarget(1, 7);
                assertThat(t.doorbell()).as("GITS_TRANSLATER of ITS 1")
                        .isEqualTo(gic.itsBase(1) + ItsRegisterDescriptor.GITS_TRANSLATER);
                assertThat(t.deviceId()).isEqualTo(7);
                assertThat(t.controller()).isEqualTo(1);
                assertThatThrownBy(() -> gic.msiTarget(2, 0)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessage("no ITS 2; the GIC has 2 (0..1)");
                assertThatThrownBy(() -> gic.msiTarget(0, 1 << 16)).hasMessageContaining("16 DeviceID bits");
                // The synchronous MSI of the InterruptController contract: cached path, then slow path.
                assertThat(InjectResult.reason(gic.inject(t.doorbell(), 0, 7, System.nanoTime())))
                        .as("no MAPD for the device yet").isEqualTo(DropReason.ITS_DISABLED);
            } finally {
                gic.close();
            }
        }
    }

    @Test
    void aGicWithoutVcpusServesADeviceOnlyMachine() {
        try (GuestMemory ram = GuestMemory.create(MemoryMap.RAM_BASE, 16L << 20)) {
            GicV3 gic = GicV3.builder(ram, new MmioBus()).vcpus(0).build();
            try {
                assertThat(gic.vcpuCount()).isZero();
                assertThat(gic.hasPendingInterrupt(0)).isFalse();
                MsiTarget t = gic.msiTarget(0, 1);
                assertThat(InjectResult.isDropped(gic.inject(t.doorbell(), 0, 1, 0))).isTrue();
            } finally {
                gic.close();
            }
        }
    }

    @Test
    void theGicSectionIsReadAndCheckedByVmmGic() {
        ConfigLoader loader = ConfigLoader.of(GicConfig.SECTION);
        GicConfig g = loader.parse("gic:\n  its-count: 2\n  cache: sharded\n  cache-shards: 4\n", "g.yaml")
                .get(GicConfig.SECTION);
        assertThat(g).isEqualTo(new GicConfig(2, CacheStrategy.SHARDED, 4, 16));
        assertThat(loader.parse("machine:\n  vcpus: 1\n", "d.yaml").get(GicConfig.SECTION)).isEqualTo(GicConfig.defaults());
        assertThatThrownBy(() -> loader.parse("gic:\n  cache: lru\n", "bad.yaml")).isInstanceOf(ConfigException.class)
                .hasMessage("bad.yaml:2: gic.cache: must be one of none, global-lru, sharded, per-its, got 'lru'");
        assertThatThrownBy(() -> loader.parse("machine:\n  vcpus: 124\n", "bad.yaml"))
                .hasMessage("bad.yaml:2: machine.vcpus: must be between 0 and 123 (the redistributors of QEMU's virt"
                        + " memory map), got 124");
        assertThatThrownBy(() -> loader.parse("gic:\n  its-count: 5\n", "bad.yaml"))
                .hasMessage("bad.yaml:2: gic.its-count: must be between 1 and 4, got 5");
    }
}
