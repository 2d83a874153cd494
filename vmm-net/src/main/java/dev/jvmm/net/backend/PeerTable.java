package dev.jvmm.net.backend;

import java.net.InetSocketAddress;

/**
 * The hosts that sent datagrams to a udp backend's port, so that the guest's replies can go back to them: a fixed
 * number of (IPv4 address, port) entries, the oldest replaced first. Lookups compare two ints per entry and allocate
 * nothing; the socket address kept is the one Netty handed over with the datagram. Owned by the event loop.
 */
final class PeerTable {
    private final int[] ips;
    private final int[] ports;
    private final InetSocketAddress[] addresses;
    private int size;
    private int victim;
    private int last = -1;

    PeerTable(int capacity) {
        ips = new int[capacity];
        ports = new int[capacity];
        addresses = new InetSocketAddress[capacity];
    }

    /** Records that {@code address} (IPv4 {@code ip}, {@code port}) sent a datagram. */
    void remember(int ip, int port, InetSocketAddress address) {
        if (last >= 0 && ips[last] == ip && ports[last] == port) {
            return;
        }
        int i = indexOf(ip, port);
        if (i < 0) {
            if (size < ips.length) {
                i = size++;
            } else {
                i = victim;
                victim = (victim + 1) % ips.length;
            }
            ips[i] = ip;
            ports[i] = port;
            addresses[i] = address;
        }
        last = i;
    }

    /** The address of peer (ip, port), or null if it never sent anything (or was forgotten). */
    InetSocketAddress find(int ip, int port) {
        int i = indexOf(ip, port);
        return i < 0 ? null : addresses[i];
    }

    private int indexOf(int ip, int port) {
        for (int i = 0; i < size; i++) {
            if (ips[i] == ip && ports[i] == port) {
                return i;
            }
        }
        return -1;
    }

    int size() {
        return size;
    }
}
