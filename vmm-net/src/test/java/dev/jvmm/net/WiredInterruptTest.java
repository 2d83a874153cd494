package dev.jvmm.net;

import dev.jvmm.core.config.IrqConfig;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.InjectionMode;
import dev.jvmm.core.irq.IrqStats;
import dev.jvmm.core.irq.IrqchipRoute;
import dev.jvmm.core.irq.MsiRoute;
import dev.jvmm.core.machine.Machine;
import dev.jvmm.core.machine.MachineException;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.testing.Await;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.core.vcpu.SystemRegister;
import dev.jvmm.net.testing.CountingInterruptController;
import dev.jvmm.net.testing.NetDriver;
import dev.jvmm.net.testing.NetMachine;
import dev.jvmm.net.virtio.VirtioFeatures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;

import static dev.jvmm.net.virtio.VirtioMmioRegisterDescriptor.INTERRUPT_ACK;
import static dev.jvmm.net.virtio.VirtioMmioRegisterDescriptor.INTERRUPT_STATUS;
import static dev.jvmm.net.virtio.VirtioMmioRegisterDescriptor.VIRTIO_MMIO_INT_CONFIG;
import static dev.jvmm.net.virtio.VirtioMmioRegisterDescriptor.VIRTIO_MMIO_INT_VRING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A NIC in wired mode ({@code interrupt: wired}), driven through the bus as guest code would: every source raises the
 * slot's SPI (INTID 48 + slot) through an irqfd on an irqchip route, after setting its InterruptStatus bit, and
 * InterruptACK clears what the driver writes.
 */
@ExtendWith(SeedExtension.class)
class WiredInterruptTest {
    private static final long FEATURES = VirtioFeatures.VIRTIO_F_VERSION_1 | VirtioFeatures.VIRTIO_F_EVENT_IDX
            | VirtioFeatures.VIRTIO_NET_F_MAC | VirtioFeatures.VIRTIO_NET_F_STATUS;
    private static final Duration WAIT = Duration.ofSeconds(10);

    private static NicConfig wired(int slot) {
        return NetMachine.udp(slot, 64, false).toBuilder().interrupt(NicConfig.NicInterrupt.WIRED).build();
    }

    private static void send(DatagramSocket s, int port, int length) throws Exception {
        byte[] p = new byte[length];
        s.send(new DatagramPacket(p, p.length, InetAddress.getLoopbackAddress(), port));
    }

    @Test
    void theSlotsSpiIsRoutedThroughAnIrqchipRouteAndNoMsiIsSetUp() {
        try (NetMachine m = NetMachine.create(List.of(wired(5), NetMachine.udp(6, 64, false)))) {
            VirtioNetDevice w = m.nic(0);
            assertThat(w.interrupt()).isEqualTo(NicConfig.NicInterrupt.WIRED);
            assertThat(w.wiredIntid()).as("QEMU's virt: slot n is SPI 16 + n").isEqualTo(32 + 16 + 5)
                    .isEqualTo(MemoryMap.virtioSlotIntid(5));
            assertThat(w.msiTarget()).as("a wired NIC has no MSI parent").isNull();
            assertThat(m.nic(1).interrupt()).as("the default").isEqualTo(NicConfig.NicInterrupt.MSI);
            assertThat(m.nic(1).wiredIntid()).as("the slot's line, for a device tree, in MSI mode too").isEqualTo(54);
            List<?> routes = m.machine().irqRouter().routes();
            assertThat(routes.stream().filter(IrqchipRoute.class::isInstance).map(r -> ((IrqchipRoute) r).intid()))
                    .as("one irqchip route: the wired NIC's SPI").containsExactly(53);
            assertThat(routes.stream().filter(MsiRoute.class::isInstance).count())
                    .as("the MSI NIC's EventIDs only (2 queues and the configuration change)").isEqualTo(3);
            assertThat(m.machine().irqRouter().irqfds()).hasSize(1 + 3);
        }
    }

