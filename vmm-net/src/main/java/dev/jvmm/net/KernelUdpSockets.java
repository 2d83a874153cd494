package dev.jvmm.net;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What Linux says about one of our UDP sockets in {@code /proc/net/udp} (or {@code udp6}): datagrams waiting in its
 * receive queue and datagrams the kernel dropped because the queue was full. The drops are the third term of the
 * accounting {@code sent = delivered to the guest + dropped by the device + dropped by the kernel}.
 */
public final class KernelUdpSockets {

    /** A socket's line: bytes in the receive queue and datagrams dropped; {@code -1} where unknown. */
    public record Counters(long rxQueueBytes, long drops) {
        static final Counters UNKNOWN = new Counters(-1, -1);

        public boolean known() {
            return drops >= 0;
        }
    }

    private KernelUdpSockets() {
    }

    /** The counters of the socket bound to {@code local}, or {@link Counters#UNKNOWN} off Linux or when absent. */
    public static Counters of(InetSocketAddress local) {
        if (local == null || local.getAddress() == null) {
            return Counters.UNKNOWN;
        }
        byte[] addr = local.getAddress().getAddress();
        if (local.getAddress() instanceof Inet6Address) {
            return find(Path.of("/proc/net/udp6"), hex(addr, local.getPort()));
        }
        Counters c = find(Path.of("/proc/net/udp"), hex(addr, local.getPort()));
        if (!c.known()) {
            // Netty's native transport opens dual-stack IPv6 sockets: an IPv4 address shows as ::ffff:a.b.c.d.
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xFF;
            mapped[11] = (byte) 0xFF;
            System.arraycopy(addr, 0, mapped, 12, 4);
            c = find(Path.of("/proc/net/udp6"), hex(mapped, local.getPort()));
        }
        return c;
    }

    private static Counters find(Path table, String want) {
        if (!Files.isReadable(table)) {
            return Counters.UNKNOWN;
        }
        try {
            List<String> lines = Files.readAllLines(table);
            for (int i = 1; i < lines.size(); i++) {
                String[] f = lines.get(i).trim().split("\\s+");
                if (f.length >= 13 && f[1].equalsIgnoreCase(want)) {
                    String[] queues = f[4].split(":");
                    return new Counters(Long.parseLong(queues[1], 16), Long.parseLong(f[f.length - 1]));
                }
            }
        } catch (IOException | RuntimeException e) {
            return Counters.UNKNOWN;
        }
        return Counters.UNKNOWN;
    }

    /**
     * {@code net.core.rmem_max}: the largest SO_RCVBUF an unprivileged socket gets (a larger request is cut to it),
     * or -1 off Linux.
     */
    public static long rmemMax() {
        Path p = Path.of("/proc/sys/net/core/rmem_max");
        try {
            // One read of the whole line: a sysctl file read from a nonzero offset is empty (proc_dointvec).
            return Files.isReadable(p) ? Long.parseLong(Files.readAllLines(p).get(0).trim()) : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Drops summed over {@code sockets}; -1 when none of them could be found (not Linux). */
    public static long drops(java.util.Collection<InetSocketAddress> sockets) {
        long total = 0;
        boolean any = false;
        for (InetSocketAddress s : sockets) {
            Counters c = of(s);
            if (c.known()) {
                any = true;
                total += c.drops();
            }
        }
        return any ? total : -1;
    }

    /** The kernel's spelling of an address: the 32-bit words in host (little-endian) order, then the port. */
    private static String hex(byte[] b, int port) {
        StringBuilder sb = new StringBuilder();
        for (int w = 0; w < b.length; w += 4) {
            for (int k = 3; k >= 0; k--) {
                sb.append(String.format(Locale.ROOT, "%02X", b[w + k] & 0xFF));
            }
        }
        return sb.append(':').append(String.format(Locale.ROOT, "%04X", port)).toString();
    }
}
