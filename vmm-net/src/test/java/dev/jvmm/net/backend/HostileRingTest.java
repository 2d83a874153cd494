package dev.jvmm.net.backend;

import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.testing.HostileCases;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.net.NicStats;
import dev.jvmm.net.testing.GuestQueue;
import dev.jvmm.net.testing.NetDriver;
import dev.jvmm.net.testing.NetMachine;
import dev.jvmm.net.testing.TestFrames;
import dev.jvmm.net.virtio.VirtioFeatures;
import dev.jvmm.net.virtio.VirtioNetDescriptor;
import dev.jvmm.net.virtio.VirtioStatus;
import dev.jvmm.net.virtio.SplitVirtqDescriptor;
import io.netty.buffer.Unpooled;
import io.netty.channel.socket.DatagramPacket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import static dev.jvmm.net.virtio.VirtioMmioRegisterDescriptor.VIRTIO_MMIO_INT_CONFIG;
import static dev.jvmm.net.virtio.VirtioMmioRegisterDescriptor.INTERRUPT_STATUS;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Seeded property test over hostile ring states: loops, indices out of range, addresses that wrap or leave RAM,
 * avail index jumps, zero and huge lengths, nested and malformed indirect tables, random flags, in receive,
 * transmit and control queues. Whatever the guest writes, no exception escapes (everything here runs on the test
 * thread, so one would fail the test), every run ends, the device ends up either working or showing
 * DEVICE_NEEDS_RESET with the error counted and the configuration interrupt raised, used ids stay in range, no
 * buffer leaks, and a reset brings back a device that forwards traffic again.
 */
@ExtendWith(SeedExtension.class)
class HostileRingTest {
    /**
     * Cases of the default run: 20 times the first 1,000, at some 10,000 cases per second (every check of a case is
     * a plain loop or a handful of assertions; the cost is the device's own work).
     */
    private static final int ITERATIONS = HostileCases.cases(20_000);
    private static final InetSocketAddress PEER = new InetSocketAddress("10.7.7.7", 7777);
    private static final byte[] GATEWAY_MAC = {0x52, 0x55, 10, 0, 2, 2};

