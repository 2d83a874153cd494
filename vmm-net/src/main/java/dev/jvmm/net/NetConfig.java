package dev.jvmm.net;

import dev.jvmm.core.config.ConfigValues;
import dev.jvmm.core.config.ConfigNode;
import dev.jvmm.core.config.ConfigSection;
import dev.jvmm.core.config.VmConfig;

import java.util.Locale;

/**
 * The net section, owned by vmm-net: the Netty event loop group the machine's NICs share.
 *
 * <pre>
 * net: {transport: auto, event-loop-threads: 1, socket-receive-buffer: 4M}    # 0: the kernel's default
 * </pre>
 *
 * @param transport           {@code auto} (NIO, the zero-allocation receive path), {@code epoll} or {@code nio}
 * @param eventLoopThreads    threads in the NICs' event loop group (when the machine makes the group itself)
 * @param socketReceiveBuffer SO_RCVBUF of every NIC's socket in bytes, or 0 for the kernel's default
 *                            ({@code net.core.rmem_default}, 208 KiB on a stock Linux). The kernel's socket buffer is
 *                            the only queue in front of a guest that is busy or short of buffers: a burst larger than
 *                            it is dropped by the kernel. Linux caps a request at {@code net.core.rmem_max} (also 208
 *                            KiB on a stock kernel) and doubles it for its own overhead ({@code sock_setsockopt});
 *                            what the socket got is {@code VirtioNetDevice.socketReceiveBuffer()}
 */
public record NetConfig(Transport transport, int eventLoopThreads, long socketReceiveBuffer) {
    public static final int MAX_EVENT_LOOP_THREADS = 64;
    /**
     * The default SO_RCVBUF request: 4 MiB, room for about 5,000 small datagrams on loopback (an skb's truesize of
     * some 800 bytes each), 60 ms of the seed's 78,000 datagrams per second, enough to ride out an event loop or vCPU
     * that waits for a core of a small machine. The kernel's default (208 KiB, under 300 such datagrams, 3.5 ms)
     * lost 6-9% of that traffic on an idle 2-core machine. On a stock kernel rmem_max caps it at 208 KiB, doubled.
     */
    public static final long DEFAULT_SOCKET_RECEIVE_BUFFER = 4L << 20;

    public enum Transport {
        AUTO, EPOLL, NIO;

        public String configName() {
            return ConfigValues.configName(this);
        }
    }

    /** The {@code net} section. */
    public static final ConfigSection<NetConfig> SECTION = ConfigSection.of("net", NetConfig::defaults,
            NetConfig::parse, NetConfig::validate);

    public NetConfig {
        if (socketReceiveBuffer < 0 || socketReceiveBuffer > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("socket receive buffer " + socketReceiveBuffer
                    + " bytes is outside 0.." + Integer.MAX_VALUE);
        }
    }

    /** The default socket receive buffer ({@link #DEFAULT_SOCKET_RECEIVE_BUFFER}). */
    public NetConfig(Transport transport, int eventLoopThreads) {
        this(transport, eventLoopThreads, DEFAULT_SOCKET_RECEIVE_BUFFER);
    }

    /** Transport auto, one event loop thread, a socket receive buffer of {@link #DEFAULT_SOCKET_RECEIVE_BUFFER}. */
    public static NetConfig defaults() {
        return new NetConfig(Transport.AUTO, 1, DEFAULT_SOCKET_RECEIVE_BUFFER);
    }

    public NetConfig withSocketReceiveBuffer(long bytes) {
        return new NetConfig(transport, eventLoopThreads, bytes);
    }

    public NetConfig withEventLoopThreads(int n) {
        return new NetConfig(transport, n, socketReceiveBuffer);
    }

    /** Reads the {@code net} section. */
    static NetConfig parse(ConfigNode s) {
        NetConfig d = defaults();
        String transport = s.choice("transport", d.transport().configName(), "auto", "epoll", "nio");
        int threads = s.integer("event-loop-threads", d.eventLoopThreads());
        long rcvbuf = s.size("socket-receive-buffer", d.socketReceiveBuffer());
        if (rcvbuf > Integer.MAX_VALUE) {
            throw s.error("socket-receive-buffer", "must be at most 2G - 1 bytes, got " + rcvbuf);
        }
        return new NetConfig(Transport.valueOf(transport.toUpperCase(Locale.ROOT)), threads, rcvbuf);
    }

    /** Checks the {@code net} section and its relations with the rest of the configuration. */
    static void validate(NetConfig net, VmConfig config) {
        if (net.eventLoopThreads() < 1 || net.eventLoopThreads() > MAX_EVENT_LOOP_THREADS) {
            throw config.source().error("net.event-loop-threads", "must be between 1 and " + MAX_EVENT_LOOP_THREADS
                    + ", got " + net.eventLoopThreads());
        }
    }
}
