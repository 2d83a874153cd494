package dev.jvmm.net;

import dev.jvmm.core.config.NetConfig;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Netty event loop group a machine's NICs share ({@code net.event-loop-threads} threads, epoll or NIO), with a
 * reference count: each NIC holds a reference and the last one to close shuts the group down and waits for its
 * threads, so that a closed machine leaves no thread behind.
 */
final class NetEventLoops {
    private static final long QUIET_PERIOD_MILLIS = 0;
    private static final long SHUTDOWN_TIMEOUT_MILLIS = 2000;
    private static final long TERMINATION_WAIT_MILLIS = 5000;

    private final MultiThreadIoEventLoopGroup group;
    private final IoTransport transport;
    private final AtomicInteger references = new AtomicInteger(1);

    private NetEventLoops(MultiThreadIoEventLoopGroup group, IoTransport transport) {
        this.group = group;
        this.transport = transport;
    }

    /** A group for {@code config}; the caller holds the first reference. Threads start when first used. */
    static NetEventLoops create(NetConfig config, String threadPrefix) {
        IoTransport t = IoTransport.select(config.transport());
        DefaultThreadFactory threads = new DefaultThreadFactory(threadPrefix, true);
        return new NetEventLoops(new MultiThreadIoEventLoopGroup(config.eventLoopThreads(), threads,
                t.ioHandlerFactory()), t);
    }

    IoTransport transport() {
        return transport;
    }

    /** The loop of the next NIC (round robin over the group's threads). */
    EventLoop next() {
        return group.next();
    }

    void retain() {
        references.incrementAndGet();
    }

    /** Drops a reference; the last one shuts the group down and waits (bounded) for its threads to end. */
    void release() {
        if (references.decrementAndGet() == 0) {
            group.shutdownGracefully(QUIET_PERIOD_MILLIS, SHUTDOWN_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                    .awaitUninterruptibly(TERMINATION_WAIT_MILLIS);
        }
    }
}
