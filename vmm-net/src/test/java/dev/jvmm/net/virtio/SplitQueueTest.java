package dev.jvmm.net.virtio;

import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.net.testing.GuestAllocator;
import dev.jvmm.net.testing.GuestQueue;
import dev.jvmm.net.testing.GuestQueue.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;

import static dev.jvmm.net.virtio.SplitVirtqDescriptor.*;
import static org.assertj.core.api.Assertions.assertThat;

/** The device side of the split ring against a driver side written from the specification. */
@ExtendWith(SeedExtension.class)
class SplitQueueTest {
    private static final long RAM = 4L << 20;
    private static final long ALL = VirtioFeatures.VIRTIO_F_VERSION_1 | VirtioFeatures.VIRTIO_F_EVENT_IDX
            | VirtioFeatures.VIRTIO_F_INDIRECT_DESC;
    private final GuestMemory mem = GuestMemory.create(MemoryMap.RAM_BASE, RAM);

    @AfterEach
    void free() {
        mem.close();
    }

    private GuestQueue driverQueue(GuestAllocator a, int size) {
        long desc = a.alloc(descTableSize(size), DESC_ALIGN);
        long avail = a.alloc(availRingSize(size), AVAIL_ALIGN);
        long used = a.alloc(usedRingSize(size), USED_ALIGN);
        return new GuestQueue(mem, 0, size, desc, avail, used);
    }

    private SplitQueue deviceQueue(GuestQueue g, long features) {
        QueueConfig c = new QueueConfig(0, g.size(), g.descAddr(), g.availAddr(), g.usedAddr());
        assertThat(c.problem(mem, MAX_QUEUE_SIZE)).isNull();
        return new SplitQueue(mem, c, features);
    }

    private static List<Buffer> one(long addr, int len, boolean w) {
        return List.of(new Buffer(addr, len, w));
    }

