package dev.jvmm.net;

/**
 * The counters of one NIC, in the spirit of Firecracker's per-device network metrics. Most are written only by the
 * NIC's event loop thread; the ones marked shared are also written by vCPU threads and are updated atomically.
 *
 * <p>Both directions account for every frame. Receive: what the socket gave ({@link #RX_DATAGRAMS}) was delivered
 * or dropped for a named reason, and what the kernel dropped before that is in {@code /proc/net/udp}
 * ({@link KernelUdpSockets}). Transmit: every frame taken from a transmit queue ({@link #TX_FRAMES}) left the socket
 * ({@link #TX_DATAGRAMS}), was answered by the backend ({@link #ARP_REPLIES}), or was dropped for a named reason
 * (the {@code TX_MALFORMED} and {@code TX_DROPPED_*} counters); what is neither is still on its way out
 * ({@link NicStats#txInFlight()}).
 */
public enum NicCounter {
    /** Datagrams read from the host socket. */
    RX_DATAGRAMS(false),
    /** Bytes of those datagrams (UDP payload). */
    RX_BYTES(false),
    /** Frames placed into the guest's receive buffers (forwarded datagrams, tunnelled frames, ARP replies). */
    RX_DELIVERED(false),
    /** Frames taken from the socket that could not be placed and were dropped (device reset or closed while one
     *  waited for buffers, no receive queue, a second frame read while one waited). */
    RX_DROPPED_NO_BUFFER(false),
    /** Frames larger than the guest's buffers (without MRG_RXBUF: one chain; with it: the whole ring). Never cut. */
    RX_DROPPED_TOO_BIG(false),
    /** Datagrams the backend cannot express as a frame (an IPv6 sender in udp mode, a runt in tunnel mode). */
    RX_DROPPED_UNSUPPORTED(false),
    /**
     * Episodes in which the backend left its socket unread (autoRead off) because the guest had no room: no receive
     * buffer, too few for the next frame, or no running device (so the wait for the driver at start and after a
     * reset counts too). Firecracker's {@code no_rx_avail_buffer}.
     */
    SOCKET_PAUSED(false),
    /** Errors the socket reported (ICMP errors surfacing on a read, failed sends). */
    SOCKET_ERRORS(false),
    /**
     * Internal errors: an exception of the device's own code or of its backend (a bug, never the guest's or the
     * host network's doing), each also reported to the machine's failure listener.
     */
    INTERNAL_ERRORS(true),
    /** Frames the guest transmitted: every chain taken from a transmit queue, well formed or not. */
    TX_FRAMES(false),
    /** Bytes of the frames handed to the backend (Ethernet header included, virtio-net header excluded). */
    TX_BYTES(false),
    /**
     * Datagrams that left the host socket: counted when the kernel took the datagram (Netty completed its write),
     * never when it was merely queued. An empty datagram (UDP length 8) counts like any other.
     */
    TX_DATAGRAMS(false),
    /** Transmitted frames that are not well formed (too short, too long, a bad IPv4 header or length). */
    TX_MALFORMED(false),
    /** Well-formed frames the udp backend does not forward: not IPv4 UDP (ARP requests it answers aside), fragments. */
    TX_DROPPED_NON_UDP(false),
    /** UDP frames to an address that never sent a datagram to the NIC's port (the udp backend answers only peers). */
    TX_DROPPED_UNKNOWN_PEER(false),
    /**
     * Datagrams the host socket refused: sendto failed (no route, a broadcast address without SO_BROADCAST, a
     * firewall's EPERM, a pending ICMP error). Each is also a {@link #SOCKET_ERRORS}.
     */
    TX_DROPPED_SOCKET_ERROR(false),
    /**
     * Frames the backend had no open socket for: transmitted before the machine started or after it stopped, or
     * still queued for the socket when it closed.
     */
    TX_DROPPED_CLOSED(false),
    /**
     * ARP requests for the gateway address that the udp backend answered itself (a transmitted frame's outcome; the
     * reply is a received frame, delivered or dropped and counted on the receive side).
     */
    ARP_REPLIES(false),
    /** Rules the driver broke in the rings (registers' errors are counted by the transport and added to this). */
    GUEST_ERRORS(true),
    /** Times the device set DEVICE_NEEDS_RESET. */
    DEVICE_ERRORS(true),
    /** QueueNotify writes (doorbells) that reached an active queue. */
    GUEST_NOTIFIES(true),
    /** Used-buffer notifications sent (an MSI each). */
    NOTIFICATIONS_SENT(false),
    /** Used-buffer notifications the driver suppressed (EVENT_IDX or NO_INTERRUPT). */
    NOTIFICATIONS_SUPPRESSED(false);

    static final NicCounter[] VALUES = values();

    final boolean shared;

    NicCounter(boolean shared) {
        this.shared = shared;
    }

    /** Whether threads other than the NIC's event loop write this counter. */
    public boolean isShared() {
        return shared;
    }
}
