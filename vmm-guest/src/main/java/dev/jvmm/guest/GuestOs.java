package dev.jvmm.guest;

import dev.jvmm.core.memory.GuestMemory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

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

    /** The network's byte order: the JDK's big-endian views of a byte array, at any offset. */
    private static final VarHandle BE16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle BE32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

    static int be16(byte[] b, int off) {
        return (short) BE16.get(b, off) & 0xFFFF;
    }

    static int be32(byte[] b, int off) {
        return (int) BE32.get(b, off);
    }

    static void putBe16(byte[] b, int off, int v) {
        BE16.set(b, off, (short) v);
    }

    static void putBe32(byte[] b, int off, int v) {
        BE32.set(b, off, v);
    }

    static String ip(int a) {
        return (a >>> 24) + "." + ((a >>> 16) & 0xFF) + "." + ((a >>> 8) & 0xFF) + "." + (a & 0xFF);
    }
}
