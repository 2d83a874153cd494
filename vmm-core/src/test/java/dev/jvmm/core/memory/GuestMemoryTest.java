package dev.jvmm.core.memory;

import dev.jvmm.core.testing.Race;

import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.core.testing.ThreadAllocations;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(SeedExtension.class)
class GuestMemoryTest {

    private static final long BASE = 0x4000_0000L;

    @Test
    void typedAccessesAreLittleEndianAndRoundTrip() {
        try (GuestMemory m = GuestMemory.create(BASE, 1 << 20)) {
            m.write64(BASE + 8, 0x0102_0304_0506_0708L);
            assertThat(m.read8(BASE + 8)).isEqualTo((byte) 0x08);
            assertThat(m.read16(BASE + 8)).isEqualTo((short) 0x0708);
            assertThat(m.read32(BASE + 12)).isEqualTo(0x0102_0304);
            assertThat(m.read64(BASE + 8)).isEqualTo(0x0102_0304_0506_0708L);
            m.write(BASE + 100, 2, 0xFFFF_ABCDL);
            assertThat(m.read(BASE + 100, 2)).isEqualTo(0xABCDL);
            assertThat(m.read(BASE + 100, 4)).isEqualTo(0xABCDL);
        }
    }

    @Test
    void accessesAtTheRegionEdgesWorkAndOneByteBeyondFails() {
        long size = 64 * 1024;
        try (GuestMemory m = GuestMemory.create(BASE, size)) {
            long last = BASE + size - 8;
            m.write64(last, -1L);
            assertThat(m.read64(last)).isEqualTo(-1L);
            m.write8(BASE, (byte) 7);
            assertThat(m.read8(BASE)).isEqualTo((byte) 7);
            assertThatThrownBy(() -> m.read64(last + 1)).isInstanceOf(GuestMemoryException.class);
            assertThatThrownBy(() -> m.read8(BASE - 1)).isInstanceOf(GuestMemoryException.class);
            assertThatThrownBy(() -> m.write32(BASE + size, 1)).isInstanceOf(GuestMemoryException.class);
            assertThatThrownBy(() -> m.write(BASE + size - 3, new byte[4], 0, 4)).isInstanceOf(GuestMemoryException.class);
            // The failed bulk write touched nothing.
            assertThat(m.read64(last)).isEqualTo(-1L);
        }
    }

    @Test
    void addressesNearTwoToTheSixtyFourNeverWrapIntoRam() {
        try (GuestMemory m = GuestMemory.create(0, 64 * 1024)) {
            // [2^64 - 4, 2^64 + 4) would wrap to [.., 4) if the end were computed naively.
            assertThatThrownBy(() -> m.read64(-4L)).isInstanceOf(GuestMemoryException.class);
            assertThat(m.isValid(-4L, 8)).isFalse();
            assertThat(m.isValid(-1L, 2)).isFalse();
            assertThat(m.isValid(8, Long.MAX_VALUE)).isFalse();
            assertThat(m.isValid(8, -1)).isFalse();
            assertThatThrownBy(() -> m.checkRange(0, -5))
                    .isInstanceOfSatisfying(GuestMemoryException.class,
                            e -> assertThat(e.reason()).isEqualTo(GuestMemoryException.Reason.BAD_LENGTH));
            assertThatThrownBy(() -> m.fill(-16, 32, (byte) 1)).isInstanceOf(GuestMemoryException.class);
            assertThat(m.read8(0)).isZero();
        }
    }

    @Test
    void valuesAndCopiesStraddleChunkBoundaries() {
        // 4 KiB chunks: chunk boundaries every page.
        try (GuestMemory m = GuestMemory.createWithChunkShift(List.of(new RamRegion(BASE, 4 * 4096)), 12)) {
            long edge = BASE + 4096;
            m.write64(edge - 3, 0x1122_3344_5566_7788L);
            assertThat(m.read64(edge - 3)).isEqualTo(0x1122_3344_5566_7788L);
            assertThat(m.read32(edge - 2)).isEqualTo(0x4455_6677);
            byte[] src = new byte[9000];
            for (int i = 0; i < src.length; i++) {
                src[i] = (byte) (i * 31);
            }
            m.write(BASE + 100, src, 0, src.length);
            byte[] back = new byte[src.length];
            m.read(BASE + 100, back, 0, back.length);
            assertThat(back).isEqualTo(src);
        }
    }

