package dev.jvmm.net;

import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.net.testing.GuestQueue;
import dev.jvmm.net.testing.NetDriver;
import dev.jvmm.net.testing.NetDriver.RxFrame;
import dev.jvmm.net.testing.NetMachine;
import dev.jvmm.net.testing.TestFrames;
import dev.jvmm.net.virtio.VirtioFeatures;
import dev.jvmm.net.virtio.VirtioStatus;
import dev.jvmm.net.virtio.SplitVirtqDescriptor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real threads, real sockets: a sender streams numbered datagrams while the guest (this thread, through MMIO)
 * receives, resets the device in the middle of the traffic and brings it up again with other settings, and in some
 * rounds scribbles over its own rings while the event loop is using them. Every frame that arrives must be intact
 * and in order within its round; the device must come back after every reset; no exception may reach any thread,
 * nothing may leak, and the event loop must stay responsive.
 */
@ExtendWith(SeedExtension.class)
class ResetUnderTrafficTest {
    private static final Duration TEST_TIME = Duration.ofMillis(2500);
    private static final long FEATURES = VirtioFeatures.VIRTIO_F_VERSION_1 | VirtioFeatures.VIRTIO_F_EVENT_IDX
            | VirtioFeatures.VIRTIO_F_INDIRECT_DESC | VirtioFeatures.VIRTIO_NET_F_MRG_RXBUF;

    @Test
    void resetsAndScribblesMidTrafficNeverHurtTheHost(SeededRandom random) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> senderFailure = new AtomicReference<>();
        try (NetMachine m = NetMachine.start(List.of(NetMachine.udp(0, 128, true)));
             DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            VirtioNetDevice nic = m.nic(0);
            int port = nic.boundPort();
            Thread sender = new Thread(() -> {
                try {
                    byte[] p = new byte[256];
                    for (long seq = 0; !stop.get(); seq++) {
                        ByteBuffer.wrap(p).putLong(0, seq);
                        int len = 8 + (int) (seq * 37 % 240);
                        s.send(new DatagramPacket(p, len, InetAddress.getLoopbackAddress(), port));
                        if (seq % 32 == 0) {
                            LockSupport.parkNanos(200_000);
                        }
                    }
                } catch (Throwable t) {
                    senderFailure.set(t);
                }
            }, "test-sender");
            sender.start();

            int rounds = 0;
            int scribbled = 0;
            long delivered = 0;
            long deadline = System.nanoTime() + TEST_TIME.toNanos();
            GuestMemory mem = m.machine().memory();
            while (System.nanoTime() < deadline) {
                rounds++;
                NetDriver d = m.driver(0, random);
                int size = 1 << (3 + random.nextInt(5));
                long f = d.start(FEATURES & (random.nextBoolean() ? ~0L : ~VirtioFeatures.VIRTIO_NET_F_MRG_RXBUF), size);
                boolean mrg = VirtioFeatures.has(f, VirtioFeatures.VIRTIO_NET_F_MRG_RXBUF);
                int bufSize = mrg ? 64 + random.nextInt(512) : 1526;
                d.postRx(size / 3, bufSize, 2);
                boolean scribble = random.nextInt(3) == 0;
                long lastSeq = -1;
                // Once this round scribbled, two descriptors may share a buffer (or point into a ring): what the
                // guest reads back is then its own doing, and only the host's health is checked.
                boolean corrupted = false;
                long roundEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20 + random.nextInt(80));
                while (System.nanoTime() < roundEnd) {
                    if (corrupted) {
                        // Headers and buffers may be garbage now: take the used entries without reading them.
                        for (GuestQueue.Used u : d.rx().reap()) {
                            delivered++;
                            d.rx().forget(u.id());
                        }
                    }
                    for (RxFrame fr : corrupted ? List.<RxFrame>of() : d.reapFrames()) {
                        delivered++;
                        byte[] b = fr.frame();
                        assertThat(TestFrames.ipChecksum(b, 14, 20)).as("round %d: IPv4 checksum", rounds).isZero();
                        assertThat(TestFrames.udpChecksumValid(b, 14)).as("round %d: UDP checksum", rounds).isTrue();
                        long seq = ByteBuffer.wrap(b, 42, 8).getLong();
                        assertThat(seq).as("round %d: datagrams in order", rounds).isGreaterThan(lastSeq);
                        assertThat(b.length).isEqualTo(42 + 8 + (int) (seq * 37 % 240));
                        lastSeq = seq;
                    }
                    if (d.rx().freeDescriptors() >= 4) {
                        d.postRx(Math.min(8, d.rx().freeDescriptors() / 2), bufSize, 2);
                    }
                    if (scribble && random.nextInt(20) == 0) {
                        scribble(random, d.rx(), mem);
                        scribbled++;
                        corrupted = true;
                    }
                    if ((d.status() & VirtioStatus.DEVICE_NEEDS_RESET) != 0) {
                        break;
                    }
                    Thread.onSpinWait();
                }
                d.reset();
            }
            stop.set(true);
            sender.join(5000);
            assertThat(senderFailure.get()).isNull();
            assertThat(rounds).as("resets mid-traffic").isGreaterThan(5);
            assertThat(delivered).as("frames that reached the guest").isPositive();
            assertThat(nic.eventLoop().submit(() -> 42).get(2, TimeUnit.SECONDS))
                    .as("the event loop still answers").isEqualTo(42);
            assertThat(nic.frameBuffersOutstanding()).as("frame buffers leaked").isZero();
            assertThat(nic.stats().socketErrors()).isZero();
            assertThat(m.machine().vcpuFaults()).isEmpty();

