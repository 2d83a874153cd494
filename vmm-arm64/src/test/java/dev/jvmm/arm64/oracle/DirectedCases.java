package dev.jvmm.arm64.oracle;

import static dev.jvmm.arm64.oracle.HarnessDescriptor.SCRATCH;
import static dev.jvmm.arm64.oracle.HarnessDescriptor.SCRATCH_SIZE;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.IntBinaryOperator;

/**
 * Directed cases: each instruction class at its corner values, one instruction per case (plus, for branches, the
 * instruction they skip). Operands are X1, X2, X3 (Rn, Rm, Ra) and the result goes to X0, whose initial value is
 * random, so a 32-bit form that fails to zero the upper half shows. The other registers are random from a fixed
 * seed: the cases are the same in every run.
 */
final class DirectedCases {
    /** Operand values where integer arithmetic has its corners. */
    static final long[] CORNERS = {
        0, 1, 2, -1, -2, Long.MIN_VALUE, Long.MAX_VALUE, Long.MIN_VALUE + 1,
        0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL, 0x1_0000_0000L, 0xFFFF_FFFF_0000_0000L, 0xFFFF_FFFF_8000_0000L,
        0x0000_0000_7FFF_FFFFL | 0x1234_5678_0000_0000L, 0x80L, 0xFFL, 0x8000L, 0xFFFFL, 0x0123_4567_89AB_CDEFL,
    };
    /** Fewer corners, for classes with many forms. */
    static final long[] FEW = {0, 1, -1, Long.MIN_VALUE, Long.MAX_VALUE, 0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL,
        0x0123_4567_89AB_CDEFL};

    private final Random r = new Random(0x5EED_D1EC7EDL);
    private final List<TestCase> cases = new ArrayList<>();

    /** Every directed case. */
    static List<TestCase> all() {
        DirectedCases d = new DirectedCases();
        d.addSubImmediate();
        d.addSubShifted();
        d.addSubExtended();
        d.addSubCarry();
        d.logicalImmediate();
        d.logicalShifted();
        d.moveWide();
        d.bitfield();
        d.extract();
        d.conditionalCompare();
        d.conditionalSelect();
        d.multiply();
        d.divide();
        d.variableShift();
        d.crc32();
        d.oneSource();
        d.branches();
        d.loads();
        d.storesAndWriteback();
        d.exclusives();
        d.system();
        d.selfModifyingCode();
        return d.cases;
    }

    // ------------------------------------------------------------------------------------------------ building

    /** A case of the given body; {@code regs} are (register, value) pairs over random others. */
    private void add(String cls, int[] body, int nzcv, long... regs) {
        add(cls, body, nzcv, null, regs);
    }

    private void add(String cls, int[] body, int nzcv, byte[] scratch, long... regs) {
        long[] x = new long[31];
        for (int i = 0; i < 31; i++) {
            x[i] = r.nextLong();
        }
        StringBuilder name = new StringBuilder("directed ").append(cases.size()).append(": ").append(cls);
        for (int i = 0; i < regs.length; i += 2) {
            x[(int) regs[i]] = regs[i + 1];
            name.append(String.format(" x%d=%x", regs[i], regs[i + 1]));
        }
        if (scratch == null) {
            scratch = new byte[SCRATCH_SIZE];
            r.nextBytes(scratch);
        }
        String[] classes = new String[body.length];
        java.util.Arrays.fill(classes, cls);
        cases.add(new TestCase(name.toString(), new Snippet(body, classes),
                new ArchState(x, SCRATCH + 0x80, nzcv, scratch)));
    }

    private void one(String cls, int word, long... regs) {
        add(cls, new int[] {word}, r.nextInt(16) << 28, regs);
    }

    private void oneWithFlags(String cls, int word, int nzcv, long... regs) {
        add(cls, new int[] {word}, nzcv, regs);
    }

    // ------------------------------------------------------------------------------------------------ classes

    /** The cases of one form of a class: size (sf), operation, and a one-bit variant (S for add/subtract, N). */
    private interface Form {
        void cases(int sf, int op, int bit);
    }

