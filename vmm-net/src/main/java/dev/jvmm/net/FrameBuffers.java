package dev.jvmm.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.internal.PlatformDependent;

import java.util.ArrayDeque;

/**
 * One NIC's frame buffers: direct buffers large enough for any frame, recycled when their last reference is
 * released, so that receiving and transmitting allocate nothing in steady state.
 *
 * <pre>
 *   take() ──▶ buffer (refCnt 1) ──▶ socket read into it / guest frame copied into it ──▶ ... ──▶ release()
 *      ▲                                                                                             │
 *      └──────────────────── back on the free list (on the NIC's event loop) ◀───────────────────────┘
 * </pre>
 *
 * Why not Netty's allocator: its 4.2 default (the adaptive allocator) hands out a fresh buffer object per
 * allocation whose NIO view is created on first use, and a datagram's slice creates a new view on every use, so
 * copying a datagram into guest memory would allocate; a recycled buffer keeps its view for life. The free list is
 * owned by the event loop; a buffer released on another thread (or beyond {@link #MAX_RETAINED} free buffers, or after
 * {@link #close()}) is freed instead of recycled.
 */
public final class FrameBuffers {
    /** Capacity of every buffer: the largest frame a guest may transmit (14 + 65535), rounded up; larger than any UDP
     *  payload over IPv4, so a datagram read into it is never truncated. */
    public static final int CAPACITY = 65552;
    /**
     * Free buffers kept for reuse (5 MiB once a NIC has needed them): a transmit run's frames (64, held until the
     * run's flush) and a socket read's batch (16); a burst beyond that allocates and frees.
     */
    public static final int MAX_RETAINED = 80;

    private final EventLoop loop;
    private final ArrayDeque<Recyclable> free = new ArrayDeque<>(MAX_RETAINED);
    private boolean closed;
    private long created;
    private long outstanding;

    /** @param loop the event loop that owns the free list */
    public FrameBuffers(EventLoop loop) {
        this.loop = loop;
    }

    /** A cleared buffer of {@link #CAPACITY} bytes with one reference. Call on the event loop. */
    public ByteBuf take() {
        Recyclable b = free.pollFirst();
        if (b == null) {
            b = PlatformDependent.hasUnsafe() ? new UnsafeFrameBuffer(this) : new SafeFrameBuffer(this);
            created++;
        } else {
            b.reuse();
        }
        outstanding++;
        return (ByteBuf) b;
    }

    /** Buffers taken and not yet released (for tests: 0 when nothing leaked). Loop. */
    public long outstanding() {
        return outstanding;
    }

    /** Buffers ever created (for tests and benchmarks: stops growing in steady state). Loop. */
    public long created() {
        return created;
    }

    /** Frees the free list; later releases free their buffer. Loop (or after the loop ended). */
    public void close() {
        closed = true;
        for (Recyclable b = free.pollFirst(); b != null; b = free.pollFirst()) {
            b.free();
        }
    }

    private void recycle(Recyclable b) {
        if (loop.inEventLoop()) {
            outstanding--;
            if (!closed && free.size() < MAX_RETAINED) {
                free.addFirst(b);
                return;
            }
        }
        b.free();
    }

    private interface Recyclable {
        void reuse();

        void free();
    }

    private static final class UnsafeFrameBuffer extends UnpooledUnsafeDirectByteBuf implements Recyclable {
        private final FrameBuffers pool;

        UnsafeFrameBuffer(FrameBuffers pool) {
            super(UnpooledByteBufAllocator.DEFAULT, CAPACITY, CAPACITY);
            this.pool = pool;
        }

        @Override
        protected void deallocate() {
            pool.recycle(this);
        }

        @Override
        public void reuse() {
            setRefCnt(1);
            clear();
        }

        @Override
        public void free() {
            super.deallocate();
        }
    }

    private static final class SafeFrameBuffer extends UnpooledDirectByteBuf implements Recyclable {
        private final FrameBuffers pool;

        SafeFrameBuffer(FrameBuffers pool) {
            super(UnpooledByteBufAllocator.DEFAULT, CAPACITY, CAPACITY);
            this.pool = pool;
        }

        @Override
        protected void deallocate() {
            pool.recycle(this);
        }

        @Override
        public void reuse() {
            setRefCnt(1);
            clear();
        }

        @Override
        public void free() {
            super.deallocate();
        }
    }
}
