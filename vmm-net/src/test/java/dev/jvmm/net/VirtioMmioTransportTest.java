package dev.jvmm.net;

import dev.jvmm.core.testing.Await;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.net.testing.GuestQueue;
import dev.jvmm.net.testing.NetDriver;
import dev.jvmm.net.testing.NetMachine;
import dev.jvmm.net.virtio.DriverError;
import dev.jvmm.net.virtio.VirtioFeatures;
import dev.jvmm.net.virtio.VirtioNetDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;

import static dev.jvmm.net.virtio.VirtioMmioRegisterDescriptor.*;
import static dev.jvmm.net.virtio.VirtioStatus.*;
import static org.assertj.core.api.Assertions.assertThat;

/** The virtio-mmio registers and the status state machine, driven through the bus as guest code would. */
@ExtendWith(SeedExtension.class)
class VirtioMmioTransportTest {
    private static final long BASE_FEATURES = VirtioFeatures.VIRTIO_F_VERSION_1 | VirtioFeatures.VIRTIO_F_EVENT_IDX
            | VirtioFeatures.VIRTIO_F_INDIRECT_DESC | VirtioFeatures.VIRTIO_NET_F_MAC | VirtioFeatures.VIRTIO_NET_F_STATUS
            | VirtioFeatures.VIRTIO_NET_F_MTU;

    private static NetMachine machine(NicConfig nic) {
        return NetMachine.create(List.of(nic));
    }

    @Test
    void identifiesAsAVersion2NetworkDevice(SeededRandom random) {
        try (NetMachine m = machine(NetMachine.udp(3, 64, true))) {
            NetDriver d = m.driver(0, random);
            assertThat(m.nic(0).mmioBase()).isEqualTo(MemoryMap.virtioSlot(3));
            assertThat(d.read(MAGIC_VALUE)).isEqualTo(0x74726976);
            assertThat(d.read(VERSION)).isEqualTo(2);
            assertThat(d.read(DEVICE_ID)).isEqualTo(1);
            assertThat(d.read(VENDOR_ID)).isEqualTo(VENDOR_JVMM);
            assertThat(d.status()).isZero();
        }
    }

    @Test
    void offersVersion1AndTheConfiguredFeatures(SeededRandom random) {
        try (NetMachine m = NetMachine.create(List.of(NetMachine.udp(0, 64, true), NetMachine.udp(1, 64, false),
                NetMachine.withPairs(NetMachine.udp(2, 64, false), 4)))) {
            assertThat(m.driver(0, random).deviceFeatures()).isEqualTo(BASE_FEATURES | VirtioFeatures.VIRTIO_NET_F_MRG_RXBUF);
            assertThat(m.driver(1, random).deviceFeatures()).isEqualTo(BASE_FEATURES);
            assertThat(m.driver(2, random).deviceFeatures())
                    .isEqualTo(BASE_FEATURES | VirtioFeatures.VIRTIO_NET_F_CTRL_VQ | VirtioFeatures.VIRTIO_NET_F_MQ);
            NetDriver d = m.driver(0, random);
            d.write(DEVICE_FEATURES_SEL, 2);
            assertThat(d.read(DEVICE_FEATURES)).as("no feature bits above 63").isZero();
        }
    }

    @Test
    void statusAcceptsOnlyTheNextStepOfTheSequence(SeededRandom random) {
        try (NetMachine m = machine(NetMachine.udp(0, 64, false))) {
            NetDriver d = m.driver(0, random);
            long before = m.nic(0).transport().errors(DriverError.ILLEGAL_STATUS_TRANSITION);
            d.write(STATUS, DRIVER);
            assertThat(d.status()).as("DRIVER before ACKNOWLEDGE").isZero();
            d.write(STATUS, ACKNOWLEDGE | DRIVER);
            assertThat(d.status()).as("two steps at once").isZero();
            d.write(STATUS, ACKNOWLEDGE);
            d.write(STATUS, ACKNOWLEDGE | DRIVER);
            d.write(STATUS, ACKNOWLEDGE | DRIVER | DRIVER_OK);
            assertThat(d.status()).as("DRIVER_OK before FEATURES_OK").isEqualTo(ACKNOWLEDGE | DRIVER);
            d.write(STATUS, ACKNOWLEDGE);
            assertThat(d.status()).as("clearing a bit").isEqualTo(ACKNOWLEDGE | DRIVER);
            assertThat(m.nic(0).transport().errors(DriverError.ILLEGAL_STATUS_TRANSITION) - before).isEqualTo(4);
            d.write(STATUS, ACKNOWLEDGE | DRIVER | FAILED);
            assertThat(d.status()).as("FAILED at any time").isEqualTo(ACKNOWLEDGE | DRIVER | FAILED);
            d.write(STATUS, ACKNOWLEDGE | DRIVER | FAILED | FEATURES_OK);
            assertThat(d.status() & FEATURES_OK).as("nothing but a reset after FAILED").isZero();
            d.write(STATUS, 0);
            assertThat(d.status()).isZero();
        }
    }