    @Test
    void indicesWrapAt65536(SeededRandom random) {
        GuestAllocator a = new GuestAllocator(mem, random, 256);
        GuestQueue g = driverQueue(a, 8);
        g.startAt(65530);
        SplitQueue q = deviceQueue(g, ALL);
        // The device starts where the driver put the indices (a fresh queue after reset starts at 0 on both sides;
        // here both sides begin just below the wrap).
        for (int k = 0; k < 65530; k += 8) {
            q.consume(Math.min(8, 65530 - k), Math.min(8, 65530 - k));
        }
        DescriptorChain chain = new DescriptorChain(8);
        List<Integer> heads = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            int[] hs = new int[6];
            for (int i = 0; i < 6; i++) {
                hs[i] = g.add(one(a.alloc(64), 64, true));
                heads.add(hs[i]);
            }
            g.makeAvailable(hs);
            assertThat(q.available()).as("round %d", round).isEqualTo(6);
            for (int i = 0; i < 6; i++) {
                int head = q.head(i);
                assertThat(chain.parse(q, head)).isNull();
                assertThat(head).isEqualTo(hs[i]);
                q.putUsed(i, head, 10 + i);
            }
            q.consume(6, 6);
            q.publishUsed();
            List<GuestQueue.Used> used = g.reap();
            assertThat(used).extracting(GuestQueue.Used::id).containsExactly(hs[0], hs[1], hs[2], hs[3], hs[4], hs[5]);
            assertThat(used).extracting(GuestQueue.Used::len).containsExactly(10, 11, 12, 13, 14, 15);
        }
        assertThat(q.nextAvail()).isEqualTo((65530 + 18) & 0xFFFF);
        assertThat(g.usedIdx()).isEqualTo((65530 + 18) & 0xFFFF);
    }

    @Test
    void anAvailIndexMoreThanTheSizeAheadIsABrokenDriver(SeededRandom random) {
        GuestAllocator a = new GuestAllocator(mem, random, 256);
        GuestQueue g = driverQueue(a, 16);
        SplitQueue q = deviceQueue(g, ALL);
        g.setAvailIdxRaw(16);
        assertThat(q.available()).isEqualTo(16);
        g.setAvailIdxRaw(17);
        assertThat(q.available()).isEqualTo(16).as("entries already known are served first");
        SplitQueue fresh = deviceQueue(g, ALL);
        assertThat(fresh.available()).isEqualTo(-1);
        g.setAvailIdxRaw(0xFFFF);
        assertThat(deviceQueue(g, ALL).available()).as("a step backwards is a jump too").isEqualTo(-1);
    }

    @Test
    void needEventMatchesTheSpecification() {
        // vring_need_event(event, new, old): notify iff event in [old, new).
        assertThat(needEvent(0, 1, 0)).isTrue();
        assertThat(needEvent(1, 1, 0)).isFalse();
        assertThat(needEvent(5, 10, 3)).isTrue();
        assertThat(needEvent(10, 10, 3)).isFalse();
        assertThat(needEvent(2, 10, 3)).isFalse();
        assertThat(needEvent(65535, 2, 65534)).as("across the wrap").isTrue();
        assertThat(needEvent(1, 2, 65534)).isTrue();
        assertThat(needEvent(2, 2, 65534)).isFalse();
    }

    @Test
    void interruptDecisionHonoursEventIdxAndNoInterrupt(SeededRandom random) {
        GuestAllocator a = new GuestAllocator(mem, random, 256);
        GuestQueue g = driverQueue(a, 16);
        SplitQueue q = deviceQueue(g, ALL);
        assertThat(q.notifyDecision()).as("nothing published").isEqualTo(SplitQueue.NOTHING_NEW);
        g.setUsedEvent(2);
        use(g, q, a, 2);
        assertThat(q.notifyDecision()).as("used_event 2 not reached by 0..2").isEqualTo(SplitQueue.SUPPRESSED);
        use(g, q, a, 1);
        assertThat(q.notifyDecision()).as("used.idx passed used_event").isEqualTo(SplitQueue.NOTIFY);
        use(g, q, a, 1);
        assertThat(q.notifyDecision()).isEqualTo(SplitQueue.SUPPRESSED);

        GuestQueue g2 = driverQueue(a, 16);
        SplitQueue q2 = deviceQueue(g2, VirtioFeatures.VIRTIO_F_VERSION_1);
        use(g2, q2, a, 1);
        assertThat(q2.notifyDecision()).isEqualTo(SplitQueue.NOTIFY);
        g2.setAvailFlags(VIRTQ_AVAIL_F_NO_INTERRUPT);
        use(g2, q2, a, 1);
        assertThat(q2.notifyDecision()).isEqualTo(SplitQueue.SUPPRESSED);
    }

    private static void use(GuestQueue g, SplitQueue q, GuestAllocator a, int n) {
        for (int i = 0; i < n; i++) {
            g.makeAvailable(g.add(one(a.alloc(16), 16, true)));
        }
        assertThat(q.available()).isEqualTo(n);
        for (int i = 0; i < n; i++) {
            q.putUsed(i, q.head(i), 0);
        }
        q.consume(n, n);
        q.publishUsed();
        g.reap();
    }

    @Test
    void reEnablingNotificationsPublishesAvailEventOrClearsNoNotify(SeededRandom random) {
        GuestAllocator a = new GuestAllocator(mem, random, 256);
        GuestQueue g = driverQueue(a, 16);
        SplitQueue q = deviceQueue(g, ALL);
        use(g, q, a, 3);
        assertThat(q.enableNotification()).isZero();
        assertThat(g.availEvent()).isEqualTo(3);
        g.makeAvailable(g.add(one(a.alloc(16), 16, true)));
        assertThat(g.needsNotify(3, true)).as("the driver must ring for the next chain").isTrue();

        GuestQueue g2 = driverQueue(a, 16);
        SplitQueue q2 = deviceQueue(g2, VirtioFeatures.VIRTIO_F_VERSION_1);
        q2.disableNotification();
        assertThat(g2.usedFlags() & VIRTQ_USED_F_NO_NOTIFY).isNotZero();
        g2.makeAvailable(g2.add(one(a.alloc(16), 16, true)));
        assertThat(q2.enableNotification()).as("the re-check sees the chain added meanwhile").isEqualTo(1);
        assertThat(g2.usedFlags()).isZero();
    }

    @Test
    void chainsAreReadOnceAndChecked(SeededRandom random) {
        GuestAllocator a = new GuestAllocator(mem, random, 256);
        int n = 8;
        GuestQueue g = driverQueue(a, n);
        SplitQueue q = deviceQueue(g, ALL);
        SplitQueue noIndirect = deviceQueue(g, VirtioFeatures.VIRTIO_F_VERSION_1);
        DescriptorChain c = new DescriptorChain(n);
        long buf = a.alloc(4096);
        long table = a.alloc(16 * 4, 16);

        // A good chain: two readable, then two writable; a zero-length buffer in the middle is skipped.
        g.writeDescriptor(0, buf, 10, VIRTQ_DESC_F_NEXT, 1);
        g.writeDescriptor(1, buf + 10, 20, VIRTQ_DESC_F_NEXT, 2);
        g.writeDescriptor(2, buf + 30, 0, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
        g.writeDescriptor(3, buf + 30, 30, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 4);
        g.writeDescriptor(4, buf + 60, 40, VIRTQ_DESC_F_WRITE, 0);
        assertThat(c.parse(q, 0)).isNull();
        assertThat(c.count()).isEqualTo(4);
        assertThat(c.readableCount()).isEqualTo(2);
        assertThat(c.readableBytes()).isEqualTo(30);
        assertThat(c.writableBytes()).isEqualTo(70);
        assertThat(c.address(3)).isEqualTo(buf + 60);

        assertThat(c.parse(q, n)).isEqualTo(VirtqError.HEAD_OUT_OF_RANGE);
        g.writeDescriptor(0, buf, 10, VIRTQ_DESC_F_NEXT, n);
        assertThat(c.parse(q, 0)).isEqualTo(VirtqError.NEXT_OUT_OF_RANGE);
        g.writeDescriptor(0, buf, 10, VIRTQ_DESC_F_NEXT, 1);
        g.writeDescriptor(1, buf, 10, VIRTQ_DESC_F_NEXT, 0);
        assertThat(c.parse(q, 0)).as("a loop").isEqualTo(VirtqError.CHAIN_TOO_LONG);
        g.writeDescriptor(0, buf, 10, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
        g.writeDescriptor(1, buf, 10, 0, 0);
        assertThat(c.parse(q, 0)).isEqualTo(VirtqError.READABLE_AFTER_WRITABLE);
        g.writeDescriptor(0, -8L, 16, 0, 0);
        assertThat(c.parse(q, 0)).as("address + length wraps").isEqualTo(VirtqError.ADDRESS_OVERFLOW);
        g.writeDescriptor(0, -16L, 16, 0, 0);
        assertThat(c.parse(q, 0)).as("ends exactly at 2^64: not a wrap, checked at access")
                .isNull();
        g.writeDescriptor(0, buf, -1, VIRTQ_DESC_F_NEXT, 1);
        g.writeDescriptor(1, buf, -1, VIRTQ_DESC_F_NEXT, 2);
        g.writeDescriptor(2, buf, 2, 0, 0);
        assertThat(c.parse(q, 0)).as("more than 2^32 bytes").isEqualTo(VirtqError.CHAIN_TOO_BIG);

        // Indirect tables.
        mem.fill(table, 64, (byte) 0);
        g.writeDescriptor(0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
        writeTableEntry(table, 0, buf, 100, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
        writeTableEntry(table, 1, buf + 100, 100, VIRTQ_DESC_F_WRITE, 0);
        assertThat(c.parse(q, 0)).isNull();
        assertThat(c.writableBytes()).isEqualTo(200);
        assertThat(c.parse(noIndirect, 0)).isEqualTo(VirtqError.INDIRECT_NOT_NEGOTIATED);
        g.writeDescriptor(0, table, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
        assertThat(c.parse(q, 0)).isEqualTo(VirtqError.INDIRECT_WITH_NEXT);
        g.writeDescriptor(0, table, 24, VIRTQ_DESC_F_INDIRECT, 0);
        assertThat(c.parse(q, 0)).isEqualTo(VirtqError.INDIRECT_BAD_LENGTH);
        g.writeDescriptor(0, table, 0, VIRTQ_DESC_F_INDIRECT, 0);
        assertThat(c.parse(q, 0)).isEqualTo(VirtqError.INDIRECT_BAD_LENGTH);
        g.writeDescriptor(0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
        writeTableEntry(table, 1, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
        assertThat(c.parse(q, 0)).isEqualTo(VirtqError.NESTED_INDIRECT);
        writeTableEntry(table, 1, buf, 100, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
        assertThat(c.parse(q, 0)).as("a loop inside the table").isEqualTo(VirtqError.CHAIN_TOO_LONG);
        writeTableEntry(table, 1, buf, 100, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
        assertThat(c.parse(q, 0)).as("next beyond the table").isEqualTo(VirtqError.NEXT_OUT_OF_RANGE);
        g.writeDescriptor(0, MemoryMap.RAM_BASE + RAM - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
        assertThat(c.parse(q, 0)).as("table runs past RAM").isEqualTo(VirtqError.MEMORY);
        g.writeDescriptor(0, -16L, 32, VIRTQ_DESC_F_INDIRECT, 0);
        assertThat(c.parse(q, 0)).as("table wraps").isEqualTo(VirtqError.ADDRESS_OVERFLOW);
    }

    private void writeTableEntry(long table, int i, long addr, int len, int flags, int next) {
        long d = table + 16L * i;
        mem.write64(d + DESC_ADDR, addr);
        mem.write32(d + DESC_LEN, len);
        mem.write16(d + DESC_FLAGS, (short) flags);
        mem.write16(d + DESC_NEXT, (short) next);
    }
}
