package dev.jvmm.arm64.oracle;

import static dev.jvmm.arm64.oracle.HarnessDescriptor.SCRATCH;
import static dev.jvmm.arm64.oracle.HarnessDescriptor.SCRATCH_SIZE;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Seeded random cases over every encoding class of the A64 base integer instruction set that a Cortex-A57 has at
 * EL0 ({@link EncodingClass}). A case's body is a sequence of <em>units</em>; a unit is one instruction under test,
 * preceded where needed by the instructions that make it safe to run:
 *
 * <ul>
 *   <li>loads and stores: MOVZ/MOVN/MOVK set the base (and index) register so that every access lands in the
 *       scratch area; an SP base is set with {@code MOV SP, Xt} to a 16-byte aligned value (Linux runs EL0 with
 *       SCTLR_EL1.SA0 set, so QEMU checks SP alignment);</li>
 *   <li>exclusives: a load-exclusive and its store-exclusive to the same address and size, with only register
 *       arithmetic between (no store, so the outcome is architecturally defined: Arm ARM B2.9 leaves a store by the
 *       same PE to a marked address, and a size or address mismatch, IMPLEMENTATION DEFINED or UNPREDICTABLE);</li>
 *   <li>register branches: ADR sets the target, which is inside the snippet.</li>
 * </ul>
 *
 * Branches only go forward, to the start of a later unit or the end, so every case terminates, and never into the
 * middle of a unit (whose set-up they would skip). Encodings the Arm ARM calls CONSTRAINED UNPREDICTABLE (a load
 * pair with Rt == Rt2, writeback with Rn == Rt, a store-exclusive whose status register is a source) are not
 * generated: QEMU and the CPU under test may both be right and still differ.
 */
final class InstructionGenerator {

    /** Class label of the instructions that set up a unit (they are executed and compared like any other). */
    static final String SETUP = "set-up: MOVZ/MOVN/MOVK, MOV SP, ADR";

    private final Random r;

    InstructionGenerator(Random r) {
        this.r = r;
    }

    // ------------------------------------------------------------------------------------------------ cases

    /** A random case of {@code units} units drawn from {@code classes}. */
    TestCase randomCase(String name, int units, List<EncodingClass> classes) {
        Body b = new Body(units);
        for (int u = 0; u < units; u++) {
            b.startUnit(u);
            EncodingClass c = classes.get(r.nextInt(classes.size()));
            c.generate(this, b);
        }
        return new TestCase(name, b.finish(), randomState());
    }

    /** A random case whose unit {@code at} is a fault of {@code fault}'s class (the units after it never run). */
    TestCase faultCase(String name, int units, int at, List<EncodingClass> classes, FaultClass fault) {
        Body b = new Body(units);
        for (int u = 0; u < units; u++) {
            b.startUnit(u);
            if (u == at) {
                fault.generate(this, b);
            } else {
                classes.get(r.nextInt(classes.size())).generate(this, b);
            }
        }
        return new TestCase(name, b.finish(), randomState());
    }

    /** Random registers (edge values often), SP, flags and scratch bytes. */
    ArchState randomState() {
        long[] x = new long[31];
        for (int i = 0; i < 31; i++) {
            x[i] = edgyValue();
        }
        byte[] scratch = new byte[SCRATCH_SIZE];
        r.nextBytes(scratch);
        return new ArchState(x, r.nextBoolean() ? edgyValue() : SCRATCH + 16L * r.nextInt(SCRATCH_SIZE / 16),
                r.nextInt(16) << 28, scratch);
    }

    /** A 64-bit value that hits the corners of integer arithmetic often. */
    long edgyValue() {
        switch (r.nextInt(16)) {
            case 0: return 0;
            case 1: return 1;
            case 2: return -1;
            case 3: return Long.MIN_VALUE;
            case 4: return Long.MAX_VALUE;
            case 5: return 0x8000_0000L;
            case 6: return 0x7FFF_FFFFL;
            case 7: return 0xFFFF_FFFFL;
            case 8: return 1L << r.nextInt(64);
            case 9: return (1L << r.nextInt(64)) - 1;
            case 10: return r.nextInt();                       // a sign-extended 32-bit value
            case 11: return r.nextInt() & 0xFFFF_FFFFL;        // a zero-extended one
            case 12: return r.nextInt(256) - 128;
            case 13: return r.nextLong() & 0xFFFF_FFFF_0000_0000L;
            default: return r.nextLong();
        }
    }

    // ------------------------------------------------------------------------------------------------ body

    /** Kinds of PC-relative field a body instruction may need filled in once the body is laid out. */
    enum Fix { NONE, IMM26, IMM19, IMM14, ADR }

    /** Target of a fix-up: the header literal that holds x30, before the body ({@link Snippet}). */
    static final int HEADER_LITERAL = -1;

    private record Ins(int word, String cls, Fix fix, int targetUnit) {
    }

    /** A body under construction: instructions grouped in units, with fix-ups to unit starts. */
    final class Body {
        final int units;
        int unit;
        final List<Ins> ins = new ArrayList<>();
        final int[] unitStart;

        Body(int units) {
            this.units = units;
            this.unitStart = new int[units + 1];
        }

