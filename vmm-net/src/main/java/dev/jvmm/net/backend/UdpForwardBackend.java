package dev.jvmm.net.backend;

import dev.jvmm.net.NicConfig;
import dev.jvmm.net.NicCounter;
import dev.jvmm.net.RxStatus;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

import static dev.jvmm.net.backend.Frames.*;

/**
 * The {@code udp} backend: port forwarding in the manner of QEMU user networking's {@code hostfwd=udp:...}.
 *
 * <pre>
 *  host sender 127.0.0.1:40000 ──datagram──▶ listen 127.0.0.1:5001 ──▶ guest 10.0.2.15:5001 (guest-port)
 *       Ethernet  dst = guest MAC          src = gateway MAC (52:55 + gateway IP)
 *       IPv4      src = 127.0.0.1 (the sender) dst = guest IP   header checksum valid
 *       UDP       src = 40000 (the sender)     dst = guest port checksum valid
 *
 *  guest ──UDP to 127.0.0.1:40000──▶ same socket ──▶ 127.0.0.1:40000       (only to hosts that sent first)
 *  guest ──ARP who-has gateway IP──▶ answered by the backend: gateway MAC
 *  anything else ──▶ counted and dropped
 * </pre>
 *
 * The guest reaches the sender's address through its gateway (the sender is not on the guest's subnet), so the only
 * ARP it needs answered is the gateway's. Replies go only to peers that sent a datagram to the port (the last
 * {@value #PEERS} of them): the guest cannot use the NIC to reach arbitrary host addresses.
 *
 * <p>Receiving allocates nothing: the three headers are written into one reusable array and copied into the guest
 * with the payload, which goes straight from Netty's buffer into the guest's buffers.
 */
public final class UdpForwardBackend extends DatagramBackend {
    /** How many senders the backend remembers as reply targets. */
    public static final int PEERS = 64;
    /** The MTU reported to the guest: the largest IPv4 packet, which a UDP datagram may fill. */
    public static final int MTU = 65535;

    private final int guestIp;
    private final int gatewayIp;
    private final byte[] gatewayMac;
    /** Ethernet + IPv4 + UDP headers of the next forwarded datagram; the constant fields are filled once. */
    private final byte[] headers = new byte[FWD_HEADERS];
    private final byte[] arpReply = new byte[ETH_HEADER + ARP_SIZE];
    private final PeerTable peers = new PeerTable(PEERS);
    private int ipId;

    public UdpForwardBackend(NicConfig nic) {
        super(nic);
        this.guestIp = ipv4(nic.guestIp());
        this.gatewayIp = ipv4(nic.gatewayIp());
        this.gatewayMac = gatewayMac(gatewayIp);
        for (int i = 0; i < 6; i++) {
            headers[ETH_DST + i] = nic.mac().get(i);
            headers[ETH_SRC + i] = gatewayMac[i];
        }
        put16(headers, ETH_TYPE, ETHERTYPE_IPV4);
        headers[FWD_IP + IP_VERSION_IHL] = (byte) IP_VERSION_IHL_DEFAULT;
        headers[FWD_IP + IP_TTL] = (byte) IP_TTL_DEFAULT;
        headers[FWD_IP + IP_PROTOCOL] = (byte) IP_PROTOCOL_UDP;
        put32(headers, FWD_IP + IP_DST, guestIp);
        put16(headers, FWD_UDP + UDP_DST_PORT, nic.guestPort());
    }

    /** The MAC address that stands for the gateway, as slirp makes it: 52:55 followed by the gateway's IPv4 address. */
    static byte[] gatewayMac(int gatewayIp) {
        byte[] mac = new byte[6];
        mac[0] = 0x52;
        mac[1] = 0x55;
        put32(mac, 2, gatewayIp);
        return mac;
    }