    /** Calls {@code form} for each sf, each operation below {@code ops} and each variant bit, in that nesting. */
    private static void everyForm(int ops, Form form) {
        for (int sf = 0; sf < 2; sf++) {
            for (int op = 0; op < ops; op++) {
                for (int bit = 0; bit < 2; bit++) {
                    form.cases(sf, op, bit);
                }
            }
        }
    }

    /**
     * Shifted-register operands: each shift type below {@code types} by the amounts where the size has its corners,
     * with a random Rn and each of {@link #FEW} in Rm; {@code word} encodes (type, amount).
     */
    private void shiftedRegister(String c, int sf, int types, IntBinaryOperator word) {
        for (int shift = 0; shift < types; shift++) {
            for (int amount : sf == 1 ? new int[] {0, 1, 31, 32, 63} : new int[] {0, 1, 16, 31}) {
                for (long b : FEW) {
                    one(c, word.applyAsInt(shift, amount), 1, r.nextLong(), 2, b);
                }
            }
        }
    }

    private void addSubImmediate() {
        String c = EncodingClass.ADD_SUB_IMMEDIATE.name;
        everyForm(2, (sf, op, s) -> {
            for (long a : CORNERS) {
                for (int[] imm : new int[][] {{0, 0}, {1, 0}, {4095, 0}, {1, 1}, {4095, 1}}) {
                    one(c, A64.addSubImmediate(sf, op, s, imm[1], imm[0], 1, 0), 1, a);
                }
            }
            // SP as source and destination (ADD/SUB only; with S, Rd 31 is ZR: CMP/CMN).
            one(c, A64.addSubImmediate(sf, op, s, 0, 16, 31, s == 0 ? 31 : 0));
        });
    }

    private void addSubShifted() {
        String c = EncodingClass.ADD_SUB_SHIFTED.name;
        everyForm(2, (sf, op, s) -> {
            for (long a : CORNERS) {
                for (long b : CORNERS) {
                    one(c, A64.addSubShiftedRegister(sf, op, s, 0, 2, 0, 1, 0), 1, a, 2, b);
                }
            }
            shiftedRegister(c, sf, 3, (shift, amount) -> A64.addSubShiftedRegister(sf, op, s, shift, 2, amount, 1, 0));
        });
    }

    private void addSubExtended() {
        String c = EncodingClass.ADD_SUB_EXTENDED.name;
        long[] values = {0x80, 0x7F, 0x8000, 0x7FFF, 0x8000_0000L, 0x7FFF_FFFFL, -1, Long.MIN_VALUE,
            0xFFFF_FFFF_FFFF_FF80L, 0x1234_5678_9ABC_DEF0L};
        everyForm(2, (sf, op, s) -> {
            for (int option = 0; option < 8; option++) {
                for (int imm3 = 0; imm3 <= 4; imm3++) {
                    for (long b : values) {
                        one(c, A64.addSubExtendedRegister(sf, op, s, 2, option, imm3, 1, 0), 1, r.nextLong(), 2, b);
                    }
                }
                // Rn = SP, and Rd = SP when not setting flags.
                one(c, A64.addSubExtendedRegister(sf, op, s, 2, option, 2, 31, s == 0 ? 31 : 0), 2, r.nextLong());
            }
        });
    }

    private void addSubCarry() {
        String c = EncodingClass.ADD_SUB_CARRY.name;
        everyForm(2, (sf, op, s) -> {
            for (long a : FEW) {
                for (long b : FEW) {
                    for (int carry = 0; carry < 2; carry++) {
                        oneWithFlags(c, A64.addSubWithCarry(sf, op, s, 2, 1, 0),
                                carry << 29 | (r.nextInt(16) << 28 & ~(1 << 29)), 1, a, 2, b);
                    }
                }
            }
        });
    }

