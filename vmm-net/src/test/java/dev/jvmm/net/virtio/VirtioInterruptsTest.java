package dev.jvmm.net.virtio;

import dev.jvmm.core.event.EventFd;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import static dev.jvmm.net.virtio.VirtioMmioRegisterDescriptor.VIRTIO_MMIO_INT_CONFIG;
import static dev.jvmm.net.virtio.VirtioMmioRegisterDescriptor.VIRTIO_MMIO_INT_VRING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * InterruptStatus and InterruptACK (virtio 1.x, 4.2.2 and 4.2.3.4) and how each notification reaches its eventfd,
 * in MSI and in wired mode.
 */
@ExtendWith(SeedExtension.class)
class VirtioInterruptsTest {

    @Test
    void theStatusBitIsSetBeforeTheInterruptIsSignalled() {
        EventFd line = new EventFd("spi", false);
        VirtioInterrupts irq = VirtioInterrupts.wired(line, 2);
        List<Integer> seen = new ArrayList<>();
        line.addWakeupCallback(fd -> seen.add(irq.status()));
        irq.signalUsedBuffer(0);
        irq.acknowledge(VIRTIO_MMIO_INT_VRING);
        irq.signalConfigChange();
        irq.acknowledge(VIRTIO_MMIO_INT_CONFIG);
        irq.signalUsedBuffer(1);
        assertThat(seen).as("InterruptStatus as each signal's wake-up saw it (4.2.3.4: set, then notify)")
                .containsExactly(VIRTIO_MMIO_INT_VRING, VIRTIO_MMIO_INT_CONFIG, VIRTIO_MMIO_INT_VRING);
    }

    @Test
    void wiredModeSignalsTheSlotsOneEventfdForEveryNotificationEvenWithTheBitAlreadySet() {
        EventFd line = new EventFd("spi", false);
        VirtioInterrupts irq = VirtioInterrupts.wired(line, 3);
        AtomicLong wakeups = new AtomicLong();
        line.addWakeupCallback(fd -> wakeups.incrementAndGet());
        for (int i = 0; i < 10; i++) {
            irq.signalUsedBuffer(i % 3);
        }
        irq.signalConfigChange();
        assertThat(wakeups.get()).as("an edge per notification, as Firecracker's IrqTrigger writes its irqfd each time")
                .isEqualTo(11);
        assertThat(irq.status()).isEqualTo(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
        assertThat(irq.signalled()).isEqualTo(11);
        assertThat(irq.wired()).isTrue();
        for (int e = 0; e < irq.vectorCount(); e++) {
            assertThat(irq.vector(e)).as("source %d", e).isSameAs(line);
        }
        assertThat(irq.configVector()).isEqualTo(3);
    }

    @Test
    void msiModeSignalsEachSourcesOwnEventfd() {
        EventFd[] v = {new EventFd("q0", false), new EventFd("q1", false), new EventFd("config", false)};
        VirtioInterrupts irq = VirtioInterrupts.msi(v, 2);
        irq.signalUsedBuffer(1);
        irq.signalUsedBuffer(1);
        irq.signalConfigChange();
        assertThat(v[0].peek()).isZero();
        assertThat(v[1].peek()).isEqualTo(2);
        assertThat(v[2].peek()).isEqualTo(1);
        assertThat(irq.wired()).isFalse();
    }

    @Test
    void interruptAckClearsExactlyTheDefinedBitsWritten(SeededRandom random) {
        VirtioInterrupts irq = VirtioInterrupts.wired(new EventFd(), 2);
        irq.signalUsedBuffer(0);
        irq.signalConfigChange();
        irq.acknowledge(VIRTIO_MMIO_INT_VRING);
        assertThat(irq.status()).as("the configuration bit stays until it is acknowledged").isEqualTo(VIRTIO_MMIO_INT_CONFIG);
        irq.acknowledge(0);
        irq.acknowledge(~(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG));
        assertThat(irq.status()).as("bits InterruptStatus does not define clear nothing").isEqualTo(VIRTIO_MMIO_INT_CONFIG);
        irq.acknowledge(VIRTIO_MMIO_INT_CONFIG);
        assertThat(irq.status()).isZero();
        irq.signalUsedBuffer(1);
        irq.reset();
        assertThat(irq.status()).as("a device reset clears InterruptStatus").isZero();
        // Any value the guest writes: only bits 0 and 1 ever change, and only from set to clear.
        for (int i = 0; i < 1000; i++) {
            int before = random.nextInt(4);
            irq.reset();
            if ((before & VIRTIO_MMIO_INT_VRING) != 0) {
                irq.signalUsedBuffer(0);
            }
            if ((before & VIRTIO_MMIO_INT_CONFIG) != 0) {
                irq.signalConfigChange();
            }
            int ack = random.nextInt();
            irq.acknowledge(ack);
            assertThat(irq.status()).as("InterruptStatus %d after InterruptACK 0x%x", before, ack)
                    .isEqualTo(before & ~ack & 3);
        }
    }

    @Test
    void everyNotificationSignalsWhileADriverAcknowledgesConcurrently() throws Exception {
        // Two device threads notify while a "driver" on another thread reads and acknowledges, as a handler on a
        // vCPU does: no notification is folded into another because its bit was already set.
        EventFd line = new EventFd("spi", false);
        VirtioInterrupts irq = VirtioInterrupts.wired(line, 2);
        AtomicLong edges = new AtomicLong();
        line.addWakeupCallback(fd -> edges.incrementAndGet());
        int perThread = 20_000;
        CountDownLatch go = new CountDownLatch(1);
        Thread[] devices = new Thread[2];
        for (int t = 0; t < devices.length; t++) {
            int q = t;
            devices[t] = new Thread(() -> {
                await(go);
                for (int i = 0; i < perThread; i++) {
                    irq.signalUsedBuffer(q);
                }
            });
            devices[t].start();
        }
        Thread driver = new Thread(() -> {
            await(go);
            while (devices[0].isAlive() || devices[1].isAlive()) {
                irq.acknowledge(irq.status());
            }
        });
        driver.start();
        go.countDown();
        for (Thread t : devices) {
            t.join();
        }
        driver.join();
        assertThat(edges.get()).as("one edge per notification").isEqualTo(2L * perThread);
        assertThatThrownBy(() -> VirtioInterrupts.wired(line, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    private static void await(CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
