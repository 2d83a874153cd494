package dev.jvmm.arm64;

/**
 * One decoded A64 instruction: what {@link Decoder} made of a word, immutable, and everything the interpreter (and a
 * later block compiler) needs without looking at the word again.
 *
 * <h2>Register numbers</h2>
 * Register fields are indices into {@link ArchState#x}: 0..30 are X0..X30, {@link #SP} is the stack pointer of the
 * current exception level, {@link #ZR} reads as zero and {@link #SINK} absorbs writes. The decoder resolves the Arm
 * ARM's "register 31 is SP or XZR" once, per operand, so no semantic ever tests for 31.
 */
final class Insn {
    static final int SP = 31;
    /** Reads as zero: {@code x[ZR]} is never written. */
    static final int ZR = 32;
    /** Where writes to XZR/WZR go. */
    static final int SINK = 33;

    // ------------------------------------------------------------------------------------------------ flags
    /** Load/store: sign-extend the loaded value to 64 bits. */
    static final int SIGNED64 = 1;
    /** Load/store: sign-extend the loaded value to 32 bits (the W-register forms of LDRSB/LDRSH). */
    static final int SIGNED32 = 2;
    /** Load/store: access with EL0's permissions (LDTR/STTR at EL1). */
    static final int UNPRIVILEGED = 4;
    /** Acquire semantics (LDAR, LDAXR, LDAXP). */
    static final int ACQUIRE = 8;
    /** Release semantics (STLR, STLXR, STLXP). */
    static final int RELEASE = 16;
    /** The base register is SP: the access checks SP alignment (SCTLR_EL1.SA/SA0). */
    static final int BASE_SP = 32;
    /** CCMP/CCMN: the second operand is the immediate in {@link #imm}, not a register. */
    static final int IMMEDIATE = 64;
    /** CRC32C rather than CRC32. */
    static final int CASTAGNOLI = 128;
    /** A load or store whose register is 64 bits wide (X) rather than 32 (W), for pairs and exclusives. */
    static final int WIDE = 256;

    /** The encoding row the word matched ({@code null} for a word no row matched). */
    final A64 enc;
    /** The instruction word. */
    final int word;
    /** What to do: one of {@link Op}'s constants. */
    final int op;
    final int rd;
    final int rn;
    final int rm;
    final int ra;
    /** Immediate, offset, bit mask, system-register key: what the op needs. */
    final long imm;
    /** A second immediate (BFM's top mask, TBZ's bit). */
    final long imm2;
    /** 64-bit operation (sf = 1). */
    final boolean sf;
    /** Shift type, or extend option. */
    final int shift;
    /** Memory access size, log2 of the bytes (0 = byte ... 3 = doubleword); CRC32's operand size. */
    final int size;
    /** Shift amount, or bitfield rotation. */
    final int amount;
    /** Condition code (B.cond, CSEL, CCMP), or NZCV for CCMP. */
    final int cond;
    /** {@link #SIGNED64} and friends. */
    final int flags;

    Insn(A64 enc, int word, int op, int rd, int rn, int rm, int ra, long imm, long imm2, boolean sf, int shift,
         int size, int amount, int cond, int flags) {
        this.enc = enc;
        this.word = word;
        this.op = op;
        this.rd = rd;
        this.rn = rn;
        this.rm = rm;
        this.ra = ra;
        this.imm = imm;
        this.imm2 = imm2;
        this.sf = sf;
        this.shift = shift;
        this.size = size;
        this.amount = amount;
        this.cond = cond;
        this.flags = flags;
    }

    /** Whether this instruction ends a block: it changes the PC, the exception level or the translation. */
    boolean endsBlock() {
        return Op.endsBlock(op);
    }

    @Override
    public String toString() {
        return String.format("%08x %s (%s)", word, Op.name(op), enc == null ? "unallocated" : enc.armName);
    }
}