    /** Every valid logical immediate of both sizes, each with a random one of AND, ORR, EOR, ANDS. */
    private void logicalImmediate() {
        String c = EncodingClass.LOGICAL_IMMEDIATE.name;
        for (int sf = 0; sf < 2; sf++) {
            for (int esize = 2; esize <= (sf == 1 ? 64 : 32); esize *= 2) {
                for (int ones = 1; ones < esize; ones++) {
                    for (int rot = 0; rot < esize; rot++) {
                        int f = A64.bitmaskFields(esize, ones, rot);
                        int opc = r.nextInt(4);
                        one(c, A64.logicalImmediate(sf, opc, f >> 12, f >> 6 & 0x3F, f & 0x3F, 1, 0),
                                1, r.nextBoolean() ? -1 : r.nextLong());
                    }
                }
            }
        }
        // Rd = SP for AND/ORR/EOR (not ANDS, where 31 is ZR: TST).
        for (int opc = 0; opc < 4; opc++) {
            one(c, A64.logicalImmediate(1, opc, 1, 0, 3, 1, 31), 1, SCRATCH);
        }
    }

    private void logicalShifted() {
        String c = EncodingClass.LOGICAL_SHIFTED.name;
        everyForm(4, (sf, opc, n) -> shiftedRegister(c, sf, 4,
                (shift, amount) -> A64.logicalShiftedRegister(sf, opc, shift, n, 2, amount, 1, 0)));
    }

    private void moveWide() {
        String c = EncodingClass.MOVE_WIDE.name;
        for (int sf = 0; sf < 2; sf++) {
            for (int opc : new int[] {0b00, 0b10, 0b11}) {
                for (int hw = 0; hw < (sf == 1 ? 4 : 2); hw++) {
                    for (int imm : new int[] {0, 1, 0x8000, 0xFFFF, 0x1234}) {
                        one(c, A64.moveWide(sf, opc, hw, imm, 0), 0, r.nextLong());
                    }
                }
            }
        }
    }

    /** SBFM, BFM, UBFM: every (immr, imms) of the 32-bit forms, the corners of the 64-bit ones. */
    private void bitfield() {
        String c = EncodingClass.BITFIELD.name;
        for (int opc = 0; opc < 3; opc++) {
            for (int immr = 0; immr < 32; immr++) {
                for (int imms = 0; imms < 32; imms++) {
                    one(c, A64.bitfield(0, opc, 0, immr, imms, 1, 0), 1, r.nextBoolean() ? -1 : r.nextLong());
                }
            }
            int[] edges = {0, 1, 2, 7, 8, 15, 16, 31, 32, 33, 47, 48, 62, 63};
            for (int immr : edges) {
                for (int imms : edges) {
                    one(c, A64.bitfield(1, opc, 1, immr, imms, 1, 0), 1,
                            r.nextBoolean() ? Long.MIN_VALUE | 1 : r.nextLong());
                }
            }
        }
    }

    private void extract() {
        String c = EncodingClass.EXTRACT.name;
        for (int sf = 0; sf < 2; sf++) {
            for (int lsb = 0; lsb < (sf == 1 ? 64 : 32); lsb++) {
                one(c, A64.extract(sf, sf, 2, lsb, 1, 0), 1, r.nextLong(), 2, r.nextLong());
                one(c, A64.extract(sf, sf, 1, lsb, 1, 0), 1, r.nextLong());       // ROR (immediate)
            }
        }
    }

    /** CCMP, CCMN: every condition against every flag value, both register and immediate forms. */
    private void conditionalCompare() {
        String c1 = EncodingClass.CONDITIONAL_COMPARE_REGISTER.name;
        String c2 = EncodingClass.CONDITIONAL_COMPARE_IMMEDIATE.name;
        for (int op = 0; op < 2; op++) {
            for (int cond = 0; cond < 16; cond++) {
                for (int flags = 0; flags < 16; flags++) {
                    int sf = r.nextInt(2);
                    long a = FEW[r.nextInt(FEW.length)];
                    long b = FEW[r.nextInt(FEW.length)];
                    oneWithFlags(c1, A64.conditionalCompareRegister(sf, op, 2, cond, 1, r.nextInt(16)), flags << 28,
                            1, a, 2, b);
                    oneWithFlags(c2, A64.conditionalCompareImmediate(sf, op, r.nextBoolean() ? 31 : r.nextInt(32),
                            cond, 1, r.nextInt(16)), flags << 28, 1, a);
                }
            }
        }
    }

