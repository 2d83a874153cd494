package dev.jvmm.launcher;

import dev.jvmm.launcher.trace.TraceRecorder;
import dev.jvmm.net.ForwardingNetBackend;
import dev.jvmm.net.NetBackend;
import dev.jvmm.net.RxStatus;
import io.netty.buffer.ByteBuf;

/**
 * A backend decorator that records every datagram its backend hands to the guest into the trace journal. For the
 * {@code udp} backend that is the datagram's payload (the part after the headers it synthesizes); for
 * {@code udp-tunnel}, the whole Ethernet frame the datagram carried. A frame the guest had no room for
 * ({@link RxStatus#RETRY_LATER}) is recorded when it is finally taken, so nothing is recorded twice.
 */
final class TracingBackend extends ForwardingNetBackend {
    private final TraceRecorder recorder;
    private final int nic;

    TracingBackend(NetBackend inner, TraceRecorder recorder, int nic) {
        super(inner);
        this.recorder = recorder;
        this.nic = nic;
    }

    @Override
    protected Guest wrap(Guest guest) {
        return new ForwardingGuest(guest) {
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
        };
    }
}
