package dev.jvmm.net;

import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.net.testing.NetDriver;
import dev.jvmm.net.testing.NetDriver.RxFrame;
import dev.jvmm.net.testing.NetMachine;
import dev.jvmm.net.virtio.VirtioFeatures;
import dev.jvmm.core.testing.Await;
import io.netty.buffer.ByteBuf;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** A backend written against the public {@link NetBackend} interface, as its documentation shows. */
@ExtendWith(SeedExtension.class)
class CustomBackendTest {

    /** The example of {@link NetBackend}'s documentation: every transmitted frame comes back to the guest. */
    static final class Reflector implements NetBackend {
        private NetBackend.Guest guest;

        @Override
        public void start(Guest g) {
            guest = g;
        }

        @Override
        public void transmit(ByteBuf frame) {
            try {
                guest.receive(frame, frame.readerIndex(), frame.readableBytes(), 0);
                guest.receiveComplete();
            } finally {
                frame.release();
            }
        }

    }

    @Test
    void aUserBackendReflectsFramesBackToTheGuest(SeededRandom random) {
        try (NetMachine m = NetMachine.create(List.of(NetMachine.udp(0, 32, false)), NetConfig.defaults(),
                VirtioNetDevices.builder().backends(nic -> new Reflector()).build())) {
            m.machine().start();
            NetDriver d = m.driver(0, random);
            d.start(VirtioFeatures.VIRTIO_F_VERSION_1, 32);
            d.postRx(4, 1526, 2);
            byte[] frame = new byte[200];
            random.nextBytes(frame);
            d.transmit(frame, 3);
            List<RxFrame> got = d.awaitFrames(1, Duration.ofSeconds(5));
            assertThat(got).singleElement().extracting(RxFrame::frame).isEqualTo(frame);
            assertThat(m.nic(0).boundPort()).as("no socket").isEqualTo(-1);
            assertThat(m.nic(0).frameBuffersOutstanding()).isZero();
        }
    }

    @Test
    void aBackendThatDropsEverythingIsOneLineAndTheNicStillWorks(SeededRandom random) {
        try (NetMachine m = NetMachine.create(List.of(NetMachine.udp(0, 32, false)), NetConfig.defaults(),
                VirtioNetDevices.builder().backends(nic -> new NetBackend() { }).build())) {
            m.machine().start();
            NetDriver d = m.driver(0, random);
            d.start(VirtioFeatures.VIRTIO_F_VERSION_1, 32);
            byte[] frame = new byte[100];
            d.transmit(frame, 2);
            assertThat(d.awaitTxDone(1, Duration.ofSeconds(5))).as("the transmitted chain comes back").hasSize(1);
            assertThat(m.nic(0).stats().txFrames()).isEqualTo(1);
            assertThat(m.nic(0).frameBuffersOutstanding()).as("the default transmit released the frame").isZero();
        }
    }

    @Test
    void theNicsRunOnTheEmbeddersEventLoopGroupWhichTheMachineDoesNotShutDown(SeededRandom random) throws Exception {
        AtomicInteger made = new AtomicInteger();
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory("embedder-loop", true), NioIoHandler.newFactory());
        try {
            try (NetMachine m = NetMachine.create(List.of(NetMachine.udp(0, 32, false)), NetConfig.defaults(),
                    VirtioNetDevices.builder().backends(nic -> new Reflector()).eventLoopGroup(group).build())) {
                m.machine().start();
                assertThat(group.next().inEventLoop(Thread.currentThread())).isFalse();
                NetDriver d = m.driver(0, random);
                d.start(VirtioFeatures.VIRTIO_F_VERSION_1, 32);
                d.postRx(2, 1526, 1);
                d.transmit(new byte[64], 1);
                assertThat(d.awaitFrames(1, Duration.ofSeconds(5))).hasSize(1);
                assertThat(m.nic(0).eventLoop().parent()).as("the NIC's loop").isSameAs(group);
            }
            assertThat(group.isShuttingDown()).as("a borrowed group outlives the machine").isFalse();
            // And a thread factory of the embedder's names the machine's own group's threads.
            try (NetMachine m = NetMachine.create(List.of(NetMachine.udp(0, 32, false)), NetConfig.defaults(),
                    VirtioNetDevices.builder().threadFactory(r -> {
                        made.incrementAndGet();
                        Thread t = new Thread(r, "embedder-made");
                        t.setDaemon(true);
                        return t;
                    }).build())) {
                m.machine().start();
                Await.until(() -> made.get() == 1, "the machine's event loop thread, made by the embedder's factory");
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5000);
        }
    }

    @Test
    void aBackendThatThrowsIsAnInternalErrorReportedApartFromSocketErrors(SeededRandom random) {
        try (NetMachine m = NetMachine.create(List.of(NetMachine.udp(0, 32, false)), NetConfig.defaults(),
                VirtioNetDevices.builder().backends(nic -> new NetBackend() {
                    @Override
                    public void transmit(ByteBuf frame) {
                        frame.release();
                        throw new IllegalStateException("a bug in the backend");
                    }
                }).build())) {
            m.machine().start();
            NetDriver d = m.driver(0, random);
            d.start(VirtioFeatures.VIRTIO_F_VERSION_1, 32);
            d.transmit(new byte[64], 1);
            assertThat(d.awaitTxDone(1, Duration.ofSeconds(5))).hasSize(1);
            Await.until(() -> m.machine().failures().count() == 1, "the backend's failure, reported to the machine");
            NicStats s = m.nic(0).stats();
            assertThat(s.internalErrors()).isEqualTo(1);
            assertThat(s.socketErrors()).as("a bug is not a socket error").isZero();
        }
    }
}
