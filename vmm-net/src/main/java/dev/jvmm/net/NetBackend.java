package dev.jvmm.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;

import java.net.InetSocketAddress;

/**
 * The host side of a virtio-net device: where the frames the guest transmits go, and where the frames it receives
 * come from. The project ships two ({@code dev.jvmm.net.backend.UdpForwardBackend} for {@code udp},
 * {@code dev.jvmm.net.backend.UdpTunnelBackend} for {@code udp-tunnel}); anyone can write another.
 *
 * <pre>
 *                guest                         device                          backend (this)
 *   transmitq ─── frame ─────────▶ TX on the event loop ── transmit(frame) ──▶ socket, file, ...
 *                                                       ── transmitComplete() (end of a batch: flush)
 *   receiveq  ◀── frame ───────── Guest.receive(...)  ◀──────────────────────── host input
 *               interrupt ◀────── Guest.receiveComplete()
 *   buffers posted, QueueNotify ─▶ receiveReady() ─────────────────────────▶ read again
 * </pre>
 *
 * <h2>Threads</h2>
 * Every call the device makes, except {@link #start}, {@link #pause}, {@link #resume} and {@link #close}, runs on the
 * NIC's event loop ({@link Guest#eventLoop()}), and a backend must call {@link Guest}'s methods only from that loop.
 * One thread therefore owns the backend's state, the rings and the counters: no locks.
 *
 * <h2>Backpressure</h2>
 * A backend reads host input only while the guest has room. {@link Guest#receiveRoom()} says how many more frames
 * fit at least; when {@link Guest#receive} answers {@link RxStatus#RETRY_LATER}, the backend keeps that one frame,
 * stops reading, and waits for {@link #receiveReady()}. Nothing queues without bound and nothing polls.
 *
 * <h2>Defaults</h2>
 * Every method has a default that does nothing (and {@link #transmit} releases the frame), so a backend that
 * drops everything is one line, {@code new NetBackend() { }}, and a real one overrides what it needs.
 *
 * <h2>Example: a backend that reflects every frame back to the guest</h2>
 * <pre>{@code
 * final class Reflector implements NetBackend {
 *     private NetBackend.Guest guest;
 *
 *     public void start(Guest g) { guest = g; }
 *
 *     public void transmit(ByteBuf frame) {
 *         try {
 *             guest.receive(frame, frame.readerIndex(), frame.readableBytes(), 0);  // dropped if no room
 *             guest.receiveComplete();                                              // raise the interrupt
 *         } finally {
 *             frame.release();                                                      // the backend owns it
 *         }
 *     }
 * }
 *
 * Machine.builder(config).devices(VirtioNetDevices.builder().backends(nic -> new Reflector()).build()) ...
 * }</pre>
 */
public interface NetBackend extends AutoCloseable {

    /**
     * Acquires host resources (binds the socket). Called once, from the thread that starts the machine. A failure
     * the user can fix throws {@link dev.jvmm.core.machine.MachineException} with a complete message, such as
     * {@code nic net0: cannot bind 127.0.0.1:5001: address already in use}. Default: nothing.
     */
    default void start(Guest guest) {
    }

    /**
     * The guest transmitted {@code frame}: a whole Ethernet frame without the virtio-net header, readable from its
     * reader index. The backend owns the buffer and must release it. Must not throw (what it throws is an internal
     * error: counted and reported to the machine's failure listener). Default: drop it (release).
     */
    default void transmit(ByteBuf frame) {
        frame.release();
    }

    /** The end of a batch of {@link #transmit} calls: a good moment to flush. */
    default void transmitComplete() {
    }

    /**
     * Whether the backend takes more frames now. When it answers false, the device leaves the guest's frames in the
     * transmit queue until the backend calls {@link Guest#transmitReady()}.
     */
    default boolean isWritable() {
        return true;
    }

