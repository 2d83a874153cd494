package dev.jvmm.net.backend;

import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.net.NicStats;
import dev.jvmm.net.testing.NetDriver;
import dev.jvmm.net.testing.NetDriver.RxFrame;
import dev.jvmm.net.testing.NetMachine;
import dev.jvmm.net.testing.TestFrames;
import dev.jvmm.net.virtio.VirtioFeatures;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

import static dev.jvmm.net.testing.TestFrames.u16;
import static org.assertj.core.api.Assertions.assertThat;

/** The udp backend's pipeline on an {@code EmbeddedChannel}: what it forwards, answers, holds back and drops. */
@ExtendWith(SeedExtension.class)
class UdpForwardBackendTest {
    private static final long FEATURES = VirtioFeatures.VIRTIO_F_VERSION_1 | VirtioFeatures.VIRTIO_F_EVENT_IDX
            | VirtioFeatures.VIRTIO_NET_F_MRG_RXBUF;
    private static final byte[] GATEWAY_MAC = {0x52, 0x55, 10, 0, 2, 2};
    private static final byte[] GUEST_IP = {10, 0, 2, 15};

    private static EmbeddedNic nic() {
        var cfg = NetMachine.udp(0, 32, true);
        return new EmbeddedNic(cfg, new UdpForwardBackend(cfg));
    }

    private static NetDriver started(EmbeddedNic n, SeededRandom random, int buffers) {
        NetDriver d = n.driver(random);
        d.start(FEATURES, 32);
        n.run();
        if (buffers > 0) {
            d.postRx(buffers, 1526, 2);
            n.run();
        }
        return d;
    }

    private static ByteBuf payload(String s) {
        return Unpooled.copiedBuffer(s.getBytes());
    }

    @Test
    void inet4AddressHashCodeIsTheAddress() throws Exception {
        for (String s : new String[]{"127.0.0.1", "10.0.2.2", "255.255.255.255", "0.0.0.0", "192.168.1.200"}) {
            byte[] b = InetAddress.getByName(s).getAddress();
            int expected = (b[0] & 0xFF) << 24 | (b[1] & 0xFF) << 16 | (b[2] & 0xFF) << 8 | (b[3] & 0xFF);
            assertThat(UdpForwardBackend.ipv4((Inet4Address) InetAddress.getByName(s))).as(s).isEqualTo(expected);
        }
    }

    @Test
    void aDatagramBecomesAFrameAndOnlyIpv4SendersAreForwarded(SeededRandom random) {
        try (EmbeddedNic n = nic()) {
            NetDriver d = started(n, random, 4);
            n.datagram(payload("from v4"), new InetSocketAddress("192.168.7.9", 4242));
            n.datagram(payload("from v6"), new InetSocketAddress("::1", 4242));
            List<RxFrame> f = d.reapFrames();
            assertThat(f).hasSize(1);
            byte[] b = f.get(0).frame();
            assertThat(TestFrames.slice(b, 26, 30)).containsExactly(192, 168, 7, 9);
            assertThat(u16(b, 34)).isEqualTo(4242);
            assertThat(TestFrames.ipChecksum(b, 14, 20)).isZero();
            assertThat(TestFrames.udpChecksumValid(b, 14)).isTrue();
            assertThat(new String(TestFrames.slice(b, 42, b.length))).isEqualTo("from v4");
            NicStats st = n.stats();
            assertThat(st.rxDroppedUnsupported()).isEqualTo(1);
            assertThat(st.rxDatagrams()).isEqualTo(2);
            assertThat(n.nic().frameBuffersOutstanding()).isZero();
        }
    }

    @Test
    void withoutRoomOneDatagramIsHeldAndDeliveredFirstOnceBuffersArrive(SeededRandom random) {
        try (EmbeddedNic n = nic()) {
            NetDriver d = started(n, random, 0);
            InetSocketAddress s = new InetSocketAddress("10.9.9.9", 1000);
            n.datagram(payload("first"), s);
            n.datagram(payload("second"), s);
            assertThat(d.reapFrames()).isEmpty();
            assertThat(n.stats().rxDroppedNoBuffer()).as("only one datagram is held").isEqualTo(1);
            assertThat(n.channel().config().isAutoRead()).as("the socket is not read").isFalse();
            d.postRx(2, 1526, 1);
            n.run();
            List<RxFrame> f = d.reapFrames();
            assertThat(f).hasSize(1);
            assertThat(new String(TestFrames.slice(f.get(0).frame(), 42, f.get(0).frame().length))).isEqualTo("first");
            assertThat(n.channel().config().isAutoRead()).as("reading resumes").isTrue();
            assertThat(n.stats().socketPaused()).isPositive();
        }
    }

