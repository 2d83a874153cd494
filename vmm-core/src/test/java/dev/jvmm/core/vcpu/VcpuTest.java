package dev.jvmm.core.vcpu;

import dev.jvmm.core.testing.Await;
import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.core.bus.MmioDevice;
import dev.jvmm.core.bus.MmioFault;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.testing.TestInterruptController;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class VcpuTest {
    private static final long DOORBELL = 0x1000;
    private final GuestMemory memory = GuestMemory.create(0x4000_0000L, 1 << 16);
    private final MmioBus bus = new MmioBus();
    private final AtomicReference<Vcpu> vcpuRef = new AtomicReference<>();
    private final TestInterruptController ic = new TestInterruptController(DOORBELL, 1, i -> vcpuRef.get().kick());

    @AfterEach
    void close() {
        Vcpu v = vcpuRef.get();
        if (v != null) {
            v.requestStop();
            v.join(Duration.ofSeconds(5));
        }
        memory.close();
    }


    /** Guest code: take every interrupt with IAR1/EOIR1, sleeping in WFI in between. */
    private static GuestProgram interruptLoop(AtomicLong taken) {
        return cpu -> {
            while (true) {
                cpu.waitForInterrupt();
                long intid;
                while ((intid = cpu.readSystemRegister(SystemRegister.ICC_IAR1_EL1)) != SystemRegister.SPURIOUS_INTID) {
                    taken.incrementAndGet();
                    cpu.writeSystemRegister(SystemRegister.ICC_EOIR1_EL1, intid);
                }
            }
        };
    }

    private Vcpu start(long haltPollNanos, GuestProgram p) {
        Vcpu v = new Vcpu(0, 1, memory, bus, ic, haltPollNanos, p, "test");
        vcpuRef.set(v);
        v.start();
        return v;
    }

    @Test
    void aHaltedVcpuWakesWhenAnInterruptBecomesPending() throws Exception {
        AtomicLong taken = new AtomicLong();
        Vcpu v = start(0, interruptLoop(taken));
        ic.map(1, 0, 8192, 0);
        Await.until(() -> v.state() == VcpuState.HALTED, "the vCPU to sleep in WFI");
        for (int i = 1; i <= 50; i++) {
            ic.injectSlow(DOORBELL, 0, 1, System.nanoTime());
            long want = i;
            Await.until(() -> taken.get() == want, "interrupt " + i);
        }
        assertThat(v.stats().halts()).isPositive();
        assertThat(v.stats().sysregExits()).isGreaterThanOrEqualTo(100);
    }

    /** Spinning or yielding, a poll sees the interrupt without parking (yielding changes who else runs, not that). */
    @ParameterizedTest(name = "yielding {0}")
    @ValueSource(booleans = {false, true})
    void haltPollingCatchesAWakeupWithoutSleeping(boolean yielding) throws Exception {
        AtomicLong taken = new AtomicLong();
        // A poll window far longer than the test: every wake-up lands inside it.
        Vcpu v = new Vcpu(0, 1, memory, bus, ic, new HaltPolling(Duration.ofSeconds(30).toNanos(), false, yielding),
                interruptLoop(taken), "test");
        vcpuRef.set(v);
        v.start();
        ic.map(1, 0, 8192, 0);
        for (int i = 1; i <= 5; i++) {
            long want = i;
            Await.until(() -> v.stats().wfiExits() >= want, "WFI " + want);
            ic.injectSlow(DOORBELL, 0, 1, System.nanoTime());
            Await.until(() -> taken.get() == want, "interrupt " + want);
        }
        Await.until(() -> v.stats().haltPollSuccesses() + v.stats().wfiImmediate() >= 5, "the wake-ups to be counted");
        assertThat(v.stats().halts()).as("no WFI slept").isZero();
        assertThat(v.stats().haltPollSuccesses()).isPositive();
    }

    @Test
    void anAdaptiveWindowGrowsWithFrequentWakeupsAndShrinksAfterALongSleep() throws Exception {
        AtomicLong taken = new AtomicLong();
        long max = 200_000_000L;
        Vcpu v = new Vcpu(0, 1, memory, bus, ic, new HaltPolling(max, true, false), interruptLoop(taken), "test");
        vcpuRef.set(v);
        v.start();
        ic.map(1, 0, 8192, 0);
        assertThat(v.haltPollWindowNanos()).as("an adaptive window starts closed").isZero();
        for (int i = 1; i <= 20; i++) {
            long want = i;
            Await.until(() -> v.state() == VcpuState.HALTED || v.stats().wfiExits() > want, "WFI " + i);
            Thread.sleep(1);
            ic.injectSlow(DOORBELL, 0, 1, System.nanoTime());
            Await.until(() -> taken.get() == want, "interrupt " + want);
        }
        assertThat(v.haltPollWindowNanos()).as("short sleeps within the maximum open the window")
                .isGreaterThanOrEqualTo(Vcpu.GROW_START_NANOS);
        // Idle for longer than the maximum (200 ms), then one wake-up: polling would have been wasted, the window closes.
        // The sleep is the scenario itself (an idle period), not a wait for a condition.
        Await.until(() -> v.state() == VcpuState.HALTED, "the vCPU to sleep");
        Thread.sleep(300);
        ic.injectSlow(DOORBELL, 0, 1, System.nanoTime());
        Await.until(() -> taken.get() == 21, "the late interrupt");
        Await.until(() -> v.haltPollWindowNanos() == 0, "the window to close after a sleep longer than the maximum");
    }

    @Test
    void pauseParksAtTheNextExitAndResumeContinues() throws Exception {
        AtomicLong loops = new AtomicLong();
        Vcpu v = start(0, cpu -> {
            while (true) {
                cpu.checkpoint();
                loops.incrementAndGet();
            }
        });
        Await.until(() -> loops.get() > 1000, "the guest to run");
        v.requestPause();
        assertThat(v.awaitPaused(Duration.ofSeconds(5))).isTrue();
        assertThat(v.state()).isEqualTo(VcpuState.PAUSED);
        long frozen = loops.get();
        Thread.sleep(50);
        assertThat(loops.get()).as("no guest progress while paused").isEqualTo(frozen);
        v.resume();
        Await.until(() -> loops.get() > frozen + 1000, "progress after resume");
    }

    @Test
    void stopUnwindsTheGuestFromWfiAndTheThreadEnds() throws Exception {
        Vcpu v = start(0, interruptLoop(new AtomicLong()));
        Await.until(() -> v.state() == VcpuState.HALTED, "WFI");
        v.requestStop();
        assertThat(v.join(Duration.ofSeconds(5))).isTrue();
        assertThat(v.state()).isEqualTo(VcpuState.STOPPED);
        assertThat(v.thread().isAlive()).isFalse();
    }

    @Test
    void guestExceptionsFaultTheVcpuWithoutEscapingTheThread() throws Exception {
        MmioBus strict = new MmioBus(true);
        AtomicInteger caught = new AtomicInteger();
        Vcpu v = new Vcpu(0, 1, memory, strict, ic, 0, cpu -> {
            try {
                cpu.mmioRead(0x9000_0000L, 4);
            } catch (MmioFault abort) {
                caught.incrementAndGet();   // the guest's data-abort handler
            }
            cpu.mmioWrite(0x9000_0000L, 4, 1);   // unhandled: the vCPU faults
        }, "test");
        vcpuRef.set(v);
        v.start();
        assertThat(v.join(Duration.ofSeconds(5))).isTrue();
        assertThat(caught.get()).isEqualTo(1);
        assertThat(v.state()).isEqualTo(VcpuState.FAULTED);
        assertThat(v.fault()).isInstanceOf(MmioFault.class);
    }

    @Test
    void mmioFromGuestCodeGoesThroughTheBus() throws Exception {
        AtomicLong stored = new AtomicLong();
        bus.register("reg", 0x0900_0000L, 8, new MmioDevice() {
            @Override
            public long read(long offset, int size) {
                return 0x55;
            }

            @Override
            public void write(long offset, int size, long value, int requesterId) {
                stored.set(value);
            }
        });
        Vcpu v = start(0, cpu -> {
            long x = cpu.mmioRead(0x0900_0000L, 4);
            cpu.mmioWrite(0x0900_0000L, 4, x + 1);
        });
        assertThat(v.join(Duration.ofSeconds(5))).isTrue();
        assertThat(v.state()).isEqualTo(VcpuState.FINISHED);
        assertThat(stored.get()).isEqualTo(0x56);
        assertThat(v.stats().mmioExits()).isEqualTo(2);
    }
}
