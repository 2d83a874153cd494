package dev.jvmm.net.backend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.AddressedEnvelope;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.nio.AbstractNioMessageChannel;
import io.netty.channel.nio.NioIoOps;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.internal.StringUtil;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketOption;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;

/**
 * An unconnected UDP channel for Netty's NIO event loops whose receive path allocates nothing per datagram.
 *
 * <p>Why not Netty's {@code NioDatagramChannel} (final): it wraps every datagram in a new {@code DatagramPacket}
 * (24 bytes per datagram on the event loop, the one allocation left on a NIC's receive path). This channel reads the
 * same way, {@link DatagramChannel#receive} into the buffer the {@link RecvByteBufAllocator} hands out, but passes
 * each datagram down the pipeline in a recycled {@link AddressedEnvelope AddressedEnvelope&lt;ByteBuf,
 * InetSocketAddress&gt;} whose last {@code release()} releases the payload and puts the envelope back on this
 * channel's free list. The JDK returns the same sender address object while the sender repeats, so a steady stream
 * from one peer costs no allocation at all.
 *
 * <pre>
 *  readable ─▶ allocator handle: allocate() ─▶ receive(buffer) ─▶ envelope (free list) ─▶ channelRead ... release()
 *                                                                       ▲                                    │
 *                                                                       └──── back on the free list (loop) ◀─┘
 * </pre>
 *
 * Everything else is Netty's {@link AbstractNioMessageChannel}: autoRead (turned off, the socket leaves the selector's
 * interest set), the allocator handle asked before each datagram of a read, writability. Writes take any
 * {@link AddressedEnvelope} with {@link ByteBuf} content and an {@link InetSocketAddress} recipient (Netty's
 * {@code DatagramPacket}, say); {@link #envelope} hands out a recycled one, so a steady stream of sends to one peer
 * allocates nothing either. Options: {@link ChannelOption#SO_RCVBUF}, {@link ChannelOption#SO_SNDBUF},
 * {@link ChannelOption#SO_REUSEADDR} and Netty's generic ones. The channel is never connected and has no multicast.
 *
 * <p>An empty datagram is sent, not skipped as Netty's datagram channels skip it: UDP length 8 is valid (RFC 768) and
 * Linux sends it. A write completes only when the kernel took the datagram, so a write's promise says whether it
 * left.
 */
public final class NioUdpChannel extends AbstractNioMessageChannel {
    /** Without a disconnect operation, Netty turns {@code disconnect()} into {@code close()}. */
    private static final ChannelMetadata METADATA = new ChannelMetadata(false);
    /** The default receive buffer: larger than any UDP payload, so nothing is truncated. */
    private static final int DEFAULT_RECEIVE_BUFFER = 65536;
    /**
     * Free envelopes kept for reuse: a read's batch, those held by handlers and a NIC's transmit run (64 frames)
     * waiting for the flush; more are left to the GC.
     */
    private static final int MAX_FREE = 128;

    private final Config config;
    /** Envelopes released on the event loop, ready for the next datagrams, received or sent. Loop only. */
    private final ArrayDeque<Datagram> free = new ArrayDeque<>(MAX_FREE);
    /** A selector watching only this socket for writability, opened by the first empty datagram. Loop only. */
    private Selector writableProbe;
    /** The payload of an empty datagram (capacity 0: nothing in it can change). */
    private final ByteBuffer empty = ByteBuffer.allocateDirect(0);

    /** An unbound channel (what {@code Bootstrap.channel(NioUdpChannel.class)} creates). */
    public NioUdpChannel() {
        this(open());
    }

    private NioUdpChannel(DatagramChannel socket) {
        super(null, socket, NioIoOps.READ);
        config = new Config(socket);
    }

