package dev.jvmm.arm64.oracle;

import static dev.jvmm.arm64.oracle.HarnessDescriptor.BASE;
import static dev.jvmm.arm64.oracle.HarnessDescriptor.SCRATCH;
import static dev.jvmm.arm64.oracle.HarnessDescriptor.SCRATCH_SIZE;

import dev.jvmm.arm64.Arm64Cpu;
import dev.jvmm.arm64.Arm64System;
import dev.jvmm.arm64.RunOptions;
import dev.jvmm.arm64.Stop;
import dev.jvmm.arm64.StopReason;
import dev.jvmm.core.memory.GuestMemory;

import java.util.ArrayList;
import java.util.List;

/**
 * The CPU under test: runs each case on jvmm's {@link Arm64Cpu} in the state QEMU user mode gives a Linux process,
 * so that the two sides can be compared:
 *
 * <ul>
 *   <li>EL0, with the stage 1 MMU on and guest RAM identity-mapped as Normal write-back memory, readable, writable
 *       and executable at EL0 (QEMU user mode runs the code at EL0 of a Linux process, where unaligned accesses to
 *       Normal memory are allowed; with the MMU off every access would be Device and alignment-checked);</li>
 *   <li>SCTLR_EL1 as Linux sets it for user space: SA0 (SP alignment checking at EL0), UCI and UCT (DC/IC and
 *       CTR_EL0 at EL0), DZE (DC ZVA at EL0), nTWI/nTWE (WFI and WFE not trapped), A clear. QEMU 7.2 user mode
 *       does not check SP alignment at all, so the generator keeps every SP base aligned and no case tests it;</li>
 *   <li>TCR_EL1.TBI0: the top byte of an EL0 address is a tag, ignored by translation, as under Linux.</li>
 * </ul>
 *
 * Each case's code sits at the address the QEMU harness gives it ({@link QemuHarness#layout}); where QEMU has its
 * epilogue, jvmm has {@code BRK #0xF00D}, the run's breakpoint. Any exception the CPU takes ends the case (QEMU would
 * have died of a signal instead) and is reported with ESR_EL1, ELR_EL1 and FAR_EL1. Each call uses a new
 * {@link Arm64System} over new RAM, so no decoded code of an earlier call can be stale.
 */
final class JvmmEmulator implements Emulator {
    static final int END_BREAKPOINT = 0xF00D;
    /** A case that has not reached its end after this many instructions is reported (cases are loop-free). */
    static final long INSTRUCTION_LIMIT = 10_000;

    /** Stage 1 translation table (level 1, 4 KiB granule) and the EL1 vectors: between the scratch area and code. */
    static final long TABLE = BASE + 0x8000;
    static final long VECTORS = BASE + 0x4000;

    /** MAIR_EL1 Attr0 = 0xFF: Normal, inner and outer write-back non-transient, read and write allocate. */
    static final long MAIR = 0xFF;
    /**
     * TCR_EL1: T0SZ = 25 (39-bit VAs, the walk starts at level 1), IRGN0 = ORGN0 = write-back, SH0 = inner shareable,
     * TG0 = 4 KiB, EPD1 (no TTBR1 walks), IPS = 40 bits, TBI0 (Linux lets user space tag the top byte of pointers,
     * and QEMU user mode does the same).
     */
    static final long TCR = 25 | 1 << 8 | 1 << 10 | 3 << 12 | 0 << 14 | 25 << 16 | 1 << 23 | 2L << 32 | 1L << 37;
    /**
     * Level 1 block descriptor for 1 GiB at {@link HarnessDescriptor#BASE}: valid block, AttrIndx 0, AP = 01 (read and
     * write at EL1 and EL0), SH = inner shareable, AF set, PXN set (the architecture makes EL0-writable memory
     * privileged-execute-never anyway), UXN clear (EL0 executes the cases).
     */
    static final long BLOCK = BASE | 1 | 1 << 6 | 3 << 8 | 1 << 10 | 1L << 53;
    /** SCTLR_EL1: RES1 bits, M, C, SA, SA0, I, DZE, UCT, nTWI, nTWE, UCI. */
    static final long SCTLR = 0x30D0_0800L | 1 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 12 | 1 << 14 | 1 << 15 | 1 << 16
            | 1 << 18 | 1 << 26;

    /**
     * Executions after which jvmm translates a block to a JVM class (BlockCompiler's documented
     * {@code -Djvmm.arm64.compileThreshold}, default 256).
     */
    static final int COMPILE_THRESHOLD = Math.max(1, Integer.getInteger("jvmm.arm64.compileThreshold", 256));

    private final long epilogue = QemuHarness.epilogueAddress();
    private final int passes;

    /** Runs each case once: jvmm's interpreter executes it (no block is hot yet). */
    JvmmEmulator() {
        this(1);
    }

    /**
     * Runs each case {@code passes} times from its initial state and returns the last pass: with more passes than
     * {@link #COMPILE_THRESHOLD}, the last one runs the case's blocks as translated JVM code. The cases must not
     * modify their own code.
     */
    JvmmEmulator(int passes) {
        this.passes = passes;
    }

    /** Enough passes for every block of a case to be translated before the last one. */
    static JvmmEmulator compiled() {
        return new JvmmEmulator(COMPILE_THRESHOLD + 1);
    }

    @Override
    public String name() {
        return passes == 1 ? "jvmm" : "jvmm (pass " + passes + ", translated blocks)";
    }