    private void conditionalSelect() {
        String c = EncodingClass.CONDITIONAL_SELECT.name;
        for (int op = 0; op < 2; op++) {
            for (int op2 = 0; op2 < 2; op2++) {
                for (int cond = 0; cond < 16; cond++) {
                    for (int flags = 0; flags < 16; flags++) {
                        oneWithFlags(c, A64.conditionalSelect(r.nextInt(2), op, 2, cond, op2, 1, 0), flags << 28,
                                1, FEW[r.nextInt(FEW.length)], 2, FEW[r.nextInt(FEW.length)]);
                    }
                }
            }
        }
    }

    private void multiply() {
        String c = EncodingClass.DATA_PROCESSING_3_SOURCE.name;
        int[][] forms = {{0, 0b000, 0}, {0, 0b000, 1}, {1, 0b000, 0}, {1, 0b000, 1}, {1, 0b001, 0}, {1, 0b001, 1},
            {1, 0b101, 0}, {1, 0b101, 1}, {1, 0b010, 0}, {1, 0b110, 0}};
        for (int[] f : forms) {
            boolean high = f[1] == 0b010 || f[1] == 0b110;
            for (long a : FEW) {
                for (long b : FEW) {
                    one(c, A64.dataProcessing3Source(f[0], f[1], 2, f[2], high ? 31 : 3, 1, 0), 1, a, 2, b, 3,
                            FEW[r.nextInt(FEW.length)]);
                }
            }
        }
    }

    private void divide() {
        String c = EncodingClass.DATA_PROCESSING_2_SOURCE.name;
        long[][] pairs = {{7, 0}, {0, 0}, {-1, 0}, {Long.MIN_VALUE, -1}, {0x8000_0000L, 0xFFFF_FFFFL},
            {0xFFFF_FFFF_8000_0000L, -1}, {7, 2}, {-7, 2}, {7, -2}, {-7, -2}, {Long.MAX_VALUE, 1}, {-1, -1},
            {0x1_0000_0000L, 0x1_0000_0001L}, {0xFFFF_FFFFL, 1}};
        for (int sf = 0; sf < 2; sf++) {
            for (int u = 0; u < 2; u++) {
                for (long[] p : pairs) {
                    one(c, A64.dataProcessing2Source(sf, 0b000010 | u, 2, 1, 0), 1, p[0], 2, p[1]);
                }
            }
        }
    }

    private void variableShift() {
        String c = EncodingClass.DATA_PROCESSING_2_SOURCE.name;
        long[] amounts = {0, 1, 31, 32, 33, 63, 64, 65, -1, 0x1_0000_0020L, 0xFFFF_FFE0L};
        for (int sf = 0; sf < 2; sf++) {
            for (int op = 0; op < 4; op++) {
                for (long s : amounts) {
                    one(c, A64.dataProcessing2Source(sf, 0b001000 | op, 2, 1, 0), 1, Long.MIN_VALUE | 0x8000_0001L,
                            2, s);
                }
            }
        }
    }

    private void crc32() {
        String c = EncodingClass.DATA_PROCESSING_2_SOURCE.name;
        long[] data = {0, -1, 0x0123_4567_89AB_CDEFL, 0x80, 0x31};
        long[] crcs = {0, 0xFFFF_FFFFL, 0xFFFF_FFFF_FFFF_FFFFL, 0xCBF4_3926L};
        for (int cBit = 0; cBit < 2; cBit++) {
            for (int sz = 0; sz < 4; sz++) {
                for (long d : data) {
                    for (long crc : crcs) {
                        one(c, A64.dataProcessing2Source(sz == 3 ? 1 : 0, 0b010000 | cBit << 2 | sz, 2, 1, 0), 1, crc,
                                2, d);
                    }
                }
            }
        }
    }

    private void oneSource() {
        String c = EncodingClass.DATA_PROCESSING_1_SOURCE.name;
        for (int sf = 0; sf < 2; sf++) {
            for (int opc : sf == 1 ? new int[] {0, 1, 2, 3, 4, 5} : new int[] {0, 1, 2, 4, 5}) {
                for (long a : CORNERS) {
                    one(c, A64.dataProcessing1Source(sf, opc, 1, 0), 1, a);
                }
            }
        }
    }