    /**
     * An IPv4 address as an int, without allocating: {@link Inet4Address#hashCode()} is the address itself in
     * OpenJDK (and has been since 1.0; a test pins it). {@code getAddress()} would copy it into a new array.
     */
    static int ipv4(InetAddress a) {
        return a.hashCode();
    }

    @Override
    public int mtu() {
        return MTU;
    }

    // -------------------------------------------------------------------------------------------- host → guest

    @Override
    RxStatus deliver(ByteBuf payload, InetSocketAddress sender) {
        InetAddress a = sender == null ? null : sender.getAddress();
        int length = payload.readableBytes();
        if (!(a instanceof Inet4Address) || length > UDP_MAX_PAYLOAD) {
            counters.increment(NicCounter.RX_DROPPED_UNSUPPORTED);
            return RxStatus.DROPPED;
        }
        int ip = ipv4(a);
        int port = sender.getPort();
        peers.remember(ip, port, sender);
        int index = payload.readerIndex();
        fillHeaders(ip, port, payload, index, length);
        return guest.receive(headers, 0, FWD_HEADERS, payload, index, length, ip * 31 + port);
    }

    /** The variable header fields of a datagram from {@code ip:port} with {@code length} payload bytes. */
    private void fillHeaders(int ip, int port, ByteBuf payload, int index, int length) {
        int udpLength = UDP_HEADER + length;
        put16(headers, FWD_IP + IP_TOTAL_LENGTH, IP_HEADER + udpLength);
        put16(headers, FWD_IP + IP_ID, ipId++);
        put32(headers, FWD_IP + IP_SRC, ip);
        put16(headers, FWD_IP + IP_CHECKSUM, 0);
        put16(headers, FWD_IP + IP_CHECKSUM, checksum(sum(headers, FWD_IP, IP_HEADER, 0)));
        put16(headers, FWD_UDP + UDP_SRC_PORT, port);
        put16(headers, FWD_UDP + UDP_LENGTH, udpLength);
        put16(headers, FWD_UDP + UDP_CHECKSUM, 0);
        // RFC 768: the checksum covers a pseudo header (addresses, protocol, length), the UDP header and the data.
        long s = (ip >>> 16) + (ip & 0xFFFF) + (guestIp >>> 16) + (guestIp & 0xFFFF) + IP_PROTOCOL_UDP + udpLength;
        s = sum(headers, FWD_UDP, UDP_HEADER, s);
        s = sum(payload, index, length, s);
        int c = checksum(s);
        // A computed 0 is sent as all ones: 0 means "no checksum".
        put16(headers, FWD_UDP + UDP_CHECKSUM, c == 0 ? 0xFFFF : c);
    }

    // -------------------------------------------------------------------------------------------- guest → host

    @Override
    void send(ByteBuf frame) {
        try {
            int r = frame.readerIndex();
            int len = frame.readableBytes();
            if (len < ETH_HEADER) {
                counters.increment(NicCounter.TX_MALFORMED);
                return;
            }
            int type = frame.getUnsignedShort(r + ETH_TYPE);
            if (type == ETHERTYPE_ARP) {
                answerArp(frame, r, len);
            } else if (type == ETHERTYPE_IPV4) {
                forwardIpv4(frame, r + ETH_HEADER, len - ETH_HEADER);
            } else {
                counters.increment(NicCounter.TX_DROPPED_NON_UDP);
            }
        } finally {
            frame.release();
        }
    }

