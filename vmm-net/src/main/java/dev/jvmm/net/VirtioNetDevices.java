package dev.jvmm.net;

import dev.jvmm.core.config.ConfigException;
import dev.jvmm.core.machine.DeviceFactory;
import dev.jvmm.core.machine.MachineContext;
import dev.jvmm.net.backend.UdpForwardBackend;
import dev.jvmm.net.backend.UdpTunnelBackend;
import io.netty.channel.EventLoopGroup;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;

/**
 * Creates a machine's virtio-net NICs, one per item of its {@code nics} section ({@link NicConfig#SECTION}), on one
 * Netty event loop group sized by its {@code net} section ({@link NetConfig#SECTION}):
 *
 * <pre>{@code
 * Machine m = Machine.builder(config)
 *         .interruptController(GicV3::create)
 *         .devices(VirtioNetDevices.factory())          // udp / udp-tunnel backends from the configuration
 *         .build();
 * m.start();                                           // binds every NIC's socket
 * VirtioNetDevice nic = m.device(VirtioNetDevice.class);
 * int port = nic.boundPort();                          // the actual port of a port-0 configuration
 * NicStats s = nic.stats();
 * }</pre>
 *
 * {@link #builder()} plugs in other backends, and the embedder's own event loop group or thread factory:
 * <pre>{@code
 * .devices(VirtioNetDevices.builder()
 *         .backends(nic -> new MyBackend())              // instead of udp / udp-tunnel
 *         .eventLoopGroup(myGroup)                       // borrowed: never shut down by the machine
 *         .build())
 * }</pre>
 */
public final class VirtioNetDevices {

    private VirtioNetDevices() {
    }

    /** The NICs of the configuration with the built-in backends, on a group the machine owns. */
    public static DeviceFactory factory() {
        return builder().build();
    }

    /** A device factory with the choices of the embedder. */
    public static Builder builder() {
        return new Builder();
    }

    /** The NICs of {@code ctx}'s configuration with the built-in backends (a {@link DeviceFactory}). */
    public static List<VirtioNetDevice> create(MachineContext ctx) {
        return builder().create(ctx);
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

    /** The choices of a {@link DeviceFactory} of NICs. */
    public static final class Builder {
        private NetBackend.Factory backends = VirtioNetDevices::defaultBackend;
        private EventLoopGroup group;
        private ThreadFactory threads;

        private Builder() {
        }

        /** Makes each NIC's backend (default: {@link #defaultBackend}, udp or udp-tunnel as configured). */
        public Builder backends(NetBackend.Factory f) {
            backends = Objects.requireNonNull(f);
            return this;
        }

        /**
         * Runs the NICs on the embedder's event loop group (an epoll or NIO {@code MultiThreadIoEventLoopGroup}),
         * which the machine borrows and never shuts down; {@code net.transport} and {@code net.event-loop-threads}
         * then do not apply.
         */
        public Builder eventLoopGroup(EventLoopGroup g) {
            group = g;
            return this;
        }

        /** The group the machine makes gets its threads from {@code f} (default: daemon threads named vmN-net-N). */
        public Builder threadFactory(ThreadFactory f) {
            threads = f;
            return this;
        }

        public DeviceFactory build() {
            Builder b = copy();
            return b::create;
        }

        private Builder copy() {
            Builder b = new Builder();
            b.backends = backends;
            b.group = group;
            b.threads = threads;
            return b;
        }

        /**
         * The NICs of {@code ctx}'s configuration, each with the backend the factory makes for it: what the
         * {@link DeviceFactory} of {@link #build()} does, for a caller that wants the NICs' own type.
         */
        public List<VirtioNetDevice> create(MachineContext ctx) {
            List<NicConfig> nics = ctx.config().get(NicConfig.SECTION);
            if (nics.isEmpty()) {
                return List.of();
            }
            NetConfig net = ctx.config().get(NetConfig.SECTION);
            NetEventLoops loops = group != null ? NetEventLoops.borrow(group)
                    : NetEventLoops.create(net, threads, ctx.name() + "-net");
            List<VirtioNetDevice> devices = new ArrayList<>(nics.size());
            try {
                for (int i = 0; i < nics.size(); i++) {
                    NicConfig nic = nics.get(i);
                    NetBackend backend = backends.create(nic);
                    loops.retain();
                    try {
                        devices.add(VirtioNetDevice.create(ctx, nic, net, loops.next(), backend, loops::release,
                                "nics[" + i + "]"));
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
    }

    /** For messages: the configuration error of NIC {@code key} ({@code nics[1].its}) at its line. */
    static ConfigException configError(MachineContext ctx, String key, String problem) {
        return ctx.config().source().error(key, problem);
    }
}
