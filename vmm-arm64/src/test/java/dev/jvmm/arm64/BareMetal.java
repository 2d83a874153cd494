package dev.jvmm.arm64;

import dev.jvmm.core.memory.GuestMemory;

/**
 * One CPU over a small RAM at QEMU virt's RAM base, with a {@link TestGuestCpu}: the fixture of the CPU's tests, and
 * of the oracle's (see {@code /work/wt/cpu-api.md}).
 *
 * <pre>{@code
 * try (BareMetal m = new BareMetal()) {
 *     m.load(BareMetal.CODE, Assembler.words("add x0, x1, x2\n brk #0"));
 *     m.cpu.setX(1, 40); m.cpu.setX(2, 2); m.cpu.setPc(BareMetal.CODE);
 *     Stop s = m.run(1000);            // BREAKPOINT at the brk
 *     m.cpu.x(0);                      // 42
 * }
 * }</pre>
 */
public final class BareMetal implements AutoCloseable {
    public static final long RAM_BASE = 0x4000_0000L;
    public static final long RAM_SIZE = 16L << 20;
    /** Where tests put code. */
    public static final long CODE = RAM_BASE + 0x10_0000L;
    /** Scratch data. */
    public static final long DATA = RAM_BASE + 0x20_0000L;

    public final GuestMemory memory;
    public final Arm64System system;
    public final Arm64Cpu cpu;
    public final TestGuestCpu io;

    public BareMetal() {
        this(1);
    }

    public BareMetal(int cpus) {
        memory = GuestMemory.create(RAM_BASE, RAM_SIZE);
        system = new Arm64System(memory, cpus);
        system.setCounterEpochNanos(0);
        cpu = system.cpu(0);
        io = new TestGuestCpu(memory, 0, cpus);
    }

    /** Writes instruction words at {@code address}. */
    public void load(long address, int... words) {
        for (int i = 0; i < words.length; i++) {
            memory.write32(address + 4L * i, words[i]);
        }
    }

    /** Assembles {@code source} and loads it at {@code address}; returns the number of words. */
    public int assemble(long address, String source) {
        int[] w = Assembler.words(source);
        load(address, w);
        return w.length;
    }

    public Stop run(long maxInstructions) {
        return cpu.run(io, RunOptions.instructions(maxInstructions));
    }

    public Stop run(RunOptions options) {
        return cpu.run(io, options);
    }

    @Override
    public void close() {
        memory.close();
    }
}