    /** Each branch taken and not taken: it skips {@code MOVZ X0, #1}, so X0 tells which. */
    private void branches() {
        int skipped = A64.moveWide(1, 0b10, 0, 1, 0);
        for (int cond = 0; cond < 16; cond++) {
            for (int flags = 0; flags < 16; flags++) {
                add(EncodingClass.CONDITIONAL_BRANCH.name, new int[] {A64.conditionalBranch(2, cond), skipped},
                        flags << 28, 0, 0);
            }
        }
        long[] values = {0, 1, -1, 0xFFFF_FFFF_0000_0000L, 0x1_0000_0000L, 0x8000_0000L, Long.MIN_VALUE};
        for (int sf = 0; sf < 2; sf++) {
            for (int op = 0; op < 2; op++) {
                for (long v : values) {
                    add(EncodingClass.COMPARE_AND_BRANCH.name, new int[] {A64.compareAndBranch(sf, op, 2, 1), skipped},
                            0, 0, 0, 1, v);
                }
            }
        }
        for (int op = 0; op < 2; op++) {
            for (int bit : new int[] {0, 1, 31, 32, 63}) {
                for (long v : values) {
                    add(EncodingClass.TEST_AND_BRANCH.name, new int[] {A64.testAndBranch(op, bit, 2, 1), skipped},
                            0, 0, 0, 1, v);
                }
            }
        }
        // B and BL (X30 is the return address), BR, BLR, RET through X1 (set by ADR to the word after the skip);
        // BLR X30 reads the target before it writes the link.
        add(EncodingClass.UNCONDITIONAL_BRANCH_IMMEDIATE.name, new int[] {A64.unconditionalBranchImmediate(0, 2),
            skipped}, 0, 0, 0);
        add(EncodingClass.UNCONDITIONAL_BRANCH_IMMEDIATE.name, new int[] {A64.unconditionalBranchImmediate(1, 2),
            skipped}, 0, 0, 0);
        for (int opc = 0; opc < 3; opc++) {
            for (int rn : new int[] {1, 30}) {
                add(EncodingClass.UNCONDITIONAL_BRANCH_REGISTER.name, new int[] {A64.pcRelAddressing(0, 12, rn),
                    A64.unconditionalBranchRegister(opc, rn), skipped}, 0, 0, 0);
            }
        }
        // ADR and ADRP at their extremes.
        for (int op = 0; op < 2; op++) {
            for (int imm : new int[] {0, 1, -1, (1 << 20) - 1, -(1 << 20)}) {
                one(EncodingClass.PC_REL.name, A64.pcRelAddressing(op, imm, 0));
            }
        }
    }

    /** Scratch bytes whose every 8-byte word has its sign bits set at each width, for sign extension. */
    private byte[] signedScratch() {
        byte[] s = new byte[SCRATCH_SIZE];
        for (int i = 0; i < s.length; i++) {
            s[i] = (byte) (i % 8 == 7 || i % 16 == 1 ? 0x80 : i % 3 == 0 ? 0xFF : i);
        }
        return s;
    }

