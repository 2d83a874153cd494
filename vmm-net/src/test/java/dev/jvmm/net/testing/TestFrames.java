package dev.jvmm.net.testing;

import java.nio.ByteBuffer;

/**
 * Ethernet, IPv4, UDP and ARP frames built and checked byte by byte from the RFCs, independently of the backends'
 * code, for tests to send and verify.
 */
public final class TestFrames {
    private TestFrames() {
    }

    /** An Ethernet + IPv4 + UDP frame (IPv4 header checksum valid, UDP checksum valid). */
    public static byte[] udp(byte[] dstMac, byte[] srcMac, byte[] srcIp, int srcPort, byte[] dstIp, int dstPort,
                             byte[] payload) {
        int udpLen = 8 + payload.length;
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + udpLen);
        b.put(dstMac).put(srcMac).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + udpLen)).putShort((short) 1).putShort((short) 0)
                .put((byte) 64).put((byte) 17).putShort((short) 0).put(srcIp).put(dstIp);
        b.putShort(14 + 10, (short) ipChecksum(b.array(), 14, 20));
        b.putShort((short) srcPort).putShort((short) dstPort).putShort((short) udpLen).putShort((short) 0);
        b.put(payload);
        int c = udpChecksum(b.array(), 14);
        b.putShort(14 + 20 + 6, (short) (c == 0 ? 0xFFFF : c));
        return b.array();
    }

    /** An ARP request (who-has {@code targetIp}) from {@code mac}/{@code ip}. */
    public static byte[] arpRequest(byte[] mac, byte[] ip, byte[] targetIp) {
        ByteBuffer b = ByteBuffer.allocate(14 + 28);
        b.put(new byte[]{-1, -1, -1, -1, -1, -1}).put(mac).putShort((short) 0x0806);
        b.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 1);
        b.put(mac).put(ip).put(new byte[6]).put(targetIp);
        return b.array();
    }

    public static int ipChecksum(byte[] b, int off, int len) {
        long s = sum(b, off, len, 0);
        return fold(s);
    }

    /** The UDP checksum of the IPv4 packet at {@code ipOff}, computed with the checksum field taken as zero. */
    public static int udpChecksum(byte[] b, int ipOff) {
        int ihl = (b[ipOff] & 0x0F) * 4;
        int udp = ipOff + ihl;
        int udpLen = u16(b, udp + 4);
        long s = sum(b, ipOff + 12, 8, 0) + 17 + udpLen;
        byte[] copy = java.util.Arrays.copyOfRange(b, udp, udp + udpLen);
        copy[6] = 0;
        copy[7] = 0;
        s = sum(copy, 0, copy.length, s);
        return fold(s);
    }

    /** Whether the UDP checksum of the packet at {@code ipOff} is zero (none) or correct. */
    public static boolean udpChecksumValid(byte[] b, int ipOff) {
        int udp = ipOff + (b[ipOff] & 0x0F) * 4;
        int field = u16(b, udp + 6);
        if (field == 0) {
            return true;
        }
        int c = udpChecksum(b, ipOff);
        return field == (c == 0 ? 0xFFFF : c);
    }

    static long sum(byte[] b, int off, int len, long s) {
        for (int i = 0; i + 1 < len; i += 2) {
            s += u16(b, off + i);
        }
        if ((len & 1) != 0) {
            s += (b[off + len - 1] & 0xFF) << 8;
        }
        return s;
    }

    static int fold(long s) {
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) (~s & 0xFFFF);
    }

    public static int u16(byte[] b, int off) {
        return (b[off] & 0xFF) << 8 | (b[off + 1] & 0xFF);
    }

    public static byte[] slice(byte[] b, int from, int to) {
        return java.util.Arrays.copyOfRange(b, from, to);
    }
}
