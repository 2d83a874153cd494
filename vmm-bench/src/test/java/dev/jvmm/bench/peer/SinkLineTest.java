package dev.jvmm.bench.peer;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** udp-sink's counter lines as the guest prints them (guests/udp-sink/udp-sink.expected, and one under load). */
class SinkLineTest {

    @Test
    void readsTheGuestsCounterLine() {
        SinkLine l = SinkLine.parse("[12 s] nic 0: datagrams 320117 (+31012) lost 17 reord 0 non-iperf 0 bad 0 other 1"
                + " echoed 0 tx-drops 0 irqs 80211 (+7003) irq-interval 163 us");
        assertThat(l).isEqualTo(new SinkLine(12, 0, 320117, 17, 80211, 7003, 163));
        assertThat(SinkLine.parse("[1 s] nic 3: datagrams 0 (+0) lost 0 reord 0 non-iperf 0 bad 0 other 1 echoed 0"
                + " tx-drops 0 irqs 1 (+1) irq-interval 0 us").nic()).isEqualTo(3);
    }

    @Test
    void anyOtherLineIsNone() {
        assertThat(SinkLine.parse("summary nic 0: receive interrupt interval avg 0 us (min 0 us, max 0 us)")).isNull();
        assertThat(SinkLine.parse("[1 s] nic 0: datagrams 99999999999999999999 (+0) lost 0 irqs 1 (+1) irq-interval"
                + " 0 us")).as("a number too big").isNull();
        assertThat(SinkLine.parse("")).isNull();
    }
}