    /**
     * The guest has receive buffers again (after {@link RxStatus#RETRY_LATER} or a zero {@link Guest#receiveRoom()}),
     * or the device was just activated: offer the held frame, then resume reading. Default: nothing.
     */
    default void receiveReady() {
    }

    /** The driver reset the device: drop (and count) anything held for the guest, stop reading until ready. */
    default void deviceReset() {
    }

    /** The MTU the device reports to the driver (VIRTIO_NET_F_MTU): the largest IP packet the backend carries. */
    default int mtu() {
        return 1500;
    }

    /** The host address the backend's socket is bound to once started (its actual port for a port-0 config). */
    default InetSocketAddress localAddress() {
        return null;
    }

    /**
     * The receive buffer the kernel gave the backend's socket once started, in bytes as the kernel holds it (Linux's
     * {@code sk_rcvbuf}, against which every queued datagram's memory, overhead included, is charged): twice a
     * request after the {@code net.core.rmem_max} cap ({@code sock_setsockopt}), or {@code net.core.rmem_default}
     * without one. 0 when unknown or not a socket. Default: 0.
     */
    default int socketReceiveBuffer() {
        return 0;
    }

    /**
     * The machine pauses: stop taking host input until {@link #resume()}, and return only once no more input can
     * reach the guest (a machine's pause promises that to its caller). Any thread, the event loop's included.
     * Default: nothing.
     */
    default void pause() {
    }

    /** Any thread. Default: nothing. */
    default void resume() {
    }

    /** Releases everything and waits until the backend's socket is closed. Idempotent; any thread. Default: nothing. */
    @Override
    default void close() {
    }

    /** Creates the backend of one NIC. */
    @FunctionalInterface
    interface Factory {
        /** The backend of {@code nic}; nothing is bound yet ({@link NetBackend#start} does that). */
        NetBackend create(NicConfig nic);
    }

    /**
     * The device as a backend sees it. Every method must be called on {@link #eventLoop()}; none blocks, none
     * allocates, none throws because of what the guest did.
     */
    interface Guest {

        /** The NIC's configuration. */
        NicConfig config();

        /** The machine's net section (transport, event loop threads, socket buffer size). */
        NetConfig net();

        /** The event loop that runs the NIC: the backend registers its channel here. */
        EventLoop eventLoop();

        /** The NIC's counters, for the backend's own events. */
        NicCounters counters();

        /**
         * A direct buffer of {@link FrameBuffers#CAPACITY} bytes (any frame fits) that returns to the NIC's free list
         * when released: receive into it to stay allocation-free.
         */
        ByteBuf frameBuffer();

        /**
         * How many more frames the guest can take at least (each takes one receive buffer or more); 0 when it has
         * none or the device is not running, in which case the device has asked the driver to notify it and will
         * call {@link NetBackend#receiveReady()}.
         */
        int receiveRoom();

        /**
         * Offers one Ethernet frame: {@code length} bytes of {@code frame} from {@code index} (no index moves).
         *
         * @param flowHash a hash of the frame's flow, which picks the receive queue when several are in use
         */
        RxStatus receive(ByteBuf frame, int index, int length, int flowHash);

        /**
         * Offers one Ethernet frame made of two parts: {@code head[headOffset, +headLength)} (headers the backend
         * synthesized, say) followed by {@code body[bodyIndex, +bodyLength)}. The bytes are copied once, straight
         * into the guest's buffers.
         */
        RxStatus receive(byte[] head, int headOffset, int headLength, ByteBuf body, int bodyIndex, int bodyLength,
                         int flowHash);

        /** The end of a batch of {@link #receive} calls: the device decides on interrupts now (once per batch). */
        void receiveComplete();

        /** The backend is writable again after {@link NetBackend#isWritable()} said false. */
        void transmitReady();

        /**
         * The backend met an internal error (a bug of its own, not a socket error): counts it apart from socket
         * errors and reports it to the machine's failure listener. Any thread.
         */
        void internalError(String what, Throwable error);
    }
}