    private void loads() {
        String c = EncodingClass.LOAD_STORE_UNSIGNED_IMMEDIATE.name;
        byte[] s = signedScratch();
        for (int size = 0; size < 4; size++) {
            for (int opc = 1; opc < (size == 3 ? 2 : size == 2 ? 3 : 4); opc++) {
                for (int off = 0; off < 16; off += 1 << Math.min(size, 1)) {
                    add(c, new int[] {A64.loadStoreUnsignedImmediate(size, opc, 1, 1, 0)}, 0, s, 1,
                            SCRATCH + 64 + off - (1L << size));
                }
                // Register offset: every extend, scaled and not, with a negative index (and junk above a W index).
                for (int option : new int[] {0b010, 0b011, 0b110, 0b111}) {
                    for (int sc = 0; sc < 2; sc++) {
                        long index = option == 0b010 ? 0xDEAD_BEEF_0000_0010L : option == 0b110 ? 0xDEAD_BEEF_FFFF_FFF0L
                                : -16;
                        long offset = option == 0b010 ? 16L << (sc * size) : -16L << (sc * size);
                        add(EncodingClass.LOAD_STORE_REGISTER_OFFSET.name, new int[] {
                            A64.loadStoreRegisterOffset(size, opc, 2, option, sc, 1, 0)}, 0, s, 1,
                                SCRATCH + 128 - offset, 2, index);
                    }
                }
                // Unscaled at the ends of imm9, and unprivileged.
                for (int imm : new int[] {-256, -1, 0, 1, 255}) {
                    add(EncodingClass.LOAD_STORE_UNSCALED.name, new int[] {
                        A64.loadStoreImm9(size, opc, imm, A64.UNSCALED, 1, 0)}, 0, s, 1, SCRATCH + 128 - imm);
                    add(EncodingClass.LOAD_STORE_UNPRIVILEGED.name, new int[] {
                        A64.loadStoreImm9(size, opc, imm, A64.UNPRIVILEGED, 1, 0)}, 0, s, 1, SCRATCH + 128 - imm);
                }
            }
        }
        // Load literal: the header literal holds x30's value.
        for (int opc = 0; opc < 3; opc++) {
            add(EncodingClass.LOAD_LITERAL.name, new int[] {A64.loadLiteral(opc, Snippet.LITERAL_FROM_BODY, 0)}, 0, 30,
                    0x8000_0000_8000_0000L);
        }
        // LDP, LDPSW, LDNP, at the ends of imm7.
        for (int opc : new int[] {0b00, 0b01, 0b10}) {
            int scale = opc == 0b10 ? 3 : 2;
            for (int imm : new int[] {-8, -1, 0, 1, 7}) {
                for (int type : new int[] {A64.PAIR_OFFSET, A64.PAIR_NO_ALLOCATE}) {
                    if (type == A64.PAIR_NO_ALLOCATE && opc == 0b01) {
                        continue;
                    }
                    add(EncodingClass.LOAD_STORE_PAIR_OFFSET.name, new int[] {A64.loadStorePair(opc, type, 1, imm, 2, 1,
                        0)}, 0, s, 1, SCRATCH + 128 - ((long) imm << scale));
                }
            }
        }
        // LDAR at every size.
        for (int size = 0; size < 4; size++) {
            add(EncodingClass.LOAD_ACQUIRE_STORE_RELEASE.name, new int[] {A64.loadStoreExclusive(size, 1, 1, 0, 31, 1,
                31, 1, 0)}, 0, s, 1, SCRATCH + 64);
        }
    }

