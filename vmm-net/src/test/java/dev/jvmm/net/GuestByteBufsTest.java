package dev.jvmm.net;

import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.memory.GuestMemoryException;
import dev.jvmm.core.memory.RamRegion;
import dev.jvmm.core.testing.ThreadAllocations;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GuestByteBufsTest {
    private static final long BASE = 0x4000_0000L;

    /** Two adjacent regions: a copy across 0x4000_1000 crosses from one region's memory into the other's. */
    private static GuestMemory twoRegions() {
        return GuestMemory.create(List.of(new RamRegion(BASE, 4096), new RamRegion(BASE + 4096, 3 * 4096)));
    }

    @Test
    void copiesMoveNoIndexCrossRegionsAndAllocateNothingPerCall() {
        try (GuestMemory m = twoRegions()) {
            ByteBuf src = PooledByteBufAllocator.DEFAULT.directBuffer(3000);
            try {
                for (int i = 0; i < 3000; i++) {
                    src.writeByte(i);
                }
                GuestByteBufs.writeFrom(m, src, 10, BASE + 4000, 2990);
                assertThat(src.readerIndex()).isZero();
                assertThat(m.read8(BASE + 4000)).isEqualTo((byte) 10);
                assertThat(m.read8(BASE + 4000 + 2989)).isEqualTo((byte) 2999);
                ByteBuf dst = Unpooled.buffer(3000);
                GuestByteBufs.readInto(m, BASE + 4000, dst, 5, 2990);
                assertThat(dst.writerIndex()).isZero();
                assertThat(dst.getByte(5)).isEqualTo((byte) 10);
                assertThat(dst.getByte(5 + 2989)).isEqualTo((byte) 2999);
                dst.release();

                // The leak detector (paranoid in tests) records every access of a leak-aware wrapper: measure the
                // copies on the buffer itself.
                ByteBuf raw = src.unwrap() != null ? src.unwrap() : src;
                ByteBuf heap = Unpooled.buffer(256).writerIndex(256);
                ByteBuf rawHeap = heap.unwrap() != null ? heap.unwrap() : heap;
                ByteBuf slice = raw.slice(8, 256);
                ByteBuf adaptiveBuf = new io.netty.buffer.AdaptiveByteBufAllocator().directBuffer(256).writerIndex(256);
                ByteBuf adaptive = adaptiveBuf.unwrap() != null ? adaptiveBuf.unwrap() : adaptiveBuf;
                Runnable accesses = () -> {
                    for (int i = 0; i < 10_000; i++) {
                        GuestByteBufs.writeFrom(m, raw, 0, BASE + 4000, 200);
                        GuestByteBufs.readInto(m, BASE + 4000, raw, 0, 200);
                        GuestByteBufs.writeFrom(m, rawHeap, 0, BASE + 4000, 200);
                        GuestByteBufs.readInto(m, BASE + 4000, rawHeap, 0, 200);
                        GuestByteBufs.writeFrom(m, slice, 0, BASE + 4000, 200);
                        GuestByteBufs.writeFrom(m, adaptive, 0, BASE + 4000, 200);
                        GuestByteBufs.readInto(m, BASE + 4000, adaptive, 0, 200);
                    }
                };
                accesses.run();
                long allocated = ThreadAllocations.minimumOf(5, accesses);
                heap.release();
                adaptiveBuf.release();
                // One allocation per call would be >= 1 MB in every round.
                assertThat(allocated).as("bytes allocated by 70,000 copies (best of 5 rounds)").isLessThan(1024);
            } finally {
                src.release();
            }
        }
    }

    @Test
    void compositeBuffersCopyThroughViewsAcrossRegions() {
        try (GuestMemory m = twoRegions()) {
            CompositeByteBuf c = Unpooled.compositeBuffer();
            c.addComponent(true, Unpooled.wrappedBuffer(new byte[]{1, 2, 3}));
            c.addComponent(true, Unpooled.directBuffer(3).writeBytes(new byte[]{4, 5, 6}));
            try {
                GuestByteBufs.writeFrom(m, c, 0, BASE + 4093, 6);
                assertThat(m.read8(BASE + 4095)).isEqualTo((byte) 3);
                assertThat(m.read8(BASE + 4096)).isEqualTo((byte) 4);
                c.setZero(0, 6);
                GuestByteBufs.readInto(m, BASE + 4093, c, 0, 6);
                assertThat(c.getByte(2)).isEqualTo((byte) 3);
                assertThat(c.getByte(5)).isEqualTo((byte) 6);
            } finally {
                c.release();
            }
        }
    }

    @Test
    void aRangeOutsideRamTouchesNothing() {
        try (GuestMemory m = twoRegions()) {
            ByteBuf b = Unpooled.buffer(64).writerIndex(64);
            try {
                assertThatThrownBy(() -> GuestByteBufs.writeFrom(m, b, 0, BASE + 4 * 4096 - 8, 16))
                        .isInstanceOf(GuestMemoryException.class);
                assertThat(m.read64(BASE + 4 * 4096 - 8)).as("the part inside RAM").isZero();
                assertThatThrownBy(() -> GuestByteBufs.readInto(m, BASE - 8, b, 0, 16))
                        .isInstanceOf(GuestMemoryException.class);
            } finally {
                b.release();
            }
        }
    }
}