    @Test
    void aReceivedDatagramSetsTheUsedBufferBitThenRaisesTheSpi(SeededRandom random) throws Exception {
        for (InjectionMode mode : InjectionMode.values()) {
            try (NetMachine m = start(List.of(wired(2)), mode); DatagramSocket s = new DatagramSocket()) {
                NetDriver d = m.driver(0, random);
                d.start(FEATURES, 64);
                d.postRx(8, 1526, 1);
                assertThat(d.read(INTERRUPT_STATUS)).as("%s: nothing yet", mode).isZero();
                send(s, m.nic(0).boundPort(), 100);
                assertThat(d.awaitFrames(1, WAIT)).as("%s: the frame", mode).hasSize(1);
                CountingInterruptController irq = m.irq();
                assertThat(Await.until(() -> irq.edges(50) >= 1, WAIT)).as("%s: an edge on SPI 18 (INTID 50)", mode)
                        .isTrue();
                assertThat(d.read(INTERRUPT_STATUS)).as("%s: why the SPI was raised", mode)
                        .isEqualTo(VIRTIO_MMIO_INT_VRING);
                assertThat(irq.readSystemRegister(0, SystemRegister.ICC_IAR1_EL1)).as("%s: the guest takes", mode)
                        .isEqualTo(50);
                d.write(INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
                assertThat(d.read(INTERRUPT_STATUS)).as("%s: acknowledged", mode).isZero();
                assertThat(irq.count(m.nic(0).config().deviceId())).as("%s: no MSI at all", mode).isZero();
                long edges = irq.edges(50);
                assertThat(m.nic(0).stats().msisSignalled()).as("%s: interrupts the NIC signalled (signals may"
                        + " coalesce in the irqfd, as in KVM)", mode).isGreaterThanOrEqualTo(edges);
                // The router counts a raise once the controller's pulse has returned: wait for it to catch up.
                assertThat(Await.until(() -> {
                    IrqStats st = m.machine().irqRouter().stats();
                    return st.irqchipRaised() == irq.edges(50)
                            && st.irqchipLatencyNanos().getTotalCount() == irq.edges(50);
                }, WAIT)).as("%s: every edge counted by the router as an irqchip raise, its signal -> raised"
                        + " latency recorded", mode).isTrue();
            }
        }
    }

    @Test
    void everyNotificationRaisesAnEdgeEvenBeforeTheDriverAcknowledges(SeededRandom random) throws Exception {
        try (NetMachine m = start(List.of(wired(0)), InjectionMode.INLINE); DatagramSocket s = new DatagramSocket()) {
            // Without EVENT_IDX and with interrupts enabled, the device notifies after each receive batch.
            NetDriver d = m.driver(0, random);
            d.start(VirtioFeatures.VIRTIO_F_VERSION_1, 64);
            d.postRx(32, 1526, 1);
            int port = m.nic(0).boundPort();
            for (int i = 0; i < 10; i++) {
                long before = m.irq().edges(48);
                send(s, port, 60);
                assertThat(d.awaitFrames(1, WAIT)).hasSize(1);
                assertThat(Await.until(() -> m.irq().edges(48) > before, WAIT))
                        .as("datagram %d: an edge though InterruptStatus was never acknowledged", i).isTrue();
            }
            assertThat(d.read(INTERRUPT_STATUS)).isEqualTo(VIRTIO_MMIO_INT_VRING);
        }
    }

    @Test
    void aConfigurationChangeSetsItsBitAndRaisesTheSameSpi(SeededRandom random) {
        try (NetMachine m = NetMachine.create(List.of(wired(3)))) {
            NetDriver d = m.driver(0, random);
            m.nic(0).setLinkUp(false);
            assertThat(m.irq().edges(51)).as("no interrupt before DRIVER_OK").isZero();
            d.start(FEATURES, 64);
            m.nic(0).setLinkUp(true);
            assertThat(m.irq().edges(51)).isEqualTo(1);
            assertThat(d.read(INTERRUPT_STATUS)).isEqualTo(VIRTIO_MMIO_INT_CONFIG);
            d.write(INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
            assertThat(d.read(INTERRUPT_STATUS)).as("acknowledging another bit clears nothing")
                    .isEqualTo(VIRTIO_MMIO_INT_CONFIG);
            m.nic(0).setLinkUp(false);
            assertThat(m.irq().edges(51)).as("a second change, its bit still set: a second edge").isEqualTo(2);
            d.reset();
            assertThat(d.read(INTERRUPT_STATUS)).as("a reset clears InterruptStatus").isZero();
        }
    }

    @Test
    void aControllerWithoutWiredInterruptsIsRefusedNamingTheNicAndItsIntid() {
        VmConfig config = VmConfig.builder().vcpus(1).memorySize(NetMachine.RAM)
                .with(NicConfig.SECTION, List.of(wired(4)))
                .build();
        assertThatThrownBy(() -> Machine.builder(config)
                .interruptController(ctx -> CountingInterruptController.msiOnly(ctx))
                .devices(VirtioNetDevices.factory())
                .guest(i -> cpu -> { })
                .build())
                .isInstanceOf(MachineException.class)
                .hasMessageContaining("nic net4")
                .hasMessageContaining("INTID 52");
    }

    private static NetMachine start(List<NicConfig> nics, InjectionMode mode) {
        NetMachine m = NetMachine.create(nics, NetConfig.defaults(), VirtioNetDevices.factory(), mode);
        m.machine().start();
        return m;
    }
}
