package dev.jvmm.net;

import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.net.testing.NetDriver;
import dev.jvmm.net.testing.NetDriver.RxFrame;
import dev.jvmm.net.testing.NetMachine;
import dev.jvmm.net.virtio.VirtioFeatures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code udp-tunnel} backend over real loopback sockets: the wire format of QEMU's {@code -netdev dgram}, one
 * Ethernet frame per datagram and nothing else, in both directions.
 */
@ExtendWith(SeedExtension.class)
class UdpTunnelTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final long FEATURES = VirtioFeatures.VIRTIO_F_VERSION_1 | VirtioFeatures.VIRTIO_F_EVENT_IDX
            | VirtioFeatures.VIRTIO_F_INDIRECT_DESC | VirtioFeatures.VIRTIO_NET_F_MRG_RXBUF;

    private static byte[] frame(SeededRandom random, int size) {
        byte[] f = new byte[size];
        random.nextBytes(f);
        return f;
    }

    @Test
    void framesCrossBetweenThePeerSocketAndTheGuestUnchanged(SeededRandom random) throws Exception {
        try (DatagramSocket peer = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            peer.setSoTimeout(5000);
            var cfg = NetMachine.tunnel(0, (InetSocketAddress) peer.getLocalSocketAddress(), 128, true);
            try (NetMachine m = NetMachine.start(List.of(cfg))) {
                NetDriver d = m.driver(0, random);
                d.start(FEATURES, 128);
                d.postRx(40, 2048, 3);
                InetSocketAddress nic = new InetSocketAddress("127.0.0.1", m.nic(0).boundPort());

                // Peer -> guest: every byte of every frame, sizes from a bare header to a jumbo frame.
                List<byte[]> in = new ArrayList<>();
                for (int size : new int[]{14, 60, 1514, 9000, 100, 42}) {
                    byte[] f = frame(random, size);
                    in.add(f);
                    peer.send(new DatagramPacket(f, f.length, nic));
                }
                List<RxFrame> got = d.awaitFrames(in.size(), WAIT);
                assertThat(got).hasSize(in.size());
                for (int i = 0; i < in.size(); i++) {
                    assertThat(got.get(i).frame()).as("frame %d", i).isEqualTo(in.get(i));
                    assertThat(Arrays.copyOf(got.get(i).header(), 10)).as("no offload fields").containsOnly(0);
                }

                // Guest -> peer: one datagram per frame, from the NIC's port, nothing added.
                List<byte[]> out = new ArrayList<>();
                for (int size : new int[]{14, 1514, 60, 4000}) {
                    byte[] f = frame(random, size);
                    out.add(f);
                    d.transmit(f, 4);
                }
                for (byte[] f : out) {
                    DatagramPacket p = new DatagramPacket(new byte[16384], 16384);
                    peer.receive(p);
                    assertThat(Arrays.copyOf(p.getData(), p.getLength())).isEqualTo(f);
                    assertThat(p.getPort()).isEqualTo(nic.getPort());
                }
                // The kernel took each datagram before the peer could read it; the loop counts it right after.
                assertThat(dev.jvmm.core.testing.Await.until(() -> m.nic(0).stats().txDatagrams() == out.size(),
                        WAIT)).as("datagrams that left the socket: %s", m.nic(0).stats()).isTrue();
                NicStats st = m.nic(0).stats();
                assertThat(st.rxDelivered()).isEqualTo(in.size());
                assertThat(st.guestErrors()).isZero();
            }
        }
    }

    @Test
    void twoNicsShareASegment(SeededRandom random) throws Exception {
        int p0;
        int p1;
        try (DatagramSocket a = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
             DatagramSocket b = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            p0 = a.getLocalPort();
            p1 = b.getLocalPort();
        }
        var n0 = NetMachine.tunnel(0, new InetSocketAddress("127.0.0.1", p1), 64, false)
                .toBuilder().listen(new InetSocketAddress("127.0.0.1", p0)).build();
        var n1 = NetMachine.tunnel(1, new InetSocketAddress("127.0.0.1", p0), 64, false)
                .toBuilder().listen(new InetSocketAddress("127.0.0.1", p1)).build();
        try (NetMachine m = NetMachine.start(List.of(n0, n1))) {
            NetDriver d0 = m.driver(0, random);
            NetDriver d1 = m.driver(1, random);
            d0.start(FEATURES, 64);
            d1.start(FEATURES, 64);
            d0.postRx(8, 1526, 1);
            d1.postRx(8, 1526, 1);
            byte[] f01 = frame(random, 1514);
            byte[] f10 = frame(random, 64);
            d0.transmit(f01, 2);
            d1.transmit(f10, 2);
            assertThat(d1.awaitFrames(1, WAIT)).singleElement().extracting(RxFrame::frame).isEqualTo(f01);
            assertThat(d0.awaitFrames(1, WAIT)).singleElement().extracting(RxFrame::frame).isEqualTo(f10);
            assertThat(m.irq().count(0, 0)).as("NIC 0's receive MSI").isPositive();
            assertThat(m.irq().count(1, 0)).as("NIC 1's receive MSI (DeviceID 1)").isPositive();
        }
    }
    /**
     * Transmit counters count what left the socket: a datagram the kernel refuses (here a broadcast address on a
     * socket without SO_BROADCAST: EACCES; ENETUNREACH on a host without a route) is a drop with its reason, never a
     * transmitted datagram, on every transport.
     */
    @Test
    void aDatagramTheSocketRefusesIsCountedAsDroppedNotSent(SeededRandom random) throws Exception {
        for (NetConfig.Transport t : NetMachine.socketTransports()) {
            var cfg = NetMachine.tunnel(0, new InetSocketAddress("255.255.255.255", 9), 32, true);
            try (NetMachine m = NetMachine.start(List.of(cfg), t)) {
                NetDriver d = m.driver(0, random);
                d.start(FEATURES, 32);
                for (int i = 0; i < 5; i++) {
                    d.transmit(frame(random, 60 + i), 1);
                }
                assertThat(d.awaitTxDone(5, WAIT)).hasSize(5);
                assertThat(dev.jvmm.core.testing.Await.until(() -> m.nic(0).stats().txInFlight() == 0, WAIT))
                        .as("%s: every frame has an outcome: %s", t, m.nic(0).stats()).isTrue();
                NicStats st = m.nic(0).stats();
                assertThat(st.txFrames()).as("%s", t).isEqualTo(5);
                assertThat(st.txDatagrams()).as("%s: datagrams that left the socket", t).isZero();
                assertThat(st.txDroppedSocketError()).as("%s: refused by the socket", t).isEqualTo(5);
                assertThat(st.socketErrors()).as("%s", t).isEqualTo(5);
            }
        }
    }
}