    @Test
    void bulkCopiesAndValuesSpanAdjacentRegionsButNotGaps() {
        List<RamRegion> regions = List.of(new RamRegion(BASE, 4096), new RamRegion(BASE + 4096, 4096),
                new RamRegion(BASE + 3 * 4096, 4096));
        try (GuestMemory m = GuestMemory.create(regions)) {
            assertThat(m.size()).isEqualTo(3 * 4096);
            m.write32(BASE + 4094, 0xCAFEBABE);
            assertThat(m.read32(BASE + 4094)).isEqualTo(0xCAFEBABE);
            assertThat(m.read16(BASE + 4096)).isEqualTo((short) 0xCAFE);
            byte[] data = new byte[6000];
            new java.util.Random(1).nextBytes(data);
            m.write(BASE + 1000, data, 0, data.length);
            byte[] back = new byte[data.length];
            m.read(BASE + 1000, back, 0, back.length);
            assertThat(back).isEqualTo(data);
            // The gap [BASE + 8 KiB, BASE + 12 KiB) is not RAM.
            assertThat(m.isValid(BASE + 8192 - 4, 8)).isFalse();
            assertThatThrownBy(() -> m.write(BASE + 8000, new byte[300], 0, 300)).isInstanceOf(GuestMemoryException.class);
            assertThat(m.read8(BASE + 8000)).isEqualTo((byte) 0);
        }
    }

