package dev.jvmm.net;

import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.net.testing.GuestQueue;
import dev.jvmm.net.testing.NetDriver;
import dev.jvmm.net.testing.NetMachine;
import dev.jvmm.net.testing.TestFrames;
import dev.jvmm.net.virtio.VirtioFeatures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The transmit path end to end on the default (NIO) transport, guest ring to host socket: once warm, a UDP frame the
 * guest transmits reaches its host peer without an allocation on the NIC's event loop (the device gathers it into a
 * recycled frame buffer, the backend sends it in a recycled envelope).
 */
@ExtendWith(SeedExtension.class)
class TransmitAllocationTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final byte[] GATEWAY_MAC = {0x52, 0x55, 10, 0, 2, 2};
    private static final byte[] GUEST_IP = {10, 0, 2, 15};
    private static final byte[] LOOPBACK = {127, 0, 0, 1};
    /**
     * Chains made available per notification: a whole transmit run (the device's budget), which the backend flushes
     * in parts of {@code DatagramBackend.FLUSH_EVERY}; the peer receives each chunk before the next is sent.
     */
    private static final int CHUNK = 64;
    private static final int PER_ROUND = 5000;
    private static final int PAYLOAD = 64;

    @Test
    void forwardingAGuestDatagramToItsPeerAllocatesNothingOnTheEventLoop(SeededRandom random) throws Exception {
        try (NetMachine m = NetMachine.start(List.of(NetMachine.udp(0, 256, false)));
             DatagramChannel peer = peer()) {
            NetDriver d = m.driver(0, random);
            d.start(VirtioFeatures.VIRTIO_F_VERSION_1 | VirtioFeatures.VIRTIO_F_EVENT_IDX, 256);
            d.postRx(4, 2048, 1);
            // A datagram from the peer makes it known to the backend (the guest may answer only known peers).
            peer.send(ByteBuffer.wrap(new byte[]{1}), new InetSocketAddress("127.0.0.1", m.nic(0).boundPort()));
            assertThat(d.awaitFrames(1, WAIT)).hasSize(1);
            int peerPort = ((InetSocketAddress) peer.getLocalAddress()).getPort();
            byte[] frame = TestFrames.udp(GATEWAY_MAC, m.nic(0).config().mac().bytes(), GUEST_IP,
                    NetMachine.GUEST_PORT, LOOPBACK, peerPort, new byte[PAYLOAD]);
            assertTransmitAllocatesNothing(m, d, peer, frame, PAYLOAD);
        }
    }

    @Test
    void tunnellingAGuestFrameAllocatesNothingOnTheEventLoop(SeededRandom random) throws Exception {
        try (DatagramChannel peer = peer()) {
            NicConfig nic = NetMachine.tunnel(0, (InetSocketAddress) peer.getLocalAddress(), 256, false);
            try (NetMachine m = NetMachine.start(List.of(nic))) {
                NetDriver d = m.driver(0, random);
                d.start(VirtioFeatures.VIRTIO_F_VERSION_1 | VirtioFeatures.VIRTIO_F_EVENT_IDX, 256);
                byte[] frame = TestFrames.udp(GATEWAY_MAC, nic.mac().bytes(), GUEST_IP, NetMachine.GUEST_PORT,
                        LOOPBACK, 9, new byte[PAYLOAD]);
                assertTransmitAllocatesNothing(m, d, peer, frame, frame.length);
            }
        }
    }

    private static DatagramChannel peer() throws Exception {
        DatagramChannel c = DatagramChannel.open();
        c.bind(new InetSocketAddress("127.0.0.1", 0));
        c.configureBlocking(false);
        return c;
    }

    /**
     * Transmits {@code frame} (the peer receives {@code datagramLength} bytes of it) in chunks from chains written
     * once; after a warm-up, the best of five rounds must stay below one byte per frame on the event loop (an
     * envelope per frame alone would be 24).
     */
    private static void assertTransmitAllocatesNothing(NetMachine m, NetDriver d, DatagramChannel peer, byte[] frame,
                                                       int datagramLength) throws Exception {
        List<List<GuestQueue.Buffer>> chains = new ArrayList<>();
        for (int i = 0; i < CHUNK; i++) {
            chains.add(d.txChain(frame, 2));
        }
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long loopThread = m.nic(0).eventLoop().submit(() -> Thread.currentThread().getId()).get();
        ByteBuffer in = ByteBuffer.allocateDirect(2048);
        transmitAndAwait(d, chains, peer, in, datagramLength, 20_000);
        long best = Long.MAX_VALUE;
        for (int round = 0; round < 5; round++) {
            long before = threads.getThreadAllocatedBytes(loopThread);
            transmitAndAwait(d, chains, peer, in, datagramLength, PER_ROUND);
            best = Math.min(best, threads.getThreadAllocatedBytes(loopThread) - before);
        }
        NicStats st = m.nic(0).stats();
        assertThat(st.guestErrors()).isZero();
        assertThat((double) best / PER_ROUND).as("bytes allocated per transmitted frame on the event loop (best round)")
                .isLessThan(1.0);
    }

    /** Transmits {@code n} frames, each chunk sent by the NIC and received by the peer before the next is queued. */
    private static void transmitAndAwait(NetDriver d, List<List<GuestQueue.Buffer>> chains, DatagramChannel peer,
                                         ByteBuffer in, int datagramLength, int n) throws Exception {
        for (int sent = 0; sent < n; ) {
            int chunk = Math.min(CHUNK, n - sent);
            d.transmit(chains.subList(0, chunk));
            sent += chunk;
            assertThat(d.awaitTxDone(chunk, WAIT)).as("transmit chains returned").hasSize(chunk);
            int received = 0;
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (received < chunk && System.nanoTime() < deadline) {
                in.clear();
                if (peer.receive(in) != null) {
                    assertThat(in.position()).as("datagram length").isEqualTo(datagramLength);
                    received++;
                } else {
                    Thread.onSpinWait();
                }
            }
            assertThat(received).as("datagrams the peer received").isEqualTo(chunk);
        }
    }
}