    /** Checks an IPv4 packet at {@code ip} ({@code avail} bytes) and sends its UDP payload to the peer it names. */
    private void forwardIpv4(ByteBuf f, int ip, int avail) {
        if (avail < IP_HEADER) {
            counters.increment(NicCounter.TX_MALFORMED);
            return;
        }
        int versionIhl = f.getUnsignedByte(ip + IP_VERSION_IHL);
        int ihl = (versionIhl & 0x0F) * 4;
        int total = f.getUnsignedShort(ip + IP_TOTAL_LENGTH);
        if ((versionIhl >>> 4) != 4 || ihl < IP_HEADER || ihl > avail || total < ihl || total > avail
                || checksum(sum(f, ip, ihl, 0)) != 0) {
            counters.increment(NicCounter.TX_MALFORMED);
            return;
        }
        if (f.getUnsignedByte(ip + IP_PROTOCOL) != IP_PROTOCOL_UDP
                || (f.getUnsignedShort(ip + IP_FLAGS_FRAGMENT) & IP_FRAGMENT_MASK) != 0) {
            // Not UDP, or a fragment of a datagram (not reassembled here).
            counters.increment(NicCounter.TX_DROPPED_NON_UDP);
            return;
        }
        int udp = ip + ihl;
        int udpLength = total - ihl >= UDP_HEADER ? f.getUnsignedShort(udp + UDP_LENGTH) : -1;
        if (udpLength < UDP_HEADER || udpLength > total - ihl) {
            counters.increment(NicCounter.TX_MALFORMED);
            return;
        }
        InetSocketAddress peer = peers.find(f.getInt(ip + IP_DST), f.getUnsignedShort(udp + UDP_DST_PORT));
        if (peer == null) {
            counters.increment(NicCounter.TX_DROPPED_UNKNOWN_PEER);
            return;
        }
        // The frame itself narrowed to the payload, not a slice (a new object per datagram): send() releases it.
        f.setIndex(udp + UDP_HEADER, udp + udpLength);
        write(f.retain(), peer);
    }

    /** Answers an ARP request for the gateway's address (RFC 826) with the gateway's MAC. */
    private void answerArp(ByteBuf f, int r, int len) {
        if (len < ETH_HEADER + ARP_SIZE) {
            counters.increment(NicCounter.TX_MALFORMED);
            return;
        }
        int a = r + ETH_HEADER;
        if (f.getUnsignedShort(a + ARP_HTYPE) != ARP_HTYPE_ETHERNET
                || f.getUnsignedShort(a + ARP_PTYPE) != ETHERTYPE_IPV4
                || f.getUnsignedByte(a + ARP_HLEN) != 6 || f.getUnsignedByte(a + ARP_PLEN) != 4
                || f.getUnsignedShort(a + ARP_OPERATION) != ARP_REQUEST
                || f.getInt(a + ARP_TPA) != gatewayIp) {
            counters.increment(NicCounter.TX_DROPPED_NON_UDP);
            return;
        }
        byte[] b = arpReply;
        f.getBytes(a + ARP_SHA, b, ETH_DST, 6);
        System.arraycopy(gatewayMac, 0, b, ETH_SRC, 6);
        put16(b, ETH_TYPE, ETHERTYPE_ARP);
        int o = ETH_HEADER;
        put16(b, o + ARP_HTYPE, ARP_HTYPE_ETHERNET);
        put16(b, o + ARP_PTYPE, ETHERTYPE_IPV4);
        b[o + ARP_HLEN] = 6;
        b[o + ARP_PLEN] = 4;
        put16(b, o + ARP_OPERATION, ARP_REPLY);
        System.arraycopy(gatewayMac, 0, b, o + ARP_SHA, 6);
        put32(b, o + ARP_SPA, gatewayIp);
        f.getBytes(a + ARP_SHA, b, o + ARP_THA, 6);
        f.getBytes(a + ARP_SPA, b, o + ARP_TPA, 4);
        // The request's outcome: answered. The reply is a received frame, counted as delivered or dropped.
        counters.increment(NicCounter.ARP_REPLIES);
        RxStatus s = guest.receive(b, 0, b.length, Unpooled.EMPTY_BUFFER, 0, 0, 0);
        if (s == RxStatus.RETRY_LATER) {
            // Not worth holding back: a guest without buffers now asks again.
            counters.increment(NicCounter.RX_DROPPED_NO_BUFFER);
        }
        guest.receiveComplete();
    }
}
