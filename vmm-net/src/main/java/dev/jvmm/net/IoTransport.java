package dev.jvmm.net;

import dev.jvmm.core.config.NetConfig;
import dev.jvmm.core.machine.MachineException;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;

/**
 * The Netty I/O transports a NIC's event loop can use: Linux native epoll, or Java NIO. Each names the
 * {@link IoHandlerFactory} of Netty 4.2's {@code MultiThreadIoEventLoopGroup} and the datagram channel class that
 * registers with it.
 */
public enum IoTransport {
    /** Linux native epoll ({@code netty-transport-native-epoll}). */
    EPOLL,
    /** Java NIO selectors, everywhere. */
    NIO;

    /** The {@code net.transport} choice: {@code auto} picks epoll when its native library loads, NIO otherwise. */
    public static IoTransport select(NetConfig.Transport choice) {
        switch (choice) {
            case NIO:
                return NIO;
            case EPOLL:
                if (!Epoll.isAvailable()) {
                    throw new MachineException("net.transport epoll is not available on this host: "
                            + Epoll.unavailabilityCause());
                }
                return EPOLL;
            default:
                return Epoll.isAvailable() ? EPOLL : NIO;
        }
    }

    /** The transport whose handler drives {@code loop}, or null (an {@code EmbeddedChannel}'s loop, say). */
    public static IoTransport of(EventLoop loop) {
        if (loop instanceof IoEventLoop) {
            IoEventLoop io = (IoEventLoop) loop;
            if (io.isIoType(NioIoHandler.class)) {
                return NIO;
            }
            if (Epoll.isAvailable() && io.isIoType(EpollIoHandler.class)) {
                return EPOLL;
            }
        }
        return null;
    }

    /** The handler factory of a {@code MultiThreadIoEventLoopGroup} of this transport. */
    public IoHandlerFactory ioHandlerFactory() {
        return this == EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    }

    /** The datagram channel class that registers with this transport's event loops. */
    public Class<? extends DatagramChannel> datagramChannelType() {
        return this == EPOLL ? EpollDatagramChannel.class : NioDatagramChannel.class;
    }

    /** The configuration spelling: {@code epoll} or {@code nio}. */
    public String configName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
