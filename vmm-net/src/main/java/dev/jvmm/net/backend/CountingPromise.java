package dev.jvmm.net.backend;

import dev.jvmm.net.NicCounter;
import dev.jvmm.net.NicCounters;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelPromise;
import io.netty.util.concurrent.AbstractFuture;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.GenericFutureListener;

import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeUnit;

/**
 * The promise every datagram a backend writes carries: Netty completes it once per datagram, when the datagram left
 * the socket ({@code ChannelOutboundBuffer.remove()}: the kernel took it) or failed ({@code remove(cause)}: sendto
 * failed; or the channel closed with it queued), and this promise counts that outcome in the NIC's counters. So
 * {@link NicCounter#TX_DATAGRAMS} counts what left the socket, not what was queued, without a promise or a
 * listener allocated per datagram.
 *
 * <pre>
 *  backend.write(datagram, this) ─▶ outbound buffer ─▶ flush ─▶ sendto / sendmmsg ─┬─ sent:   trySuccess() ─▶ TX_DATAGRAMS
 *                                                                                   ├─ error:  tryFailure()  ─▶ TX_DROPPED_SOCKET_ERROR
 *                                                                                   └─ closed: tryFailure()  ─▶ TX_DROPPED_CLOSED
 * </pre>
 *
 * Like Netty's {@code VoidChannelPromise} it is never done (so it can be passed to every write), takes no listeners
 * and cannot be waited for; unlike it, it keeps what it is told. Its methods run on the channel's event loop, where
 * Netty completes write promises, so the loop-owned counters need no atomics.
 */
final class CountingPromise extends AbstractFuture<Void> implements ChannelPromise {
    private final Channel channel;
    private final NicCounters counters;

    CountingPromise(Channel channel, NicCounters counters) {
        this.channel = channel;
        this.counters = counters;
    }

    /** One datagram left the socket. */
    @Override
    public boolean trySuccess() {
        counters.increment(NicCounter.TX_DATAGRAMS);
        return true;
    }

    @Override
    public boolean trySuccess(Void result) {
        return trySuccess();
    }

    @Override
    public ChannelPromise setSuccess() {
        trySuccess();
        return this;
    }

    @Override
    public ChannelPromise setSuccess(Void result) {
        return setSuccess();
    }

    /** One datagram did not leave: the channel was closed, or the socket refused it. */
    @Override
    public boolean tryFailure(Throwable cause) {
        if (cause instanceof ClosedChannelException) {
            counters.increment(NicCounter.TX_DROPPED_CLOSED);
        } else {
            counters.increment(NicCounter.TX_DROPPED_SOCKET_ERROR);
            counters.increment(NicCounter.SOCKET_ERRORS);
        }
        return true;
    }

    @Override
    public ChannelPromise setFailure(Throwable cause) {
        tryFailure(cause);
        return this;
    }

    @Override
    public Channel channel() {
        return channel;
    }

    @Override
    public boolean isVoid() {
        return true;
    }

    /** A promise that takes listeners and reports its outcome here too (no write path of ours asks for one). */
    @Override
    public ChannelPromise unvoid() {
        ChannelPromise p = new DefaultChannelPromise(channel);
        p.addListener(f -> {
            if (f.isSuccess()) {
                trySuccess();
            } else {
                tryFailure(f.cause());
            }
        });
        return p;
    }

    @Override
    public boolean setUncancellable() {
        return true;
    }

    @Override
    public boolean isDone() {
        return false;
    }

    @Override
    public boolean isSuccess() {
        return false;
    }

    @Override
    public boolean isCancellable() {
        return false;
    }

    @Override
    public boolean isCancelled() {
        return false;
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        return false;
    }

    @Override
    public Throwable cause() {
        return null;
    }

    @Override
    public Void getNow() {
        return null;
    }

    // ---------------------------------------------------------------------- listeners and waits: not supported

    private static IllegalStateException unsupported() {
        return new IllegalStateException("a datagram write's counting promise takes no listeners and is never done");
    }

    @Override
    public ChannelPromise addListener(GenericFutureListener<? extends Future<? super Void>> listener) {
        throw unsupported();
    }

    @Override
    @SafeVarargs
    @SuppressWarnings("varargs")
    public final ChannelPromise addListeners(GenericFutureListener<? extends Future<? super Void>>... listeners) {
        throw unsupported();
    }

    @Override
    public ChannelPromise removeListener(GenericFutureListener<? extends Future<? super Void>> listener) {
        return this;
    }

    @Override
    @SafeVarargs
    @SuppressWarnings("varargs")
    public final ChannelPromise removeListeners(GenericFutureListener<? extends Future<? super Void>>... listeners) {
        return this;
    }

    @Override
    public ChannelPromise sync() {
        throw unsupported();
    }

    @Override
    public ChannelPromise syncUninterruptibly() {
        throw unsupported();
    }

    @Override
    public ChannelPromise await() {
        throw unsupported();
    }

    @Override
    public ChannelPromise awaitUninterruptibly() {
        throw unsupported();
    }

    @Override
    public boolean await(long timeout, TimeUnit unit) {
        throw unsupported();
    }

    @Override
    public boolean await(long timeoutMillis) {
        throw unsupported();
    }

    @Override
    public boolean awaitUninterruptibly(long timeout, TimeUnit unit) {
        throw unsupported();
    }

    @Override
    public boolean awaitUninterruptibly(long timeoutMillis) {
        throw unsupported();
    }
}
