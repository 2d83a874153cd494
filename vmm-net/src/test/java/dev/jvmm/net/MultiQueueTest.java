package dev.jvmm.net;

import dev.jvmm.core.testing.Await;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.net.testing.GuestQueue;
import dev.jvmm.net.testing.NetDriver;
import dev.jvmm.net.testing.NetMachine;
import dev.jvmm.net.virtio.VirtioFeatures;
import dev.jvmm.net.virtio.VirtioNetDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.jvmm.net.virtio.VirtioMmioRegisterDescriptor.QUEUE_NUM_MAX;
import static dev.jvmm.net.virtio.VirtioMmioRegisterDescriptor.QUEUE_SEL;
import static org.assertj.core.api.Assertions.assertThat;

/** Two queue pairs: the control queue's VQ_PAIRS_SET, receive steering by flow, per-queue EventIDs. */
@ExtendWith(SeedExtension.class)
class MultiQueueTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    /** Flows (one per sender socket, ephemeral ports): all landing on one queue has probability 2^-23. */
    private static final int SENDERS = 24;
    private static final long FEATURES = VirtioFeatures.VIRTIO_F_VERSION_1 | VirtioFeatures.VIRTIO_F_EVENT_IDX
            | VirtioFeatures.VIRTIO_NET_F_MQ | VirtioFeatures.VIRTIO_NET_F_CTRL_VQ;

    /** Sends a control command; returns the ack byte the device wrote (or -1 if the chain did not come back). */
    private static int control(NetDriver d, GuestQueue ctrl, byte[] command) {
        List<GuestQueue.Buffer> out = d.pieces(command.length, 2, false);
        int off = 0;
        for (GuestQueue.Buffer b : out) {
            d.allocator().memory().write(b.addr(), command, off, b.len());
            off += b.len();
        }
        long ackAddr = d.allocator().alloc(1);
        d.allocator().memory().write8(ackAddr, (byte) 0x55);
        List<GuestQueue.Buffer> all = new ArrayList<>(out);
        all.add(new GuestQueue.Buffer(ackAddr, 1, true));
        int head = ctrl.add(all);
        ctrl.makeAvailable(head);
        d.notifyQueue(ctrl.index());
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            List<GuestQueue.Used> u = ctrl.reap();
            if (!u.isEmpty()) {
                assertThat(u.get(0).len()).as("the device wrote the ack byte").isEqualTo(1);
                return d.allocator().memory().read8(ackAddr);
            }
            Thread.onSpinWait();
        }
        return -1;
    }

    @Test
    void twoPairsSpreadFlowsOnceTheDriverEnablesThem(SeededRandom random) throws Exception {
        var cfg = NetMachine.withPairs(NetMachine.udp(0, 64, false), 2);
        try (NetMachine m = NetMachine.start(List.of(cfg))) {
            VirtioNetDevice nic = m.nic(0);
            assertThat(nic.maxQueues()).isEqualTo(5);
            assertThat(nic.configEventId()).isEqualTo(5);
            NetDriver d = m.driver(0, random);
            d.negotiate(FEATURES);
            for (int q = 0; q < 6; q++) {
                d.write(QUEUE_SEL, q);
                assertThat(d.read(QUEUE_NUM_MAX)).as("QueueNumMax %d", q).isEqualTo(q < 5 ? 64 : 0);
            }
            GuestQueue[] qs = new GuestQueue[5];
            for (int q = 0; q < 5; q++) {
                qs[q] = d.placeQueue(q, 64);
                d.ready(q);
            }
            d.driverOk();
            GuestQueue rx0 = qs[0];
            GuestQueue rx1 = qs[2];
            GuestQueue ctrl = qs[4];
            d.postRx(rx0, 60, 1526, 1);
            d.postRx(rx1, 60, 1526, 1);

            List<DatagramSocket> senders = new ArrayList<>();
            try {
                for (int i = 0; i < SENDERS; i++) {
                    senders.add(new DatagramSocket(new InetSocketAddress("127.0.0.1", 0)));
                }
                int port = nic.boundPort();
                for (DatagramSocket s : senders) {
                    s.send(new DatagramPacket(new byte[8], 8, InetAddress.getLoopbackAddress(), port));
                }
                assertThat(Await.until(() -> nic.stats().rxDelivered() == SENDERS, WAIT)).isTrue();
                assertThat(d.reapFrames(rx0)).as("one pair until VQ_PAIRS_SET").hasSize(SENDERS);
                assertThat(d.reapFrames(rx1)).isEmpty();

                assertThat(control(d, ctrl, new byte[]{VirtioNetDescriptor.VIRTIO_NET_CTRL_MQ, 0, 3, 0}))
                        .as("three pairs: more than offered").isEqualTo(VirtioNetDescriptor.VIRTIO_NET_ERR);
                assertThat(control(d, ctrl, new byte[]{9, 9})).as("an unknown class").isEqualTo(VirtioNetDescriptor.VIRTIO_NET_ERR);
                assertThat(control(d, ctrl, new byte[]{VirtioNetDescriptor.VIRTIO_NET_CTRL_MQ, 0, 2, 0}))
                        .isEqualTo(VirtioNetDescriptor.VIRTIO_NET_OK);
                assertThat(Await.until(() -> m.irq().count(0, 4) >= 1, WAIT))
                        .as("the control queue's EventID is its index, 4").isTrue();

                for (DatagramSocket s : senders) {
                    s.send(new DatagramPacket(new byte[8], 8, InetAddress.getLoopbackAddress(), port));
                }
                assertThat(Await.until(() -> nic.stats().rxDelivered() == 2 * SENDERS, WAIT)).isTrue();
                int on0 = d.reapFrames(rx0).size();
                int on1 = d.reapFrames(rx1).size();
                assertThat(on0 + on1).isEqualTo(SENDERS);
                assertThat(on0).as("flows on receiveq1").isPositive();
                assertThat(on1).as("flows on receiveq2").isPositive();
                assertThat(m.irq().count(0, 2)).as("receiveq2's EventID is 2").isPositive();
            } finally {
                for (DatagramSocket s : senders) {
                    s.close();
                }
            }
            assertThat(nic.stats().guestErrors()).isZero();
        }
    }
}
