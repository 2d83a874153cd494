package dev.jvmm.arm64;

/**
 * When a bounded run ({@link Arm64Cpu#run(dev.jvmm.core.vcpu.GuestCpu, RunOptions)}) stops, besides power-off and a
 * fatal guest error. Immutable; build with the {@code with...} methods:
 *
 * <pre>{@code
 * RunOptions.instructions(10_000).withBreakpoint(0xF00)   // stop before "BRK #0xF00", or after 10,000 instructions
 * }</pre>
 *
 * @param maxInstructions retire at most this many instructions
 * @param breakpoint      stop before a BRK with this immediate ({@link #ANY_BRK}: any BRK; {@link #NO_BRK}: none, the
 *                        BRK is executed and takes its exception)
 * @param stopOnException stop right after any exception is taken to EL1 (synchronous, IRQ), at the vector
 * @param stopOnWfi       stop after a WFI instead of waiting for an interrupt
 * @param stopAt          stop when the PC reaches this address, before executing it ({@link #NO_ADDRESS}: never)
 */
public record RunOptions(long maxInstructions, int breakpoint, boolean stopOnException, boolean stopOnWfi,
                         long stopAt) {
    /** No {@link #stopAt} address (all ones: a PC that can only take a PC alignment fault). */
    public static final long NO_ADDRESS = -1L;
    public static final int ANY_BRK = -1;
    public static final int NO_BRK = -2;

    public RunOptions {
        if (maxInstructions < 0) {
            throw new IllegalArgumentException("maxInstructions must be >= 0");
        }
        if (breakpoint < NO_BRK || breakpoint > 0xFFFF) {
            throw new IllegalArgumentException("breakpoint must be a 16-bit immediate, ANY_BRK or NO_BRK");
        }
    }

    /** At most {@code n} instructions; any BRK stops; exceptions and WFI do not. */
    public static RunOptions instructions(long n) {
        return new RunOptions(n, ANY_BRK, false, false, NO_ADDRESS);
    }

    public RunOptions withBreakpoint(int imm16) {
        return new RunOptions(maxInstructions, imm16, stopOnException, stopOnWfi, stopAt);
    }

    public RunOptions withStopOnException(boolean on) {
        return new RunOptions(maxInstructions, breakpoint, on, stopOnWfi, stopAt);
    }

    public RunOptions withStopOnWfi(boolean on) {
        return new RunOptions(maxInstructions, breakpoint, stopOnException, on, stopAt);
    }

    /** Stop when the PC reaches {@code address} (before the instruction there executes). */
    public RunOptions withStopAt(long address) {
        return new RunOptions(maxInstructions, breakpoint, stopOnException, stopOnWfi, address);
    }

    boolean stopsAt(int brkImm) {
        return breakpoint == ANY_BRK || breakpoint == brkImm;
    }
}
