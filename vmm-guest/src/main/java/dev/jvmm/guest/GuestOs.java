package dev.jvmm.guest;

import dev.jvmm.core.memory.GuestMemory;

/** Small routines of the toy guest's "kernel library". */
final class GuestOs {
    private GuestOs() {
    }

    /** memset(0): a guest cannot assume that RAM it allocates is zero. */
    static void zero(GuestMemory ram, long gpa, long length) {
        ram.fill(gpa, length, (byte) 0);
    }

    /** The Internet checksum (RFC 1071) over {@code b[off..off+len)}, folded, not complemented, from {@code sum}. */
    static int onesComplementSum(byte[] b, int off, int len, int sum) {
        long s = sum & 0xFFFF_FFFFL;
        int i = off;
        int end = off + len;
        for (; i + 1 < end; i += 2) {
            s += ((b[i] & 0xFF) << 8) | (b[i + 1] & 0xFF);
        }
        if (i < end) {
            s += (b[i] & 0xFF) << 8;
        }
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) s;
    }

    static int be16(byte[] b, int off) {
        return ((b[off] & 0xFF) << 8) | (b[off + 1] & 0xFF);
    }

    static int be32(byte[] b, int off) {
        return ((b[off] & 0xFF) << 24) | ((b[off + 1] & 0xFF) << 16) | ((b[off + 2] & 0xFF) << 8) | (b[off + 3] & 0xFF);
    }

    static void putBe16(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    static void putBe32(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    static String ip(int a) {
        return (a >>> 24) + "." + ((a >>> 16) & 0xFF) + "." + ((a >>> 8) & 0xFF) + "." + (a & 0xFF);
    }
}