    @Test
    void featuresOkIsRefusedForAnUnacceptableSet(SeededRandom random) {
        try (NetMachine m = NetMachine.create(List.of(NetMachine.udp(0, 64, false),
                NetMachine.withPairs(NetMachine.udp(1, 64, false), 2)))) {
            NetDriver d = m.driver(0, random);
            long offered = d.deviceFeatures();
            long[] refused = {
                    offered & ~VirtioFeatures.VIRTIO_F_VERSION_1,            // a legacy driver
                    offered | VirtioFeatures.VIRTIO_NET_F_CSUM,              // a bit that was not offered
            };
            for (long f : refused) {
                d.reset();
                d.write(STATUS, ACKNOWLEDGE);
                d.write(STATUS, ACKNOWLEDGE | DRIVER);
                d.writeDriverFeatures(f);
                d.write(STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
                assertThat(d.status() & FEATURES_OK).as("FEATURES_OK for 0x%x", f).isZero();
            }
            d.reset();
            d.write(STATUS, ACKNOWLEDGE);
            d.write(STATUS, ACKNOWLEDGE | DRIVER);
            d.writeDriverFeatures(VirtioFeatures.VIRTIO_F_VERSION_1);
            d.write(DRIVER_FEATURES_SEL, 2);
            d.write(DRIVER_FEATURES, 1);
            d.write(STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
            assertThat(d.status() & FEATURES_OK).as("an unknown bit above 63").isZero();

            NetDriver mq = m.driver(1, random);
            mq.reset();
            mq.write(STATUS, ACKNOWLEDGE);
            mq.write(STATUS, ACKNOWLEDGE | DRIVER);
            mq.writeDriverFeatures(VirtioFeatures.VIRTIO_F_VERSION_1 | VirtioFeatures.VIRTIO_NET_F_MQ);
            mq.write(STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
            assertThat(mq.status() & FEATURES_OK).as("MQ without CTRL_VQ").isZero();
            assertThat(m.nic(0).transport().errors(DriverError.FEATURES_REFUSED)).isEqualTo(3);

            d.negotiate(VirtioFeatures.VIRTIO_F_VERSION_1);
            assertThat(m.nic(0).negotiatedFeatures()).isEqualTo(VirtioFeatures.VIRTIO_F_VERSION_1);
            d.writeDriverFeatures(offered);
            assertThat(m.nic(0).negotiatedFeatures()).as("features are frozen after FEATURES_OK")
                    .isEqualTo(VirtioFeatures.VIRTIO_F_VERSION_1);
        }
    }

    @Test
    void queueRegistersAreGatedByStatusAndQueueNumMaxNamesTheQueues(SeededRandom random) {
        try (NetMachine m = machine(NetMachine.udp(0, 64, false))) {
            NetDriver d = m.driver(0, random);
            d.write(QUEUE_SEL, 0);
            assertThat(d.read(QUEUE_NUM_MAX)).isEqualTo(64);
            d.write(QUEUE_SEL, 1);
            assertThat(d.read(QUEUE_NUM_MAX)).isEqualTo(64);
            d.write(QUEUE_SEL, 2);
            assertThat(d.read(QUEUE_NUM_MAX)).as("no control queue without MQ").isZero();
            d.write(QUEUE_SEL, -1);
            assertThat(d.read(QUEUE_NUM_MAX)).isZero();
            d.write(QUEUE_SEL, 0);
            d.write(QUEUE_READY, 1);
            assertThat(d.read(QUEUE_READY)).as("ready before FEATURES_OK is ignored").isZero();
            assertThat(m.nic(0).transport().errors(DriverError.QUEUE_WRITE_OUT_OF_STATE)).isEqualTo(1);

            d.negotiate(BASE_FEATURES);
            GuestQueue q = d.placeQueue(0, 64);
            d.ready(0);
            assertThat(d.read(QUEUE_READY)).isEqualTo(1);
            d.write(QUEUE_NUM, 32);
            assertThat(m.nic(0).transport().errors(DriverError.QUEUE_WRITE_WHILE_READY)).isEqualTo(1);
            d.write(QUEUE_SEL, 7);
            d.write(QUEUE_NUM, 8);
            assertThat(m.nic(0).transport().errors(DriverError.NO_SUCH_QUEUE)).isEqualTo(1);
            d.driverOk();
            assertThat(d.status()).isEqualTo(ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
            d.write(QUEUE_SEL, 1);
            d.write(QUEUE_NUM, 8);
            assertThat(m.nic(0).transport().errors(DriverError.QUEUE_WRITE_OUT_OF_STATE)).isEqualTo(2);
            d.write(QUEUE_NOTIFY, 5);
            assertThat(m.nic(0).transport().errors(DriverError.BAD_NOTIFY)).isEqualTo(1);
            assertThat(q.size()).isEqualTo(64);
        }
    }

    @Test
    void anInvalidQueueAtDriverOkSetsNeedsResetAndRaisesTheConfigInterrupt(SeededRandom random) {
        long ram = MemoryMap.RAM_BASE;
        long end = ram + NetMachine.RAM;
        long[][] bad = {
                {24, ram + 0x1000, ram + 0x3000, ram + 0x5000},           // size not a power of two
                {128, ram + 0x1000, ram + 0x3000, ram + 0x5000},          // above QueueNumMax
                {64, ram + 0x1008, ram + 0x3000, ram + 0x5000},           // descriptor table misaligned
                {64, ram + 0x1000, ram + 0x3001, ram + 0x5000},           // available ring misaligned
                {64, ram + 0x1000, ram + 0x3000, ram + 0x5002},           // used ring misaligned
                {64, ram + 0x1000, ram + 0x3000, end - 16},               // used ring runs past RAM
                {64, -16L, ram + 0x3000, ram + 0x5000},                   // wraps past 2^64
                {64, 0x1000, ram + 0x3000, ram + 0x5000},                 // not RAM at all
        };
        try (NetMachine m = machine(NetMachine.udp(0, 64, false))) {
            NetDriver d = m.driver(0, random);
            int configEventId = m.nic(0).configEventId();
            assertThat(configEventId).isEqualTo(2);
            for (int i = 0; i < bad.length; i++) {
                long[] b = bad[i];
                d.negotiate(BASE_FEATURES);
                d.programQueue(0, (int) b[0], b[1], b[2], b[3]);
                d.ready(0);
                d.driverOk();
                assertThat(d.status() & DEVICE_NEEDS_RESET).as("case %d: DEVICE_NEEDS_RESET", i).isNotZero();
                assertThat(d.read(INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG).as("case %d: InterruptStatus", i)
                        .isNotZero();
                assertThat(m.irq().count(0, configEventId)).as("case %d: config MSIs", i).isEqualTo(i + 1);
                d.write(INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
                assertThat(d.read(INTERRUPT_STATUS)).isZero();
                d.reset();
                assertThat(d.status()).as("a reset recovers").isZero();
            }
            assertThat(m.nic(0).transport().errors(DriverError.INVALID_QUEUE)).isEqualTo(bad.length);
            d.start(BASE_FEATURES, 64);
            assertThat(d.status() & DEVICE_NEEDS_RESET).isZero();
        }
    }

    @Test
    void registersTakeOnly32BitAccessesAndTheConfigSpaceAnySize(SeededRandom random) {
        NicConfig nic = NetMachine.withPairs(NetMachine.udp(0, 64, false), 3);
        try (NetMachine m = machine(nic)) {
            var bus = m.machine().bus();
            long base = m.nic(0).mmioBase();
            assertThat(bus.read(base + MAGIC_VALUE, 2)).isZero();
            assertThat(bus.read(base + MAGIC_VALUE + 1, 4)).isZero();
            bus.write(base + STATUS, 1, ACKNOWLEDGE);
            assertThat(m.nic(0).status()).isZero();
            assertThat(m.nic(0).transport().errors(DriverError.BAD_ACCESS)).isEqualTo(3);

            byte[] mac = nic.mac().bytes();
            for (int i = 0; i < 6; i++) {
                assertThat((byte) bus.read(base + CONFIG + VirtioNetDescriptor.CONFIG_MAC + i, 1)).isEqualTo(mac[i]);
            }
            assertThat(bus.read(base + CONFIG + VirtioNetDescriptor.CONFIG_STATUS, 2))
                    .isEqualTo(VirtioNetDescriptor.VIRTIO_NET_S_LINK_UP);
            assertThat(bus.read(base + CONFIG + VirtioNetDescriptor.CONFIG_MAX_VIRTQUEUE_PAIRS, 2)).isEqualTo(3);
            assertThat(bus.read(base + CONFIG + VirtioNetDescriptor.CONFIG_MTU, 2)).isEqualTo(65535);
            assertThat(bus.read(base + CONFIG + 4, 4)).as("a 32-bit read across mac and status")
                    .isEqualTo((mac[4] & 0xFFL) | (mac[5] & 0xFFL) << 8 | 1L << 16);
            assertThat(bus.read(base + CONFIG + 64, 4)).as("beyond the configuration space").isZero();
            bus.write(base + CONFIG, 1, 0x12);
            assertThat((byte) bus.read(base + CONFIG, 1)).as("read-only").isEqualTo(mac[0]);
            assertThat(m.nic(0).transport().errors(DriverError.CONFIG_WRITE)).isEqualTo(1);
        }
    }

    @Test
    void aLinkChangeBumpsConfigGenerationAndRaisesTheConfigMsi(SeededRandom random) {
        try (NetMachine m = machine(NetMachine.udp(0, 64, false))) {
            NetDriver d = m.driver(0, random);
            int g0 = d.read(CONFIG_GENERATION);
            m.nic(0).setLinkUp(false);
            assertThat(d.read(CONFIG_GENERATION)).isNotEqualTo(g0);
            assertThat(m.irq().count(0, m.nic(0).configEventId())).as("no interrupt before DRIVER_OK").isZero();
            assertThat(m.machine().bus().read(m.nic(0).mmioBase() + CONFIG + VirtioNetDescriptor.CONFIG_STATUS, 2))
                    .isZero();
            d.start(BASE_FEATURES, 64);
            int g1 = d.read(CONFIG_GENERATION);
            m.nic(0).setLinkUp(true);
            assertThat(d.read(CONFIG_GENERATION)).isNotEqualTo(g1);
            assertThat(m.irq().count(0, m.nic(0).configEventId())).isEqualTo(1);
            assertThat(d.read(INTERRUPT_STATUS)).isEqualTo(VIRTIO_MMIO_INT_CONFIG);
            int g2 = d.read(CONFIG_GENERATION);
            d.reset();
            assertThat(d.read(CONFIG_GENERATION)).as("a reset leaves ConfigGeneration alone").isEqualTo(g2);
            assertThat(d.read(INTERRUPT_STATUS)).as("a reset clears InterruptStatus").isZero();
        }
    }

    @Test
    void eachQueueRaisesItsOwnEventId(SeededRandom random) throws Exception {
        try (NetMachine m = NetMachine.start(List.of(NetMachine.udp(0, 64, false)))) {
            NetDriver d = m.driver(0, random);
            d.start(BASE_FEATURES, 64);
            assertThat(m.nic(0).queueEventId(0)).isZero();
            assertThat(m.nic(0).queueEventId(1)).isEqualTo(1);
            d.transmit(new byte[60], 1);
            assertThat(d.awaitTxDone(1, Duration.ofSeconds(5))).hasSize(1);
            assertThat(Await.until(() -> m.irq().count(0, 1) == 1, Duration.ofSeconds(5)))
                    .as("the transmit completion is EventID 1").isTrue();
            assertThat(d.read(INTERRUPT_STATUS) & VIRTIO_MMIO_INT_VRING).isNotZero();
            d.write(INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
            assertThat(d.read(INTERRUPT_STATUS)).isZero();
            assertThat(m.irq().count(0, 0)).as("nothing on receiveq1").isZero();
        }
    }

    @Test
    void aGuestMayUseTheDeviceBeforeTheHostSideIsStarted(SeededRandom random) {
        try (NetMachine m = machine(NetMachine.udp(0, 16, false))) {
            NetDriver d = m.driver(0, random);
            d.start(BASE_FEATURES, 16);
            d.postRx(2, 1526, 1);
            d.transmit(new byte[60], 2);
            assertThat(d.awaitTxDone(1, Duration.ofSeconds(5))).as("returned, though no socket exists yet").hasSize(1);
            assertThat(m.nic(0).stats().txFrames()).isEqualTo(1);
            assertThat(m.nic(0).stats().guestErrors()).isZero();
            assertThat(m.nic(0).frameBuffersOutstanding()).isZero();
        }
    }
}
