package dev.jvmm.bench.seed;

import dev.jvmm.net.NetConfig;
import dev.jvmm.net.NicConfig;
import dev.jvmm.core.irq.DropReason;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.core.irq.IrqchipRoute;
import dev.jvmm.core.irq.MsiRoute;
import dev.jvmm.net.NetBackend;
import dev.jvmm.net.NicCounters;
import dev.jvmm.net.RxStatus;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.ArrayDeque;
import java.util.Deque;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The t0 → t3 probe's bookkeeping, driven as the machine drives it (the backend's Guest calls on one side, the
 * router's and the GIC's observer calls on the other) but from one thread with chosen timestamps, so that the
 * attribution rules can be checked value by value. Nothing here depends on how fast the machine is.
 */
class EndToEndProbeTest {
    private static final long DOORBELL = 0x0809_0040L;
    private static final int NIC0_RX = 8192;
    private static final int NIC0_TX = 8193;
    private static final int NIC1_RX = 8195;

    private static List<NicConfig> twoNics() {
        return List.of(NicConfig.builder(0).listen(0).guestPort(5001).build(),
                NicConfig.builder(1).listen(0).guestPort(5001).build());
    }

    private static EndToEndProbe probe() {
        EndToEndProbe p = new EndToEndProbe(twoNics());
        p.doorbells(new long[]{DOORBELL, DOORBELL});
        return p;
    }

    /** The router reports a delivered MSI of NIC {@code deviceId}'s queue {@code eventId} as INTID {@code intid}. */
    private static void inject(EndToEndProbe p, int deviceId, int eventId, int intid) {
        p.injected(new MsiRoute(deviceId * 3 + eventId, DOORBELL, eventId, deviceId),
                InjectResult.delivered(intid, deviceId), true, 1, 2);
    }

    @Test
    void interruptsAreAttributedToTheNicWhoseReceiveQueueRaisedThem() {
        EndToEndProbe p = probe();
        inject(p, 0, 0, NIC0_RX);
        inject(p, 0, 1, NIC0_TX);
        inject(p, 1, 0, NIC1_RX);
        p.injected(new MsiRoute(9, DOORBELL + 0x20000, 0, 0), InjectResult.delivered(8300, 0), false, 1, 2);
        assertThat(p.nicOf(NIC0_RX)).as("NIC 0's receiveq (EventID 0)").isZero();
        assertThat(p.nicOf(NIC0_TX)).as("a transmit interrupt is not a receive interrupt").isEqualTo(-1);
        assertThat(p.nicOf(NIC1_RX)).as("NIC 1's receiveq").isEqualTo(1);
        assertThat(p.nicOf(8300)).as("another ITS's doorbell is not NIC 0's").isEqualTo(-1);
        assertThat(p.nicOf(42)).as("not an LPI").isEqualTo(-1);
    }

    @Test
    void oneValuePerAcknowledgeFromTheFirstArrivalSinceTheLastOne() {
        EndToEndProbe p = probe();
        inject(p, 0, 0, NIC0_RX);
        inject(p, 1, 0, NIC1_RX);
        p.arrived(0, 1_000);
        p.arrived(0, 1_400);   // covered by the same interrupt: not the first since the last acknowledge
        p.arrived(1, 2_000);
        p.acknowledged(0, NIC0_RX, 1_100, 1_200, 1_900);
        p.acknowledged(0, NIC0_RX, 1_500, 1_600, 2_500);  // nothing arrived since the last acknowledge
        p.acknowledged(1, NIC0_TX, 0, 0, 2_600);           // not a receive interrupt
        p.arrived(0, 3_000);
        p.acknowledged(0, NIC0_RX, 3_100, 3_200, 3_700);
        p.acknowledged(1, NIC1_RX, 2_100, 2_200, 5_000);

        Histogram h = p.arrivalToAck();
        assertThat(h.getTotalCount()).isEqualTo(3);
        assertThat(h.getMinValue()).as("NIC 0's second burst: 3000 -> 3700").isEqualTo(700);
        assertThat(h.valuesAreEquivalent(h.getValueAtPercentile(50), 900)).as("NIC 0's first burst: 1000 -> 1900").isTrue();
        assertThat(h.valuesAreEquivalent(h.getMaxValue(), 3_000)).as("NIC 1: 2000 -> 5000").isTrue();
        Histogram pending = p.pendingToAck();
        assertThat(pending.getTotalCount()).as("every acknowledge of an MSI-raised LPI (pending time known)").isEqualTo(4);
    }