    private void storesAndWriteback() {
        for (int size = 0; size < 4; size++) {
            long v = 0x8182_8384_8586_8788L;
            add(EncodingClass.LOAD_STORE_UNSIGNED_IMMEDIATE.name, new int[] {
                A64.loadStoreUnsignedImmediate(size, 0, 3, 1, 2)}, 0, 1, SCRATCH + 16, 2, v);
            add(EncodingClass.LOAD_STORE_UNSIGNED_IMMEDIATE.name, new int[] {
                A64.loadStoreUnsignedImmediate(size, 0, 0, 1, 31)}, 0, 1, SCRATCH + 21);       // stores XZR
            add(EncodingClass.LOAD_ACQUIRE_STORE_RELEASE.name, new int[] {A64.loadStoreExclusive(size, 1, 0, 0, 31, 1,
                31, 1, 2)}, 0, 1, SCRATCH + 64, 2, v);
            for (int idx : new int[] {A64.POST_INDEXED, A64.PRE_INDEXED}) {
                for (int imm : new int[] {-256, -8, 0, 8, 255}) {
                    long base = SCRATCH + 128 - (idx == A64.PRE_INDEXED ? imm : 0);
                    String c = idx == A64.PRE_INDEXED ? EncodingClass.LOAD_STORE_PRE_INDEXED.name
                            : EncodingClass.LOAD_STORE_POST_INDEXED.name;
                    add(c, new int[] {A64.loadStoreImm9(size, 0, imm, idx, 1, 2)}, 0, 1, base, 2, v);
                    add(c, new int[] {A64.loadStoreImm9(size, 1, imm, idx, 1, 2)}, 0, 1, base);
                    // SP as the base, 16-byte aligned.
                    add(c, new int[] {A64.addSubImmediate(1, 0, 0, 0, 0, 3, 31), A64.loadStoreImm9(size, 1, imm, idx,
                        31, 2)}, 0, 3, (base & ~15L));
                }
            }
        }
        for (int opc : new int[] {0b00, 0b10}) {
            int scale = opc == 0b10 ? 3 : 2;
            for (int type : new int[] {A64.PAIR_POST_INDEXED, A64.PAIR_PRE_INDEXED, A64.PAIR_OFFSET}) {
                for (int imm : new int[] {-64, -1, 0, 1, 63}) {
                    long base = SCRATCH + 128 - (type == A64.PAIR_POST_INDEXED ? 0 : (long) imm << scale);
                    long lo = base + (type == A64.PAIR_POST_INDEXED ? 0 : (long) imm << scale);
                    if (lo < SCRATCH || lo + (2L << scale) > SCRATCH + SCRATCH_SIZE) {
                        continue;
                    }
                    String c = switch (type) {
                        case A64.PAIR_POST_INDEXED -> EncodingClass.LOAD_STORE_PAIR_POST_INDEXED.name;
                        case A64.PAIR_PRE_INDEXED -> EncodingClass.LOAD_STORE_PAIR_PRE_INDEXED.name;
                        default -> EncodingClass.LOAD_STORE_PAIR_OFFSET.name;
                    };
                    add(c, new int[] {A64.loadStorePair(opc, type, 0, imm, 3, 1, 2)}, 0, 1, base, 2,
                            0x8899_AABB_CCDD_EEFFL, 3, 0x0011_2233_4455_6677L);
                    add(c, new int[] {A64.loadStorePair(opc, type, 1, imm, 3, 1, 2)}, 0, signedScratch(), 1, base);
                }
            }
        }
    }

    /** Each exclusive size: a successful pair (status 0), a store after CLREX (status 1, memory unchanged). */
    private void exclusives() {
        String c = EncodingClass.LOAD_STORE_EXCLUSIVE.name;
        String cp = EncodingClass.LOAD_STORE_EXCLUSIVE_PAIR.name;
        for (int size = 0; size < 4; size++) {
            for (int o0 = 0; o0 < 2; o0++) {
                int ld = A64.loadStoreExclusive(size, 0, 1, 0, 31, o0, 31, 1, 2);
                int st = A64.loadStoreExclusive(size, 0, 0, 0, 4, o0, 31, 1, 3);
                add(c, new int[] {ld, st}, 0, 1, SCRATCH + 64, 3, 0x1122_3344_5566_7788L);
                add(c, new int[] {ld, A64.barrier(15, 0b010), st}, 0, 1, SCRATCH + 64, 3, 0x1122_3344_5566_7788L);
                add(c, new int[] {st}, 0, 1, SCRATCH + 64, 3, 0x1122_3344_5566_7788L);
            }
        }
        for (int size = 2; size < 4; size++) {
            for (int o0 = 0; o0 < 2; o0++) {
                int ld = A64.loadStoreExclusive(size, 0, 1, 1, 31, o0, 5, 1, 2);
                int st = A64.loadStoreExclusive(size, 0, 0, 1, 4, o0, 6, 1, 3);
                add(cp, new int[] {ld, st}, 0, signedScratch(), 1, SCRATCH + 64, 3, 0x1122_3344_5566_7788L, 6,
                        0x99AA_BBCC_DDEE_FF00L);
                add(cp, new int[] {ld, A64.barrier(15, 0b010), st}, 0, 1, SCRATCH + 64, 3, 7, 6, 8);
            }
        }
    }

