package dev.jvmm.net.backend;

import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.net.testing.NetDriver;
import dev.jvmm.net.testing.NetDriver.RxFrame;
import dev.jvmm.net.testing.NetMachine;
import dev.jvmm.net.virtio.VirtioFeatures;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The tunnel backend's pipeline on an {@code EmbeddedChannel}: one whole frame per datagram, both ways. */
@ExtendWith(SeedExtension.class)
class UdpTunnelBackendTest {
    private static final InetSocketAddress REMOTE = new InetSocketAddress("127.0.0.1", 6000);

    @Test
    void framesPassUnchangedBothWaysAndRuntsAndGiantsAreDropped(SeededRandom random) {
        var cfg = NetMachine.tunnel(0, REMOTE, 64, true);
        try (EmbeddedNic n = new EmbeddedNic(cfg, new UdpTunnelBackend(cfg))) {
            NetDriver d = n.driver(random);
            d.start(VirtioFeatures.VIRTIO_F_VERSION_1 | VirtioFeatures.VIRTIO_NET_F_MRG_RXBUF, 64);
            n.run();
            d.postRx(60, 1526, 1);
            n.run();
            byte[] frame = new byte[3000];
            random.nextBytes(frame);
            n.datagram(Unpooled.wrappedBuffer(frame), REMOTE);
            n.datagram(Unpooled.wrappedBuffer(new byte[13]), REMOTE);
            List<RxFrame> got = d.reapFrames();
            assertThat(got).hasSize(1);
            assertThat(got.get(0).frame()).isEqualTo(frame);
            assertThat(got.get(0).numBuffers()).isEqualTo(2);
            assertThat(n.stats().rxDroppedUnsupported()).isEqualTo(1);

            byte[] out = new byte[1514];
            random.nextBytes(out);
            d.transmit(out, 4);
            d.transmit(new byte[UdpTunnelBackend.MAX_DATAGRAM + 1], 4);
            n.run();
            DatagramPacket p = n.channel().readOutbound();
            try {
                assertThat(p.recipient()).isEqualTo(REMOTE);
                assertThat(ByteBufUtil.getBytes(p.content())).isEqualTo(out);
            } finally {
                p.release();
            }
            assertThat(n.channel().<Object>readOutbound()).isNull();
            assertThat(n.stats().txMalformed()).isEqualTo(1);
            assertThat(n.stats().txDatagrams()).isEqualTo(1);
            assertThat(n.nic().frameBuffersOutstanding()).isZero();
        }
    }

    @Test
    void theMtuIsAnEthernetSegments() {
        var cfg = NetMachine.tunnel(0, REMOTE, 64, true);
        assertThat(new UdpTunnelBackend(cfg).mtu()).isEqualTo(1500);
    }
}