    @Test
    void aResetDropsTheHeldDatagram(SeededRandom random) {
        try (EmbeddedNic n = nic()) {
            NetDriver d = started(n, random, 0);
            n.datagram(payload("held"), new InetSocketAddress("10.9.9.9", 1000));
            d.reset();
            n.run();
            assertThat(n.stats().rxDroppedNoBuffer()).isEqualTo(1);
            d = started(n, random, 2);
            assertThat(d.reapFrames()).as("nothing from before the reset").isEmpty();
            n.datagram(payload("after"), new InetSocketAddress("10.9.9.9", 1000));
            assertThat(d.reapFrames()).hasSize(1);
            assertThat(n.nic().frameBuffersOutstanding()).isZero();
        }
    }

    @Test
    void transmittedFramesAreCheckedBeforeTheyLeave(SeededRandom random) {
        try (EmbeddedNic n = nic()) {
            NetDriver d = started(n, random, 4);
            byte[] mac = n.nic().config().mac().bytes();
            byte[] peerIp = {10, 1, 2, 3};
            n.datagram(payload("hi"), new InetSocketAddress("10.1.2.3", 999));
            d.reapFrames();
            byte[] good = TestFrames.udp(GATEWAY_MAC, mac, GUEST_IP, 7000, peerIp, 999, "reply".getBytes());

            byte[] badChecksum = good.clone();
            badChecksum[14 + 10] ^= 1;
            byte[] shortIhl = good.clone();
            shortIhl[14] = 0x44;
            byte[] longTotal = good.clone();
            longTotal[14 + 2] = (byte) 0x7F;
            fixIpChecksum(longTotal);
            byte[] longUdp = good.clone();
            longUdp[14 + 20 + 4] = (byte) 0x7F;
            byte[] fragment = good.clone();
            fragment[14 + 6] = 0x20;
            fixIpChecksum(fragment);
            byte[] tcp = good.clone();
            tcp[14 + 9] = 6;
            fixIpChecksum(tcp);
            byte[] v6inV4 = good.clone();
            v6inV4[14] = 0x65;
            byte[] arpOther = TestFrames.arpRequest(mac, GUEST_IP, new byte[]{10, 0, 2, 3});
            byte[] arpShort = java.util.Arrays.copyOf(TestFrames.arpRequest(mac, GUEST_IP, new byte[]{10, 0, 2, 2}), 30);
            byte[] runt = new byte[13];
            byte[] unknownPeer = TestFrames.udp(GATEWAY_MAC, mac, GUEST_IP, 7000, peerIp, 998, "x".getBytes());

            for (byte[] f : new byte[][]{badChecksum, shortIhl, longTotal, longUdp, fragment, tcp, v6inV4, arpOther,
                    arpShort, runt, unknownPeer, good}) {
                d.transmit(f, 3);
                n.run();
            }
            assertThat(d.awaitTxDone(12, java.time.Duration.ofSeconds(1))).hasSize(12);
            DatagramPacket out = n.channel().readOutbound();
            try {
                assertThat(out.recipient()).isEqualTo(new InetSocketAddress("10.1.2.3", 999));
                assertThat(out.content().toString(java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("reply");
            } finally {
                out.release();
            }
            assertThat(n.channel().<Object>readOutbound()).as("only the good frame left").isNull();
            NicStats st = n.stats();
            assertThat(st.txMalformed()).as("checksum, IHL, total length, UDP length, version, short ARP, runt")
                    .isEqualTo(7);
            assertThat(st.txDroppedNonUdp()).as("fragment, TCP, ARP for another address").isEqualTo(3);
            assertThat(st.txDroppedUnknownPeer()).isEqualTo(1);
            assertThat(st.txDatagrams()).isEqualTo(1);
            assertThat(st.txFrames()).as("every chain taken, the runt included").isEqualTo(12);
            assertThat(st.txFrames()).as("every frame sent or dropped for a named reason: %s", st)
                    .isEqualTo(st.txDatagrams() + st.arpReplies() + st.txDropped());
            assertThat(st.txInFlight()).isZero();
            assertThat(n.nic().frameBuffersOutstanding()).isZero();
        }
    }

    private static void fixIpChecksum(byte[] f) {
        f[14 + 10] = 0;
        f[14 + 11] = 0;
        int c = TestFrames.ipChecksum(f, 14, 20);
        f[14 + 10] = (byte) (c >> 8);
        f[14 + 11] = (byte) c;
    }

    @Test
    void onlyTheLastPeersCanBeAnswered(SeededRandom random) {
        try (EmbeddedNic n = nic()) {
            NetDriver d = started(n, random, 16);
            for (int i = 0; i <= UdpForwardBackend.PEERS; i++) {
                n.datagram(payload("p"), new InetSocketAddress("10.1.0.1", 2000 + i));
                d.postRx(d.reapFrames().size(), 1526, 1);
                n.run();
            }
            assertThat(n.stats().rxDelivered()).isEqualTo(UdpForwardBackend.PEERS + 1);
            byte[] mac = n.nic().config().mac().bytes();
            byte[] ip = {10, 1, 0, 1};
            d.transmit(TestFrames.udp(GATEWAY_MAC, mac, GUEST_IP, 7000, ip, 2000, "old".getBytes()), 1);
            d.transmit(TestFrames.udp(GATEWAY_MAC, mac, GUEST_IP, 7000, ip, 2000 + UdpForwardBackend.PEERS,
                    "new".getBytes()), 1);
            n.run();
            DatagramPacket out = n.channel().readOutbound();
            try {
                assertThat(out.recipient().getPort()).isEqualTo(2000 + UdpForwardBackend.PEERS);
            } finally {
                out.release();
            }
            assertThat(n.stats().txDroppedUnknownPeer()).as("the first sender was forgotten").isEqualTo(1);
        }
    }

    @Test
    void anArpReplyWithoutReceiveBufferIsDroppedAndCounted(SeededRandom random) {
        try (EmbeddedNic n = nic()) {
            NetDriver d = started(n, random, 0);
            byte[] mac = n.nic().config().mac().bytes();
            d.transmit(TestFrames.arpRequest(mac, GUEST_IP, new byte[]{10, 0, 2, 2}), 1);
            n.run();
            assertThat(n.stats().arpReplies()).as("the request was answered").isEqualTo(1);
            assertThat(n.stats().rxDroppedNoBuffer()).as("the reply found no buffer").isEqualTo(1);
            assertThat(n.stats().rxDelivered()).isZero();
            d.postRx(1, 1526, 1);
            n.run();
            d.transmit(TestFrames.arpRequest(mac, GUEST_IP, new byte[]{10, 0, 2, 2}), 1);
            n.run();
            assertThat(d.reapFrames()).hasSize(1);
            assertThat(n.stats().arpReplies()).isEqualTo(2);
            assertThat(n.stats().rxDelivered()).isEqualTo(1);
            assertThat(n.stats().txInFlight()).isZero();
        }
    }

    /**
     * A datagram still queued for the socket when it closes (the machine stopping) is a drop with its reason, not a
     * datagram sent; once closed, the backend takes no more frames.
     */
    @Test
    void framesWithoutAnOpenSocketAreDroppedAsClosed(SeededRandom random) {
        try (EmbeddedNic n = nic()) {
            NetDriver d = started(n, random, 4);
            byte[] mac = n.nic().config().mac().bytes();
            n.datagram(payload("hi"), new InetSocketAddress("10.1.2.3", 999));
            d.reapFrames();
            byte[] reply = TestFrames.udp(GATEWAY_MAC, mac, GUEST_IP, 7000, new byte[]{10, 1, 2, 3}, 999,
                    "reply".getBytes());
            n.channel().pipeline().addFirst(new io.netty.channel.ChannelOutboundHandlerAdapter() {
                @Override
                public void flush(io.netty.channel.ChannelHandlerContext ctx) {
                    // A socket that never drains: the datagram stays queued until the channel closes.
                }
            });
            d.transmit(reply, 1);
            n.run();
            assertThat(n.stats().txInFlight()).as("queued, not sent").isEqualTo(1);
            n.closeBackend();
            assertThat(n.stats().txDroppedClosed()).as("queued when the socket closed").isEqualTo(1);
            // Without a socket the backend is not writable: the device leaves later frames in the ring.
            assertThat(n.backend().isWritable()).isFalse();
            d.transmit(reply, 1);
            n.run();
            NicStats st = n.stats();
            assertThat(st.txFrames()).as("the frame after the close stays in the ring: %s", st).isEqualTo(1);
            assertThat(st.txDatagrams()).isZero();
            assertThat(st.txInFlight()).isZero();
        }
    }
}