    private static DatagramChannel open() {
        try {
            return DatagramChannel.open();
        } catch (IOException e) {
            throw new ChannelException("cannot open a UDP socket", e);
        }
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    public ChannelConfig config() {
        return config;
    }

    @Override
    public boolean isActive() {
        DatagramChannel ch = javaChannel();
        return ch.isOpen() && ch.socket().isBound();
    }

    @Override
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) super.localAddress();
    }

    @Override
    protected DatagramChannel javaChannel() {
        return (DatagramChannel) super.javaChannel();
    }

    @Override
    protected SocketAddress localAddress0() {
        return javaChannel().socket().getLocalSocketAddress();
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return null;
    }

    @Override
    protected void doBind(SocketAddress localAddress) throws Exception {
        javaChannel().bind(localAddress);
    }

    @Override
    protected boolean doConnect(SocketAddress remoteAddress, SocketAddress localAddress) {
        throw new UnsupportedOperationException("a NioUdpChannel is not connected: write envelopes with a recipient");
    }

    @Override
    protected void doFinishConnect() {
        throw new UnsupportedOperationException("a NioUdpChannel is not connected");
    }

    @Override
    protected void doDisconnect() throws Exception {
        // Not reached: without disconnect in the metadata, Netty closes instead.
        doClose();
    }

    @Override
    protected void doClose() throws Exception {
        try {
            javaChannel().close();
        } finally {
            Selector probe = writableProbe;
            if (probe != null) {
                writableProbe = null;
                probe.close();
            }
        }
    }

    // -------------------------------------------------------------------------------------------- receive

    @Override
    protected int doReadMessages(List<Object> buf) throws Exception {
        RecvByteBufAllocator.Handle handle = unsafe().recvBufAllocHandle();
        ByteBuf data = handle.allocate(config.getAllocator());
        boolean handedOver = false;
        try {
            int writable = data.writableBytes();
            handle.attemptedBytesRead(writable);
            ByteBuffer nio = data.internalNioBuffer(data.writerIndex(), writable);
            int start = nio.position();
            InetSocketAddress sender = (InetSocketAddress) javaChannel().receive(nio);
            if (sender == null) {
                return 0;
            }
            handle.lastBytesRead(nio.position() - start);
            data.writerIndex(data.writerIndex() + handle.lastBytesRead());
            buf.add(datagram().set(data, sender, localAddress()));
            handedOver = true;
            return 1;
        } finally {
            if (!handedOver) {
                data.release();
            }
        }
    }

    @Override
    protected boolean closeOnReadError(Throwable cause) {
        // An ICMP error surfacing on the socket concerns one peer, not the channel.
        return !(cause instanceof SocketException) && super.closeOnReadError(cause);
    }

    /** A free envelope, or a new one (off the loop, or none is free). */
    private Datagram datagram() {
        Datagram d = eventLoop().inEventLoop() ? free.pollFirst() : null;
        return d != null ? d : new Datagram();
    }

    /** A released envelope: reused when released on the loop (and the free list has room), else garbage. */
    private void recycle(Datagram d) {
        if (eventLoop().inEventLoop() && free.size() < MAX_FREE) {
            free.addFirst(d);
        }
    }

    // -------------------------------------------------------------------------------------------- transmit

    /**
     * An envelope for sending {@code content} to {@code recipient} through this channel: it owns {@code content}, and
     * its last release (Netty's, once the datagram is written or has failed) releases it and puts the envelope back
     * on the free list. Taken from the free list on the event loop; a new one otherwise.
     */
    public AddressedEnvelope<ByteBuf, InetSocketAddress> envelope(ByteBuf content, InetSocketAddress recipient) {
        return datagram().set(content, localAddress(), recipient);
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        if (msg instanceof AddressedEnvelope) {
            AddressedEnvelope<?, ?> e = (AddressedEnvelope<?, ?>) msg;
            if (e.content() instanceof ByteBuf && e.recipient() instanceof InetSocketAddress) {
                return msg;
            }
        }
        throw new UnsupportedOperationException("unsupported message " + StringUtil.simpleClassName(msg)
                + " (expected: AddressedEnvelope<ByteBuf, InetSocketAddress>, e.g. DatagramPacket)");
    }

    @Override
    protected boolean doWriteMessage(Object msg, ChannelOutboundBuffer in) throws Exception {
        AddressedEnvelope<?, ?> e = (AddressedEnvelope<?, ?>) msg;
        ByteBuf data = (ByteBuf) e.content();
        int length = data.readableBytes();
        if (length == 0) {
            return sendEmpty((SocketAddress) e.recipient());
        }
        int index = data.readerIndex();
        ByteBuffer nio = data.nioBufferCount() == 1 ? data.internalNioBuffer(index, length)
                : data.nioBuffer(index, length);
        return javaChannel().send(nio, (SocketAddress) e.recipient()) > 0;
    }

    /**
     * Sends an empty datagram when the kernel will take it. {@code send()} returns 0 both for an empty datagram sent
     * and for a full socket buffer (EAGAIN), so the result cannot say; the socket's writability can. Linux reports a
     * UDP socket writable ({@code datagram_poll}, {@code sock_writeable}) while {@code sk_wmem_alloc < sk_sndbuf / 2},
     * and refuses a send ({@code sock_alloc_send_pskb}) only at {@code sk_wmem_alloc >= sk_sndbuf}; only this event
     * loop sends on the socket and the kernel only frees send memory in between, so a writable socket takes it. When
     * it is not writable, the write stays queued and Netty tries again once the selector reports OP_WRITE.
     */
    private boolean sendEmpty(SocketAddress recipient) throws IOException {
        Selector probe = writableProbe;
        if (probe == null) {
            probe = javaChannel().provider().openSelector();
            try {
                javaChannel().register(probe, SelectionKey.OP_WRITE);
            } catch (IOException | RuntimeException e) {
                probe.close();
                throw e;
            }
            writableProbe = probe;
        }
        probe.selectedKeys().clear();
        if (probe.selectNow() == 0) {
            return false;
        }
        javaChannel().send(empty, recipient);
        return true;
    }

    @Override
    protected boolean continueOnWriteError() {
        // One unreachable recipient must not fail the datagrams queued for the others.
        return true;
    }

    // -------------------------------------------------------------------------------------------- parts

    /**
     * A datagram received or to be sent: payload, sender and recipient, recycled by its last release. A
     * {@link ByteBufHolder}, so Netty counts its payload's bytes against the channel's write buffer (writability).
     */
    private final class Datagram extends AbstractReferenceCounted
            implements AddressedEnvelope<ByteBuf, InetSocketAddress>, ByteBufHolder {
        private ByteBuf content;
        private InetSocketAddress sender;
        private InetSocketAddress recipient;

        Datagram set(ByteBuf payload, InetSocketAddress from, InetSocketAddress to) {
            content = payload;
            sender = from;
            recipient = to;
            setRefCnt(1);
            return this;
        }

        @Override
        public ByteBuf content() {
            return content;
        }

        @Override
        public InetSocketAddress sender() {
            return sender;
        }

        @Override
        public InetSocketAddress recipient() {
            return recipient;
        }

        // A copy is Netty's own DatagramPacket, as DatagramPacket's own copies are (not on any path here).

        @Override
        public DatagramPacket copy() {
            return replace(content.copy());
        }

        @Override
        public DatagramPacket duplicate() {
            return replace(content.duplicate());
        }

        @Override
        public DatagramPacket retainedDuplicate() {
            return replace(content.retainedDuplicate());
        }

        @Override
        public DatagramPacket replace(ByteBuf c) {
            return new DatagramPacket(c, recipient, sender);
        }

        @Override
        public Datagram retain() {
            super.retain();
            return this;
        }

        @Override
        public Datagram retain(int increment) {
            super.retain(increment);
            return this;
        }

        @Override
        public Datagram touch() {
            super.touch();
            return this;
        }

        @Override
        public Datagram touch(Object hint) {
            content.touch(hint);
            return this;
        }

        @Override
        protected void deallocate() {
            ByteBuf c = content;
            content = null;
            sender = null;
            recipient = null;
            c.release();
            recycle(this);
        }
    }

    /** Netty's options, the socket's buffer sizes and address reuse, and autoRead that leaves the selector alone. */
    private final class Config extends DefaultChannelConfig {
        private final DatagramChannel socket;

        Config(DatagramChannel socket) {
            super(NioUdpChannel.this, new FixedRecvByteBufAllocator(DEFAULT_RECEIVE_BUFFER));
            this.socket = socket;
        }

        @Override
        protected void autoReadCleared() {
            clearReadPending();
        }

        @Override
        public Map<ChannelOption<?>, Object> getOptions() {
            return getOptions(super.getOptions(), ChannelOption.SO_RCVBUF, ChannelOption.SO_SNDBUF,
                    ChannelOption.SO_REUSEADDR);
        }

        @Override
        public <T> T getOption(ChannelOption<T> option) {
            SocketOption<T> o = socketOption(option);
            if (o == null) {
                return super.getOption(option);
            }
            try {
                return socket.getOption(o);
            } catch (IOException e) {
                throw new ChannelException(e);
            }
        }

        @Override
        public <T> boolean setOption(ChannelOption<T> option, T value) {
            SocketOption<T> o = socketOption(option);
            if (o == null) {
                return super.setOption(option, value);
            }
            validate(option, value);
            try {
                socket.setOption(o, value);
                return true;
            } catch (IOException e) {
                throw new ChannelException(e);
            }
        }
    }

    /** The socket option behind a Netty option this channel passes to the socket, or null. */
    @SuppressWarnings("unchecked")
    private static <T> SocketOption<T> socketOption(ChannelOption<T> option) {
        SocketOption<?> o = option == ChannelOption.SO_RCVBUF ? StandardSocketOptions.SO_RCVBUF
                : option == ChannelOption.SO_SNDBUF ? StandardSocketOptions.SO_SNDBUF
                : option == ChannelOption.SO_REUSEADDR ? StandardSocketOptions.SO_REUSEADDR
                : null;
        return (SocketOption<T>) o;
    }
}
