package dev.jvmm.arm64;

import dev.jvmm.core.bus.MmioFault;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.vcpu.GuestCpu;
import dev.jvmm.core.vcpu.SystemRegister;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * A {@link GuestCpu} for tests of the CPU alone: guest RAM, no devices (an MMIO access raises {@link MmioFault}, a
 * synchronous external abort in the guest, unless a test installs {@link #mmio}), a fake clock that WFI advances to
 * its deadline instead of sleeping, and a tiny CPU interface: PPI lines that the generic timer drives, an IRQ
 * signalled while any line is high and unmasked here, and ICC_IAR1_EL1 that acknowledges the lowest high line.
 */
public final class TestGuestCpu extends AbstractTestGuestCpu {
    /** An MMIO handler for tests: reads return a value, writes are recorded. */
    public interface Mmio {
        long read(long address, int size);

        void write(long address, int size, long value);
    }

    /** Nanoseconds of the fake clock; {@link #useHostClock} switches to System.nanoTime(). */
    public long clock;
    public boolean useHostClock;
    public Mmio mmio;
    /** Set by a test to signal an IRQ regardless of the lines. */
    public volatile boolean irq;
    public final boolean[] lines = new boolean[32];
    public final List<Long> wfiDeadlines = new ArrayList<>();
    public int checkpoints;
    public final List<String> sysregWrites = new ArrayList<>();
    /** Called at every checkpoint, e.g. to stop a run from a test. */
    public Runnable onCheckpoint = () -> { };
    /** Called by WFI without a deadline; default: return at once. */
    public LongSupplier onWfi = () -> 0;

    public TestGuestCpu(GuestMemory memory) {
        this(memory, 0, 1);
    }

    public TestGuestCpu(GuestMemory memory, int index, int count) {
        super(memory, index, count);
    }

    @Override
    public long mmioRead(long address, int size) {
        if (mmio == null) {
            throw new MmioFault(address, size, false);
        }
        return mmio.read(address, size);
    }

    @Override
    public void mmioWrite(long address, int size, long value) {
        if (mmio == null) {
            throw new MmioFault(address, size, true);
        }
        mmio.write(address, size, value);
    }

    @Override
    public long readSystemRegister(SystemRegister register) {
        if (register == SystemRegister.ICC_IAR1_EL1) {
            for (int i = 16; i < 32; i++) {
                if (lines[i]) {
                    return i;
                }
            }
            return SystemRegister.SPURIOUS_INTID;
        }
        return 0;
    }

    @Override
    public void writeSystemRegister(SystemRegister register, long value) {
        sysregWrites.add(register.name() + "=" + value);
    }

    @Override
    public void waitForInterrupt() {
        clock += onWfi.getAsLong();
    }

    @Override
    public void waitForInterrupt(long deadlineNanos) {
        wfiDeadlines.add(deadlineNanos);
        if (!useHostClock && deadlineNanos > clock) {
            clock = deadlineNanos;
        }
    }

    @Override
    public boolean interruptSignalled() {
        if (irq) {
            return true;
        }
        for (boolean l : lines) {
            if (l) {
                return true;
            }
        }
        return false;
    }

    @Override
    protected void ppiLevel(int intid, boolean high) {
        lines[intid] = high;
    }

    @Override
    public long counterNanos() {
        return useHostClock ? System.nanoTime() : clock;
    }

    @Override
    public void checkpoint() {
        checkpoints++;
        onCheckpoint.run();
    }
}
