package dev.jvmm.bench.rx;

import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.vcpu.GuestCpu;
import dev.jvmm.core.vcpu.GuestProgram;
import dev.jvmm.core.vcpu.SystemRegister;
import dev.jvmm.net.testing.CountingInterruptController;
import dev.jvmm.net.testing.GuestAllocator;
import dev.jvmm.net.testing.NetDriver;
import dev.jvmm.net.testing.RxRing;

import java.util.Random;

/**
 * Guest code for the receive benchmark, on vCPU 0: the test kit's virtio-net driver ({@link NetDriver}) brings the NIC
 * up through the vCPU's MMIO, then its receive loop ({@link RxRing}) runs as a NAPI poll would: wait for the
 * interrupt (WFI), acknowledge it, reap the used entries, post the buffers again, ring the doorbell only when the
 * device asked (EVENT_IDX avail_event), and re-arm the interrupt for the next {@code batch} entries (used_event).
 * Allocation-free once the loop runs.
 */
final class BenchGuest implements GuestProgram {
    /** Where the driver lays out its rings and buffers: 1 MiB into RAM, up to 32 MiB. */
    private static final long LAYOUT = MemoryMap.RAM_BASE + (1 << 20);
    private static final long LAYOUT_END = MemoryMap.RAM_BASE + (32L << 20);

    private final long base;
    private final int size;
    private final int bufferSize;
    private final int batch;
    private volatile boolean stop;
    private volatile boolean ready;
    private volatile String failure;
    private volatile long interrupts;
    private volatile long doorbells;

    BenchGuest(long mmioBase, int queueSize, int bufferSize, int batch) {
        this.base = mmioBase;
        this.size = queueSize;
        this.bufferSize = bufferSize;
        this.batch = batch;
    }

    void stop() {
        stop = true;
    }

    boolean isReady() {
        return ready;
    }

    String failure() {
        return failure;
    }

    long interrupts() {
        return interrupts;
    }

    long doorbells() {
        return doorbells;
    }

    @Override
    public void run(GuestCpu cpu) {
        Random fixed = new Random(0);
        NetDriver driver = new NetDriver(cpu, base, fixed, new GuestAllocator(cpu.memory(), fixed, 0, LAYOUT, LAYOUT_END));
        RxRing ring;
        try {
            ring = driver.startRxRing(size, bufferSize, batch);
        } catch (IllegalStateException | AssertionError e) {
            failure = e.getMessage();
            return;
        }
        ready = true;
        long myInterrupts = 0;
        while (!stop) {
            if (!ring.armInterrupt()) {
                cpu.waitForInterrupt();
                while (cpu.readSystemRegister(SystemRegister.ICC_IAR1_EL1) != SystemRegister.SPURIOUS_INTID) {
                    myInterrupts++;
                }
                cpu.writeSystemRegister(SystemRegister.ICC_EOIR1_EL1, CountingInterruptController.LPI_BASE);
                interrupts = myInterrupts;
                continue;
            }
            ring.reap();
            doorbells = ring.doorbells() - 1;
        }
        interrupts = myInterrupts;
        doorbells = ring.doorbells() - 1;
    }
}
