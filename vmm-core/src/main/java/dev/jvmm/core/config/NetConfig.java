package dev.jvmm.core.config;

/**
 * The net section: the Netty event loop shared by the machine's NICs.
 *
 * @param transport           {@code auto} (NIO, the zero-allocation receive path), {@code epoll} or {@code nio}
 * @param eventLoopThreads    threads in the NICs' event loop group
 * @param socketReceiveBuffer SO_RCVBUF of every NIC's socket in bytes, or 0 for the kernel's default
 *                            ({@code net.core.rmem_default}; Linux caps a request at {@code net.core.rmem_max}). The
 *                            kernel's socket buffer is the only queue in front of a guest that is busy or short of
 *                            buffers: a burst larger than it is dropped by the kernel
 */
public record NetConfig(Transport transport, int eventLoopThreads, long socketReceiveBuffer) {
    public enum Transport {
        AUTO, EPOLL, NIO;

        public String configName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public NetConfig {
        if (socketReceiveBuffer < 0 || socketReceiveBuffer > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("socket receive buffer " + socketReceiveBuffer
                    + " bytes is outside 0.." + Integer.MAX_VALUE);
        }
    }

    /** The kernel's default socket receive buffer. */
    public NetConfig(Transport transport, int eventLoopThreads) {
        this(transport, eventLoopThreads, 0);
    }

    public static NetConfig defaults() {
        return new NetConfig(Transport.AUTO, 1, 0);
    }

    public NetConfig withSocketReceiveBuffer(long bytes) {
        return new NetConfig(transport, eventLoopThreads, bytes);
    }
}
