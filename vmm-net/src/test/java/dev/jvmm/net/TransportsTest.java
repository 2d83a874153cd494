package dev.jvmm.net;

import dev.jvmm.core.config.NetConfig;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.net.testing.NetDriver;
import dev.jvmm.net.testing.NetMachine;
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

/** Epoll and NIO, a shared event loop group of two threads for three NICs, and no thread left after the stop. */
@ExtendWith(SeedExtension.class)
class TransportsTest {

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
                m.machine().start();
                IoTransport expected = IoTransport.select(t);
                assertThat(IoTransport.of(m.nic(0).eventLoop())).as("%s", t).isEqualTo(expected);
                for (int i = 0; i < 3; i++) {
                    NetDriver d = m.driver(i, random);
                    d.start(VirtioFeatures.VERSION_1 | VirtioFeatures.NET_MRG_RXBUF, 32);
                    d.postRx(2, 1526, 1);
                    s.send(new DatagramPacket(new byte[]{(byte) i}, 1, InetAddress.getLoopbackAddress(),
                            m.nic(i).boundPort()));
                    assertThat(d.awaitFrames(1, Duration.ofSeconds(5))).as("%s nic %d", t, i).hasSize(1);
                }
                assertThat(m.nic(0).eventLoop()).as("round robin over two threads")
                        .isNotSameAs(m.nic(1).eventLoop()).isSameAs(m.nic(2).eventLoop());
            }
            assertThat(Thread.getAllStackTraces().keySet()).as("%s: event loop threads after the stop", t)
                    .noneMatch(th -> th.isAlive() && th.getName().startsWith(prefix));
        }
    }
}
