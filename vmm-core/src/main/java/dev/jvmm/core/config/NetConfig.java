package dev.jvmm.core.config;

/**
 * The net section: the Netty event loop shared by the machine's NICs.
 *
 * @param transport        {@code auto} (NIO, the zero-allocation receive path), {@code epoll} or {@code nio}
 * @param eventLoopThreads threads in the NICs' event loop group
 */
public record NetConfig(Transport transport, int eventLoopThreads) {
    public enum Transport {
        AUTO, EPOLL, NIO;

        public String configName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public static NetConfig defaults() {
        return new NetConfig(Transport.AUTO, 1);
    }
}
