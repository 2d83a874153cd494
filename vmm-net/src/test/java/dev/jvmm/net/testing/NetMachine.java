package dev.jvmm.net.testing;

import dev.jvmm.core.config.IrqConfig;
import dev.jvmm.net.NetConfig;
import dev.jvmm.net.NicConfig;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.InjectionMode;
import dev.jvmm.core.machine.DeviceFactory;
import dev.jvmm.core.machine.Machine;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.net.VirtioNetDevice;
import dev.jvmm.net.VirtioNetDevices;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Random;

/**
 * A whole machine for device tests: RAM, the MMIO bus, MSI routing with a {@link CountingInterruptController}, the
 * NICs of the configuration, and one vCPU that has nothing to run (tests drive the device from their own thread, as
 * a vCPU would, through the bus).
 */
public final class NetMachine implements AutoCloseable {
    public static final long RAM = 32L << 20;

    private final Machine machine;
    private volatile CountingInterruptController irq;

    private NetMachine(VmConfig config, DeviceFactory devices) {
        machine = Machine.builder(config)
                .interruptController(ctx -> irq = new CountingInterruptController(ctx))
                .devices(devices)
                .guest(i -> cpu -> { })
                .build();
    }

    public static NetMachine create(List<NicConfig> nics) {
        return create(nics, NetConfig.defaults(), VirtioNetDevices.factory());
    }

    public static NetMachine create(List<NicConfig> nics, NetConfig net, DeviceFactory devices) {
        return create(nics, net, devices, InjectionMode.INLINE);
    }

    /** As {@link #create(List, NetConfig, DeviceFactory)}, with irqfds in {@code mode} (inline or worker). */
    public static NetMachine create(List<NicConfig> nics, NetConfig net, DeviceFactory devices, InjectionMode mode) {
        VmConfig config = VmConfig.builder().vcpus(1).memorySize(RAM)
                .irq(new IrqConfig(mode, 0, 0))
                .with(NetConfig.SECTION, net)
                .with(NicConfig.SECTION, List.copyOf(nics))
                .build();
        return new NetMachine(config, devices);
    }

    /** Builds and starts (binds the sockets). */
    public static NetMachine start(List<NicConfig> nics) {
        NetMachine m = create(nics);
        m.machine.start();
        return m;
    }

    /** Builds and starts {@code nics} on event loops of transport {@code t} (one thread). */
    public static NetMachine start(List<NicConfig> nics, NetConfig.Transport t) {
        NetMachine m = create(nics, new NetConfig(t, 1), VirtioNetDevices.factory());
        m.machine.start();
        return m;
    }

    /** The socket transports this host has: NIO everywhere, and epoll where Netty's native transport loads. */
    public static List<NetConfig.Transport> socketTransports() {
        return io.netty.channel.epoll.Epoll.isAvailable()
                ? List.of(NetConfig.Transport.NIO, NetConfig.Transport.EPOLL) : List.of(NetConfig.Transport.NIO);
    }

    public Machine machine() {
        return machine;
    }

    public CountingInterruptController irq() {
        return irq;
    }

    public VirtioNetDevice nic(int i) {
        return (VirtioNetDevice) machine.devices().get(i);
    }

    /**
     * A driver for NIC {@code nic}. Its rings and buffers live in the NIC's own quarter of RAM, so drivers of
     * different NICs never overlap; a new driver for the same NIC reuses that quarter (after a reset the device no
     * longer touches what the previous driver set up).
     */
    public NetDriver driver(int nic, Random random) {
        if (nic >= PARTITIONS) {
            throw new IllegalArgumentException("tests drive at most " + PARTITIONS + " NICs per machine");
        }
        long part = RAM / PARTITIONS;
        long start = MemoryMap.RAM_BASE + nic * part;
        GuestAllocator a = new GuestAllocator(machine.memory(), random, 4096, start, start + part);
        return new NetDriver(machine.bus(), nic(nic).mmioBase(), machine.memory(), random, a);
    }

    private static final int PARTITIONS = 4;

    @Override
    public void close() {
        List<String> problems = machine.stop();
        if (!problems.isEmpty()) {
            throw new AssertionError("machine did not stop cleanly: " + problems);
        }
    }

    // ------------------------------------------------------------------------------------ configurations

    public static final String GUEST_IP = "10.0.2.15";
    public static final String GATEWAY_IP = "10.0.2.2";
    public static final int GUEST_PORT = 7000;

    /** A {@code udp} NIC in {@code slot} on 127.0.0.1 with an ephemeral port, forwarding to guest port 7000. */
    public static NicConfig udp(int slot, int queueSize, boolean mrg) {
        return NicConfig.builder(slot).listen(0).guestIp(ip(GUEST_IP)).gatewayIp(ip(GATEWAY_IP)).guestPort(GUEST_PORT)
                .queueSize(queueSize).mrgRxbuf(mrg).build();
    }

    /** A {@code udp-tunnel} NIC in {@code slot} on 127.0.0.1 (ephemeral port) sending to {@code remote}. */
    public static NicConfig tunnel(int slot, InetSocketAddress remote, int queueSize, boolean mrg) {
        return udp(slot, queueSize, mrg).toBuilder().tunnel(remote).build();
    }

    public static NicConfig withPairs(NicConfig n, int pairs) {
        return n.toBuilder().queuePairs(pairs).build();
    }

    public static java.net.Inet4Address ip(String s) {
        try {
            return (java.net.Inet4Address) InetAddress.getByName(s);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(s, e);
        }
    }
}
