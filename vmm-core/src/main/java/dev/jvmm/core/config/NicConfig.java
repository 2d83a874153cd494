package dev.jvmm.core.config;

import java.net.Inet4Address;
import java.net.InetSocketAddress;

/**
 * One virtio-net device and its host backend.
 *
 * @param id         a name for messages and statistics
 * @param backend    {@code udp} (port forwarding) or {@code udp-tunnel} (Ethernet frames over UDP)
 * @param listen     the host address and port the backend's socket binds
 * @param remote     {@code udp-tunnel}: where frames the guest sends go (null for {@code udp})
 * @param mac        the NIC's MAC address
 * @param guestIp    {@code udp}: the guest's IPv4 address
 * @param gatewayIp  {@code udp}: the address that stands for the host (source of forwarded datagrams' ARP peer)
 * @param guestPort  {@code udp}: the guest UDP port datagrams are forwarded to
 * @param queueSize  the maximum size of each virtqueue (QueueNumMax)
 * @param queuePairs receive/transmit queue pairs offered (more than one offers VIRTIO_NET_F_MQ)
 * @param mrgRxbuf   whether VIRTIO_NET_F_MRG_RXBUF is offered
 * @param slot       the virtio-mmio slot (its registers are at 0x0A00_0000 + slot * 0x200)
 * @param deviceId   the DeviceID its MSIs carry to the ITS
 * @param its        which ITS its MSIs go to
 */
public record NicConfig(String id, NicBackend backend, InetSocketAddress listen, InetSocketAddress remote,
                        MacAddress mac, Inet4Address guestIp, Inet4Address gatewayIp, int guestPort, int queueSize,
                        int queuePairs, boolean mrgRxbuf, int slot, int deviceId, int its) {

    public enum NicBackend {
        UDP, UDP_TUNNEL;

        public String configName() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }

        public static NicBackend fromConfigName(String s) {
            for (NicBackend b : values()) {
                if (b.configName().equals(s)) {
                    return b;
                }
            }
            return null;
        }
    }

    public static final int DEFAULT_QUEUE_SIZE = 256;

    /**
     * A {@code udp} NIC in slot {@code slot} listening on 127.0.0.1:{@code port} (0: any free port), with QEMU-like
     * defaults; the guest port is {@code port}, or 5001 for port 0.
     */
    public static NicConfig udp(int slot, int port) {
        return new NicConfig("net" + slot, NicBackend.UDP, new InetSocketAddress("127.0.0.1", port), null,
                MacAddress.qemuDefault(slot), ip("10.0.2.15"), ip("10.0.2.2"), port == 0 ? 5001 : port,
                DEFAULT_QUEUE_SIZE, 1, true, slot, slot, 0);
    }

    public NicConfig withListen(InetSocketAddress a) {
        return new NicConfig(id, backend, a, remote, mac, guestIp, gatewayIp, guestPort, queueSize, queuePairs,
                mrgRxbuf, slot, deviceId, its);
    }

    public NicConfig withMrgRxbuf(boolean m) {
        return new NicConfig(id, backend, listen, remote, mac, guestIp, gatewayIp, guestPort, queueSize, queuePairs,
                m, slot, deviceId, its);
    }

    public NicConfig withQueueSize(int q) {
        return new NicConfig(id, backend, listen, remote, mac, guestIp, gatewayIp, guestPort, q, queuePairs,
                mrgRxbuf, slot, deviceId, its);
    }

    public NicConfig withTunnel(InetSocketAddress remoteAddress) {
        return new NicConfig(id, NicBackend.UDP_TUNNEL, listen, remoteAddress, mac, guestIp, gatewayIp, guestPort,
                queueSize, queuePairs, mrgRxbuf, slot, deviceId, its);
    }

    static Inet4Address ip(String dotted) {
        try {
            return (Inet4Address) java.net.InetAddress.getByName(dotted);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(dotted, e);
        }
    }
}
