package dev.jvmm.launcher;

import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.MsiTarget;
import dev.jvmm.core.machine.Machine;
import dev.jvmm.core.vcpu.GuestAccess;
import dev.jvmm.gic.GicV3;
import dev.jvmm.gic.ItsRegisterDescriptor;
import dev.jvmm.guest.GuestReport;
import dev.jvmm.guest.ToyGuestConfig;
import dev.jvmm.net.NetBackend;
import dev.jvmm.net.NicConfig;
import dev.jvmm.net.RxStatus;
import dev.jvmm.net.VirtioNetDevice;
import dev.jvmm.net.VirtioNetDevices;
import dev.jvmm.net.testing.GuestAllocator;
import dev.jvmm.net.testing.NetDriver;
import dev.jvmm.net.virtio.VirtioFeatures;
import io.netty.buffer.ByteBuf;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs exactly the embedding examples of the README: a machine with a backend, an event loop group and a failure
 * listener of the user's own, the GIC's frames, a synchronous MSI, and a device-only machine without vCPUs.
 */
class EmbeddingExampleTest {

    /**
     * The user's backend: it makes up {@code TOTAL} UDP datagrams for the guest (addressed to its MAC, IP and port,
     * valid IPv4 checksum, UDP checksum zero) and offers them whenever the guest has room.
     */
    static final class MyBackend implements NetBackend {
        static final int TOTAL = 500;
        private Guest guest;
        private int sent;

        @Override
        public void start(Guest g) {
            guest = g;
        }

        // transmit: NetBackend's default releases the frame (the guest's ARP request: nobody answers it here).

        @Override
        public void receiveReady() {
            while (sent < TOTAL && guest.receiveRoom() > 0) {
                ByteBuf f = guest.frameBuffer();
                try {
                    int len = frame(f, guest.config(), sent);
                    if (guest.receive(f, 0, len, 0) == RxStatus.RETRY_LATER) {
                        break;
                    }
                    sent++;
                } finally {
                    f.release();
                }
            }
            guest.receiveComplete();
        }

        /** Ethernet + IPv4 + UDP, 32 bytes of payload. */
        static int frame(ByteBuf f, NicConfig nic, int id) {
            f.clear();
            f.writeBytes(nic.mac().bytes());
            f.writeBytes(new byte[]{0x52, 0x55, 10, 0, 2, 2});
            f.writeShort(0x0800);
            int ip = f.writerIndex();
            f.writeByte(0x45).writeByte(0).writeShort(20 + 8 + 32).writeShort(id).writeShort(0).writeByte(64)
                    .writeByte(17).writeShort(0).writeBytes(new byte[]{10, 0, 2, 2}).writeBytes(nic.guestIp().getAddress());
            int sum = 0;
            for (int i = 0; i < 20; i += 2) {
                sum += f.getUnsignedShort(ip + i);
            }
            sum = (sum & 0xFFFF) + (sum >>> 16);
            f.setShort(ip + 10, ~((sum & 0xFFFF) + (sum >>> 16)));
            f.writeShort(40000).writeShort(nic.guestPort()).writeShort(8 + 32).writeShort(0);
            f.writeInt(id).writeZero(28);
            return f.writerIndex();
        }
    }

    @Test
    void theReadmeExampleRuns() throws Exception {
        // --- the README's example, verbatim but for the assertions ---
        VmConfig config = VmConfig.builder()
                .vcpus(1).memorySize(64L << 20)
                .with(NicConfig.SECTION, List.of(NicConfig.builder(0)        // slot 0: net0, DeviceID 0 on ITS 0
                        .listen(new InetSocketAddress("127.0.0.1", 0))       // the backend below replaces UDP,
                        .guestPort(5001)                                    // but the guest listens here
                        .build()))
                .with(ToyGuestConfig.SECTION, ToyGuestConfig.of("udp-sink"))
                .build();
        List<String> failures = new CopyOnWriteArrayList<>();
        MultiThreadIoEventLoopGroup loops = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (VirtualMachine vm = VirtualMachine.builder(config)
                .backends(nic -> new MyBackend())                           // implements dev.jvmm.net.NetBackend
                .eventLoopGroup(loops)                                      // yours: the machine never shuts it down
                .failureListener((what, e) -> failures.add(what + ": " + e)) // internal errors, as they happen
                .build()) {
            vm.start();
            vm.awaitGuestRunning(Duration.ofSeconds(10));
            // MyBackend hands frames to the guest with guest.receive(...); the guest counts them in its own RAM:
            TestSupport.await(() -> vm.guest().counter(0, GuestReport.Counter.FRAMES) == MyBackend.TOTAL, 20_000,
                    "the guest to count every frame");
            long frames = vm.guest().counter(0, GuestReport.Counter.FRAMES);
            // Where the guest finds the GIC, and a synchronous MSI as KVM_SIGNAL_MSI raises it (cached, then slow):
            long its0 = vm.gic().itsBase(0);
            MsiTarget rx = vm.nics().get(0).msiTarget();
            boolean pending = vm.machine().irqRouter().signalMsi(rx.doorbell(), 0, rx.deviceId());

            assertThat(frames).isEqualTo(MyBackend.TOTAL);
            assertThat(vm.guest().counter(0, GuestReport.Counter.BAD)).isZero();
            assertThat(vm.guest().counter(0, GuestReport.Counter.LOST)).as("ids 0..499 in order").isZero();
            assertThat(its0).isEqualTo(0x0808_0000L);
            assertThat(rx.doorbell()).as("GITS_TRANSLATER of ITS 0").isEqualTo(its0 + ItsRegisterDescriptor.GITS_TRANSLATER);
            assertThat(pending).as("the guest mapped its receive EventID: the LPI became pending").isTrue();
            assertThat(vm.nics().get(0).eventLoop().parent()).isSameAs(loops);
            assertThat(failures).isEmpty();
            assertThat(vm.machine().failures().count()).isZero();
        } finally {
            assertThat(loops.isShuttingDown()).as("the embedder's group outlives the machine").isFalse();
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5000);
        }
    }

    @Test
    void aDeviceOnlyMachineIsDrivenByTheEmbeddersOwnThread() {
        // No vCPU: the embedder plays the guest through the bus and guest RAM with vmm-net's test-kit driver.
        VmConfig config = VmConfig.builder()
                .vcpus(0).memorySize(32L << 20)
                .with(NicConfig.SECTION, List.of(NicConfig.builder(0).listen(0).guestPort(7000).mrgRxbuf(false).build()))
                .build();
        try (Machine m = Machine.builder(config)
                .interruptController(GicV3::create)
                .devices(VirtioNetDevices.builder().backends(nic -> new NetBackend() { }).build())
                .build()) {
            m.start();
            VirtioNetDevice nic = m.device(VirtioNetDevice.class);
            NetDriver driver = new NetDriver(GuestAccess.of(m.bus(), m.memory()), nic.mmioBase(), new Random(1),
                    new GuestAllocator(m.memory(), new Random(1), 64));
            driver.start(VirtioFeatures.VIRTIO_F_VERSION_1, 16);
            driver.transmit(new byte[60], 1);
            assertThat(driver.awaitTxDone(1, Duration.ofSeconds(5))).as("the device took the frame").hasSize(1);
            assertThat(m.vcpus()).isEmpty();
        }
    }
}
