package dev.jvmm.net.backend;

import dev.jvmm.net.NicConfig;
import dev.jvmm.core.machine.MachineException;
import dev.jvmm.net.FrameBuffers;
import dev.jvmm.net.IoTransport;
import dev.jvmm.net.NetBackend;
import dev.jvmm.net.NicCounter;
import dev.jvmm.net.NicCounters;
import dev.jvmm.net.RxStatus;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.AddressedEnvelope;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * What the two UDP backends share: one Netty datagram channel on the NIC's event loop, read only while the guest has
 * room, with at most one datagram held back.
 *
 * <pre>
 *            ┌──── autoRead on while: started, not paused, nothing held, guest has room ────┐
 *  socket ──▶ read loop (gate: room &gt; datagrams read but not yet handled) ─▶ channelRead ─▶ deliver()
 *                                                                              │ RETRY_LATER
 *                                                                              ▼
 *                                               held (one datagram), autoRead off, SOCKET_PAUSED++
 *  device: receiveReady() ─▶ offer the held datagram again ─▶ autoRead on when the guest has room
 * </pre>
 *
 * Turning autoRead off removes the socket from the selector's interest set, so a socket with data waiting and no
 * guest buffer costs nothing (a selector left armed would spin, the Firecracker bug the reference warns about). The
 * kernel's socket buffer is the only queue; it is bounded, and what overflows it the kernel drops.
 *
 * <p>Every method that touches state runs on the event loop; {@link #pause}, {@link #resume} and {@link #close} hand
 * their work to it ({@link #pause} and {@link #close} wait for it).
 *
 * <p>The channel is the event loop transport's ({@link IoTransport#datagramChannelType()}): Netty's
 * {@code EpollDatagramChannel}, or {@link NioUdpChannel}, whose recycled envelopes leave the NIO receive path without
 * an allocation per datagram. Both hand {@link AddressedEnvelope}s with {@link ByteBuf} content to the pipeline.
 *
 * <p>Transmit accounts for every datagram as the receive side does: each write carries the backend's
 * {@link CountingPromise}, which Netty completes when the datagram left the socket or failed, so
 * {@link NicCounter#TX_DATAGRAMS} counts what the kernel took and a datagram that was not sent is a drop with its
 * reason. An empty datagram (UDP length 8) is sent like any other: {@link NioUdpChannel} sends it itself, and on epoll,
 * whose channel skips empty buffers, {@link EpollEmptyDatagram} sends it through the channel's socket, in order
 * after the datagrams written before it; while one waits for room in the socket, the backend is not writable.
 */
abstract class DatagramBackend implements NetBackend {
    /** Receive buffer per datagram: more than the largest UDP payload over IPv4, so nothing is truncated. */
    static final int RECEIVE_BUFFER = FrameBuffers.CAPACITY;
    /** Datagrams per read of the socket (Netty's default for datagram channels). */
    static final int MAX_MESSAGES_PER_READ = 16;
    private static final long CLOSE_TIMEOUT_MILLIS = 2000;
    /** How soon an empty datagram waiting for room in the socket's send buffer (epoll) is tried again. */
    private static final long EMPTY_RETRY_MICROS = 200;
    /**
     * A transmit run flushes at least every this many datagrams. Each costs a send either way; beyond 32 entries
     * pending in one channel's outbound buffer, Netty's Recycler hands their entries back through a queue that
     * allocates a chunk per 32, so flushing more often keeps transmit allocation-free.
     */
    static final int FLUSH_EVERY = 32;

    final NicConfig nic;
    NetBackend.Guest guest;
    NicCounters counters;
    private volatile Channel channel;
    private volatile InetSocketAddress localAddress;
    private volatile int socketReceiveBuffer;
    private final Handler handler = new Handler();
    private final Gate gate = new Gate();
    /** Carried by every datagram written: counts whether it left the socket. Set with the channel. */
    private CountingPromise outcome;

    // ---- loop
    /** A datagram the guest had no room for: an envelope whose content is a ByteBuf (checked on arrival). */
    private AddressedEnvelope<?, ?> held;
    private boolean paused;
    /** The socket is left unread because the guest has no room (one SOCKET_PAUSED per episode). */
    private boolean waitingForRoom;
    private boolean started;
    private boolean wrote;
    /** Datagrams written since the last flush. */
    private int unflushed;
    /** Datagrams handed to channelRead since the current read of the socket began. */
    private int handledInRead;
    /** Epoll only: recipients of empty datagrams not sent yet (the socket had no room), in order; made on first use. */
    private ArrayDeque<InetSocketAddress> emptyQueue;
    private EpollEmptyDatagram emptySender;
    private boolean emptyRetryScheduled;
    private final Runnable retryEmpty = this::retryEmpty;
    private volatile boolean closed;

    DatagramBackend(NicConfig nic) {
        this.nic = nic;
    }

    // -------------------------------------------------------------------------------------------- subclass

    /** Offers one datagram to the guest: {@code payload}'s readable bytes from {@code sender} (null: unknown). Loop. */
    abstract RxStatus deliver(ByteBuf payload, InetSocketAddress sender);

    /** Sends or drops one frame the guest transmitted; owns {@code frame}. Loop. */
    abstract void send(ByteBuf frame);

    /**
     * Writes a datagram (no flush); {@link #transmitComplete()} flushes. Owns {@code payload}. On NIO the envelope
     * is the channel's recycled one; epoll gets Netty's {@link DatagramPacket}, which it batches into sendmmsg.
     * Loop.
     */
    final void write(ByteBuf payload, InetSocketAddress recipient) {
        Channel ch = channel;
        if (ch == null || closed) {
            payload.release();
            counters.increment(NicCounter.TX_DROPPED_CLOSED);
            return;
        }
        if (!payload.isReadable() && EpollEmptyDatagram.isEpoll(ch)) {
            payload.release();
            sendEmpty(ch, recipient);
            return;
        }
        ch.write(ch instanceof NioUdpChannel ? ((NioUdpChannel) ch).envelope(payload, recipient)
                : new DatagramPacket(payload, recipient), outcome);
        wrote = true;
        if (++unflushed == FLUSH_EVERY) {
            flush(ch);
        }
    }

    // -------------------------------------------------------------------------------------------- NetBackend

    @Override
    public void start(NetBackend.Guest g) {
        attach(g);
        EventLoop loop = g.eventLoop();
        IoTransport transport = IoTransport.of(loop);
        if (transport == null) {
            throw new IllegalStateException("nic " + nic.id() + ": event loop " + loop + " drives no socket transport");
        }
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(transport.datagramChannelType())
                // Nothing is read until the device is active and the guest has posted receive buffers.
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.RECVBUF_ALLOCATOR,
                        new GatedRecvByteBufAllocator(RECEIVE_BUFFER, MAX_MESSAGES_PER_READ, gate))
                .handler(handler);
        if (g.net().socketReceiveBuffer() > 0) {
            b.option(ChannelOption.SO_RCVBUF, (int) g.net().socketReceiveBuffer());
        }
        ChannelFuture f = b.bind(nic.listen()).awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw new MachineException("nic " + nic.id() + ": cannot bind " + hostPort(nic.listen()) + ": "
                    + reason(f.cause()));
        }
        outcome = new CountingPromise(f.channel(), counters);
        channel = f.channel();
        localAddress = (InetSocketAddress) f.channel().localAddress();
        socketReceiveBuffer = grantedReceiveBuffer(f.channel());
        onLoop(this::onStarted);
    }

    /** Uses {@code ch}, already registered on the guest's loop (an {@code EmbeddedChannel} in tests), not a socket. */
    void startOn(NetBackend.Guest g, Channel ch) {
        attach(g);
        outcome = new CountingPromise(ch, counters);
        channel = ch;
        SocketAddress a = ch.localAddress();
        localAddress = a instanceof InetSocketAddress ? (InetSocketAddress) a : null;
        ch.config().setAutoRead(false);
        ch.pipeline().addLast(handler);
        onLoop(this::onStarted);
    }

    private void attach(NetBackend.Guest g) {
        guest = g;
        counters = g.counters();
        onAttach();
    }

    /** Called once the guest is known, before the socket exists. */
    void onAttach() {
    }

    private void onStarted() {
        started = true;
        updateReading();
    }

    @Override
    public void transmit(ByteBuf frame) {
        if (closed || channel == null) {
            // Not started (a guest that transmits before the machine starts) or closed: nowhere to send it.
            frame.release();
            counters.increment(NicCounter.TX_DROPPED_CLOSED);
            return;
        }
        send(frame);
    }

    // -------------------------------------------------------------------------------------------- empty datagrams

    /** Epoll: sends an empty datagram after those written before it, now or once the socket has room. Loop. */
    private void sendEmpty(Channel ch, InetSocketAddress recipient) {
        if (emptyQueue == null) {
            emptyQueue = new ArrayDeque<>(4);
            emptySender = new EpollEmptyDatagram();
        }
        if (wrote) {
            flush(ch);
        }
        emptyQueue.addLast(recipient);
        sendQueuedEmpty();
    }

    /**
     * Sends the waiting empty datagrams in order while nothing Netty queued is ahead of them and the socket has room;
     * tries again shortly when it has none. Loop.
     */
    private void sendQueuedEmpty() {
        Channel ch = channel;
        while (!emptyQueue.isEmpty()) {
            ChannelOutboundBuffer queued = ch.unsafe().outboundBuffer();
            if (closed || queued == null || !ch.isOpen()) {
                dropEmpty();
                return;
            }
            boolean sent;
            try {
                sent = queued.isEmpty() && emptySender.trySend(ch, emptyQueue.peekFirst());
            } catch (IOException | RuntimeException e) {
                emptyQueue.pollFirst();
                counters.increment(NicCounter.TX_DROPPED_SOCKET_ERROR);
                counters.increment(NicCounter.SOCKET_ERRORS);
                continue;
            }
            if (!sent) {
                if (!emptyRetryScheduled) {
                    try {
                        ch.eventLoop().schedule(retryEmpty, EMPTY_RETRY_MICROS, TimeUnit.MICROSECONDS);
                        emptyRetryScheduled = true;
                    } catch (RejectedExecutionException e) {
                        // The loop is going with the machine: the socket closes, nothing will leave.
                        dropEmpty();
                    }
                }
                return;
            }
            emptyQueue.pollFirst();
            counters.increment(NicCounter.TX_DATAGRAMS);
        }
    }

    private void retryEmpty() {
        emptyRetryScheduled = false;
        if (emptyQueue != null && !emptyQueue.isEmpty()) {
            sendQueuedEmpty();
            if (emptyQueue.isEmpty()) {
                // The device stopped taking frames while one waited (isWritable): take them again.
                guest.transmitReady();
            }
        }
    }

    /** The waiting empty datagrams will never leave: the socket closed. Loop. */
    private void dropEmpty() {
        if (emptyQueue != null) {
            counters.add(NicCounter.TX_DROPPED_CLOSED, emptyQueue.size());
            emptyQueue.clear();
        }
    }

    @Override
    public void transmitComplete() {
        Channel ch = channel;
        if (wrote && ch != null) {
            flush(ch);
        }
    }

    private void flush(Channel ch) {
        wrote = false;
        unflushed = 0;
        ch.flush();
    }

    @Override
    public boolean isWritable() {
        Channel ch = channel;
        return ch == null || ch.isWritable() && (emptyQueue == null || emptyQueue.isEmpty());
    }

    @Override
    public void receiveReady() {
        if (channel == null) {
            return;
        }
        if (held != null) {
            RxStatus s = offer(held);
            if (s != RxStatus.RETRY_LATER) {
                held.release();
                held = null;
            }
            guest.receiveComplete();
        }
        updateReading();
    }

    /** {@link #deliver}, shielded: a subclass bug must not take the event loop down. */
    private RxStatus offer(AddressedEnvelope<?, ?> datagram) {
        SocketAddress sender = datagram.sender();
        try {
            return deliver((ByteBuf) datagram.content(),
                    sender instanceof InetSocketAddress ? (InetSocketAddress) sender : null);
        } catch (RuntimeException e) {
            // A bug of the backend (a subclass's deliver), not of the socket: an internal error.
            guest.internalError("backend receive", e);
            return RxStatus.DROPPED;
        }
    }

    @Override
    public void deviceReset() {
        if (channel == null) {
            return;
        }
        dropHeld();
        updateReading();
    }

    private void dropHeld() {
        if (held != null) {
            held.release();
            held = null;
            counters.increment(NicCounter.RX_DROPPED_NO_BUFFER);
        }
    }

    @Override
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    @Override
    public int socketReceiveBuffer() {
        return socketReceiveBuffer;
    }

    @Override
    public void pause() {
        EventLoop loop = loop();
        if (loop != null) {
            // Waits: once the machine's pause() returns, no datagram is taken from the socket (one sent right after
            // could otherwise be read before the loop got to this task).
            runOnLoopAndWait(loop, () -> {
                paused = true;
                updateReading();
            });
        }
    }

    @Override
    public void resume() {
        onLoop(() -> {
            paused = false;
            updateReading();
        });
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Channel ch = channel;
        if (ch != null) {
            ch.close().awaitUninterruptibly(CLOSE_TIMEOUT_MILLIS);
            runOnLoopAndWait(ch.eventLoop(), () -> {
                dropHeld();
                dropEmpty();
            });
        }
    }

    /**
     * Reads the socket exactly when it makes sense: started, not paused, nothing held, and the guest has room.
     * Asking for the room also arms the guest's notification when there is none (the device then calls
     * {@link #receiveReady()} once buffers are posted).
     */
    private void updateReading() {
        Channel ch = channel;
        if (ch == null || !started) {
            return;
        }
        boolean want = false;
        if (!closed && !paused && held == null) {
            boolean room = guest.receiveRoom() > 0;
            if (!room && !waitingForRoom) {
                // One episode of "the guest has no buffer, the socket is left alone" (Firecracker's
                // no_rx_avail_buffer).
                counters.increment(NicCounter.SOCKET_PAUSED);
            }
            waitingForRoom = !room;
            want = room;
        }
        if (want != ch.config().isAutoRead()) {
            ch.config().setAutoRead(want);
        }
    }

    /** The loop this backend runs on, or null before {@link #start}. */
    private EventLoop loop() {
        Channel ch = channel;
        return ch != null ? ch.eventLoop() : guest != null ? guest.eventLoop() : null;
    }

    private void onLoop(Runnable task) {
        EventLoop loop = loop();
        if (loop == null) {
            return;
        }
        if (loop.inEventLoop()) {
            task.run();
            return;
        }
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            // The loop is gone with the machine; there is nothing left to pause or resume.
        }
    }

    private static void runOnLoopAndWait(EventLoop loop, Runnable task) {
        if (loop.inEventLoop()) {
            task.run();
            return;
        }
        try {
            Future<?> f = loop.submit(task);
            f.awaitUninterruptibly(CLOSE_TIMEOUT_MILLIS);
        } catch (RejectedExecutionException e) {
            if (loop.terminationFuture().awaitUninterruptibly(CLOSE_TIMEOUT_MILLIS)) {
                task.run();
            }
        }
    }

    /**
     * The socket's receive buffer as the kernel holds it ({@code sk_rcvbuf}), the same on both transports:
     * {@code getsockopt(SO_RCVBUF)} reports it, and Netty's epoll channel passes that on, but the JDK halves it
     * ({@code net_util_md.c}, {@code NET_GetSockOpt}: "SO_SNDBUF/SO_RCVBUF aren't symmetric" on Linux).
     */
    static int grantedReceiveBuffer(Channel ch) {
        Integer reported = ch.config().getOption(ChannelOption.SO_RCVBUF);
        if (reported == null) {
            return 0;
        }
        return EpollEmptyDatagram.isEpoll(ch) ? reported : (int) Math.min(Integer.MAX_VALUE, 2L * reported);
    }

    static String hostPort(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }

    /** The end of an OS error message, in lower case: "Address already in use" becomes "address already in use". */
    static String reason(Throwable t) {
        if (t == null) {
            return "unknown error";
        }
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            return t.getClass().getSimpleName();
        }
        int colon = m.lastIndexOf(": ");
        String r = colon >= 0 ? m.substring(colon + 2) : m;
        return r.isEmpty() ? m : r.substring(0, 1).toLowerCase(Locale.ROOT) + r.substring(1);
    }

    // -------------------------------------------------------------------------------------------- the pipeline

    /** Decides, per datagram, whether the read loop may take another: only when it can be placed. */
    private final class Gate implements GatedRecvByteBufAllocator.Gate {
        @Override
        public void readStarted() {
            handledInRead = 0;
        }

        @Override
        public ByteBuf buffer() {
            return guest.frameBuffer();
        }

        @Override
        public boolean mayRead(int readSoFar) {
            return held == null && !paused && !closed && guest.receiveRoom() > readSoFar - handledInRead;
        }
    }

    private final class Handler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            handledInRead++;
            // Netty's DatagramPacket (epoll) or NioUdpChannel's recycled envelope (NIO).
            AddressedEnvelope<?, ?> packet = msg instanceof AddressedEnvelope ? (AddressedEnvelope<?, ?>) msg : null;
            if (packet == null || !(packet.content() instanceof ByteBuf)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            counters.increment(NicCounter.RX_DATAGRAMS);
            counters.add(NicCounter.RX_BYTES, ((ByteBuf) packet.content()).readableBytes());
            if (held != null || closed) {
                // Read in the same batch as the datagram being held (NIO reads a batch before it hands any over):
                // it cannot overtake that one and there is room for only one.
                packet.release();
                counters.increment(NicCounter.RX_DROPPED_NO_BUFFER);
                return;
            }
            RxStatus s = offer(packet);
            if (s == RxStatus.RETRY_LATER) {
                held = packet;
                if (!waitingForRoom) {
                    waitingForRoom = true;
                    counters.increment(NicCounter.SOCKET_PAUSED);
                }
                updateReading();
            } else {
                packet.release();
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            guest.receiveComplete();
            updateReading();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                guest.transmitReady();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // ICMP errors surfacing on the socket when it is read: counted, never fatal to the NIC or the loop. (A
            // failed send fails its write's CountingPromise, which counts it.)
            counters.increment(NicCounter.SOCKET_ERRORS);
        }
    }
}
