package dev.jvmm.net;

import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.net.testing.NetDriver;
import dev.jvmm.net.testing.NetDriver.RxFrame;
import dev.jvmm.net.testing.NetMachine;
import dev.jvmm.net.testing.TestFrames;
import dev.jvmm.net.virtio.VirtioFeatures;
import io.netty.channel.epoll.Epoll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Epoll and NIO (the backends' datagram channel of each: Netty's {@code EpollDatagramChannel}, jvmm's
 * {@code NioUdpChannel}), a shared event loop group of two threads for three NICs, and no thread left after the stop.
 * Each NIC receives with backpressure (a guest with one buffer for three datagrams) and answers the sender.
 */
@ExtendWith(SeedExtension.class)
class TransportsTest {
    private static final Duration WAIT = Duration.ofSeconds(5);

    @Test
    void everyTransportCarriesTrafficAndLeavesNoThreadBehind(SeededRandom random) throws Exception {
        List<NetConfig.Transport> transports = new ArrayList<>(List.of(NetConfig.Transport.NIO, NetConfig.Transport.AUTO));
        if (Epoll.isAvailable()) {
            transports.add(NetConfig.Transport.EPOLL);
        }
        for (NetConfig.Transport t : transports) {
            NetMachine m = NetMachine.create(List.of(NetMachine.udp(0, 32, false), NetMachine.udp(1, 32, true),
                    NetMachine.udp(2, 32, false)), new NetConfig(t, 2), VirtioNetDevices::create);
            String prefix = m.machine().name() + "-net";
            try (m; DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
                s.setSoTimeout(5000);
                m.machine().start();
                IoTransport expected = IoTransport.select(t);
                assertThat(IoTransport.of(m.nic(0).eventLoop())).as("%s", t).isEqualTo(expected);
                for (int i = 0; i < 3; i++) {
                    NetDriver d = m.driver(i, random);
                    d.start(VirtioFeatures.VIRTIO_F_VERSION_1 | VirtioFeatures.VIRTIO_NET_F_MRG_RXBUF, 32);
                    d.postRx(1, 1526, 1);
                    int port = m.nic(i).boundPort();
                    for (int n = 0; n < 3; n++) {
                        s.send(new DatagramPacket(new byte[]{(byte) i, (byte) n}, 2, InetAddress.getLoopbackAddress(),
                                port));
                    }
                    List<RxFrame> got = new ArrayList<>(d.awaitFrames(1, WAIT));
                    assertThat(got).as("%s nic %d: one buffer, one frame", t, i).hasSize(1);
                    d.postRx(2, 1526, 1);
                    got.addAll(d.awaitFrames(2, WAIT));
                    assertThat(got).as("%s nic %d: the two that waited", t, i).hasSize(3);
                    for (int n = 0; n < 3; n++) {
                        assertThat(TestFrames.slice(got.get(n).frame(), 42, 44)).as("%s nic %d payload", t, i)
                                .containsExactly(i, n);
                    }
                    byte[] f = got.get(0).frame();
                    d.transmit(TestFrames.udp(TestFrames.slice(f, 6, 12), TestFrames.slice(f, 0, 6),
                            TestFrames.slice(f, 30, 34), NetMachine.GUEST_PORT, TestFrames.slice(f, 26, 30),
                            TestFrames.u16(f, 34), new byte[]{(byte) i}), 1);
                    DatagramPacket reply = new DatagramPacket(new byte[16], 16);
                    s.receive(reply);
                    assertThat(reply.getPort()).as("%s nic %d: the reply leaves through the NIC's socket", t, i)
                            .isEqualTo(port);
                    assertThat(reply.getLength()).isEqualTo(1);
                    assertThat(reply.getData()[0]).isEqualTo((byte) i);
                }
                assertThat(m.nic(0).eventLoop()).as("round robin over two threads")
                        .isNotSameAs(m.nic(1).eventLoop()).isSameAs(m.nic(2).eventLoop());
            }
            assertThat(Thread.getAllStackTraces().keySet()).as("%s: event loop threads after the stop", t)
                    .noneMatch(th -> th.isAlive() && th.getName().startsWith(prefix));
        }
    }
}
