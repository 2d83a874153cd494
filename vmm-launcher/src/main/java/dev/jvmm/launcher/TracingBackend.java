package dev.jvmm.launcher;

import dev.jvmm.core.config.NicConfig;
import dev.jvmm.launcher.trace.TraceRecorder;
import dev.jvmm.net.NetBackend;
import dev.jvmm.net.NicCounters;
import dev.jvmm.net.RxStatus;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;

import java.net.InetSocketAddress;

/**
 * A backend decorator that records every datagram its backend hands to the guest into the trace journal. For the
 * {@code udp} backend that is the datagram's payload (the part after the headers it synthesizes); for
 * {@code udp-tunnel}, the whole Ethernet frame the datagram carried. A frame the guest had no room for
 * ({@link RxStatus#RETRY_LATER}) is recorded when it is finally taken, so nothing is recorded twice.
 */
final class TracingBackend implements NetBackend {
    private final NetBackend inner;
    private final TraceRecorder recorder;
    private final int nic;

    TracingBackend(NetBackend inner, TraceRecorder recorder, int nic) {
        this.inner = inner;
        this.recorder = recorder;
        this.nic = nic;
    }

    @Override
    public void start(Guest guest) {
        inner.start(new RecordingGuest(guest));
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

    private final class RecordingGuest implements Guest {
        private final Guest guest;

        RecordingGuest(Guest guest) {
            this.guest = guest;
        }

        @Override
        public NicConfig config() {
            return guest.config();
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
            long t = System.nanoTime();
            RxStatus s = guest.receive(frame, index, length, flowHash);
            if (s != RxStatus.RETRY_LATER) {
                recorder.datagram(nic, t, frame, index, length);
            }
            return s;
        }

        @Override
        public RxStatus receive(byte[] head, int headOffset, int headLength, ByteBuf body, int bodyIndex,
                                int bodyLength, int flowHash) {
            long t = System.nanoTime();
            RxStatus s = guest.receive(head, headOffset, headLength, body, bodyIndex, bodyLength, flowHash);
            if (s != RxStatus.RETRY_LATER) {
                recorder.datagram(nic, t, body, bodyIndex, bodyLength);
            }
            return s;
        }

        @Override
        public void receiveComplete() {
            guest.receiveComplete();
        }

        @Override
        public void transmitReady() {
            guest.transmitReady();
        }
    }
}
