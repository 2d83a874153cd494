package dev.jvmm.net;

import dev.jvmm.core.config.ConfigValues;
import dev.jvmm.core.machine.MachineException;
import dev.jvmm.net.backend.NioUdpChannel;
import io.netty.channel.Channel;
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
 * {@link IoHandlerFactory} of Netty 4.2's {@code MultiThreadIoEventLoopGroup} and the datagram channel class the
 * backends register with it: Netty's own for epoll, {@link NioUdpChannel} for NIO (whose receive path allocates
 * nothing per datagram, where Netty's channels allocate an envelope and, with epoll, a sender address).
 */
public enum IoTransport {
    /** Linux native epoll ({@code netty-transport-native-epoll}). */
    EPOLL,
    /** Java NIO selectors, everywhere. */
    NIO;

    /**
     * The {@code net.transport} choice. {@code auto} is NIO: with {@link NioUdpChannel} it receives as fast as epoll
     * (RxThroughput, docs/BENCHMARKS.md) and is the only transport whose receive path allocates nothing per datagram.
     */
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
                return NIO;
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

    /** The datagram channel class the backends register with this transport's event loops. */
    public Class<? extends Channel> datagramChannelType() {
        return this == EPOLL ? EpollDatagramChannel.class : NioUdpChannel.class;
    }

    /** Netty's own datagram channel class for this transport: what the benchmarks' plain receivers use. */
    public Class<? extends DatagramChannel> nettyDatagramChannelType() {
        return this == EPOLL ? EpollDatagramChannel.class : NioDatagramChannel.class;
    }

    /** The configuration spelling: {@code epoll} or {@code nio}. */
    public String configName() {
        return ConfigValues.configName(this);
    }
}