            // And the device still works.
            NetDriver d = m.driver(0, random);
            d.start(FEATURES, 64);
            d.postRx(60, 1526, 1);
            // Drain what the socket kept from before the last reset first: a full socket buffer would make the kernel
            // drop the marker.
            long drainUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < drainUntil && !d.awaitFrames(Integer.MAX_VALUE, Duration.ofMillis(300)).isEmpty()) {
                if (d.rx().freeDescriptors() > 8) {
                    d.postRx(Math.min(32, d.rx().freeDescriptors() - 4), 1526, 1);
                }
            }
            if (d.rx().freeDescriptors() > 8) {
                d.postRx(8, 1526, 1);
            }
            // The marker is sent again every 250 ms: UDP promises no delivery, and one datagram may be lost on the
            // way as a real NIC loses it: in the kernel while the socket is still full from the flood, or at the
            // device while this driver, slow to post buffers, leaves the ring full (the device holds one datagram
            // and drops what the transport read in the same batch: rxDroppedNoBuffer). What is checked is that the
            // device reads its socket again and delivers what arrives; the counters below say where it stopped.
            byte[] marker = "the end".getBytes();
            boolean seen = false;
            int markers = 0;
            long nextMarker = 0;
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!seen && System.nanoTime() < until) {
                if (System.nanoTime() - nextMarker >= 0) {
                    s.send(new DatagramPacket(marker, marker.length, InetAddress.getLoopbackAddress(), port));
                    markers++;
                    nextMarker = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(250);
                }
                // Datagrams left in the socket from before the last reset arrive first.
                for (RxFrame fr : d.awaitFrames(1, Duration.ofMillis(100))) {
                    byte[] b = fr.frame();
                    seen |= new String(TestFrames.slice(b, 42, b.length)).equals("the end");
                }
                if (d.rx().freeDescriptors() > 8) {
                    d.postRx(8, 1526, 1);
                }
            }
            KernelUdpSockets.Counters kernel = KernelUdpSockets.of(nic.localAddress());
            assertThat(seen).as("a datagram sent after all this reaches the guest (%d markers sent; the kernel's socket"
                            + " holds %d bytes and dropped %d); status %d, rx avail %d used %d lastUsed %d avail_event %d"
                            + " free %d, %s", markers, kernel.rxQueueBytes(), kernel.drops(), d.status(),
                    d.rx().availIdx(), d.rx().usedIdx(), d.rx().lastUsed(), d.rx().availEvent(),
                    d.rx().freeDescriptors(), nic.stats()).isTrue();
            System.out.printf("%d rounds, %d scribbles, %d frames delivered, %s%n", rounds, scribbled, delivered,
                    nic.stats());
        }
    }

    /** A hostile write into the receive ring while the device uses it. */
    private static void scribble(SeededRandom r, GuestQueue q, GuestMemory mem) {
        long ramEnd = MemoryMap.RAM_BASE + NetMachine.RAM;
        switch (r.nextInt(4)) {
            case 0 -> q.writeDescriptor(r.nextInt(q.size()), r.nextBoolean() ? ramEnd - 8 : r.edgyLong(), r.edgyInt(),
                    r.nextInt(8), r.nextInt(q.size() + 2));
            case 1 -> q.setAvailIdxRaw(q.availIdx() + q.size() + 1);
            case 2 -> {
                q.setAvailEntryRaw(q.availIdx(), 0xFFFF);
                q.setAvailIdxRaw(q.availIdx() + 1);
            }
            default -> mem.write16(q.usedAddr() + SplitVirtqDescriptor.USED_FLAGS, (short) r.nextInt(65536));
        }
    }
}
