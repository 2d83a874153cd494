package dev.jvmm.net;

import dev.jvmm.core.testing.Await;
import dev.jvmm.core.machine.MachineException;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.net.testing.GuestQueue;
import dev.jvmm.net.testing.NetDriver;
import dev.jvmm.net.testing.NetDriver.RxFrame;
import dev.jvmm.net.testing.NetMachine;
import dev.jvmm.net.testing.TestFrames;
import dev.jvmm.net.virtio.VirtioFeatures;
import dev.jvmm.net.virtio.VirtioNetDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.jvmm.net.testing.TestFrames.u16;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code udp} backend end to end: real loopback sockets, a real machine, a test driver in guest RAM. */
@ExtendWith(SeedExtension.class)
class UdpForwardTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final long ALL = VirtioFeatures.VIRTIO_F_VERSION_1 | VirtioFeatures.VIRTIO_F_EVENT_IDX
            | VirtioFeatures.VIRTIO_F_INDIRECT_DESC | VirtioFeatures.VIRTIO_NET_F_MAC | VirtioFeatures.VIRTIO_NET_F_STATUS
            | VirtioFeatures.VIRTIO_NET_F_MTU | VirtioFeatures.VIRTIO_NET_F_MRG_RXBUF;
    private static final byte[] GATEWAY_MAC = {0x52, 0x55, 10, 0, 2, 2};
    private static final byte[] GUEST_IP = {10, 0, 2, 15};
    private static final byte[] LOOPBACK = {127, 0, 0, 1};

    private static DatagramSocket sender() throws Exception {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        s.setSoTimeout(5000);
        return s;
    }

    /** A machine with one udp NIC of {@code queueSize}-entry queues, MRG_RXBUF offered or not. */
    private static NetMachine machine(int queueSize, boolean mrgRxbuf) {
        return NetMachine.start(List.of(NetMachine.udp(0, queueSize, mrgRxbuf)));
    }

    /** As {@link #machine(int, boolean)}, its NIC on transport {@code t}. */
    private static NetMachine machine(int queueSize, boolean mrgRxbuf, NetConfig.Transport t) {
        return NetMachine.start(List.of(NetMachine.udp(0, queueSize, mrgRxbuf)), t);
    }

    /** NIC 0's test driver, its device started with every feature this test offers. */
    private static NetDriver started(NetMachine m, SeededRandom random, int queueSize) {
        NetDriver d = m.driver(0, random);
        d.start(ALL, queueSize);
        return d;
    }

    private static void send(DatagramSocket s, byte[] payload, int port) throws Exception {
        s.send(new DatagramPacket(payload, payload.length, InetAddress.getLoopbackAddress(), port));
    }

    /** Checks every byte of a forwarded datagram's frame. */
    private static void assertForwarded(RxFrame f, byte[] guestMac, int senderPort, byte[] payload, int numBuffers) {
        byte[] hdr = f.header();
        assertThat(Arrays.copyOf(hdr, VirtioNetDescriptor.HDR_NUM_BUFFERS)).as("virtio-net header flags, gso, csum")
                .containsOnly(0);
        assertThat(f.numBuffersField()).as("num_buffers").isEqualTo(numBuffers);
        byte[] b = f.frame();
        assertThat(b).as("frame length").hasSize(14 + 20 + 8 + payload.length);
        assertThat(TestFrames.slice(b, 0, 6)).as("destination MAC = the guest's").isEqualTo(guestMac);
        assertThat(TestFrames.slice(b, 6, 12)).as("source MAC = the gateway's").isEqualTo(GATEWAY_MAC);
        assertThat(u16(b, 12)).as("ethertype").isEqualTo(0x0800);
        assertThat(b[14]).as("IPv4, no options").isEqualTo((byte) 0x45);
        assertThat(u16(b, 16)).as("IPv4 total length").isEqualTo(20 + 8 + payload.length);
        assertThat(u16(b, 20) & 0x3FFF).as("not a fragment").isZero();
        assertThat(b[22] & 0xFF).as("TTL").isEqualTo(64);
        assertThat(b[23]).as("protocol UDP").isEqualTo((byte) 17);
        assertThat(TestFrames.ipChecksum(b, 14, 20)).as("IPv4 header checksum verifies").isZero();
        assertThat(TestFrames.slice(b, 26, 30)).as("source IP = the sender's").isEqualTo(LOOPBACK);
        assertThat(TestFrames.slice(b, 30, 34)).as("destination IP = the guest's").isEqualTo(GUEST_IP);
        assertThat(u16(b, 34)).as("source port = the sender's").isEqualTo(senderPort);
        assertThat(u16(b, 36)).as("destination port = guest-port").isEqualTo(NetMachine.GUEST_PORT);
        assertThat(u16(b, 38)).as("UDP length").isEqualTo(8 + payload.length);
        assertThat(TestFrames.udpChecksumValid(b, 14)).as("UDP checksum valid or zero").isTrue();
        assertThat(TestFrames.slice(b, 42, b.length)).as("payload").isEqualTo(payload);
    }

    @Test
    void everyByteOfEveryDatagramReachesTheGuest(SeededRandom random) throws Exception {
        for (boolean mrg : new boolean[]{false, true}) {
            try (NetMachine m = machine(128, mrg);
                 DatagramSocket s = sender()) {
                NetDriver d = m.driver(0, random);
                long f = d.start(ALL, 128);
                assertThat(VirtioFeatures.has(f, VirtioFeatures.VIRTIO_NET_F_MRG_RXBUF)).isEqualTo(mrg);
                d.postRx(32, 1526, 3);
                int port = m.nic(0).boundPort();
                byte[] mac = m.nic(0).config().mac().bytes();
                List<byte[]> sent = new ArrayList<>();
                List<RxFrame> got = new ArrayList<>();
                for (int burst = 0; burst < 8; burst++) {
                    for (int i = 0; i < 8; i++) {
                        byte[] p = new byte[random.nextInt(1473)];
                        random.nextBytes(p);
                        sent.add(p);
                        send(s, p, port);
                    }
                    List<RxFrame> frames = d.awaitFrames(8, WAIT);
                    got.addAll(frames);
                    d.postRx(frames.size(), 1526, 3);
                }
                assertThat(got).as("frames received").hasSize(sent.size());
                for (int i = 0; i < sent.size(); i++) {
                    assertForwarded(got.get(i), mac, s.getLocalPort(), sent.get(i), 1);
                }
                NicStats st = m.nic(0).stats();
                assertThat(st.rxDelivered()).isEqualTo(sent.size());
                assertThat(st.rxDatagrams()).isEqualTo(sent.size());
                assertThat(st.guestErrors()).isZero();
                assertThat(st.msisSignalled()).as("used-buffer MSIs").isPositive();
                assertThat(m.irq().count(0, 0)).as("MSIs with EventID 0 (receiveq1)").isPositive();
            }
        }
    }

    @Test
    void guestAnswersThroughTheSameSocketAfterArpingTheGateway(SeededRandom random) throws Exception {
        try (NetMachine m = machine(32, true); DatagramSocket s = sender()) {
            NetDriver d = started(m, random, 32);
            d.postRx(8, 2048, 2);
            byte[] mac = m.nic(0).config().mac().bytes();

            // ARP for the gateway: the backend answers with the gateway's MAC.
            d.transmit(TestFrames.arpRequest(mac, GUEST_IP, new byte[]{10, 0, 2, 2}), 2);
            List<RxFrame> arp = d.awaitFrames(1, WAIT);
            assertThat(arp).hasSize(1);
            byte[] r = arp.get(0).frame();
            assertThat(TestFrames.slice(r, 0, 6)).as("reply to the asker").isEqualTo(mac);
            assertThat(u16(r, 12)).isEqualTo(0x0806);
            assertThat(u16(r, 14 + 6)).as("ARP reply").isEqualTo(2);
            assertThat(TestFrames.slice(r, 14 + 8, 14 + 14)).as("sender MAC = gateway").isEqualTo(GATEWAY_MAC);
            assertThat(TestFrames.slice(r, 14 + 14, 14 + 18)).as("sender IP = gateway").containsExactly(10, 0, 2, 2);
            assertThat(TestFrames.slice(r, 14 + 18, 14 + 24)).as("target MAC = guest").isEqualTo(mac);
            assertThat(TestFrames.slice(r, 14 + 24, 14 + 28)).as("target IP = guest").isEqualTo(GUEST_IP);

            // A datagram comes in; the guest echoes it back to its source.
            byte[] payload = "hello guest".getBytes();
            send(s, payload, m.nic(0).boundPort());
            RxFrame in = d.awaitFrames(1, WAIT).get(0);
            byte[] f = in.frame();
            byte[] reply = TestFrames.udp(GATEWAY_MAC, mac, GUEST_IP, NetMachine.GUEST_PORT,
                    TestFrames.slice(f, 26, 30), u16(f, 34), "echo: hello guest".getBytes());
            d.transmit(reply, 3);
            DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
            s.receive(p);
            assertThat(new String(p.getData(), 0, p.getLength())).isEqualTo("echo: hello guest");
            assertThat(p.getPort()).as("the reply leaves through the NIC's own socket").isEqualTo(m.nic(0).boundPort());
            assertThat(d.awaitTxDone(2, WAIT)).as("transmit chains returned").hasSize(2);

            // To an address that never sent anything, and a non-UDP frame: counted and dropped.
            d.transmit(TestFrames.udp(GATEWAY_MAC, mac, GUEST_IP, 1, new byte[]{127, 0, 0, 1}, 9, new byte[4]), 1);
            byte[] ipv6 = new byte[60];
            ipv6[12] = (byte) 0x86;
            ipv6[13] = (byte) 0xDD;
            d.transmit(ipv6, 1);
            d.awaitTxDone(2, WAIT);
            NicStats st = m.nic(0).stats();
            assertThat(st.arpReplies()).isEqualTo(1);
            assertThat(st.txDatagrams()).isEqualTo(1);
            assertThat(st.txDroppedUnknownPeer()).isEqualTo(1);
            assertThat(st.txDroppedNonUdp()).isEqualTo(1);
            assertThat(st.txFrames()).isEqualTo(4);
            assertThat(st.guestErrors()).isZero();
        }
    }

    /**
     * A datagram with an empty payload (UDP length 8: valid, and Linux sends it) that the guest sends reaches the
     * peer, on every transport: Netty's datagram channels skip empty buffers, so the backend must not leave it to
     * them. Counted as sent only because it left.
     */
    @Test
    void anEmptyDatagramTheGuestSendsReachesThePeerOnEveryTransport(SeededRandom random) throws Exception {
        for (NetConfig.Transport t : NetMachine.socketTransports()) {
            try (NetMachine m = machine(32, true, t); DatagramSocket s = sender()) {
                NetDriver d = started(m, random, 32);
                d.postRx(4, 1526, 1);
                byte[] mac = m.nic(0).config().mac().bytes();
                int port = m.nic(0).boundPort();
                send(s, "hi".getBytes(), port);
                d.awaitFrames(1, WAIT);
                for (byte[] payload : new byte[][]{new byte[0], "after".getBytes(), new byte[0]}) {
                    d.transmit(TestFrames.udp(GATEWAY_MAC, mac, GUEST_IP, NetMachine.GUEST_PORT, LOOPBACK,
                            s.getLocalPort(), payload), 1);
                }
                for (String expected : new String[]{"", "after", ""}) {
                    DatagramPacket p = new DatagramPacket(new byte[64], 64);
                    s.receive(p);
                    assertThat(new String(p.getData(), 0, p.getLength())).as("%s: datagram in order", t)
                            .isEqualTo(expected);
                    assertThat(p.getPort()).as("%s: from the NIC's socket", t).isEqualTo(port);
                }
                assertThat(d.awaitTxDone(3, WAIT)).hasSize(3);
                assertThat(Await.until(() -> m.nic(0).stats().txDatagrams() == 3, WAIT))
                        .as("%s: three datagrams left the socket, the empty ones included: %s", t, m.nic(0).stats())
                        .isTrue();
                NicStats st = m.nic(0).stats();
                assertThat(st.txDropped()).as("%s", t).isZero();
                assertThat(st.txInFlight()).as("%s", t).isZero();
            }
        }
    }

    @Test
    void withoutBuffersTheSocketIsNotReadAndDatagramsWaitThere(SeededRandom random) throws Exception {
        try (NetMachine m = machine(16, false); DatagramSocket s = sender()) {
            NetDriver d = started(m, random, 16);
            int port = m.nic(0).boundPort();
            for (int i = 0; i < 5; i++) {
                send(s, new byte[]{(byte) i}, port);
            }
            assertThat(Await.until(() -> m.nic(0).stats().socketPaused() >= 1, WAIT))
                    .as("the backend noticed the guest has no buffer").isTrue();
            Thread.sleep(100);
            assertThat(m.nic(0).stats().rxDatagrams()).as("nothing read while there is no buffer").isZero();

            d.postRx(2, 1526, 1);
            List<RxFrame> two = d.awaitFrames(2, WAIT);
            assertThat(two).hasSize(2);
            assertThat(Await.until(() -> m.nic(0).stats().socketPaused() >= 2, WAIT))
                    .as("paused again once the two buffers are used").isTrue();
            d.postRx(8, 1526, 1);
            List<RxFrame> rest = d.awaitFrames(3, WAIT);
            assertThat(rest).hasSize(3);
            List<RxFrame> all = new ArrayList<>(two);
            all.addAll(rest);
            for (int i = 0; i < 5; i++) {
                assertThat(all.get(i).frame()[42]).as("datagram %d in order", i).isEqualTo((byte) i);
            }
            // The guest may see a frame's used entry before the loop counts it: wait for the count.
            assertThat(Await.until(() -> m.nic(0).stats().rxDelivered() == 5, WAIT)).as("%s", m.nic(0).stats())
                    .isTrue();
            assertThat(m.nic(0).stats().rxDroppedNoBuffer()).isZero();
        }
    }

    @Test
    void mergeableBuffersCarryAFrameLargerThanOneBuffer(SeededRandom random) throws Exception {
        try (NetMachine m = machine(256, true); DatagramSocket s = sender()) {
            NetDriver d = started(m, random, 256);
            d.postRx(80, 1024, 3);
            byte[] mac = m.nic(0).config().mac().bytes();
            int[] sizes = {1400, 20000, 60000, 0};
            for (int size : sizes) {
                byte[] p = new byte[size];
                random.nextBytes(p);
                send(s, p, m.nic(0).boundPort());
                RxFrame f = d.awaitFrames(1, WAIT).get(0);
                int total = 12 + 42 + size;
                int expected = (total + 1023) / 1024;
                assertForwarded(f, mac, s.getLocalPort(), p, expected);
                for (int i = 0; i < f.usedLengths().size() - 1; i++) {
                    assertThat(f.usedLengths().get(i)).as("every buffer but the last is full").isEqualTo(1024);
                }
                d.postRx(f.numBuffers(), 1024, 3);
            }
            assertThat(m.nic(0).stats().guestErrors()).isZero();
        }
    }

    @Test
    void withoutMergeableBuffersATooBigFrameIsDroppedNotCut(SeededRandom random) throws Exception {
        try (NetMachine m = machine(16, false); DatagramSocket s = sender()) {
            NetDriver d = started(m, random, 16);
            d.postRx(1, 600, 2);
            byte[] mac = m.nic(0).config().mac().bytes();
            send(s, new byte[1000], m.nic(0).boundPort());
            byte[] small = "fits".getBytes();
            send(s, small, m.nic(0).boundPort());
            List<RxFrame> f = d.awaitFrames(1, WAIT);
            assertThat(f).hasSize(1);
            assertForwarded(f.get(0), mac, s.getLocalPort(), small, 1);
            assertThat(m.nic(0).stats().rxDroppedTooBig()).isEqualTo(1);
        }
    }

    @Test
    void pauseStopsTakingHostInputUntilResume(SeededRandom random) throws Exception {
        try (NetMachine m = machine(16, false); DatagramSocket s = sender()) {
            NetDriver d = started(m, random, 16);
            d.postRx(8, 1526, 1);
            m.machine().pause();
            send(s, new byte[]{1}, m.nic(0).boundPort());
            Thread.sleep(150);
            assertThat(m.nic(0).stats().rxDatagrams()).isZero();
            m.machine().resume();
            assertThat(d.awaitFrames(1, WAIT)).hasSize(1);
        }
    }

    @Test
    void aPortInUseFailsTheStartWithAMessage() throws Exception {
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            int port = taken.getLocalPort();
            var nic = NetMachine.udp(0, 16, false).toBuilder().listen(new InetSocketAddress("127.0.0.1", port)).build();
            NetMachine m = NetMachine.create(List.of(nic));
            try {
                assertThatThrownBy(() -> m.machine().start())
                        .isInstanceOf(MachineException.class)
                        .hasMessage("nic net0: cannot bind 127.0.0.1:" + port + ": address already in use");
            } finally {
                m.close();
            }
        }
    }

    /**
     * Every NIC's socket asks for a 4 MiB receive buffer unless told otherwise (the kernel's 208 KiB default lost
     * 6-9% of the seed's traffic on an idle 2-core machine), and the device says what the kernel granted, the same
     * on every transport: Linux caps the request at net.core.rmem_max and doubles it (sock_setsockopt, SO_RCVBUF).
     */
    @Test
    void theSocketAsksForTheDefaultReceiveBufferAndSaysWhatTheKernelGranted() throws Exception {
        java.nio.file.Path rmemMax = java.nio.file.Path.of("/proc/sys/net/core/rmem_max");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isReadable(rmemMax), "Linux's rmem_max");
        // One read of the whole line: a sysctl file read from a nonzero offset is empty (proc_dointvec).
        long cap = Long.parseLong(java.nio.file.Files.readAllLines(rmemMax).get(0).trim());
        assertThat(NetConfig.defaults().socketReceiveBuffer()).isEqualTo(4L << 20);
        for (NetConfig.Transport t : NetMachine.socketTransports()) {
            try (NetMachine m = machine(16, false, t)) {
                assertThat((long) m.nic(0).socketReceiveBuffer())
                        .as("%s: SO_RCVBUF granted for 4M asked, rmem_max %d", t, cap)
                        .isEqualTo(2 * Math.min(4L << 20, cap));
            }
        }
    }

    @Test
    void portZeroBindsAnEphemeralPortTheLauncherCanFind() {
        try (NetMachine m = NetMachine.start(List.of(NetMachine.udp(0, 16, false), NetMachine.udp(1, 16, true)))) {
            assertThat(m.nic(0).boundPort()).isPositive();
            assertThat(m.nic(1).boundPort()).isPositive().isNotEqualTo(m.nic(0).boundPort());
            assertThat(m.nic(0).localAddress().getAddress().getHostAddress()).isEqualTo("127.0.0.1");
            assertThat(MacAddress.qemuDefault(1)).isEqualTo(m.nic(1).config().mac());
        }
    }
}
