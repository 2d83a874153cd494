package dev.jvmm.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;

import java.net.InetSocketAddress;

/**
 * A {@link NetBackend} that passes every call to another one: the base of a decorator that watches or changes a
 * few calls and lets the rest through (a tracer, a latency probe, a fault injector). Override what you need; to see
 * what the backend hands the guest, override {@link #wrap(Guest)} and return a {@link ForwardingGuest}.
 *
 * <pre>{@code
 * final class Counting extends ForwardingNetBackend {
 *     final LongAdder frames = new LongAdder();
 *     Counting(NetBackend inner) { super(inner); }
 *     protected Guest wrap(Guest g) {
 *         return new ForwardingGuest(g) {
 *             public RxStatus receive(ByteBuf f, int i, int len, int hash) {
 *                 frames.increment();
 *                 return super.receive(f, i, len, hash);
 *             }
 *         };
 *     }
 * }
 * }</pre>
 */
public abstract class ForwardingNetBackend implements NetBackend {
    protected final NetBackend inner;

    protected ForwardingNetBackend(NetBackend inner) {
        this.inner = inner;
    }

    /** The guest the inner backend sees; by default the device's own. */
    protected Guest wrap(Guest guest) {
        return guest;
    }

    @Override
    public void start(Guest guest) {
        inner.start(wrap(guest));
    }

    @Override
    public void transmit(ByteBuf frame) {
        inner.transmit(frame);
    }

    @Override
    public void transmitComplete() {
        inner.transmitComplete();
    }

    @Override
    public boolean isWritable() {
        return inner.isWritable();
    }

    @Override
    public void receiveReady() {
        inner.receiveReady();
    }

    @Override
    public void deviceReset() {
        inner.deviceReset();
    }

    @Override
    public int mtu() {
        return inner.mtu();
    }

    @Override
    public InetSocketAddress localAddress() {
        return inner.localAddress();
    }

    @Override
    public int socketReceiveBuffer() {
        return inner.socketReceiveBuffer();
    }

    @Override
    public void pause() {
        inner.pause();
    }

    @Override
    public void resume() {
        inner.resume();
    }

    @Override
    public void close() {
        inner.close();
    }

    /** A {@link NetBackend.Guest} that passes every call to another one. */
    public abstract static class ForwardingGuest implements Guest {
        protected final Guest guest;

        protected ForwardingGuest(Guest guest) {
            this.guest = guest;
        }

        @Override
        public NicConfig config() {
            return guest.config();
        }

        @Override
        public NetConfig net() {
            return guest.net();
        }

        @Override
        public EventLoop eventLoop() {
            return guest.eventLoop();
        }

        @Override
        public NicCounters counters() {
            return guest.counters();
        }

        @Override
        public ByteBuf frameBuffer() {
            return guest.frameBuffer();
        }

        @Override
        public int receiveRoom() {
            return guest.receiveRoom();
        }

        @Override
        public RxStatus receive(ByteBuf frame, int index, int length, int flowHash) {
            return guest.receive(frame, index, length, flowHash);
        }

        @Override
        public RxStatus receive(byte[] head, int headOffset, int headLength, ByteBuf body, int bodyIndex,
                                int bodyLength, int flowHash) {
            return guest.receive(head, headOffset, headLength, body, bodyIndex, bodyLength, flowHash);
        }

        @Override
        public void receiveComplete() {
            guest.receiveComplete();
        }

        @Override
        public void transmitReady() {
            guest.transmitReady();
        }

        @Override
        public void internalError(String what, Throwable error) {
            guest.internalError(what, error);
        }
    }
}
