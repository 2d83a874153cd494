package dev.jvmm.net;

import dev.jvmm.core.config.NetConfig;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.net.testing.NetDriver;
import dev.jvmm.net.testing.NetDriver.RxFrame;
import dev.jvmm.net.testing.NetMachine;
import dev.jvmm.net.virtio.VirtioFeatures;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;

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

        @Override
        public void receiveReady() {
        }

        @Override
        public void pause() {
        }

        @Override
        public void resume() {
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aUserBackendReflectsFramesBackToTheGuest(SeededRandom random) {
        try (NetMachine m = NetMachine.create(List.of(NetMachine.udp(0, 32, false)), NetConfig.defaults(),
                VirtioNetDevices.withBackends(nic -> new Reflector()))) {
            m.machine().start();
            NetDriver d = m.driver(0, random);
            d.start(VirtioFeatures.VERSION_1, 32);
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
}
