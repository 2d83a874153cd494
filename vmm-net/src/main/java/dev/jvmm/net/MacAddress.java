package dev.jvmm.net;

import java.util.Arrays;

/** A 48-bit Ethernet address. */
public final class MacAddress {
    private final byte[] bytes;

    private MacAddress(byte[] bytes) {
        this.bytes = bytes;
    }

    public static MacAddress of(byte[] b) {
        if (b.length != 6) {
            throw new IllegalArgumentException("a MAC address has 6 bytes, got " + b.length);
        }
        return new MacAddress(b.clone());
    }

    /** Parses {@code 52:54:00:12:34:56}; null when the text is not a MAC address. */
    public static MacAddress parse(String s) {
        String[] parts = s.split(":", -1);
        if (parts.length != 6) {
            return null;
        }
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) {
            if (parts[i].length() != 2) {
                return null;
            }
            try {
                b[i] = (byte) Integer.parseInt(parts[i], 16);
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return new MacAddress(b);
    }

    /** The QEMU-style default for NIC {@code n}: 52:54:00:12:34:(0x56 + n). */
    public static MacAddress qemuDefault(int n) {
        return new MacAddress(new byte[]{0x52, 0x54, 0x00, 0x12, (byte) (0x34 + (n >> 8)), (byte) (0x56 + n)});
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    public byte get(int i) {
        return bytes[i];
    }

    /** Whether the group bit is set (a multicast or broadcast address: not valid for a NIC). */
    public boolean isMulticast() {
        return (bytes[0] & 1) != 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MacAddress && Arrays.equals(bytes, ((MacAddress) o).bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(17);
        for (int i = 0; i < 6; i++) {
            if (i > 0) {
                sb.append(':');
            }
            sb.append(String.format("%02x", bytes[i] & 0xFF));
        }
        return sb.toString();
    }
}
