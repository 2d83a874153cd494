package dev.jvmm.bench.traffic;

import dev.jvmm.bench.BenchFailure;
import dev.jvmm.net.NetConfig;
import dev.jvmm.net.FrameBuffers;
import dev.jvmm.net.IoTransport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The receive path's limit on this machine: {@code n} UDP sockets on the NICs' number of Netty event loop threads
 * of the transport the NICs use, with the same socket receive buffer, reading with the same buffer size and datagrams
 * per read as the NICs' backends, and doing nothing with a datagram but count and release it. What it receives from a
 * benchmark's sender in a window is the most the machine's NICs could deliver from that sender: the baseline of
 * {@code vmm bench seed} and {@code vmm bench rx-throughput}.
 */
public final class PlainReceiver implements AutoCloseable {
    /** As the NICs' backends read: a buffer any datagram fits, 16 datagrams per read of the socket. */
    private static final int RECEIVE_BUFFER = FrameBuffers.CAPACITY;
    private static final int MAX_MESSAGES_PER_READ = 16;

    private final MultiThreadIoEventLoopGroup group;
    private final List<Channel> channels = new ArrayList<>();
    private final List<Counter> counters = new ArrayList<>();
    private final IoTransport transport;

    /**
     * Binds {@code n} sockets on 127.0.0.1, any free port each.
     *
     * @param socketBuffer SO_RCVBUF of every socket; 0 for the kernel's default
     * @throws BenchFailure when a socket cannot be bound
     */
    public PlainReceiver(int n, NetConfig.Transport choice, int threads, long socketBuffer) {
        this.transport = IoTransport.select(choice);
        this.group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("plain-receiver", true),
                transport.ioHandlerFactory());
        try {
            for (int i = 0; i < n; i++) {
                Counter c = new Counter();
                ChannelFuture f = new Bootstrap().group(group).channel(transport.nettyDatagramChannelType())
                        .option(ChannelOption.RECVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(RECEIVE_BUFFER)
                                .respectMaybeMoreData(false).maxMessagesPerRead(MAX_MESSAGES_PER_READ))
                        // null: no option, the kernel's default
                        .option(ChannelOption.SO_RCVBUF, socketBuffer > 0 ? (int) socketBuffer : null)
                        .handler(c)
                        .bind(new InetSocketAddress("127.0.0.1", 0)).awaitUninterruptibly();
                if (!f.isSuccess()) {
                    throw new BenchFailure("plain receiver: cannot bind a UDP port on 127.0.0.1: "
                            + f.cause().getMessage());
                }
                channels.add(f.channel());
                counters.add(c);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public IoTransport transport() {
        return transport;
    }

    /** The sockets' addresses, one per simulated NIC. */
    public List<InetSocketAddress> addresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (Channel c : channels) {
            out.add((InetSocketAddress) c.localAddress());
        }
        return out;
    }

    /** The id of the event loop thread that reads socket {@code i} (what an allocation probe watches). */
    public long eventLoopThreadId(int i) throws InterruptedException, ExecutionException {
        return channels.get(i).eventLoop().submit(() -> Thread.currentThread().getId()).get();
    }

    /** Datagrams received so far over every socket. */
    public long received() {
        long t = 0;
        for (Counter c : counters) {
            t += c.count;
        }
        return t;
    }

    @Override
    public void close() {
        for (Channel c : channels) {
            c.close().awaitUninterruptibly(2000);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5000);
    }

    /** Counts and releases; written by the event loop only, read by the benchmark thread. */
    private static final class Counter extends ChannelInboundHandlerAdapter {
        private volatile long count;

        @Override
        @SuppressWarnings("NonAtomicOperationOnVolatileField")
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            count++;
            ReferenceCountUtil.release(msg);
        }
    }
}
