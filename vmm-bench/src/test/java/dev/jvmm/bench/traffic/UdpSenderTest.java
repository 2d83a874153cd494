package dev.jvmm.bench.traffic;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The built-in sender: iperf2's datagrams, in order, and a ramp that starts slow and then keeps the full rate. */
class UdpSenderTest {

    @Test
    void theRampAdvancesTheScheduleQuadraticallyThenAtFullRate() {
        long ramp = 1_000_000_000L;
        assertThat(UdpSender.scheduled(0, ramp)).isZero();
        assertThat(UdpSender.scheduled(ramp / 2, ramp)).as("half way: a quarter of the full-rate schedule's half")
                .isEqualTo(ramp / 8);
        assertThat(UdpSender.scheduled(ramp, ramp)).as("at the end of the ramp: half its length behind").isEqualTo(ramp / 2);
        assertThat(UdpSender.scheduled(ramp + 7, ramp)).as("then at full rate").isEqualTo(ramp / 2 + 7);
        assertThat(UdpSender.scheduled(12345, 0)).as("no ramp: the clock itself").isEqualTo(12345);
    }

    /**
     * Every datagram carries iperf2's header (id from 0, a tv_usec below a second: what the toy guest and the compiled
     * guests take for iperf), ids follow each other, and the test ends with iperf's end marker.
     */
    @Test
    void datagramsAreIperf2sInOrderEndedByTheEndMarker() throws Exception {
        try (DatagramChannel rx = DatagramChannel.open()) {
            rx.bind(new InetSocketAddress("127.0.0.1", 0));
            rx.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 1 << 20);
            UdpSender sender = new UdpSender(List.of((InetSocketAddress) rx.getLocalAddress()), 1_000_000, 64,
                    200_000_000L, "sender-test").rampUp(50_000_000L).start();
            sender.join();
            assertThat(sender.failure()).isNull();
            rx.configureBlocking(false);
            List<Integer> ids = new ArrayList<>();
            ByteBuffer b = ByteBuffer.allocate(128);
            while (rx.receive(b.clear()) != null) {
                assertThat(b.position()).as("payload length").isEqualTo(64);
                assertThat(b.getInt(8) & 0xFFFF_FFFFL).as("tv_usec").isLessThan(1_000_000);
                ids.add(b.getInt(0));
            }
            assertThat(ids).as("datagrams received").hasSize((int) sender.totalSent());
            int n = ids.size() - 3;
            assertThat(n).as("datagrams before the end marker").isPositive();
            for (int i = 0; i < n; i++) {
                assertThat(ids.get(i)).as("id %d", i).isEqualTo(i);
            }
            assertThat(ids.subList(n, n + 3)).as("iperf2's end marker, three times").containsOnly(-(n + 1));
        }
    }
}
