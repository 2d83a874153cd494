package dev.jvmm.launcher;

import dev.jvmm.core.config.GuestConfig;
import dev.jvmm.core.config.NicConfig;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.launcher.guest.GuestReport;
import dev.jvmm.net.NetBackend;
import dev.jvmm.net.RxStatus;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Runs exactly the embedding example of the README, with a backend of the user's own. */
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

        @Override
        public void transmit(ByteBuf frame) {
            frame.release();   // the guest's ARP request: nobody to answer it here
        }

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

        @Override
        public void pause() {
        }

        @Override
        public void resume() {
        }

        @Override
        public void close() {
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
        // --- the README's example, verbatim but for the assertion ---
        VmConfig config = VmConfig.builder()
                .vcpus(1).memorySize(64L << 20)
                .nic(NicConfig.udp(0, 0))                       // slot 0; the backend below replaces UDP
                .guest(GuestConfig.of("udp-sink"))
                .build();
        try (VirtualMachine vm = VirtualMachine.builder(config)
                .backends(nic -> new MyBackend())               // implements dev.jvmm.net.NetBackend
                .build()) {
            vm.start();
            vm.awaitGuestRunning(Duration.ofSeconds(10));
            // MyBackend hands frames to the guest with guest.receive(...); the guest's counters:
            TestSupport.await(() -> vm.guest().counter(0, GuestReport.Counter.FRAMES) == MyBackend.TOTAL, 20_000,
                    "the guest to count every frame");
            long frames = vm.guest().counter(0, GuestReport.Counter.FRAMES);
            assertThat(frames).isEqualTo(MyBackend.TOTAL);
            assertThat(vm.guest().counter(0, GuestReport.Counter.BAD)).isZero();
            assertThat(vm.guest().counter(0, GuestReport.Counter.LOST)).as("ids 0..499 in order").isZero();
        }
    }
}
