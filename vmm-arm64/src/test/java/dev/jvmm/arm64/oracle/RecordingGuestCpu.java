package dev.jvmm.arm64.oracle;

import dev.jvmm.arm64.AbstractTestGuestCpu;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.vcpu.GuestCpu;
import dev.jvmm.core.vcpu.SystemRegister;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * A {@link GuestCpu} for the hostile test: it answers every trapped operation (MMIO reads return a value derived from
 * the address, WFI returns at once) and records what the CPU did through it, with the violations of the contract:
 * an MMIO access to an address that is RAM (the CPU must use {@link #memory()} for RAM) or of a size other than 1,
 * 2, 4, 8; and the longest run of instructions between two exits (trapped operations or {@link #checkpoint()}),
 * where a pause or stop request would take effect. Exits are delegated to {@code outer} when given (a real
 * {@code Vcpu}'s GuestCpu, so that pause and stop really happen there).
 */
final class RecordingGuestCpu extends AbstractTestGuestCpu {
    private final GuestCpu outer;
    /** Every this many calls, {@link #interruptSignalled()} says yes (0: never). */
    private int irqEvery;
    private int irqCalls;
    long irqsSignalled;
    /** The guest's clock: the host's, or a fixed one for runs that must repeat exactly. */
    private LongSupplier clock = System::nanoTime;
    /** The CPU's retired-instruction count, read at each exit. */
    private LongSupplier instructions = () -> 0;

    final List<String> violations = new ArrayList<>();
    long mmioReads;
    long mmioWrites;
    long systemRegisterAccesses;
    long waits;
    long checkpoints;
    long exits;
    private long lastExitInstructions;
    /** The most instructions retired between two exits. */
    long longestRunWithoutExit;

    RecordingGuestCpu(GuestMemory memory, GuestCpu outer) {
        super(memory, 0, 1);
        this.outer = outer;
    }

    /** Signal an IRQ on every {@code n}-th look (0: never), so the CPU takes IRQs in whatever state it is in. */
    void signalIrqEvery(int n) {
        irqEvery = n;
    }

    /** The counter reads {@code nanos} always: CNTVCT and the timers become deterministic. */
    void fixClock(long nanos) {
        clock = () -> nanos;
    }

    void countInstructionsWith(LongSupplier retired) {
        this.instructions = retired;
        this.lastExitInstructions = retired.getAsLong();
    }

    private void exit() {
        exits++;
        endOfRun();
    }

    /** The instructions retired since the last exit: call after a run, to count the tail. */
    void endOfRun() {
        long now = instructions.getAsLong();
        longestRunWithoutExit = Math.max(longestRunWithoutExit, now - lastExitInstructions);
        lastExitInstructions = now;
    }

    private void checkMmio(String what, long address, int size) {
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            violations.add(String.format("MMIO %s of size %d at %x", what, size, address));
        }
        if (memory().isValid(address, 1) || memory().isValid(address + size - 1, 1)) {
            violations.add(String.format("MMIO %s of %d bytes at %x, which is RAM: the CPU must access RAM directly",
                    what, size, address));
        }
    }

    @Override
    public long mmioRead(long address, int size) {
        exit();
        mmioReads++;
        checkMmio("read", address, size);
        if (outer != null) {
            outer.checkpoint();
        }
        long v = address * 0x9E37_79B9_7F4A_7C15L;
        return size == 8 ? v : v & ((1L << (8 * size)) - 1);
    }

    @Override
    public void mmioWrite(long address, int size, long value) {
        exit();
        mmioWrites++;
        checkMmio("write", address, size);
        if (outer != null) {
            outer.checkpoint();
        }
    }

    @Override
    public long readSystemRegister(SystemRegister register) {
        exit();
        systemRegisterAccesses++;
        if (outer != null) {
            outer.checkpoint();
        }
        return 0;
    }

    @Override
    public void writeSystemRegister(SystemRegister register, long value) {
        exit();
        systemRegisterAccesses++;
        if (outer != null) {
            outer.checkpoint();
        }
    }

    @Override
    public void waitForInterrupt() {
        exit();
        waits++;
        if (outer != null) {
            outer.checkpoint();
        }
    }

    @Override
    public void waitForInterrupt(long deadlineNanos) {
        waitForInterrupt();
    }

    @Override
    public boolean interruptSignalled() {
        if (irqEvery > 0 && ++irqCalls % irqEvery == 0) {
            irqsSignalled++;
            return true;
        }
        return outer != null && outer.interruptSignalled();
    }

    @Override
    public long counterNanos() {
        return clock.getAsLong();
    }

    @Override
    public void checkpoint() {
        exit();
        checkpoints++;
        if (outer != null) {
            outer.checkpoint();
        }
    }
}
