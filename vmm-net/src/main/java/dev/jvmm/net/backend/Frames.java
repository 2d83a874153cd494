package dev.jvmm.net.backend;

import io.netty.buffer.ByteBuf;

/**
 * The layouts of the frames the udp backend reads and writes, as offsets from the start of each header (network
 * byte order), and the Internet checksum (RFC 1071).
 *
 * <pre>
 *  Ethernet II (14):   0 dst[6] │ 6 src[6] │ 12 ethertype
 *  IPv4 (20, no options written; IHL honoured when read):
 *     0 ver/ihl │ 1 tos │ 2 total length │ 4 id │ 6 flags/fragment │ 8 ttl │ 9 protocol │ 10 checksum
 *    12 source address │ 16 destination address
 *  UDP (8):            0 source port │ 2 destination port │ 4 length │ 6 checksum
 *  ARP for IPv4 over Ethernet (28):
 *     0 htype │ 2 ptype │ 4 hlen │ 5 plen │ 6 operation │ 8 sha[6] │ 14 spa[4] │ 18 tha[6] │ 24 tpa[4]
 * </pre>
 */
final class Frames {
    static final int ETH_DST = 0;
    static final int ETH_SRC = 6;
    static final int ETH_TYPE = 12;
    static final int ETH_HEADER = 14;
    static final int ETHERTYPE_IPV4 = 0x0800;
    static final int ETHERTYPE_ARP = 0x0806;

    static final int IP_VERSION_IHL = 0;
    static final int IP_TOS = 1;
    static final int IP_TOTAL_LENGTH = 2;
    static final int IP_ID = 4;
    static final int IP_FLAGS_FRAGMENT = 6;
    static final int IP_TTL = 8;
    static final int IP_PROTOCOL = 9;
    static final int IP_CHECKSUM = 10;
    static final int IP_SRC = 12;
    static final int IP_DST = 16;
    static final int IP_HEADER = 20;
    /** Version 4, header length 5 words. */
    static final int IP_VERSION_IHL_DEFAULT = 0x45;
    static final int IP_PROTOCOL_UDP = 17;
    static final int IP_TTL_DEFAULT = 64;
    /** More-fragments flag and fragment offset: non-zero in any fragment. */
    static final int IP_FRAGMENT_MASK = 0x3FFF;

    static final int UDP_SRC_PORT = 0;
    static final int UDP_DST_PORT = 2;
    static final int UDP_LENGTH = 4;
    static final int UDP_CHECKSUM = 6;
    static final int UDP_HEADER = 8;
    /** The largest UDP payload an IPv4 packet can carry. */
    static final int UDP_MAX_PAYLOAD = 65535 - IP_HEADER - UDP_HEADER;

    static final int ARP_HTYPE = 0;
    static final int ARP_PTYPE = 2;
    static final int ARP_HLEN = 4;
    static final int ARP_PLEN = 5;
    static final int ARP_OPERATION = 6;
    static final int ARP_SHA = 8;
    static final int ARP_SPA = 14;
    static final int ARP_THA = 18;
    static final int ARP_TPA = 24;
    static final int ARP_SIZE = 28;
    static final int ARP_HTYPE_ETHERNET = 1;
    static final int ARP_REQUEST = 1;
    static final int ARP_REPLY = 2;

    /** Where a forwarded datagram's headers sit in the synthesized frame. */
    static final int FWD_IP = ETH_HEADER;
    static final int FWD_UDP = ETH_HEADER + IP_HEADER;
    static final int FWD_HEADERS = ETH_HEADER + IP_HEADER + UDP_HEADER;

    private Frames() {
    }

    static void put16(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    static void put32(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    static int get16(byte[] b, int off) {
        return (b[off] & 0xFF) << 8 | (b[off + 1] & 0xFF);
    }

    /** The one's-complement sum of {@code b[off, off + len)} as big-endian 16-bit words, added to {@code sum}. */
    static long sum(byte[] b, int off, int len, long sum) {
        int i = 0;
        for (; i + 1 < len; i += 2) {
            sum += (b[off + i] & 0xFF) << 8 | (b[off + i + 1] & 0xFF);
        }
        if (i < len) {
            sum += (b[off + i] & 0xFF) << 8;
        }
        return sum;
    }

    /** As {@link #sum(byte[], int, int, long)} over a buffer's bytes (no index moves), eight bytes at a time. */
    static long sum(ByteBuf buf, int index, int len, long sum) {
        int i = 0;
        for (; i + 8 <= len; i += 8) {
            long v = buf.getLong(index + i);
            sum += (v >>> 48) + ((v >>> 32) & 0xFFFF) + ((v >>> 16) & 0xFFFF) + (v & 0xFFFF);
        }
        for (; i + 1 < len; i += 2) {
            sum += buf.getUnsignedShort(index + i);
        }
        if (i < len) {
            sum += buf.getUnsignedByte(index + i) << 8;
        }
        return sum;
    }

    /** Folds a sum to 16 bits and complements it: the checksum field's value. */
    static int checksum(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) (~sum & 0xFFFF);
    }
}