    @Test
    void aWiredNicsSpiIsItsReceiveInterruptAndTheProbeKeepsItsPendingTime() {
        // NIC 0 wired in slot 0 (SPI INTID 48), NIC 1 with MSIs.
        List<NicConfig> nics = List.of(NicConfig.builder(0).listen(0).guestPort(5001)
                        .interrupt(NicConfig.NicInterrupt.WIRED).build(),
                NicConfig.builder(1).listen(0).guestPort(5001).build());
        EndToEndProbe p = new EndToEndProbe(nics);
        p.doorbells(new long[]{-1, DOORBELL});
        IrqchipRoute spi = IrqchipRoute.forSpi(0, 48);
        assertThat(p.nicOf(48)).as("known from the configuration, before any interrupt").isZero();
        assertThat(p.nicOf(49)).as("slot 1 is an MSI NIC: its SPI is nobody's").isEqualTo(-1);
        p.arrived(0, 1_000);
        p.injected(spi, InjectResult.raised(48), true, 1_100, 1_200);
        p.injected(spi, InjectResult.raised(48), true, 1_300, 1_400);   // merged into the pending SPI: not its t2
        p.injected(spi, InjectResult.dropped(DropReason.STOPPED), true, 1_350, 1_450);
        p.acknowledged(0, 48, 0, 0, 1_700);
        p.arrived(0, 2_000);
        p.injected(spi, InjectResult.raised(48), false, 2_100, 2_300);
        p.acknowledged(0, 48, 0, 0, 2_400);
        p.acknowledged(0, 48, 0, 0, 2_600);                              // spurious: nothing raised, nothing arrived
        Histogram arrival = p.arrivalToAck();
        assertThat(arrival.getTotalCount()).as("one value per acknowledge that found an arrival").isEqualTo(2);
        assertThat(arrival.getMinValue()).as("2000 -> 2400").isEqualTo(400);
        assertThat(arrival.getMaxValue()).as("1000 -> 1700").isEqualTo(700);
        Histogram pending = p.pendingToAck();
        assertThat(pending.getTotalCount()).as("the raises that made the SPI pending").isEqualTo(2);
        assertThat(pending.getMinValue()).as("2300 -> 2400").isEqualTo(100);
        assertThat(pending.getMaxValue()).as("1200 -> 1700, the first raise since the last acknowledge").isEqualTo(500);
    }

    @Test
    void resetForgetsTheWarmUpButKeepsCounting() {
        EndToEndProbe p = probe();
        inject(p, 0, 0, NIC0_RX);
        p.arrived(0, 100);
        p.acknowledged(0, NIC0_RX, 0, 150, 200);
        p.reset();
        p.arrived(0, 1_000);
        p.acknowledged(0, NIC0_RX, 0, 1_050, 1_100);
        assertThat(p.arrivalToAck().getTotalCount()).isEqualTo(1);
    }

    @Test
    void theDecoratorTimesArrivalsBeforeTheDeviceSeesThemAndKeepsAHeldDatagramsFirstArrival() {
        EndToEndProbe p = probe();
        List<NicConfig> cfg = twoNics();
        FakeGuest device = new FakeGuest();
        CapturingBackend inner = new CapturingBackend();
        NetBackend backend = p.backends(nic -> inner, cfg).create(cfg.get(0));
        backend.start(device);
        NetBackend.Guest timed = inner.guest;
        inject(p, 0, 0, NIC0_RX);

        device.answers.add(RxStatus.RETRY_LATER);
        long before = System.nanoTime();
        timed.receive(new byte[42], 0, 42, Unpooled.wrappedBuffer(new byte[64]), 0, 64, 0);
        assertThat(device.offers).isEqualTo(1);
        // The guest acknowledges an earlier interrupt: the held datagram's arrival was the first since the last one.
        long ack1 = System.nanoTime();
        p.acknowledged(0, NIC0_RX, 0, 0, ack1);
        // The device has room again; the backend offers the held datagram, which is now taken.
        device.answers.add(RxStatus.DELIVERED);
        timed.receive(new byte[42], 0, 42, Unpooled.wrappedBuffer(new byte[64]), 0, 64, 0);
        long ack2 = System.nanoTime();
        p.acknowledged(0, NIC0_RX, 0, 0, ack2);

        Histogram h = p.arrivalToAck();
        assertThat(h.getTotalCount()).isEqualTo(2);
        assertThat(h.getMaxValue()).as("the re-offered datagram is timed from its first arrival, not its second offer")
                .isLessThanOrEqualTo(h.highestEquivalentValue(ack2 - before));
        assertThat(h.getMaxValue()).isGreaterThanOrEqualTo(h.lowestEquivalentValue(ack2 - ack1));
    }

    /** Stands for the device: answers each offer from a queue of statuses. */
    private static final class FakeGuest implements NetBackend.Guest {
        final Deque<RxStatus> answers = new ArrayDeque<>();
        int offers;

        @Override
        public NicConfig config() {
            return null;
        }

        @Override
        public NetConfig net() {
            return NetConfig.defaults();
        }

        @Override
        public EventLoop eventLoop() {
            return null;
        }

        @Override
        public NicCounters counters() {
            return null;
        }

        @Override
        public ByteBuf frameBuffer() {
            return null;
        }

        @Override
        public int receiveRoom() {
            return 1;
        }

        @Override
        public RxStatus receive(ByteBuf frame, int index, int length, int flowHash) {
            offers++;
            return answers.remove();
        }

        @Override
        public RxStatus receive(byte[] head, int headOffset, int headLength, ByteBuf body, int bodyIndex,
                                int bodyLength, int flowHash) {
            offers++;
            return answers.remove();
        }

        @Override
        public void receiveComplete() {
        }

        @Override
        public void internalError(String what, Throwable error) {
            throw new AssertionError(what, error);
        }

        @Override
        public void transmitReady() {
        }
    }

    /** A backend that only remembers the Guest it was started with (the probe's timing wrapper). */
    private static final class CapturingBackend implements NetBackend {
        NetBackend.Guest guest;

        @Override
        public void start(Guest g) {
            guest = g;
        }
    }
}