    /**
     * Code that rewrites an instruction of its own block and then executes it, with the sequence the architecture
     * requires for that (Arm ARM B2.4.4: the store, DC CVAU, DSB ISH, IC IVAU, DSB ISH, ISB): the new instruction
     * must run, not the one decoded before the store. The rewritten word is {@code MOVZ X0, #2} over
     * {@code MOVZ X0, #1}, or an ADD over a SUB (flags and all).
     */
    private void selfModifyingCode() {
        String c = "self-modifying code (STR to the code, DC CVAU, DSB, IC IVAU, DSB, ISB)";
        int[][] olds = {
            {A64.moveWide(1, 0b10, 0, 1, 0), A64.moveWide(1, 0b10, 0, 2, 0)},
            {A64.addSubShiftedRegister(1, 1, 1, 0, 4, 0, 3, 0), A64.addSubShiftedRegister(1, 0, 1, 0, 4, 0, 3, 0)},
        };
        for (int[] o : olds) {
            for (boolean viaBranch : new boolean[] {false, true}) {
                int target = viaBranch ? 10 : 9;
                int[] body = new int[target + 2];
                body[0] = A64.moveWide(0, 0b10, 0, o[1] & 0xFFFF, 1);
                body[1] = A64.moveWide(0, 0b11, 1, o[1] >>> 16, 1);
                body[2] = A64.pcRelAddressing(0, 4 * (target - 2), 2);
                body[3] = A64.loadStoreUnsignedImmediate(2, 0, 0, 2, 1);                    // str w1, [x2]
                body[4] = A64.systemInstruction(3, 7, 11, 1, 2);                             // dc cvau, x2
                body[5] = A64.barrier(0b1011, 0b100);                                         // dsb ish
                body[6] = A64.systemInstruction(3, 7, 5, 1, 2);                              // ic ivau, x2
                body[7] = A64.barrier(0b1011, 0b100);                                         // dsb ish
                body[8] = A64.barrier(0b1111, 0b110);                                         // isb
                if (viaBranch) {
                    body[9] = A64.unconditionalBranchImmediate(0, 1);                         // b .+4
                }
                body[target] = o[0];
                body[target + 1] = A64.hint(0, 0);                                           // nop
                add(c, body, 0, 3, 0x7FFF_FFFF_FFFF_FFFFL, 4, 1);
                // The same, then the old word written back with the same sequence: the code is the same after
                // the case as before, so it can run again and again (until its blocks are translated).
                int[] restoring = java.util.Arrays.copyOf(body, body.length + 8);
                int k = body.length;
                restoring[k] = A64.moveWide(0, 0b10, 0, o[0] & 0xFFFF, 1);
                restoring[k + 1] = A64.moveWide(0, 0b11, 1, o[0] >>> 16, 1);
                System.arraycopy(body, 3, restoring, k + 2, 6);                             // str ... isb
                add(c + ", restored", restoring, 0, 3, 0x7FFF_FFFF_FFFF_FFFFL, 4, 1);
            }
        }
    }

    private void system() {
        String c = EncodingClass.SYSTEM_REGISTER.name;
        for (int flags = 0; flags < 16; flags++) {
            oneWithFlags(c, A64.nzcv(A64.MRS, 0), flags << 28);
            one(c, A64.nzcv(A64.MSR, 1), 1, (long) flags << 28 | 0x0FFF_FFFFL | 0xFFFF_FFFF_0000_0000L);
        }
        add(c, new int[] {A64.tpidrEl0(A64.MSR, 1), A64.tpidrEl0(A64.MRS, 0)}, 0, 1, 0x0123_4567_89AB_CDEFL);
        one(c, A64.systemRegisterMove(1, 3, 3, 0, 0, 7, 0));                            // DCZID_EL0
        // DC ZVA zeroes the aligned block (DCZID_EL0.BS) holding the address, whatever the address's offset in it.
        for (long off : new long[] {64, 64 + 1, 64 + 63, 128 + 17}) {
            one(EncodingClass.CACHE_MAINTENANCE.name, A64.systemInstruction(3, 7, 4, 1, 1), 1, SCRATCH + off);
        }
        for (int imm = 0; imm < 128; imm++) {
            if (imm != 2 && imm != 3) {
                one(EncodingClass.HINTS.name, A64.hint(imm >> 3, imm & 7));
            }
        }
    }
}
