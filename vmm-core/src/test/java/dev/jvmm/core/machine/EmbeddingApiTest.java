package dev.jvmm.core.machine;

import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.event.EventFd;
import dev.jvmm.core.irq.DropReason;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.core.irq.InjectionMode;
import dev.jvmm.core.irq.IrqRouter;
import dev.jvmm.core.irq.MsiTarget;
import dev.jvmm.core.config.IrqConfig;
import dev.jvmm.core.testing.Await;
import dev.jvmm.core.testing.TestInterruptController;
import dev.jvmm.core.vcpu.GuestAccess;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What an embedder of vmm-core relies on (the README's embedding section shows each). */
class EmbeddingApiTest {
    private static final long DOORBELL = 0x0809_0040L;

    @Test
    void signalMsiTakesTheCachedPathThenTheSlowPathInTheCallingThread() {
        TestInterruptController[] ic = new TestInterruptController[1];
        try (Machine m = Machine.builder(VmConfig.builder().vcpus(1).memorySize(1L << 20).build())
                .interruptController(ctx -> ic[0] = new TestInterruptController(DOORBELL, 1, ctx::kick))
                .build()) {
            ic[0].map(7, 3, 8195, 0);
            IrqRouter router = m.irqRouter();
            // The router's injector thread is not even started: both paths run in this thread.
            assertThat(router.signalMsi(DOORBELL, 3, 7)).as("first MSI: a miss, delivered by the slow path").isTrue();
            assertThat(ic[0].slowInjections).hasValue(1);
            assertThat(router.signalMsi(DOORBELL, 3, 7)).as("second MSI: delivered by the cached path").isTrue();
            assertThat(ic[0].cachedInjections).hasValue(1);
            assertThat(router.signalMsi(DOORBELL, 4, 7)).as("an EventID nobody mapped").isFalse();
            assertThat(InjectResult.reason(router.injectMsi(DOORBELL, 4, 7))).isEqualTo(DropReason.EVENT_UNMAPPED);
            assertThat(router.stats().fastPath()).isEqualTo(1);
            assertThat(router.stats().slowPath()).isEqualTo(1);
            assertThat(router.stats().directMsis()).isEqualTo(4);
        }
    }

    @Test
    void aMachineWithoutVcpusIsDrivenByItsEmbedder() {
        VmConfig config = VmConfig.builder().vcpus(0).memorySize(1L << 20).build();
        TestInterruptController[] ic = new TestInterruptController[1];
        try (Machine m = Machine.builder(config)
                .interruptController(ctx -> ic[0] = new TestInterruptController(DOORBELL, 1, v -> { }))
                .devices(ctx -> List.of(new MachineTest.Doorbell(ctx)))
                .build()) {
            m.start();
            assertThat(m.vcpus()).isEmpty();
            ic[0].map(5, 0, 8192, 0);
            // The embedder plays the guest from its own thread: it rings the device, which raises its MSI.
            GuestAccess guest = GuestAccess.of(m.bus(), m.memory());
            guest.mmioWrite32(MemoryMap.virtioSlot(0), 1);
            Await.until(() -> m.irqRouter().stats().injected() == 1, "the device's MSI");
        }
    }

    @Test
    void internalErrorsReachTheFailureListenerAndAreCounted() {
        List<String> heard = new CopyOnWriteArrayList<>();
        VmConfig config = VmConfig.builder().vcpus(1).memorySize(1L << 20)
                .irq(IrqConfig.defaults().withMode(InjectionMode.WORKER)).build();
        EventFd fd = new EventFd("device", false);
        try (Machine m = Machine.builder(config)
                .interruptController(ctx -> new TestInterruptController(DOORBELL, 1, ctx::kick) {
                    @Override
                    public long injectSlow(long address, int data, int deviceId, long signalNanos) {
                        throw new IllegalStateException("a bug in the controller");
                    }
                })
                .failureListener((component, e) -> heard.add(component + ": " + e.getMessage()))
                .build()) {
            IrqRouter r = m.irqRouter();
            MsiTarget target = new MsiTarget(0, DOORBELL, 1);
            r.bind(fd, r.addRoute(target, 0).gsi());
            m.start();
            fd.signal();
            // Failures.report counts before it calls the listener: wait for both.
            Await.until(() -> m.failures().count() == 1 && heard.size() == 1, "the injector's report");
            assertThat(heard).containsExactly("irq injector: a bug in the controller");
            assertThat(r.stats().dropped(DropReason.STOPPED)).isEqualTo(1);
            assertThat(r.injectorThread().isAlive()).as("the injector survives the bug").isTrue();
        }
    }

    @Test
    void closeThrowsWhenAThreadTheMachineStartedDidNotStop() {
        AtomicBoolean release = new AtomicBoolean();
        Machine m = Machine.builder(VmConfig.builder().vcpus(1).memorySize(1L << 20).build())
                .interruptController(ctx -> new TestInterruptController(DOORBELL, 1, ctx::kick))
                .guest(vcpu -> cpu -> {
                    // Guest code that never exits to the VMM: a stop request cannot reach it.
                    while (!release.get()) {
                        Thread.onSpinWait();
                    }
                })
                .stopTimeout(Duration.ofMillis(200))
                .build();
        try {
            m.start();
            assertThatThrownBy(m::close).isInstanceOf(MachineException.class)
                    .hasMessageContaining("did not stop cleanly")
                    .hasMessageContaining("vCPU 0 did not stop");
        } finally {
            release.set(true);
        }
    }
}
