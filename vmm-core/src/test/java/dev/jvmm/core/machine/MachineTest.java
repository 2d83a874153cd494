package dev.jvmm.core.machine;

import dev.jvmm.core.bus.MmioDevice;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.event.EventFd;
import dev.jvmm.core.irq.IrqRouter;
import dev.jvmm.core.testing.Await;
import dev.jvmm.core.testing.TestInterruptController;
import dev.jvmm.core.vcpu.SystemRegister;
import dev.jvmm.core.vcpu.VcpuState;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MachineTest {
    /** Any address: the test controller's MSI doorbell, which devices learn from the machine context. */
    static final long DOORBELL = 0x0809_0040L;

    private static Set<String> liveThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .collect(Collectors.toSet());
    }

    /** A device that raises an MSI (through an irqfd) whenever the guest writes its doorbell register. */
    static final class Doorbell implements MachineDevice, MmioDevice {
        final EventFd irq = new EventFd("doorbell", false);
        final AtomicBoolean started = new AtomicBoolean();
        final AtomicBoolean closed = new AtomicBoolean();

        Doorbell(MachineContext ctx) {
            ctx.bus().register("doorbell", MemoryMap.virtioSlot(0), MemoryMap.VIRTIO_MMIO_STRIDE, this);
            IrqRouter r = ctx.irqRouter();
            r.bind(irq, r.addRoute(ctx.msiTarget(0, 5), 0).gsi());
        }

        @Override
        public String name() {
            return "doorbell";
        }

        @Override
        public void start() {
            started.set(true);
        }

        @Override
        public void close() {
            closed.set(true);
        }

        @Override
        public long read(long offset, int size) {
            return 0;
        }

        @Override
        public void write(long offset, int size, long value, int requesterId) {
            irq.signal();
        }
    }

    @Test
    void aGuestRingsADeviceAndTakesItsMsiThenStopJoinsEverything() throws Exception {
        Set<String> before = liveThreads();
        VmConfig config = VmConfig.builder().vcpus(2).memorySize(16L << 20).build();
        AtomicLong taken = new AtomicLong();
        TestInterruptController[] ic = new TestInterruptController[1];
        Doorbell[] dev = new Doorbell[1];
        Machine m = Machine.builder(config)
                .interruptController(ctx -> ic[0] = new TestInterruptController(DOORBELL, 2, ctx::kick))
                .devices(ctx -> List.of(dev[0] = new Doorbell(ctx)))
                .guest(vcpu -> cpu -> {
                    if (cpu.index() == 1) {
                        // vCPU 1 rings the doorbell 100 times; vCPU 0 takes the interrupts.
                        for (int i = 0; i < 100; i++) {
                            cpu.mmioWrite32(MemoryMap.virtioSlot(0), 1);
                            while (cpu.memory().loadAcquire64(MemoryMap.RAM_BASE) != i + 1) {
                                cpu.checkpoint();
                            }
                        }
                        return;
                    }
                    long n = 0;
                    while (true) {
                        cpu.waitForInterrupt();
                        long intid;
                        while ((intid = cpu.readSystemRegister(SystemRegister.ICC_IAR1_EL1)) != SystemRegister.SPURIOUS_INTID) {
                            cpu.memory().storeRelease64(MemoryMap.RAM_BASE, ++n);
                            taken.incrementAndGet();
                            cpu.writeSystemRegister(SystemRegister.ICC_EOIR1_EL1, intid);
                        }
                    }
                })
                .build();
        ic[0].map(5, 0, 8192, 0);
        m.start();
        assertThat(dev[0].started).isTrue();
        Await.until(() -> taken.get() == 100, "100 interrupts taken by vCPU 0");
        Await.until(() -> m.vcpus().get(1).state() == VcpuState.FINISHED, "vCPU 1 to finish");
        assertThat(m.irqRouter().stats().injected()).isEqualTo(100);

        assertThat(m.pause()).isTrue();
        assertThat(m.state()).isEqualTo(MachineState.PAUSED);
        m.resume();
        assertThat(m.stop()).isEmpty();
        assertThat(m.stop()).as("stop is idempotent").isEmpty();
        assertThat(dev[0].closed).isTrue();
        assertThat(m.memory().isClosed()).isTrue();
        assertThat(m.vcpuFaults()).isEmpty();
        Set<String> leaked = liveThreads();
        leaked.removeAll(before);
        assertThat(leaked.stream().filter(n -> n.startsWith(m.name() + "-"))).as("threads left behind").isEmpty();
    }

    /** A device that sets {@code closed} when closed and throws {@code startFailure} (unless null) from start. */
    private static MachineDevice recordingClose(String name, AtomicBoolean closed, RuntimeException startFailure) {
        return new MachineDevice() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void start() {
                if (startFailure != null) {
                    throw startFailure;
                }
            }

            @Override
            public void close() {
                closed.set(true);
            }
        };
    }

    @Test
    void aDeviceThatCannotStartStopsTheMachineWithItsMessage() {
        VmConfig config = VmConfig.builder().memorySize(1L << 20).build();
        AtomicBoolean closed = new AtomicBoolean();
        Machine m = Machine.builder(config)
                .interruptController(ctx -> new TestInterruptController(0, 1, ctx::kick))
                .devices(ctx -> List.of(recordingClose("nic", closed,
                        new MachineException("nic net0: cannot bind 127.0.0.1:5001: address already in use"))))
                .build();
        assertThatThrownBy(m::start).isInstanceOf(MachineException.class).hasMessageContaining("already in use");
        assertThat(m.state()).isEqualTo(MachineState.STOPPED);
        assertThat(closed).isTrue();
        assertThat(m.memory().isClosed()).isTrue();
    }

    @Test
    void aFailingDeviceFactoryReleasesWhatWasBuilt() {
        VmConfig config = VmConfig.builder().memorySize(1L << 20).build();
        AtomicBoolean firstClosed = new AtomicBoolean();
        assertThatThrownBy(() -> Machine.builder(config)
                .interruptController(ctx -> new TestInterruptController(0, 1, ctx::kick))
                .devices(ctx -> List.of(recordingClose("first", firstClosed, null)))
                .devices(ctx -> {
                    throw new IllegalStateException("second device broken");
                })
                .build()).hasMessage("second device broken");
        assertThat(firstClosed).isTrue();
    }

    @Test
    void aMachineThatNeverStartedStopsCleanly() {
        Machine m = Machine.builder(VmConfig.builder().vcpus(3).memorySize(1L << 20).build())
                .interruptController(ctx -> new TestInterruptController(0, 3, ctx::kick))
                .build();
        assertThat(m.vcpus()).hasSize(3);
        assertThat(m.stop()).isEmpty();
        assertThatThrownBy(m::start).isInstanceOf(IllegalStateException.class);
    }
}