    @Test
    void hostileRingsLeaveADefinedCountedStateThatAResetRecovers(SeededRandom random) {
        var cfg = NetMachine.withPairs(NetMachine.udp(0, 64, true), 2);
        try (EmbeddedNic n = new EmbeddedNic(cfg, new UdpForwardBackend(cfg))) {
            GuestMemory mem = n.machine().machine().memory();
            int broken = 0;
            long started = System.nanoTime();
            for (int it = 0; it < ITERATIONS; it++) {
                NetDriver d = n.driver(random);
                long features = VirtioFeatures.VIRTIO_F_VERSION_1 | pick(random, VirtioFeatures.VIRTIO_F_EVENT_IDX)
                        | pick(random, VirtioFeatures.VIRTIO_F_INDIRECT_DESC) | pick(random, VirtioFeatures.VIRTIO_NET_F_MRG_RXBUF)
                        | (random.nextBoolean() ? VirtioFeatures.VIRTIO_NET_F_MQ | VirtioFeatures.VIRTIO_NET_F_CTRL_VQ : 0);
                d.negotiate(features);
                int queues = VirtioFeatures.has(features, VirtioFeatures.VIRTIO_NET_F_MQ) ? 5 : 2;
                List<GuestQueue> qs = new ArrayList<>();
                for (int q = 0; q < queues; q++) {
                    qs.add(d.placeQueue(q, 1 << (1 + random.nextInt(6))));
                    d.ready(q);
                }
                d.driverOk();
                n.run();
                long errorsBefore = n.stats().deviceErrors();
                long configMsisBefore = n.machine().irq().count(0, n.nic().configEventId());

                // Some honest traffic, then hostility, then more traffic, doorbells everywhere.
                for (GuestQueue q : qs) {
                    if (q.index() % 2 == 0 && q.index() < 4) {
                        d.postRx(q, Math.min(4, q.freeDescriptors() / 2), 64 + random.nextInt(1600), 2);
                    }
                }
                for (int k = 0, m = 1 + random.nextInt(6); k < m; k++) {
                    corrupt(random, d, qs.get(random.nextInt(qs.size())), mem);
                }
                for (int k = 0, m = random.nextInt(5); k < m; k++) {
                    n.datagram(Unpooled.wrappedBuffer(new byte[random.nextInt(3000)]), PEER);
                }
                for (int k = 0, m = random.nextInt(6); k < m; k++) {
                    d.notifyQueue(random.nextInt(queues + 1));
                }
                n.run();

                NicStats st = n.stats();
                boolean needsReset = (d.status() & VirtioStatus.DEVICE_NEEDS_RESET) != 0;
                if (needsReset) {
                    broken++;
                    assertThat(st.deviceErrors()).as("iteration %d: a broken device counts it", it)
                            .isGreaterThan(errorsBefore);
                    assertThat(st.lastGuestError()).as("iteration %d", it).isNotNull();
                    assertThat(d.read(INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG).as("iteration %d", it).isNotZero();
                    assertThat(n.machine().irq().count(0, n.nic().configEventId()))
                            .as("iteration %d: one configuration MSI per failure", it).isEqualTo(configMsisBefore + 1);
                } else {
                    assertThat(st.deviceErrors()).as("iteration %d", it).isEqualTo(errorsBefore);
                }
                for (GuestQueue q : qs) {
                    assertUsedIdsInRange(mem, q, it);
                }
                assertThat(st.txInFlight()).as("iteration %d: every transmitted frame sent or dropped for a named "
                        + "reason: %s", it, st).isZero();
                drainOutbound(n);

                d.reset();
                n.run();
                assertThat(n.nic().frameBuffersOutstanding()).as("iteration %d: buffers leaked", it).isZero();
                if (it % 25 == 0) {
                    assertRecovered(n, random);
                }
            }
            assertRecovered(n, random);
            double seconds = (System.nanoTime() - started) / 1e9;
            System.out.printf(java.util.Locale.ROOT, "hostile rings: %d cases (%d broke the device, %d recovery checks) "
                    + "in %.1f s: %.0f cases/s, seed %d%n", ITERATIONS, broken, ITERATIONS / 25 + 1, seconds,
                    ITERATIONS / seconds, random.seed());
            assertThat(broken).as("the generator must break the device often enough to mean something")
                    .isGreaterThan(ITERATIONS / 10);
        }
    }

    private static long pick(SeededRandom r, long feature) {
        return r.nextBoolean() ? feature : 0;
    }

    /** One hostile write into queue {@code q}'s rings (or a table they point at). */
    private static void corrupt(SeededRandom r, NetDriver d, GuestQueue q, GuestMemory mem) {
        int size = q.size();
        long ramBase = MemoryMap.RAM_BASE;
        long ramEnd = ramBase + NetMachine.RAM;
        switch (r.nextInt(9)) {
            case 0 -> q.writeDescriptor(r.nextInt(size), hostileAddress(r, ramBase, ramEnd), r.edgyInt(),
                    r.nextInt(8), r.nextInt(4) == 0 ? r.nextInt(65536) : r.nextInt(size));
            case 1 -> {
                // A loop: i -> j -> i, made available.
                int i = r.nextInt(size);
                int j = r.nextInt(size);
                long buf = d.allocator().alloc(64);
                int w = r.nextBoolean() ? VIRTQ_DESC_F_WRITE : 0;
                q.writeDescriptor(i, buf, 64, VIRTQ_DESC_F_NEXT | w, j);
                q.writeDescriptor(j, buf, 64, VIRTQ_DESC_F_NEXT | w, i);
                q.setAvailEntryRaw(q.availIdx(), i);
                q.setAvailIdxRaw(q.availIdx() + 1);
            }
            case 2 -> q.setAvailIdxRaw(r.nextBoolean() ? q.availIdx() + size + 1 + r.nextInt(1000) : r.edgyInt());
            case 3 -> {
                q.setAvailEntryRaw(q.availIdx(), r.nextBoolean() ? size + r.nextInt(65536 - size) : r.edgyInt());
                q.setAvailIdxRaw(q.availIdx() + 1);
            }
            case 4 -> {
                // An indirect table of random (possibly nested, looping, out-of-range) descriptors.
                int entries = 1 + r.nextInt(8);
                long table = d.allocator().alloc(16L * entries, 16);
                for (int k = 0; k < entries; k++) {
                    long e = table + 16L * k;
                    mem.write64(e + DESC_ADDR, r.nextBoolean() ? d.allocator().alloc(128) : hostileAddress(r, ramBase, ramEnd));
                    mem.write32(e + DESC_LEN, r.nextBoolean() ? 128 : r.edgyInt());
                    mem.write16(e + DESC_FLAGS, (short) (r.nextInt(8) | (r.nextInt(4) == 0 ? VIRTQ_DESC_F_INDIRECT : 0)));
                    mem.write16(e + DESC_NEXT, (short) r.nextInt(entries + 2));
                }
                int head = r.nextInt(size);
                int len = r.nextInt(4) == 0 ? r.edgyInt() : 16 * entries;
                q.writeDescriptor(head, r.nextInt(6) == 0 ? hostileAddress(r, ramBase, ramEnd) : table, len,
                        VIRTQ_DESC_F_INDIRECT | (r.nextInt(5) == 0 ? VIRTQ_DESC_F_NEXT : 0), r.nextInt(size));
                q.setAvailEntryRaw(q.availIdx(), head);
                q.setAvailIdxRaw(q.availIdx() + 1);
            }
            case 5 -> {
                // A chain of zero-length and huge buffers.
                int head = r.nextInt(size);
                q.writeDescriptor(head, d.allocator().alloc(16), r.nextBoolean() ? 0 : -1,
                        VIRTQ_DESC_F_WRITE | (r.nextBoolean() ? VIRTQ_DESC_F_NEXT : 0), r.nextInt(size));
                q.setAvailEntryRaw(q.availIdx(), head);
                q.setAvailIdxRaw(q.availIdx() + 1);
            }
            case 6 -> {
                // Rewrite ring bookkeeping the device reads: flags, used_event, even the used ring.
                mem.write16(q.availAddr() + AVAIL_FLAGS, (short) r.nextInt(65536));
                q.setUsedEvent(r.nextInt(65536));
                mem.write16(q.usedAddr() + USED_IDX, (short) r.nextInt(65536));
            }
            case 7 -> {
                // A well-formed chain whose buffer sits at the very end of RAM or just beyond.
                int head = r.nextInt(size);
                long addr = ramEnd - r.nextInt(64);
                q.writeDescriptor(head, addr, 64 + r.nextInt(64), r.nextBoolean() ? VIRTQ_DESC_F_WRITE : 0, 0);
                q.setAvailEntryRaw(q.availIdx(), head);
                q.setAvailIdxRaw(q.availIdx() + 1);
            }
            default -> {
                // A control command with hostile contents.
                byte[] cmd = new byte[r.nextInt(6)];
                r.nextBytes(cmd);
                long buf = d.allocator().alloc(Math.max(1, cmd.length));
                mem.write(buf, cmd, 0, cmd.length);
                int head = r.nextInt(size);
                q.writeDescriptor(head, buf, cmd.length, r.nextBoolean() ? VIRTQ_DESC_F_NEXT : 0, r.nextInt(size));
                q.setAvailEntryRaw(q.availIdx(), head);
                q.setAvailIdxRaw(q.availIdx() + 1);
            }
        }
    }

    private static long hostileAddress(SeededRandom r, long ramBase, long ramEnd) {
        switch (r.nextInt(6)) {
            case 0: return -1L - r.nextInt(64);
            case 1: return ramEnd - r.nextInt(32);
            case 2: return ramBase - 1 - r.nextInt(4096);
            case 3: return 0;
            case 4: return ramBase + r.nextInt((int) NetMachine.RAM);
            default: return r.edgyLong();
        }
    }

    /** Every used entry names a descriptor of the queue (a plain loop: it runs for every slot of every case). */
    private static void assertUsedIdsInRange(GuestMemory mem, GuestQueue q, int it) {
        for (int slot = 0; slot < q.size(); slot++) {
            long e = q.usedAddr() + USED_RING + (long) USED_ELEM_SIZE * slot;
            int id = mem.read32(e + USED_ELEM_ID);
            if (id < 0 || id >= q.size()) {
                fail("iteration %d: used id %d in queue %d's slot %d is outside 0..%d", it, id, q.index(), slot,
                        q.size() - 1);
            }
        }
    }

    private static void drainOutbound(EmbeddedNic n) {
        for (Object o = n.channel().readOutbound(); o != null; o = n.channel().readOutbound()) {
            ((DatagramPacket) o).release();
        }
    }

    /** After a reset, a clean bring-up forwards a datagram in and a reply out. */
    private static void assertRecovered(EmbeddedNic n, SeededRandom random) {
        NetDriver d = n.driver(random);
        d.start(VirtioFeatures.VIRTIO_F_VERSION_1 | VirtioFeatures.VIRTIO_F_EVENT_IDX, 16);
        n.run();
        d.postRx(4, 1526, 2);
        n.run();
        n.datagram(Unpooled.copiedBuffer("ping".getBytes()), PEER);
        List<NetDriver.RxFrame> f = d.reapFrames();
        assertThat(f).as("a recovered device delivers").hasSize(1);
        byte[] b = f.get(0).frame();
        assertThat(new String(TestFrames.slice(b, 42, b.length))).isEqualTo("ping");
        byte[] mac = n.nic().config().mac().bytes();
        d.transmit(TestFrames.udp(GATEWAY_MAC, mac, new byte[]{10, 0, 2, 15}, 7000, new byte[]{10, 7, 7, 7}, 7777,
                "pong".getBytes()), 3);
        n.run();
        DatagramPacket out = n.channel().readOutbound();
        assertThat(out).as("a recovered device transmits").isNotNull();
        try {
            assertThat(out.recipient()).isEqualTo(PEER);
        } finally {
            out.release();
        }
        assertThat(d.status() & VirtioStatus.DEVICE_NEEDS_RESET).isZero();
        d.reset();
        n.run();
    }
}
