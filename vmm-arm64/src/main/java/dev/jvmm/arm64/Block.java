package dev.jvmm.arm64;

/**
 * A run of decoded instructions that starts at one guest physical address and ends at the first instruction that
 * {@link Insn#endsBlock() ends a block}, at the end of the page, or after {@link #MAX_LENGTH} instructions. Its
 * instructions never change: a block is shared by every vCPU that executes the same physical code, and is dropped,
 * never changed, when the code is written or invalidated. It counts its executions and, once hot, carries its
 * translation ({@link BlockCompiler}).
 */
final class Block {
    /** Bounds the instructions between two checks of interrupts and of the timer. */
    static final int MAX_LENGTH = 128;

    /** Executions so far (racy across vCPUs: a count, not a contract). */
    int hits;
    /** The translation, once {@link BlockCompiler} made one; {@link #UNTRANSLATABLE} when it cannot. */
    volatile BlockCompiler.Compiled compiled;
    static final BlockCompiler.Compiled UNTRANSLATABLE = new BlockCompiler.Compiled() {
        @Override
        int run(Arm64Cpu cpu, long va, int budget) {
            return 0;
        }
    };

    /** Guest physical address of the first instruction. */
    final long pa;
    final Insn[] insns;

    Block(long pa, Insn[] insns) {
        this.pa = pa;
        this.insns = insns;
    }

    int length() {
        return insns.length;
    }
}