    @Test
    void overlappingRegionsAreRejected() {
        assertThatThrownBy(() -> GuestMemory.create(List.of(new RamRegion(BASE, 8192), new RamRegion(BASE + 4096, 4096))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overlap");
        assertThatThrownBy(() -> new RamRegion(-4096L, 8192)).hasMessageContaining("wraps");
        assertThatThrownBy(() -> new RamRegion(BASE + 1, 4096)).hasMessageContaining("aligned");
    }

    @Test
    void orderedAccessesRequireNaturalAlignment() {
        try (GuestMemory m = GuestMemory.create(BASE, 4096)) {
            m.storeRelease16(BASE + 2, (short) 0x1234);
            assertThat(m.loadAcquire16(BASE + 2)).isEqualTo((short) 0x1234);
            m.storeRelease64(BASE + 8, 42);
            assertThat(m.loadAcquire64(BASE + 8)).isEqualTo(42);
            assertThat(m.compareAndSet32(BASE + 16, 0, 5)).isTrue();
            assertThat(m.compareAndSet32(BASE + 16, 0, 6)).isFalse();
            assertThat(m.loadAcquire32(BASE + 16)).isEqualTo(5);
            assertThatThrownBy(() -> m.loadAcquire32(BASE + 2))
                    .isInstanceOfSatisfying(GuestMemoryException.class,
                            e -> assertThat(e.reason()).isEqualTo(GuestMemoryException.Reason.MISALIGNED));
            assertThatThrownBy(() -> m.storeRelease16(BASE + 4095, (short) 1)).isInstanceOf(GuestMemoryException.class);
        }
    }

    @Test
    void pendingTableBitsSetConcurrentlyAreNeverLost() throws Exception {
        try (GuestMemory m = GuestMemory.create(BASE, 4096)) {
            int threads = 4;
            int bitsPerThread = 8 * 64;
            // Threads interleave on the same bytes: INTID n belongs to thread n % threads.
            assertThat(Race.run(threads, me -> {
                for (int n = me; n < threads * bitsPerThread; n += threads) {
                    m.setBitAtomic(BASE + n / 8, n % 8);
                }
            }, () -> {
            })).isNull();
            for (int n = 0; n < threads * bitsPerThread; n++) {
                assertThat(m.read8(BASE + n / 8) & (1 << (n % 8))).as("bit %d", n).isNotZero();
            }
            assertThat(m.setBitAtomic(BASE + 3, 2)).isTrue();
            assertThat(m.clearBitAtomic(BASE + 3, 2)).isTrue();
            assertThat(m.clearBitAtomic(BASE + 3, 2)).isFalse();
            assertThat(m.read8(BASE + 3) & 4).isZero();
        }
    }

    @Test
    void byteBufferCopiesMoveNoIndexAcrossChunksAndAllocateNothingPerCall() {
        try (GuestMemory m = GuestMemory.createWithChunkShift(List.of(new RamRegion(BASE, 4 * 4096)), 12)) {
            ByteBuffer src = ByteBuffer.allocateDirect(3000);
            for (int i = 0; i < 3000; i++) {
                src.put(i, (byte) i);
            }
            // 4000 + 2990 crosses the 4 KiB chunk boundary at 4096.
            m.write(BASE + 4000, src, 10, 2990);
            assertThat(src.position()).isZero();
            assertThat(m.read8(BASE + 4000)).isEqualTo((byte) 10);
            assertThat(m.read8(BASE + 4000 + 2989)).isEqualTo((byte) 2999);
            ByteBuffer dst = ByteBuffer.allocate(3000);
            m.read(BASE + 4000, dst, 5, 2990);
            assertThat(dst.position()).isZero();
            assertThat(dst.get(5)).isEqualTo((byte) 10);
            assertThat(dst.get(5 + 2989)).isEqualTo((byte) 2999);

            ByteBuffer bb = ByteBuffer.allocateDirect(100);
            m.read(BASE + 4000, bb);
            assertThat(bb.position()).isEqualTo(100);
            bb.flip();
            m.write(BASE + 8, bb);
            assertThat(m.read8(BASE + 8)).isEqualTo((byte) 10);

            // A view ends at its chunk: a copy across the boundary takes two.
            ByteBuffer v = m.view(BASE + 4000, 200);
            assertThat(v.remaining()).as("bytes of the view up to the chunk's end").isEqualTo(96);
            assertThat(v.get(v.position())).isEqualTo((byte) 10);
            assertThat(m.view(BASE + 4096, 200).remaining()).isEqualTo(200);
            GuestMemory.HostChunk chunk = m.hostChunk(BASE + 4096 + 12);
            assertThat(chunk.offset()).isEqualTo(12);
            assertThat(chunk.length()).isEqualTo(4096 - 12);
            chunk.buffer().put(chunk.offset(), (byte) 0x5A);
            assertThat(m.read8(BASE + 4096 + 12)).as("a host chunk's buffer is guest RAM").isEqualTo((byte) 0x5A);

            byte[] array = new byte[256];
            Runnable accesses = () -> {
                for (int i = 0; i < 10_000; i++) {
                    m.write(BASE + 4000, src, 0, 200);
                    m.read(BASE + 4000, dst, 0, 200);
                    m.write(BASE + 4000, array, 0, 200);
                    m.read(BASE + 4000, array, 0, 200);
                    m.view(BASE + 4000, 200);
                    m.read32(BASE + 16);
                    m.storeRelease16(BASE + 2, (short) i);
                }
            };
            accesses.run();
            long allocated = ThreadAllocations.minimumOf(5, accesses);
            // One allocation per call would be >= 1 MB in every round.
            assertThat(allocated).as("bytes allocated by 70,000 accesses (best of 5 rounds)").isLessThan(1024);
        }
    }

    @Test
    void memoryIsZeroWhenAllocatedAndFreedTheMomentItIsClosed() throws Exception {
        long size = 64L << 20;
        GuestMemory m = GuestMemory.create(BASE, size);
        long held;
        try {
            assertThat(m.read64(BASE)).isZero();
            assertThat(m.read64(BASE + size - 8)).isZero();
            m.fill(BASE, size, (byte) 0xFF);
            held = residentBytes();
        } finally {
            m.close();
        }
        long after = residentBytes();
        assertThat(OffHeap.mechanism()).as("the JDK mechanism that frees guest RAM")
                .isEqualTo(Runtime.version().feature() >= 22 ? "arena" : "cleaner");
        if (held > 0) {
            // No garbage collection in between: close itself gave the 64 MiB it had touched back to the kernel.
            assertThat(held - after).as("resident bytes given back by close (of 64 MiB touched)")
                    .isGreaterThan(size / 2);
        }
    }

    /** The process's resident set from /proc/self/statm (Linux), or 0 where it cannot be read. */
    @Test
    void lazilyMappedMemoryCostsWhatIsTouched() throws Exception {
        Assumptions.assumeTrue(OffHeap.lazy(), "guest RAM is allocated eagerly in this JVM (tmpdir is a memory file"
                + " system, or -Djvmm.ram.lazy=false)");
        long size = 1L << 30;
        long before = residentBytes();
        try (GuestMemory m = GuestMemory.create(BASE, size)) {
            long mapped = residentBytes();
            assertThat(m.read64(BASE)).isZero();
            assertThat(m.read64(BASE + size - 8)).isZero();
            for (long at = 0; at < (16L << 20); at += 4096) {
                m.write64(BASE + at, at ^ 0x5A5A_5A5AL);
            }
            for (long at = 0; at < (16L << 20); at += 4096) {
                assertThat(m.read64(BASE + at)).isEqualTo(at ^ 0x5A5A_5A5AL);
            }
            assertThat(m.read64(BASE + (16L << 20) + 8)).isZero();
            long touched = residentBytes();
            if (before > 0) {
                // Eager memory would be resident in full (1 GiB) as soon as it is created.
                assertThat(mapped - before).as("resident bytes of 1 GiB of RAM before the guest touches it")
                        .isLessThan(64L << 20);
                assertThat(touched - before).as("resident bytes after writing 16 MiB of it")
                        .isBetween(8L << 20, 128L << 20);
            }
        }
    }

    private static long residentBytes() throws java.io.IOException {
        java.nio.file.Path statm = java.nio.file.Path.of("/proc/self/statm");
        if (!java.nio.file.Files.isReadable(statm)) {
            return 0;
        }
        return Long.parseLong(java.nio.file.Files.readString(statm).trim().split("\\s+")[1]) * 4096;
    }

    @Test
    void randomAccessesMatchAByteArrayModel(SeededRandom random) {
        int size = 3 * 4096;
        byte[] model = new byte[size];
        List<RamRegion> regions = List.of(new RamRegion(BASE, 2 * 4096), new RamRegion(BASE + 2 * 4096, 4096));
        try (GuestMemory m = GuestMemory.createWithChunkShift(regions, 12)) {
            for (int i = 0; i < 20_000; i++) {
                int width = 1 << random.nextInt(4);
                long off = random.nextInt(size + 16) - 8;
                long gpa = BASE + off;
                boolean inside = off >= 0 && off + width <= size;
                if (random.nextBoolean()) {
                    long v = random.nextLong();
                    if (inside) {
                        m.write(gpa, width, v);
                        for (int b = 0; b < width; b++) {
                            model[(int) off + b] = (byte) (v >>> (8 * b));
                        }
                    } else {
                        assertThatThrownBy(() -> m.write(gpa, width, v)).isInstanceOf(GuestMemoryException.class);
                    }
                } else if (inside) {
                    long expect = 0;
                    for (int b = 0; b < width; b++) {
                        expect |= (model[(int) off + b] & 0xFFL) << (8 * b);
                    }
                    assertThat(m.read(gpa, width)).as("read%d at +%d", width * 8, off).isEqualTo(expect);
                } else {
                    assertThatThrownBy(() -> m.read(gpa, width)).isInstanceOf(GuestMemoryException.class);
                }
            }
        }
    }

    @Test
    void ramLargerThanTwoGibibytesIsAddressableThroughout() {
        long size = (2L << 30) + 64 * 1024;
        try (GuestMemory m = GuestMemory.create(BASE, size)) {
            long[] probes = {BASE, BASE + (1L << 30) - 4, BASE + (2L << 30) - 2, BASE + (2L << 30) + 8, BASE + size - 8};
            for (long p : probes) {
                m.write64(p, p ^ 0x5A5A5A5A5A5A5A5AL);
            }
            for (long p : probes) {
                assertThat(m.read64(p)).isEqualTo(p ^ 0x5A5A5A5A5A5A5A5AL);
            }
            // A bulk copy across the 1 GiB chunk boundary.
            byte[] span = new byte[64];
            java.util.Arrays.fill(span, (byte) 0x77);
            m.write(BASE + (1L << 30) - 32, span, 0, 64);
            assertThat(m.read64(BASE + (1L << 30) - 4)).isEqualTo(0x7777_7777_7777_7777L);
            assertThatThrownBy(() -> m.read64(BASE + size - 4)).isInstanceOf(GuestMemoryException.class);
        }
    }

    @Test
    void closedMemoryRefusesAccesses() {
        GuestMemory m = GuestMemory.create(BASE, 4096);
        m.close();
        m.close();
        assertThat(m.isClosed()).isTrue();
        assertThatThrownBy(() -> m.read32(BASE))
                .isInstanceOfSatisfying(GuestMemoryException.class,
                        e -> assertThat(e.reason()).isEqualTo(GuestMemoryException.Reason.CLOSED));
    }

    @org.junit.jupiter.api.Test
    void pageBufferBacksThePageAtItsOffset() {
        try (GuestMemory m = GuestMemory.createWithChunkShift(java.util.List.of(new RamRegion(0x4000_0000L, 0x4000),
                new RamRegion(0x8000_0000L, 0x2000)), 12)) {
            m.write64(0x8000_1008L, 0x1122_3344_5566_7788L);
            java.nio.ByteBuffer b = m.pageBuffer(0x8000_1008L);
            org.assertj.core.api.Assertions.assertThat(b.getLong(m.bufferOffset(0x8000_1008L)))
                    .isEqualTo(0x1122_3344_5566_7788L);
            b.putInt(m.bufferOffset(0x8000_1000L), 7);
            org.assertj.core.api.Assertions.assertThat(m.read32(0x8000_1000L)).isEqualTo(7);
            org.assertj.core.api.Assertions.assertThat(m.pageBuffer(0x9000_0000L)).as("not RAM").isNull();
        }
    }
}
