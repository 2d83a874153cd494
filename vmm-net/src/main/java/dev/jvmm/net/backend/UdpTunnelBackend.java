package dev.jvmm.net.backend;

import dev.jvmm.net.NicConfig;
import dev.jvmm.net.NicCounter;
import dev.jvmm.net.RxStatus;
import io.netty.buffer.ByteBuf;

import java.net.InetSocketAddress;

import static dev.jvmm.net.backend.Frames.ETHERTYPE_IPV4;
import static dev.jvmm.net.backend.Frames.ETH_HEADER;
import static dev.jvmm.net.backend.Frames.ETH_TYPE;
import static dev.jvmm.net.backend.Frames.IP_DST;
import static dev.jvmm.net.backend.Frames.IP_SRC;

/**
 * The {@code udp-tunnel} backend: layer 2 over UDP. Each datagram carries exactly one Ethernet frame (no virtio-net
 * header, no length prefix, no FCS), in both directions, which is the wire format of QEMU's {@code -netdev dgram}
 * and {@code -netdev socket,udp=...,localaddr=...}: a QEMU VM's NIC and this one can share a segment.
 *
 * <pre>
 *   guest frame ──▶ datagram to {@code remote} (from {@code listen})
 *   datagram at {@code listen} (from anyone, as QEMU accepts) ──▶ the whole payload is the guest's frame
 * </pre>
 *
 * Frames shorter than an Ethernet header are dropped on the way in; frames longer than a UDP datagram can carry
 * (65507 bytes) on the way out.
 */
public final class UdpTunnelBackend extends DatagramBackend {
    /** The largest datagram payload over IPv4. */
    static final int MAX_DATAGRAM = Frames.UDP_MAX_PAYLOAD;
    /** An Ethernet segment's MTU, as a QEMU peer has it by default. */
    public static final int MTU = 1500;

    private final InetSocketAddress remote;

    public UdpTunnelBackend(NicConfig nic) {
        super(nic);
        InetSocketAddress r = nic.remote();
        if (r == null) {
            throw new IllegalArgumentException("nic " + nic.id() + ": a udp-tunnel NIC needs a remote address");
        }
        this.remote = r.isUnresolved() ? new InetSocketAddress(r.getHostString(), r.getPort()) : r;
    }

    @Override
    public int mtu() {
        return MTU;
    }

    @Override
    RxStatus deliver(ByteBuf frame, InetSocketAddress sender) {
        int index = frame.readerIndex();
        int length = frame.readableBytes();
        if (length < ETH_HEADER) {
            counters.increment(NicCounter.RX_DROPPED_UNSUPPORTED);
            return RxStatus.DROPPED;
        }
        return guest.receive(frame, index, length, flowHash(frame, index, length));
    }

    /** A hash of the IPv4 addresses when the frame carries IPv4, of the MAC addresses otherwise. */
    static int flowHash(ByteBuf f, int index, int length) {
        if (length >= ETH_HEADER + Frames.IP_HEADER && f.getUnsignedShort(index + ETH_TYPE) == ETHERTYPE_IPV4) {
            return f.getInt(index + ETH_HEADER + IP_SRC) * 31 + f.getInt(index + ETH_HEADER + IP_DST);
        }
        return f.getInt(index) * 31 + f.getInt(index + 6) + f.getUnsignedShort(index + 10);
    }

    @Override
    void send(ByteBuf frame) {
        if (frame.readableBytes() > MAX_DATAGRAM) {
            counters.increment(NicCounter.TX_MALFORMED);
            frame.release();
            return;
        }
        write(frame, remote);
    }
}
