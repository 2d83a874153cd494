package dev.jvmm.launcher.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;

/**
 * The kernel's count of datagrams it dropped at a UDP socket (its receive buffer was full), from the last column
 * of {@code /proc/net/udp} and {@code /proc/net/udp6}. Datagrams dropped there never reached the NIC's backend: they
 * show that the reader (the NIC's event loop) fell behind the sender.
 *
 * <pre>
 *   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 *    0: 0100007F:E6B5 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1234 2 000000 0
 * </pre>
 * Sockets are found by local port alone: the benchmark's ports are ephemeral and unique while it runs.
 */
final class KernelUdpDrops {
    private static final List<Path> TABLES = List.of(Path.of("/proc/net/udp"), Path.of("/proc/net/udp6"));

    private KernelUdpDrops() {
    }

    /** Whether this machine exposes the counters (Linux). */
    static boolean available() {
        return Files.isReadable(TABLES.get(0));
    }

    /** Drops summed over the sockets bound to {@code ports}; -1 when the tables cannot be read. */
    static long drops(Collection<Integer> ports) {
        if (!available()) {
            return -1;
        }
        long total = 0;
        for (Path table : TABLES) {
            List<String> lines;
            try {
                lines = Files.readAllLines(table);
            } catch (IOException e) {
                if (table == TABLES.get(0)) {
                    return -1;
                }
                continue; // no IPv6
            }
            for (int i = 1; i < lines.size(); i++) {
                String[] f = lines.get(i).trim().split("\\s+");
                if (f.length < 13) {
                    continue;
                }
                int colon = f[1].lastIndexOf(':');
                try {
                    int port = Integer.parseInt(f[1].substring(colon + 1), 16);
                    if (ports.contains(port)) {
                        total += Long.parseLong(f[f.length - 1]);
                    }
                } catch (NumberFormatException | IndexOutOfBoundsException e) {
                    // a line in a format this reader does not know: skip it
                }
            }
        }
        return total;
    }
}
