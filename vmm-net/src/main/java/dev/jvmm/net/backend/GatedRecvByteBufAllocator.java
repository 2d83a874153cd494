package dev.jvmm.net.backend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;

/**
 * A receive-buffer allocator for datagram channels whose read loop asks a {@link Gate} before every datagram, so
 * that a channel reads only as many datagrams as the guest has room for.
 *
 * <pre>
 *  event loop: readable ─▶ reset(): gate.readStarted()
 *                          loop: allocate(64 KiB) ─▶ recv ─▶ incMessagesRead(1)
 *                                continueReading(): autoRead && below maxMessages && gate.mayRead(read so far)
 * </pre>
 *
 * The NIO channels ({@link NioUdpChannel}, like Netty's) read a whole batch before they fire the first
 * {@code channelRead}, the epoll transport fires each datagram as it reads it; the gate sees how many datagrams this
 * read has taken so far and the backend how many it has handled, which covers both. Buffers come from the gate (the
 * NIC's recycled frame buffers), larger than any UDP payload over IPv4 (65507 bytes), so no datagram is ever
 * truncated.
 */
final class GatedRecvByteBufAllocator implements RecvByteBufAllocator {

    /** Decides, on the event loop, whether the read loop may take another datagram. */
    interface Gate {
        /** A read of the socket begins. */
        void readStarted();

        /** Whether to read another datagram, {@code readSoFar} datagrams into this read. */
        boolean mayRead(int readSoFar);

        /** A buffer to read the next datagram into (at least the allocator's buffer size). */
        ByteBuf buffer();
    }

    private final int bufferSize;
    private final int maxMessagesPerRead;
    private final Gate gate;

    /** @param bufferSize the capacity of the gate's buffers (what the read loop is told to expect) */
    GatedRecvByteBufAllocator(int bufferSize, int maxMessagesPerRead, Gate gate) {
        this.bufferSize = bufferSize;
        this.maxMessagesPerRead = maxMessagesPerRead;
        this.gate = gate;
    }

    @Override
    @SuppressWarnings("deprecation") // the interface's return type; the handle is an ExtendedHandle
    public Handle newHandle() {
        return new GatedHandle();
    }

    private final class GatedHandle implements ExtendedHandle {
        private ChannelConfig config;
        private int messages;
        private int attempted;
        private int lastBytesRead;

        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            return gate.buffer();
        }

        @Override
        public int guess() {
            return bufferSize;
        }

        @Override
        public void reset(ChannelConfig c) {
            config = c;
            messages = 0;
            lastBytesRead = 0;
            gate.readStarted();
        }

        @Override
        public void incMessagesRead(int numMessages) {
            messages += numMessages;
        }

        @Override
        public void lastBytesRead(int bytes) {
            lastBytesRead = bytes;
        }

        @Override
        public int lastBytesRead() {
            return lastBytesRead;
        }

        @Override
        public int attemptedBytesRead() {
            return attempted;
        }

        @Override
        public void attemptedBytesRead(int bytes) {
            attempted = bytes;
        }

        @Override
        public boolean continueReading() {
            return continueReading(UncheckedBooleanSupplier.TRUE_SUPPLIER);
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
            // A datagram read is complete whatever its size, so "maybe more data" does not matter: the socket says.
            return config != null && config.isAutoRead() && messages < maxMessagesPerRead && gate.mayRead(messages);
        }

        @Override
        public void readComplete() {
        }
    }
}
