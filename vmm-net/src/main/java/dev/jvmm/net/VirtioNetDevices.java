package dev.jvmm.net;

import dev.jvmm.core.config.NicConfig;
import dev.jvmm.core.machine.DeviceFactory;
import dev.jvmm.core.machine.MachineContext;
import dev.jvmm.net.backend.UdpForwardBackend;
import dev.jvmm.net.backend.UdpTunnelBackend;

import java.util.ArrayList;
import java.util.List;

/**
 * Creates a machine's virtio-net NICs, one per {@code nics} entry of its configuration, on one Netty event loop group
 * sized by the {@code net} section:
 *
 * <pre>{@code
 * Machine m = Machine.builder(config)
 *         .interruptController(GicV3::create)
 *         .devices(VirtioNetDevices::create)            // udp / udp-tunnel backends from the configuration
 *         .build();
 * m.start();                                           // binds every NIC's socket
 * VirtioNetDevice nic = m.device(VirtioNetDevice.class);
 * int port = nic.boundPort();                          // the actual port of a port-0 configuration
 * NicStats s = nic.stats();
 * }</pre>
 *
 * Both methods have the {@link DeviceFactory} shape; {@link #withBackends} plugs other backends in.
 */
public final class VirtioNetDevices {

    private VirtioNetDevices() {
    }

    /** The NICs of {@code ctx}'s configuration with the built-in backends. */
    public static List<VirtioNetDevice> create(MachineContext ctx) {
        return create(ctx, VirtioNetDevices::defaultBackend);
    }

    /** A device factory whose NICs use {@code backends}. */
    public static DeviceFactory withBackends(NetBackend.Factory backends) {
        return ctx -> create(ctx, backends);
    }

    /** The NICs of {@code ctx}'s configuration, each with the backend {@code backends} makes for it. */
    public static List<VirtioNetDevice> create(MachineContext ctx, NetBackend.Factory backends) {
        List<NicConfig> nics = ctx.config().nics();
        if (nics.isEmpty()) {
            return List.of();
        }
        NetEventLoops loops = NetEventLoops.create(ctx.config().net(), ctx.name() + "-net");
        List<VirtioNetDevice> devices = new ArrayList<>(nics.size());
        try {
            for (NicConfig nic : nics) {
                NetBackend backend = backends.create(nic);
                loops.retain();
                try {
                    devices.add(VirtioNetDevice.create(ctx, nic, loops.next(), backend, loops::release));
                } catch (RuntimeException e) {
                    loops.release();
                    backend.close();
                    throw e;
                }
            }
        } catch (RuntimeException e) {
            for (VirtioNetDevice d : devices) {
                d.close();
            }
            throw e;
        } finally {
            // The factory's own reference: from now on the NICs keep the group alive.
            loops.release();
        }
        return devices;
    }

    /** The built-in backend for a NIC's {@code backend} setting. */
    public static NetBackend defaultBackend(NicConfig nic) {
        switch (nic.backend()) {
            case UDP_TUNNEL:
                return new UdpTunnelBackend(nic);
            case UDP:
            default:
                return new UdpForwardBackend(nic);
        }
    }
}
