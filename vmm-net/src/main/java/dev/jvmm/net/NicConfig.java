package dev.jvmm.net;

import dev.jvmm.core.config.ConfigNode;
import dev.jvmm.core.config.ConfigSection;
import dev.jvmm.core.config.ConfigSource;
import dev.jvmm.core.config.ConfigValues;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.machine.MemoryMap;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One virtio-net device and its host backend: an item of the {@code nics} section, owned by vmm-net.
 *
 * <pre>
 * nics:
 *   - {id: net0, backend: udp, listen: 127.0.0.1:5001, guest-port: 5001, mac: 52:54:00:12:34:56, ...}
 * </pre>
 *
 * In code, through the {@link #builder(int) builder}, whose every default is written on its setter:
 * <pre>{@code
 * NicConfig nic = NicConfig.builder(0).listen(new InetSocketAddress("127.0.0.1", 0)).guestPort(5001).build();
 * }</pre>
 *
 * @param id         a name for messages and statistics
 * @param backend    {@code udp} (port forwarding) or {@code udp-tunnel} (Ethernet frames over UDP)
 * @param listen     the host address and port the backend's socket binds (port 0: any free port)
 * @param remote     {@code udp-tunnel}: where frames the guest sends go (null for {@code udp})
 * @param mac        the NIC's MAC address
 * @param guestIp    {@code udp}: the guest's IPv4 address
 * @param gatewayIp  {@code udp}: the address that stands for the host (source of forwarded datagrams' ARP peer)
 * @param guestPort  {@code udp}: the guest UDP port datagrams are forwarded to
 * @param queueSize  the maximum size of each virtqueue (QueueNumMax)
 * @param queuePairs receive/transmit queue pairs offered (more than one offers VIRTIO_NET_F_MQ)
 * @param mrgRxbuf   whether VIRTIO_NET_F_MRG_RXBUF is offered
 * @param slot       the virtio-mmio slot (its registers are at 0x0A00_0000 + slot * 0x200)
 * @param deviceId   the DeviceID its MSIs carry to the interrupt controller (MSI mode only)
 * @param its        which MSI controller (ITS) its MSIs go to: its MSI parent (MSI mode only)
 * @param interrupt  how the device interrupts the guest: MSIs through the ITS, or the slot's wired SPI
 */
public record NicConfig(String id, NicBackend backend, InetSocketAddress listen, InetSocketAddress remote,
                        MacAddress mac, Inet4Address guestIp, Inet4Address gatewayIp, int guestPort, int queueSize,
                        int queuePairs, boolean mrgRxbuf, int slot, int deviceId, int its, NicInterrupt interrupt) {

    /** The host side of a NIC. A new backend is a constant here and a line of {@link VirtioNetDevices#defaultBackend}. */
    public enum NicBackend {
        /** Port forwarding: datagrams to the host port enter the guest as Ethernet/IPv4/UDP frames. */
        UDP,
        /** Whole Ethernet frames over UDP, to and from {@code remote}. */
        UDP_TUNNEL;

        public String configName() {
            return ConfigValues.configName(this);
        }
    }

    /**
     * How a NIC interrupts the guest: the {@code interrupt} key. A board's device tree describes either to a kernel:
     * every virtio-mmio node has its slot's {@code interrupts} (as on QEMU's {@code virt}), and an MSI NIC also has
     * {@code msi-parent = <&its DEVICEID>}.
     *
     * <pre>
     *  msi    one MSI per source (EventID = queue index, then the configuration change) to the ITS named by
     *         {@code its}, with DeviceID {@code device-id}: the guest maps each with MAPD/MAPTI to an LPI, and the
     *         LPI says which queue. InterruptStatus is kept but needs no ACK. Stock virtio-mmio drivers (Linux's)
     *         do not use it.
     *  wired  one edge-triggered SPI per slot, SPI 16 + slot (INTID 48 + slot), as QEMU's virt wires virtio-mmio:
     *         the guest reads InterruptStatus to learn why and writes InterruptACK (virtio 1.x, 4.2.3.4). Raised
     *         through an irqfd on an irqchip route, as Firecracker and QEMU with KVM raise it.
     * </pre>
     */
    public enum NicInterrupt {
        MSI,
        WIRED;

        public String configName() {
            return ConfigValues.configName(this);
        }
    }

    public static final int DEFAULT_QUEUE_SIZE = 256;
    public static final int MAX_QUEUE_SIZE = 32768;
    public static final int MAX_QUEUE_PAIRS = 16;
    /** The guest port of a NIC whose listen port is 0 (any free port), unless one is given: iperf's port. */
    public static final int DEFAULT_GUEST_PORT = 5001;

    /** The {@code nics} section: a list of NICs. */
    public static final ConfigSection<List<NicConfig>> SECTION = ConfigSection.of("nics", List::of,
            NicConfig::parse, NicConfig::validate);

    public NicConfig {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(interrupt, "interrupt");
    }

    /** Whether the NIC raises its slot's wired SPI rather than MSIs. */
    public boolean wired() {
        return interrupt == NicInterrupt.WIRED;
    }

    /**
     * The INTID of the slot's wired interrupt, SPI 16 + slot as QEMU's {@code virt} board wires virtio-mmio slots
     * ({@link MemoryMap#virtioSlotIntid}): what the device raises in wired mode, and what a device tree gives the
     * slot's {@code interrupts} property in either mode.
     */
    public int wiredIntid() {
        return MemoryMap.virtioSlotIntid(slot);
    }

    /**
     * A builder for the NIC in virtio-mmio slot {@code slot}, with these defaults, each changed by its setter:
     * id {@code net<slot>}, backend {@code udp}, MAC 52:54:00:12:34:(56 + slot) (QEMU's pattern), guest 10.0.2.15
     * behind gateway 10.0.2.2 (QEMU's user networking), guest port the listen port, queue size 256, one queue pair,
     * MRG_RXBUF offered (QEMU's {@code mrg_rxbuf=on}), MSIs with DeviceID {@code slot} on ITS 0. The listen address
     * has no default, and a listen port of 0 needs an explicit guest port.
     */
    public static Builder builder(int slot) {
        return new Builder(slot);
    }

    /** A builder that starts from this NIC's values. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    private static NicConfig parseNic(ConfigNode s, int i) {
        String id = s.string("id", "net" + i);
        String backendName = s.choice("backend", "udp",
                Arrays.stream(NicBackend.values()).map(NicBackend::configName).toArray(String[]::new));
        InetSocketAddress listen = s.socketAddress("listen", null);
        if (listen == null) {
            throw s.error("a NIC needs 'listen: host:port' (the host UDP socket it reads)");
        }
        InetSocketAddress remote = s.socketAddress("remote", null);
        MacAddress mac = s.value("mac", MacAddress.qemuDefault(i), v -> {
            MacAddress m = MacAddress.parse(v);
            if (m == null) {
                throw new IllegalArgumentException("must be a MAC address such as 52:54:00:12:34:56, got '" + v + "'");
            }
            return m;
        });
        Inet4Address guestIp = s.value("guest-ip", ip("10.0.2.15"), NicConfig::ipv4);
        Inet4Address gatewayIp = s.value("gateway-ip", ip("10.0.2.2"), NicConfig::ipv4);
        int guestPort = s.integer("guest-port", listen.getPort() == 0 ? DEFAULT_GUEST_PORT : listen.getPort());
        int queueSize = s.integer("queue-size", DEFAULT_QUEUE_SIZE);
        int pairs = s.integer("queue-pairs", 1);
        boolean mrg = s.bool("mrg-rxbuf", true);
        int slot = s.integer("slot", i);
        int deviceId = s.integer("device-id", slot);
        int its = s.integer("its", 0);
        String interruptName = s.choice("interrupt", NicInterrupt.MSI.configName(),
                Arrays.stream(NicInterrupt.values()).map(NicInterrupt::configName).toArray(String[]::new));
        NicInterrupt interrupt = ConfigValues.fromConfigName(NicInterrupt.values(), interruptName);
        if (interrupt == NicInterrupt.WIRED) {
            // A wired NIC raises its slot's SPI; an MSI parent would be a setting that silently does nothing.
            for (String k : new String[]{"device-id", "its"}) {
                if (s.has(k)) {
                    throw s.error(k, "only a NIC with 'interrupt: msi' has an MSI parent; a wired NIC raises its"
                            + " slot's SPI (INTID " + MemoryMap.virtioSlotIntid(slot) + ")");
                }
            }
        }
        s.rejectUnknown();
        return new NicConfig(id, ConfigValues.fromConfigName(NicBackend.values(), backendName), listen, remote, mac, guestIp, gatewayIp,
                guestPort, queueSize, pairs, mrg, slot, deviceId, its, interrupt);
    }

    private static void validateNics(List<NicConfig> nics, VmConfig config) {
        ConfigSource s = config.source();
        if (nics.size() > MemoryMap.VIRTIO_MMIO_SLOTS) {
            throw s.error("nics", "at most " + MemoryMap.VIRTIO_MMIO_SLOTS + " NICs fit the virtio-mmio slots, got "
                    + nics.size());
        }
        int msiControllers = config.interruptController().map(c -> c.msiControllerCount()).orElse(-1);
        Map<String, Integer> ids = new HashMap<>();
        Map<InetSocketAddress, Integer> ports = new HashMap<>();
        Map<MacAddress, Integer> macs = new HashMap<>();
        Map<Integer, Integer> slots = new HashMap<>();
        Map<Long, Integer> deviceIds = new HashMap<>();
        for (int i = 0; i < nics.size(); i++) {
            NicConfig n = nics.get(i);
            String k = "nics[" + i + "]";
            if (n.id().isBlank()) {
                throw s.error(k + ".id", "a NIC needs an id");
            }
            Integer prev = ids.putIfAbsent(n.id(), i);
            if (prev != null) {
                throw s.error(k + ".id", "id '" + n.id() + "' is already used by nics[" + prev + "]");
            }
            if (n.backend() == null) {
                throw s.error(k + ".backend", "a NIC needs a backend");
            }
            if (n.listen() == null) {
                throw s.error(k + ".listen", "a listen address (host:port) is required");
            }
            if (n.listen().getPort() != 0) {
                prev = ports.putIfAbsent(n.listen(), i);
                if (prev != null) {
                    throw s.error(k + ".listen", "address " + ConfigValues.hostPort(n.listen())
                            + " is already used by nics[" + prev + "]");
                }
            }
            if (n.backend() == NicBackend.UDP_TUNNEL && n.remote() == null) {
                throw s.error(k + ".remote", "a udp-tunnel NIC needs a remote address (host:port)");
            }
            if (n.backend() == NicBackend.UDP && n.remote() != null) {
                throw s.error(k + ".remote", "only a udp-tunnel NIC has a remote address");
            }
            if (n.mac() == null || n.mac().isMulticast()) {
                throw s.error(k + ".mac", "must be a unicast MAC address such as 52:54:00:12:34:56");
            }
            prev = macs.putIfAbsent(n.mac(), i);
            if (prev != null) {
                throw s.error(k + ".mac", "MAC " + n.mac() + " is already used by nics[" + prev + "]");
            }
            if (n.guestPort() < 1 || n.guestPort() > 65535) {
                throw s.error(k + ".guest-port", "must be between 1 and 65535, got " + n.guestPort());
            }
            int q = n.queueSize();
            if (q < 2 || q > MAX_QUEUE_SIZE || Integer.bitCount(q) != 1) {
                throw s.error(k + ".queue-size", "must be a power of two between 2 and " + MAX_QUEUE_SIZE + ", got " + q);
            }
            if (n.queuePairs() < 1 || n.queuePairs() > MAX_QUEUE_PAIRS) {
                throw s.error(k + ".queue-pairs", "must be between 1 and " + MAX_QUEUE_PAIRS + ", got " + n.queuePairs());
            }
            if (n.slot() < 0 || n.slot() >= MemoryMap.VIRTIO_MMIO_SLOTS) {
                throw s.error(k + ".slot", "must be between 0 and " + (MemoryMap.VIRTIO_MMIO_SLOTS - 1) + ", got "
                        + n.slot());
            }
            prev = slots.putIfAbsent(n.slot(), i);
            if (prev != null) {
                throw s.error(k + ".slot", "virtio-mmio slot " + n.slot() + " is already used by nics[" + prev + "]");
            }
            if (n.interrupt() == null) {
                throw s.error(k + ".interrupt", "a NIC needs an interrupt mode (msi or wired)");
            }
            if (n.wired()) {
                continue; // DeviceID and ITS are an MSI NIC's; a wired NIC's SPI follows from its slot
            }
            if (n.its() < 0 || (msiControllers >= 0 && n.its() >= msiControllers)) {
                throw s.error(k + ".its", msiControllers < 0 ? "must not be negative, got " + n.its()
                        : "must name one of the " + msiControllers + " ITS (0.." + (msiControllers - 1) + "), got "
                        + n.its());
            }
            if (n.deviceId() < 0 || n.deviceId() > 0xFFFF) {
                throw s.error(k + ".device-id", "must be between 0 and 65535 (16 DeviceID bits), got " + n.deviceId());
            }
            prev = deviceIds.putIfAbsent(((long) n.its() << 32) | n.deviceId(), i);
            if (prev != null) {
                throw s.error(k + ".device-id", "DeviceID " + n.deviceId() + " on ITS " + n.its()
                        + " is already used by nics[" + prev + "]");
            }
        }
    }

    private static Inet4Address ipv4(String v) {
        if (!v.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            throw new IllegalArgumentException("must be an IPv4 address such as 10.0.2.15, got '" + v + "'");
        }
        try {
            InetAddress a = InetAddress.getByName(v);
            if (a instanceof Inet4Address) {
                return (Inet4Address) a;
            }
        } catch (UnknownHostException e) {
            // fall through
        }
        throw new IllegalArgumentException("must be an IPv4 address such as 10.0.2.15, got '" + v + "'");
    }

    static Inet4Address ip(String dotted) {
        return ipv4(dotted);
    }

    @Override
    public String toString() {
        return "NicConfig[" + id + ", " + backend.configName() + " " + ConfigValues.hostPort(listen)
                + (remote == null ? "" : " <-> " + ConfigValues.hostPort(remote)) + ", mac " + mac + ", guest "
                + guestIp.getHostAddress() + ":" + guestPort + " via " + gatewayIp.getHostAddress() + ", queue-size "
                + queueSize + ", queue-pairs " + queuePairs + ", mrg-rxbuf " + mrgRxbuf + ", slot " + slot
                + (wired() ? ", wired INTID " + wiredIntid() : ", DeviceID " + deviceId + " on ITS " + its) + "]";
    }

    /** Builds a {@link NicConfig}; see {@link NicConfig#builder(int)} for the defaults. */
    public static final class Builder {
        private String id;
        private NicBackend backend = NicBackend.UDP;
        private InetSocketAddress listen;
        private InetSocketAddress remote;
        private MacAddress mac;
        private Inet4Address guestIp = ip("10.0.2.15");
        private Inet4Address gatewayIp = ip("10.0.2.2");
        private int guestPort = -1;
        private int queueSize = DEFAULT_QUEUE_SIZE;
        private int queuePairs = 1;
        private boolean mrgRxbuf = true;
        private int slot;
        private int deviceId;
        private int its;
        private NicInterrupt interrupt = NicInterrupt.MSI;

        private Builder(int slot) {
            this.slot = slot;
            this.id = "net" + slot;
            this.mac = MacAddress.qemuDefault(slot);
            this.deviceId = slot;
        }

        private Builder(NicConfig n) {
            id = n.id;
            backend = n.backend;
            listen = n.listen;
            remote = n.remote;
            mac = n.mac;
            guestIp = n.guestIp;
            gatewayIp = n.gatewayIp;
            guestPort = n.guestPort;
            queueSize = n.queueSize;
            queuePairs = n.queuePairs;
            mrgRxbuf = n.mrgRxbuf;
            slot = n.slot;
            deviceId = n.deviceId;
            its = n.its;
            interrupt = n.interrupt;
        }

        public Builder id(String v) {
            id = v;
            return this;
        }

        /** {@code udp} (the default) or {@code udp-tunnel} (then give {@link #remote}). */
        public Builder backend(NicBackend v) {
            backend = v;
            return this;
        }

        /** Required: the host socket the backend binds (port 0: any free port, then give {@link #guestPort}). */
        public Builder listen(InetSocketAddress v) {
            listen = v;
            return this;
        }

        /** As {@link #listen(InetSocketAddress)} on 127.0.0.1. */
        public Builder listen(int port) {
            return listen(new InetSocketAddress("127.0.0.1", port));
        }

        /** A {@code udp-tunnel} NIC that exchanges Ethernet frames with {@code v}. */
        public Builder tunnel(InetSocketAddress v) {
            backend = NicBackend.UDP_TUNNEL;
            remote = v;
            return this;
        }

        public Builder mac(MacAddress v) {
            mac = v;
            return this;
        }

        public Builder guestIp(Inet4Address v) {
            guestIp = v;
            return this;
        }

        public Builder gatewayIp(Inet4Address v) {
            gatewayIp = v;
            return this;
        }

        /** The guest UDP port datagrams are forwarded to (default: the listen port, when it is not 0). */
        public Builder guestPort(int v) {
            guestPort = v;
            return this;
        }

        /** QueueNumMax of every virtqueue (default 256). */
        public Builder queueSize(int v) {
            queueSize = v;
            return this;
        }

        /** Receive/transmit pairs (default 1; more offers VIRTIO_NET_F_MQ). */
        public Builder queuePairs(int v) {
            queuePairs = v;
            return this;
        }

        /** Whether VIRTIO_NET_F_MRG_RXBUF is offered (default true, as QEMU's virtio-net). */
        public Builder mrgRxbuf(boolean v) {
            mrgRxbuf = v;
            return this;
        }

        public Builder slot(int v) {
            slot = v;
            return this;
        }

        /** The DeviceID its MSIs carry (default: the slot). */
        public Builder deviceId(int v) {
            deviceId = v;
            return this;
        }

        /** Its MSI parent: which ITS (default 0). */
        public Builder its(int v) {
            its = v;
            return this;
        }

        /** MSIs (the default) or the slot's wired SPI; see {@link NicInterrupt}. */
        public Builder interrupt(NicInterrupt v) {
            interrupt = v;
            return this;
        }

        /**
         * The NIC; ranges and relations between NICs are checked with the rest of the machine's configuration.
         *
         * @throws IllegalArgumentException without a listen address, or with a listen port of 0 and no guest port
         */
        public NicConfig build() {
            if (listen == null) {
                throw new IllegalArgumentException("nic " + id + ": a listen address is required");
            }
            int port = guestPort;
            if (port < 0) {
                if (listen.getPort() == 0) {
                    throw new IllegalArgumentException("nic " + id + ": listening on port 0 (any free port), it needs"
                            + " an explicit guest port");
                }
                port = listen.getPort();
            }
            return new NicConfig(id, backend, listen, remote, mac, guestIp, gatewayIp, port, queueSize, queuePairs,
                    mrgRxbuf, slot, deviceId, its, interrupt);
        }
    }

    /** Reads the {@code nics} section. */
    static List<NicConfig> parse(ConfigNode node) {
        List<NicConfig> out = new ArrayList<>();
        List<ConfigNode> items = node.items();
        for (int i = 0; i < items.size(); i++) {
            out.add(parseNic(items.get(i).requireMapping(), i));
        }
        return List.copyOf(out);
    }

    /** Checks the {@code nics} section and its relations with the rest of the configuration. */
    static void validate(List<NicConfig> nics, VmConfig config) {
        validateNics(nics, config);
    }
}
