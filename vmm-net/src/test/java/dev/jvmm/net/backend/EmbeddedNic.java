package dev.jvmm.net.backend;

import dev.jvmm.net.NetConfig;
import dev.jvmm.net.NicConfig;
import dev.jvmm.net.NetBackend;
import dev.jvmm.net.NicStats;
import dev.jvmm.net.VirtioNetDevice;
import dev.jvmm.net.testing.NetDriver;
import dev.jvmm.net.testing.NetMachine;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Random;

/**
 * A NIC whose backend runs on an {@link EmbeddedChannel} instead of a socket: everything happens on the test thread,
 * deterministically. Datagrams go in with {@code channel().writeInbound}, come out with {@code readOutbound}; device
 * work queued on the loop (activation, doorbells) runs at {@link #run()}.
 */
final class EmbeddedNic implements AutoCloseable {
    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final NetMachine machine;
    private final DatagramBackend backend;

    EmbeddedNic(NicConfig nic, DatagramBackend backend) {
        this.backend = backend;
        machine = NetMachine.create(List.of(nic), NetConfig.defaults(),
                ctx -> List.of(VirtioNetDevice.create(ctx, nic, channel.eventLoop(), new Embedded(backend, channel))));
        machine.machine().start();
    }

    EmbeddedChannel channel() {
        return channel;
    }

    DatagramBackend backend() {
        return backend;
    }

    NetMachine machine() {
        return machine;
    }

    VirtioNetDevice nic() {
        return machine.nic(0);
    }

    NetDriver driver(Random random) {
        return machine.driver(0, random);
    }

    NicStats stats() {
        return nic().stats();
    }

    /** Runs the tasks the device queued on the loop. */
    void run() {
        channel.runPendingTasks();
    }

    /** Feeds one datagram from {@code sender}; the payload buffer is handed over. */
    void datagram(ByteBuf payload, InetSocketAddress sender) {
        channel.writeInbound(new io.netty.channel.socket.DatagramPacket(payload,
                new InetSocketAddress("127.0.0.1", 5001), sender));
        run();
    }

    /** Closes the backend alone (its channel with it), as a machine's stop does, leaving the device running. */
    void closeBackend() {
        backend.close();
        run();
    }

    @Override
    public void close() {
        machine.close();
        channel.finishAndReleaseAll();
    }

    /** The backend, started on the embedded channel rather than a bound socket. */
    private static final class Embedded implements NetBackend {
        private final DatagramBackend backend;
        private final EmbeddedChannel channel;

        Embedded(DatagramBackend backend, EmbeddedChannel channel) {
            this.backend = backend;
            this.channel = channel;
        }

        @Override
        public void start(Guest guest) {
            backend.startOn(guest, channel);
        }

        @Override
        public void transmit(ByteBuf frame) {
            backend.transmit(frame);
        }

        @Override
        public void transmitComplete() {
            backend.transmitComplete();
        }

        @Override
        public boolean isWritable() {
            return backend.isWritable();
        }

        @Override
        public void receiveReady() {
            backend.receiveReady();
        }

        @Override
        public void deviceReset() {
            backend.deviceReset();
        }

        @Override
        public int mtu() {
            return backend.mtu();
        }

        @Override
        public void pause() {
            backend.pause();
        }

        @Override
        public void resume() {
            backend.resume();
        }

        @Override
        public void close() {
            backend.close();
        }
    }
}
