package dev.jvmm.net;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Netty event loop group a machine's NICs share, with a reference count: each NIC holds a reference and the last
 * one to close shuts the group down and waits for its threads, so that a closed machine leaves no thread behind.
 * A group the embedder supplied ({@link VirtioNetDevices.Builder#eventLoopGroup}) is only borrowed: the NICs use
 * its loops and never shut it down.
 */
final class NetEventLoops {
    private static final long QUIET_PERIOD_MILLIS = 0;
    private static final long SHUTDOWN_TIMEOUT_MILLIS = 2000;
    private static final long TERMINATION_WAIT_MILLIS = 5000;

    private final EventLoopGroup group;
    private final boolean owned;
    private final AtomicInteger references = new AtomicInteger(1);

    private NetEventLoops(EventLoopGroup group, boolean owned) {
        this.group = group;
        this.owned = owned;
    }

    /**
     * A group of {@code config.eventLoopThreads()} threads of the configured transport, made by {@code threads} (or
     * daemon threads named {@code threadPrefix-N}); the caller holds the first reference. Threads start when first
     * used.
     */
    static NetEventLoops create(NetConfig config, ThreadFactory threads, String threadPrefix) {
        IoTransport t = IoTransport.select(config.transport());
        ThreadFactory f = threads != null ? threads : new DefaultThreadFactory(threadPrefix, true);
        return new NetEventLoops(new MultiThreadIoEventLoopGroup(config.eventLoopThreads(), f, t.ioHandlerFactory()),
                true);
    }

    /** The embedder's group, borrowed: never shut down here. */
    static NetEventLoops borrow(EventLoopGroup group) {
        return new NetEventLoops(group, false);
    }

    /** The loop of the next NIC (round robin over the group's threads). */
    EventLoop next() {
        return group.next();
    }

    void retain() {
        references.incrementAndGet();
    }

    /** Drops a reference; the last one shuts an owned group down and waits (bounded) for its threads to end. */
    void release() {
        if (references.decrementAndGet() == 0 && owned) {
            group.shutdownGracefully(QUIET_PERIOD_MILLIS, SHUTDOWN_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                    .awaitUninterruptibly(TERMINATION_WAIT_MILLIS);
        }
    }
}