        void startUnit(int u) {
            unit = u;
            unitStart[u] = ins.size();
        }

        void add(int word, String cls) {
            ins.add(new Ins(word, cls, Fix.NONE, 0));
        }

        void setup(int word) {
            add(word, SETUP);
        }

        /** An instruction whose PC-relative field points at the start of unit {@code target} (units = the end). */
        void addTo(int word, String cls, Fix fix, int target) {
            ins.add(new Ins(word, cls, fix, target));
        }

        /** A random later unit or the end: where a forward branch goes. */
        int forwardTarget() {
            int t = unit + 1 + (r.nextInt(4) == 0 ? r.nextInt(units - unit) : r.nextInt(3));
            return Math.min(t, units);
        }

        /** A random unit start (not the end) or the header literal: what a literal load reads. */
        int anyTarget() {
            return r.nextInt(8) == 0 ? HEADER_LITERAL : r.nextInt(units);
        }

        Snippet finish() {
            unitStart[units] = ins.size();
            int[] words = new int[ins.size()];
            String[] classes = new String[ins.size()];
            for (int i = 0; i < words.length; i++) {
                Ins in = ins.get(i);
                int target = in.targetUnit == HEADER_LITERAL ? Snippet.LITERAL_FROM_BODY : unitStart[in.targetUnit];
                int d = target - i;
                words[i] = switch (in.fix) {
                    case NONE -> in.word;
                    case IMM26 -> in.word | d & 0x3FF_FFFF;
                    case IMM19 -> in.word | (d & 0x7FFFF) << 5;
                    case IMM14 -> in.word | (d & 0x3FFF) << 5;
                    case ADR -> in.word | ((4 * d) & 3) << 29 | ((4 * d) >> 2 & 0x7FFFF) << 5;
                };
                classes[i] = in.cls;
            }
            return new Snippet(words, classes);
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    Random random() {
        return r;
    }

    /** Any register number, 31 (SP or ZR by field) one time in eight. */
    int reg() {
        return r.nextInt(8) == 0 ? 31 : r.nextInt(31);
    }

    /** X0..X30. */
    int gpr() {
        return r.nextInt(31);
    }

    /** X0..X30 except those given. */
    int gprExcept(int... not) {
        while (true) {
            int x = r.nextInt(31);
            boolean ok = true;
            for (int n : not) {
                ok &= x != n;
            }
            if (ok) {
                return x;
            }
        }
    }

    /** Any register number except those given. */
    int regExcept(int... not) {
        while (true) {
            int x = reg();
            boolean ok = true;
            for (int n : not) {
                ok &= x != n;
            }
            if (ok) {
                return x;
            }
        }
    }

    /** MOVZ or MOVN and the MOVKs that give X{@code rd} (0..30) the value {@code v}. */
    void setX(Body b, int rd, long v) {
        int zeros = 0, ones = 0;
        for (int hw = 0; hw < 4; hw++) {
            int chunk = (int) (v >>> (16 * hw)) & 0xFFFF;
            zeros += chunk == 0 ? 1 : 0;
            ones += chunk == 0xFFFF ? 1 : 0;
        }
        boolean inverted = ones > zeros;
        int skip = inverted ? 0xFFFF : 0;
        boolean first = true;
        for (int hw = 0; hw < 4; hw++) {
            int chunk = (int) (v >>> (16 * hw)) & 0xFFFF;
            if (chunk == skip) {
                continue;
            }
            if (first) {
                b.setup(inverted ? A64.moveWide(1, 0b00, hw, ~chunk, rd) : A64.moveWide(1, 0b10, hw, chunk, rd));
                first = false;
            } else {
                b.setup(A64.moveWide(1, 0b11, hw, chunk, rd));
            }
        }
        if (first) {
            b.setup(inverted ? A64.moveWide(1, 0b00, 0, 0, rd) : A64.moveWide(1, 0b10, 0, 0, rd));
        }
    }

    /**
     * Sets base register {@code rn} (31 = SP) so that {@code base + offset} is an address of the scratch area with
     * room for {@code size} bytes, aligned to {@code align}; {@code offset} must be a multiple of {@code align}.
     * An SP base is 16-byte aligned; a quarter of the other bases carry a tag in their top byte (Linux and QEMU
     * user mode run EL0 with TCR_EL1.TBI0 set). Returns the base.
     */
    long setBase(Body b, int rn, long offset, int size, int align) {
        long target = scratchAddress(size + 16, Math.max(align, 1)) + 16;
        long base = target - offset;
        if (rn == 31) {
            base &= ~15L;
            int t = gpr();
            setX(b, t, base);
            b.setup(A64.addSubImmediate(1, 0, 0, 0, 0, t, 31));
        } else {
            if (base >>> 56 == 0 && r.nextInt(4) == 0) {
                base |= (long) (1 + r.nextInt(255)) << 56;   // a tagged pointer: TBI0 ignores the top byte
            }
            setX(b, rn, base);
        }
        return base;
    }

    /** A random address in the scratch area with {@code size} bytes after it, aligned to {@code align}. */
    long scratchAddress(int size, int align) {
        int off = r.nextInt(SCRATCH_SIZE - size + 1);
        return SCRATCH + (off & -align);
    }
}