    @Override
    public List<ArchState> run(List<TestCase> cases) {
        long[] at = QemuHarness.layout(cases);
        long end = cases.isEmpty() ? HarnessDescriptor.CODE
                : at[at.length - 1] + cases.get(cases.size() - 1).snippet().imageSize();
        long size = Math.max(2L << 20, (end - BASE + (1 << 20)) & -(1L << 20));
        List<ArchState> out = new ArrayList<>(cases.size());
        try (GuestMemory memory = GuestMemory.create(BASE, size)) {
            memory.write32(epilogue, A64.exceptionGeneration(0b001, END_BREAKPOINT, 0));
            for (int i = 0; i < at.length; i++) {
                int[] w = cases.get(i).snippet().image(at[i], cases.get(i).initial().x()[30], epilogue);
                for (int k = 0; k < w.length; k++) {
                    memory.write32(at[i] + 4L * k, w[k]);
                }
            }
            memory.write64(TABLE + 8 * ((BASE >>> 30) & 511), BLOCK);
            Machine m = new Machine(memory);
            for (int i = 0; i < at.length; i++) {
                ArchState s;
                try {
                    s = m.runCase(cases.get(i), at[i]);
                    for (int pass = 1; pass < passes && s.fault() == null; pass++) {
                        s = m.runCase(cases.get(i), at[i]);
                    }
                } catch (Throwable t) {
                    s = failed(cases.get(i), "a Java exception out of the CPU: " + t);
                    m = new Machine(memory);       // the CPU's state is unknown after that
                }
                out.add(s);
            }
        }
        return out;
    }

    /**
     * The signal Linux sends a process for an exception from EL0 (arch/arm64/mm/fault.c, kernel/traps.c), as
     * {@link QemuHarness#signalFault} describes it, so that jvmm's exceptions compare with QEMU user mode's signals.
     */
    static String asSignal(long esr, long elr, long far, long sp) {
        int ec = (int) (esr >>> 26) & 0x3F;
        int fsc = (int) esr & 0x3F;
        return switch (ec) {
            case 0x00, 0x07, 0x0E, 0x18 -> QemuHarness.signalFault(4, elr, elr);         // UNDEFINED, traps
            case 0x22 -> QemuHarness.signalFault(7, elr, far);                            // PC alignment
            case 0x26 -> QemuHarness.signalFault(7, elr, sp);                             // SP alignment
            case 0x20, 0x24 -> QemuHarness.signalFault(fsc == 0x21 ? 7 : 11, elr, far);   // aborts
            case 0x3C -> QemuHarness.signalFault(5, elr, elr);                            // BRK
            default -> String.format("took an exception: ESR_EL1 %08x (EC %02x), ELR_EL1 %x, FAR_EL1 %x", esr, ec,
                    elr, far);
        };
    }

    private static ArchState failed(TestCase c, String why) {
        return new ArchState(c.initial().x().clone(), c.initial().sp(), c.initial().nzcv(),
                c.initial().scratch().clone(), why);
    }

    /** One CPU set up as described above. */
    private final class Machine {
        final GuestMemory memory;
        final Arm64Cpu cpu;
        final RecordingGuestCpu io;
        final RunOptions options = RunOptions.instructions(INSTRUCTION_LIMIT).withBreakpoint(END_BREAKPOINT)
                .withStopOnException(true);

        Machine(GuestMemory memory) {
            this.memory = memory;
            Arm64System system = new Arm64System(memory, 1);
            system.setCounterEpochNanos(0);
            cpu = system.cpu(0);
            io = new RecordingGuestCpu(memory, null);
            cpu.setBootState(HarnessDescriptor.CODE, 0, 0, 0, 0);
            cpu.writeSystemRegister("MAIR_EL1", MAIR);
            cpu.writeSystemRegister("TCR_EL1", TCR);
            cpu.writeSystemRegister("TTBR0_EL1", TABLE);
            cpu.writeSystemRegister("VBAR_EL1", VECTORS);
            cpu.writeSystemRegister("SCTLR_EL1", SCTLR);
        }

        ArchState runCase(TestCase c, long address) {
            ArchState in = c.initial();
            memory.write(SCRATCH, in.scratch(), 0, SCRATCH_SIZE);
            cpu.setElAndSpSel(0, 0);
            cpu.setDaif(0xF << 6);
            for (int r = 0; r < 31; r++) {
                cpu.setX(r, in.x()[r]);
            }
            cpu.setSpEl0(in.sp());
            cpu.setNzcv(in.nzcv());
            cpu.setPc(address + c.snippet().entryOffset());
            Stop stop = cpu.run(io, options);
            String fault = null;
            if (stop.reason() == StopReason.EXCEPTION) {
                fault = asSignal(cpu.readSystemRegister("ESR_EL1"), cpu.readSystemRegister("ELR_EL1"),
                        cpu.readSystemRegister("FAR_EL1"), cpu.spEl0());
            } else if (stop.reason() != StopReason.BREAKPOINT || stop.pc() != epilogue) {
                fault = "stopped with " + stop + (stop.reason() == StopReason.FATAL ? ": " + cpu.fatal() : "");
            }
            long[] x = new long[31];
            for (int r = 0; r < 31; r++) {
                x[r] = cpu.x(r);
            }
            byte[] scratch = new byte[SCRATCH_SIZE];
            memory.read(SCRATCH, scratch, 0, SCRATCH_SIZE);
            return new ArchState(x, cpu.spEl0(), cpu.nzcv(), scratch, fault);
        }
    }
}
