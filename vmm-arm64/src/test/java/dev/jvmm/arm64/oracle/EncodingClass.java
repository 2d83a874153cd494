package dev.jvmm.arm64.oracle;

import dev.jvmm.arm64.oracle.InstructionGenerator.Body;
import dev.jvmm.arm64.oracle.InstructionGenerator.Fix;

import java.util.Random;

/**
 * The encoding classes of the A64 base integer instruction set that the differential test generates, named as the
 * Arm ARM's encoding index names them (DDI 0487, C4.1), each with how to draw a random valid instance. Together they
 * cover every class a Cortex-A57 executes at EL0 without FP/AdvSIMD. Left out on purpose, because they do not compare
 * architectural state: exception generation (SVC, HVC, SMC, BRK, UDF, HLT: they leave the snippet), WFE/WFI (they
 * may wait), system registers other than NZCV, TPIDR_EL0, DCZID_EL0 (the others are EL1 or trap at EL0), and the
 * extensions a Cortex-A57 lacks (LSE atomics, LDAPR, PAuth, flag manipulation, MTE...), which the hostile test runs.
 */
enum EncodingClass {

    // ---------------------------------------------------------------------------- data processing, immediate

    PC_REL("PC-rel. addressing (ADR, ADRP)", EncodingClass::pcRel),
    ADD_SUB_IMMEDIATE("Add/subtract (immediate)", EncodingClass::addSubImmediate),
    LOGICAL_IMMEDIATE("Logical (immediate)", EncodingClass::logicalImmediate),
    MOVE_WIDE("Move wide (immediate)", EncodingClass::moveWide),
    BITFIELD("Bitfield (SBFM, BFM, UBFM)", EncodingClass::bitfield),
    EXTRACT("Extract (EXTR)", EncodingClass::extract),

    // ---------------------------------------------------------------------------- data processing, register

    LOGICAL_SHIFTED("Logical (shifted register)", EncodingClass::logicalShifted),
    ADD_SUB_SHIFTED("Add/subtract (shifted register)", EncodingClass::addSubShifted),
    ADD_SUB_EXTENDED("Add/subtract (extended register)", EncodingClass::addSubExtended),
    ADD_SUB_CARRY("Add/subtract (with carry)", EncodingClass::addSubCarry),
    CONDITIONAL_COMPARE_REGISTER("Conditional compare (register)", EncodingClass::conditionalCompareRegister),
    CONDITIONAL_COMPARE_IMMEDIATE("Conditional compare (immediate)", EncodingClass::conditionalCompareImmediate),
    CONDITIONAL_SELECT("Conditional select", EncodingClass::conditionalSelect),
    DATA_PROCESSING_3_SOURCE("Data-processing (3 source)", EncodingClass::dataProcessing3Source),
    DATA_PROCESSING_2_SOURCE("Data-processing (2 source)", EncodingClass::dataProcessing2Source),
    DATA_PROCESSING_1_SOURCE("Data-processing (1 source)", EncodingClass::dataProcessing1Source),

    // ------------------------------------------------------------------------------------------ branches

    CONDITIONAL_BRANCH("Conditional branch (immediate)", EncodingClass::conditionalBranch),
    UNCONDITIONAL_BRANCH_IMMEDIATE("Unconditional branch (immediate)", EncodingClass::unconditionalBranchImmediate),
    COMPARE_AND_BRANCH("Compare and branch (immediate)", EncodingClass::compareAndBranch),
    TEST_AND_BRANCH("Test and branch (immediate)", EncodingClass::testAndBranch),
    UNCONDITIONAL_BRANCH_REGISTER("Unconditional branch (register)", EncodingClass::unconditionalBranchRegister),
    BACKWARD_BRANCH("Counted loop (backward B.cond, CBNZ, TBZ)", EncodingClass::backwardBranch),

    // ------------------------------------------------------------------------------------------ system

    HINTS("Hints (NOP, YIELD, SEV, SEVL, unallocated hints)", EncodingClass::hints),
    BARRIERS("Barriers (CLREX, DSB, DMB, ISB)", EncodingClass::barriers),
    SYSTEM_REGISTER("System register move (NZCV, TPIDR_EL0, DCZID_EL0)", EncodingClass::systemRegister),
    CACHE_MAINTENANCE("System instructions (DC ZVA, DC CVAC/CVAU/CIVAC, IC IVAU)", EncodingClass::cacheMaintenance),

    // ------------------------------------------------------------------------------------------ loads and stores

    LOAD_LITERAL("Load register (literal)", EncodingClass::loadLiteral),
    LOAD_STORE_UNSIGNED_IMMEDIATE("Load/store register (unsigned immediate)",
            EncodingClass::loadStoreUnsignedImmediate),
    LOAD_STORE_UNSCALED("Load/store register (unscaled immediate)", (g, b, n) -> imm9Form(g, b, A64.UNSCALED, n)),
    LOAD_STORE_POST_INDEXED("Load/store register (immediate post-indexed)",
            (g, b, n) -> imm9Form(g, b, A64.POST_INDEXED, n)),
    LOAD_STORE_PRE_INDEXED("Load/store register (immediate pre-indexed)",
            (g, b, n) -> imm9Form(g, b, A64.PRE_INDEXED, n)),
    LOAD_STORE_UNPRIVILEGED("Load/store register (unprivileged)", (g, b, n) -> imm9Form(g, b, A64.UNPRIVILEGED, n)),
    LOAD_STORE_REGISTER_OFFSET("Load/store register (register offset)", EncodingClass::loadStoreRegisterOffset),
    LOAD_STORE_PAIR_OFFSET("Load/store pair (signed offset)", (g, b, n) -> pairForm(g, b, A64.PAIR_OFFSET, n)),
    LOAD_STORE_PAIR_POST_INDEXED("Load/store pair (post-indexed)",
            (g, b, n) -> pairForm(g, b, A64.PAIR_POST_INDEXED, n)),
    LOAD_STORE_PAIR_PRE_INDEXED("Load/store pair (pre-indexed)", (g, b, n) -> pairForm(g, b, A64.PAIR_PRE_INDEXED, n)),
    LOAD_STORE_NO_ALLOCATE_PAIR("Load/store no-allocate pair (offset)",
            (g, b, n) -> pairForm(g, b, A64.PAIR_NO_ALLOCATE, n)),
    LOAD_ACQUIRE_STORE_RELEASE("Load-acquire/store-release (LDAR, STLR)", EncodingClass::loadAcquireStoreRelease),
    LOAD_STORE_EXCLUSIVE("Load/store exclusive register (LDXR, LDAXR, STXR, STLXR)",
            (g, b, n) -> exclusiveForm(g, b, false, n)),
    LOAD_STORE_EXCLUSIVE_PAIR("Load/store exclusive pair (LDXP, LDAXP, STXP, STLXP)",
            (g, b, n) -> exclusiveForm(g, b, true, n));

    /** Draws one random unit of a class into a body; {@code name} is the class's name. */
    @FunctionalInterface
    interface UnitGenerator {
        void generate(InstructionGenerator g, Body b, String name);
    }

    /** The Arm ARM's name of the class. */
    final String name;
    private final UnitGenerator generator;

    EncodingClass(String name, UnitGenerator generator) {
        this.name = name;
        this.generator = generator;
    }

    /** Appends one random unit of this class to {@code b}. */
    void generate(InstructionGenerator g, Body b) {
        generator.generate(g, b, name);
    }

    // ------------------------------------------------------------------------------------------------ the classes

    private static void pcRel(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        b.add(A64.pcRelAddressing(r.nextInt(2), r.nextInt(1 << 21) - (1 << 20), g.reg()), name);
    }

    private static void addSubImmediate(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int imm = r.nextBoolean() ? r.nextInt(4096) : r.nextInt(8) == 0 ? 4095 : r.nextInt(3);
        b.add(A64.addSubImmediate(r.nextInt(2), r.nextInt(2), r.nextInt(2), r.nextInt(2), imm, g.reg(), g.reg()),
                name);
    }

    private static void logicalImmediate(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int sf = r.nextInt(2);
        int esize = 2 << r.nextInt(sf == 1 ? 6 : 5);
        int f = A64.bitmaskFields(esize, 1 + r.nextInt(esize - 1), r.nextInt(esize));
        int immr = f >> 6 & 0x3F;
        if (esize < 64 && r.nextInt(4) == 0) {
            immr |= r.nextInt(64) & ~(esize - 1) & (sf == 1 ? 0x3F : 0x1F); // ignored bits (DecodeBitMasks)
        }
        b.add(A64.logicalImmediate(sf, r.nextInt(4), f >> 12, immr, f & 0x3F, g.reg(), g.reg()), name);
    }

    private static void moveWide(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int sf = r.nextInt(2);
        int[] opcs = {0b00, 0b10, 0b11};
        b.add(A64.moveWide(sf, opcs[r.nextInt(3)], r.nextInt(sf == 1 ? 4 : 2), r.nextInt(65536), g.reg()), name);
    }

    private static void bitfield(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int sf = r.nextInt(2);
        int w = sf == 1 ? 64 : 32;
        b.add(A64.bitfield(sf, r.nextInt(3), sf, edgyShift(r, w), edgyShift(r, w), g.reg(), g.reg()), name);
    }

    private static void extract(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int sf = r.nextInt(2);
        b.add(A64.extract(sf, sf, g.reg(), edgyShift(r, sf == 1 ? 64 : 32), g.reg(), g.reg()), name);
    }

    private static void logicalShifted(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int sf = r.nextInt(2);
        b.add(A64.logicalShiftedRegister(sf, r.nextInt(4), r.nextInt(4), r.nextInt(2), g.reg(),
                edgyShift(r, sf == 1 ? 64 : 32), g.reg(), g.reg()), name);
    }

    private static void addSubShifted(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int sf = r.nextInt(2);
        b.add(A64.addSubShiftedRegister(sf, r.nextInt(2), r.nextInt(2), r.nextInt(3), g.reg(),
                edgyShift(r, sf == 1 ? 64 : 32), g.reg(), g.reg()), name);
    }

    private static void addSubExtended(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        b.add(A64.addSubExtendedRegister(r.nextInt(2), r.nextInt(2), r.nextInt(2), g.reg(), r.nextInt(8),
                r.nextInt(5), g.reg(), g.reg()), name);
    }

    private static void addSubCarry(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        b.add(A64.addSubWithCarry(r.nextInt(2), r.nextInt(2), r.nextInt(2), g.reg(), g.reg(), g.reg()), name);
    }

    private static void conditionalCompareRegister(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        b.add(A64.conditionalCompareRegister(r.nextInt(2), r.nextInt(2), g.reg(), r.nextInt(16), g.reg(),
                r.nextInt(16)), name);
    }

    private static void conditionalCompareImmediate(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        b.add(A64.conditionalCompareImmediate(r.nextInt(2), r.nextInt(2), r.nextInt(32), r.nextInt(16), g.reg(),
                r.nextInt(16)), name);
    }

    private static void conditionalSelect(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        b.add(A64.conditionalSelect(r.nextInt(2), r.nextInt(2), g.reg(), r.nextInt(16), r.nextInt(2), g.reg(),
                g.reg()), name);
    }

    private static void dataProcessing3Source(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        // MADD, MSUB (both sizes); SMADDL, SMSUBL, UMADDL, UMSUBL, SMULH, UMULH (64-bit only).
        int[][] forms = {{0, 0b000, 0}, {0, 0b000, 1}, {1, 0b000, 0}, {1, 0b000, 1}, {1, 0b001, 0}, {1, 0b001, 1},
                {1, 0b101, 0}, {1, 0b101, 1}, {1, 0b010, 0}, {1, 0b110, 0}};
        int[] f = forms[r.nextInt(forms.length)];
        boolean high = f[1] == 0b010 || f[1] == 0b110;
        b.add(A64.dataProcessing3Source(f[0], f[1], g.reg(), f[2], high ? 31 : g.reg(), g.reg(), g.reg()), name);
    }

    private static void dataProcessing2Source(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int opcode;
        int sf;
        switch (r.nextInt(3)) {
            case 0 -> { // UDIV, SDIV
                opcode = 0b000010 | r.nextInt(2);
                sf = r.nextInt(2);
            }
            case 1 -> { // LSLV, LSRV, ASRV, RORV
                opcode = 0b001000 | r.nextInt(4);
                sf = r.nextInt(2);
            }
            default -> { // CRC32B/H/W/X, CRC32CB/CH/CW/CX: the X forms are 64-bit, the others 32-bit
                int sz = r.nextInt(4);
                opcode = 0b010000 | r.nextInt(2) << 2 | sz;
                sf = sz == 3 ? 1 : 0;
            }
        }
        b.add(A64.dataProcessing2Source(sf, opcode, g.reg(), g.reg(), g.reg()), name);
    }

    private static void dataProcessing1Source(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int sf = r.nextInt(2);
        // RBIT, REV16, REV (32) / REV32 (64), REV (64 only), CLZ, CLS.
        int[] opcodes = sf == 1 ? new int[] {0, 1, 2, 3, 4, 5} : new int[] {0, 1, 2, 4, 5};
        b.add(A64.dataProcessing1Source(sf, opcodes[r.nextInt(opcodes.length)], g.reg(), g.reg()), name);
    }

    private static void conditionalBranch(InstructionGenerator g, Body b, String name) {
        b.addTo(A64.conditionalBranch(0, g.random().nextInt(16)), name, Fix.IMM19, b.forwardTarget());
    }

    /** The register-only classes a loop body draws from: they neither branch nor touch memory. */
    private static final EncodingClass[] LOOP_BODY = {ADD_SUB_IMMEDIATE, LOGICAL_IMMEDIATE, MOVE_WIDE, BITFIELD,
        EXTRACT, LOGICAL_SHIFTED, ADD_SUB_SHIFTED, ADD_SUB_EXTENDED, ADD_SUB_CARRY, CONDITIONAL_SELECT,
        DATA_PROCESSING_3_SOURCE, DATA_PROCESSING_2_SOURCE, DATA_PROCESSING_1_SOURCE};

    /**
     * A counted loop, the only backward branches generated: a counter register set to 1..12, a body of register
     * arithmetic that leaves the counter alone (checked on the Rd field), the decrement, and a backward B.NE, CBNZ or
     * TBZ/TBNZ on the counter. Blocks run again and again, as in real code.
     */
    private static void backwardBranch(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int counter = g.gpr();
        int trips = 1 + r.nextInt(12);
        int variant = r.nextInt(3);
        // B.NE and CBNZ count down from trips to 0; TBNZ on bit 63 counts up from -trips while the count is negative.
        b.setup(variant == 2 ? A64.moveWide(1, 0b00, 0, trips - 1, counter) : A64.moveWide(1, 0b10, 0, trips, counter));
        int k = 1 + r.nextInt(6);
        for (int i = 0; i < k; i++) {
            EncodingClass c = LOOP_BODY[r.nextInt(LOOP_BODY.length)];
            int word;
            do {                                           // a body instruction must not write the counter
                Body one = g.new Body(1);
                one.startUnit(0);
                c.generate(g, one);
                word = one.finish().body()[0];
            } while ((word & 31) == counter);
            b.add(word, c.name);
        }
        int back = -(k + 1);
        switch (variant) {
            case 0 -> {
                b.add(A64.addSubImmediate(1, 1, 1, 0, 1, counter, counter), ADD_SUB_IMMEDIATE.name); // subs c, c, #1
                b.add(A64.conditionalBranch(back, 1), name);                                          // b.ne body
            }
            case 1 -> {
                b.add(A64.addSubImmediate(1, 1, 0, 0, 1, counter, counter), ADD_SUB_IMMEDIATE.name); // sub c, c, #1
                b.add(A64.compareAndBranch(1, 1, back, counter), name);                             // cbnz c, body
            }
            default -> {
                b.add(A64.addSubImmediate(1, 0, 0, 0, 1, counter, counter), ADD_SUB_IMMEDIATE.name); // add c, c, #1
                b.add(A64.testAndBranch(1, 63, back, counter), name);                                // tbnz c, #63
            }
        }
    }

    private static void unconditionalBranchImmediate(InstructionGenerator g, Body b, String name) {
        b.addTo(A64.unconditionalBranchImmediate(g.random().nextInt(2), 0), name, Fix.IMM26, b.forwardTarget());
    }

    private static void compareAndBranch(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        b.addTo(A64.compareAndBranch(r.nextInt(2), r.nextInt(2), 0, g.reg()), name, Fix.IMM19, b.forwardTarget());
    }

    private static void testAndBranch(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        b.addTo(A64.testAndBranch(r.nextInt(2), r.nextInt(64), 0, g.reg()), name, Fix.IMM14, b.forwardTarget());
    }

    private static void unconditionalBranchRegister(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int opc = r.nextInt(3);                      // BR, BLR, RET
        int rn = opc == 2 && r.nextBoolean() ? 30 : g.gpr();
        b.addTo(A64.pcRelAddressing(0, 0, rn), InstructionGenerator.SETUP, Fix.ADR, b.forwardTarget());
        b.add(A64.unconditionalBranchRegister(opc, rn), name);
    }

    private static void hints(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int imm;
        do {
            imm = r.nextBoolean() ? r.nextInt(6) : r.nextInt(128);
        } while (imm == 2 || imm == 3);              // WFE and WFI may wait: not here
        b.add(A64.hint(imm >> 3, imm & 7), name);
    }

    private static void barriers(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int op2 = new int[] {0b010, 0b100, 0b101, 0b110}[r.nextInt(4)];
        // ISB's only defined option is SY (CRm 1111); DSB and DMB accept any (reserved ones act as SY).
        int crm = op2 == 0b110 ? 0b1111 : r.nextInt(16);
        if (op2 == 0b100 && (crm == 0b0000 || crm == 0b0100)) {
            crm = 0b1111;                            // SSBB, PSSBB: fine on v8.0 too, but keep the DSB form
        }
        b.add(A64.barrier(crm, op2), name);
    }

    private static void systemRegister(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        switch (r.nextInt(4)) {
            case 0 -> b.add(A64.nzcv(A64.MRS, g.reg()), name);
            case 1 -> b.add(A64.nzcv(A64.MSR, g.reg()), name);
            case 2 -> { // TPIDR_EL0 holds the harness's x0 between cases: write it, then read it back
                b.add(A64.tpidrEl0(A64.MSR, g.reg()), name);
                b.add(A64.tpidrEl0(A64.MRS, g.reg()), name);
            }
            default -> b.add(A64.systemRegisterMove(1, 3, 3, 0, 0, 7, g.reg()), name); // MRS Xt, DCZID_EL0
        }
    }

    private static void cacheMaintenance(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int rt = g.gpr();
        g.setBase(b, rt, 0, 1, 1);
        int[][] ops = {{7, 4, 1}, {7, 4, 1}, {7, 10, 1}, {7, 11, 1}, {7, 14, 1}, {7, 5, 1}};
        int[] op = ops[r.nextInt(ops.length)];
        b.add(A64.systemInstruction(3, op[0], op[1], op[2], rt), name);
    }

    private static void loadLiteral(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int opc = r.nextInt(4);                      // LDR W, LDR X, LDRSW, PRFM
        b.addTo(A64.loadLiteral(opc, 0, opc == 3 ? r.nextInt(32) : g.reg()), name, Fix.IMM19, b.anyTarget());
    }

    private static void loadStoreUnsignedImmediate(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int[] so = sizeAndOpc(r, true);
        int size = so[0];
        int opc = so[1];
        int imm = r.nextBoolean() ? r.nextInt(16) : r.nextInt(4096);
        int rn = g.reg();
        if (size == 3 && opc == 2 && r.nextBoolean()) {
            b.add(A64.loadStoreUnsignedImmediate(size, opc, imm, rn, r.nextInt(32)), name); // PRFM anywhere
            return;
        }
        if (rn == 31) {
            imm = r.nextInt(Math.max(1, (HarnessDescriptor.SCRATCH_SIZE >> size) - 16));
        }
        g.setBase(b, rn, (long) imm << size, 1 << size, 1);
        b.add(A64.loadStoreUnsignedImmediate(size, opc, imm, rn, g.reg()), name);
    }

    private static void loadStoreRegisterOffset(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int[] so = sizeAndOpc(r, true);
        int size = so[0];
        int opc = so[1];
        int option = new int[] {0b010, 0b011, 0b110, 0b111}[r.nextInt(4)];
        int s = r.nextInt(2);
        int rn = g.reg();
        int rm = g.regExcept(rn == 31 ? -1 : rn);
        long index = rm == 31 ? 0 : r.nextInt(64) - 32;
        long offset = index << (s == 1 ? size : 0);
        long value = index;                          // what Rm holds: junk where the extend ignores it
        if (option == 0b010) {
            value = (index & 0xFFFF_FFFFL) | (r.nextLong() & 0xFFFF_FFFF_0000_0000L);
            offset = (index & 0xFFFF_FFFFL) << (s == 1 ? size : 0);
        } else if (option == 0b110) {
            value = (index & 0xFFFF_FFFFL) | (r.nextLong() & 0xFFFF_FFFF_0000_0000L);
        }
        if (rm == 31) {
            value = 0;
            offset = 0;
        }
        if (size == 3 && opc == 2 && r.nextBoolean()) {
            b.add(A64.loadStoreRegisterOffset(size, opc, rm, option, s, rn, r.nextInt(32)), name); // PRFM
            return;
        }
        g.setBase(b, rn, offset, 1 << size, 1);
        if (rm != 31) {
            g.setX(b, rm, value);
        }
        b.add(A64.loadStoreRegisterOffset(size, opc, rm, option, s, rn, g.reg()), name);
    }

    private static void loadAcquireStoreRelease(InstructionGenerator g, Body b, String name) {
        Random r = g.random();
        int size = r.nextInt(4);
        int l = r.nextInt(2);
        int rn = g.reg();
        g.setBase(b, rn, 0, 1 << size, 1 << size);
        b.add(A64.loadStoreExclusive(size, 1, l, 0, 31, 1, 31, rn, g.reg()), name);
    }


    /** A shift or bit position in [0, width), its ends (0, 1, width-1, width/2) often. */
    static int edgyShift(Random r, int width) {
        return switch (r.nextInt(6)) {
            case 0 -> 0;
            case 1 -> width - 1;
            case 2 -> 1;
            case 3 -> width / 2;
            default -> r.nextInt(width);
        };
    }

    /**
     * A valid (size, opc) of the load/store register classes: STR, LDR, LDRS to X or W for bytes and halfwords;
     * STR, LDR, LDRSW for words; STR, LDR (and PRFM when {@code prefetch}) for doublewords.
     */
    static int[] sizeAndOpc(Random r, boolean prefetch) {
        int size = r.nextInt(4);
        int opc = switch (size) {
            case 0, 1 -> r.nextInt(4);
            case 2 -> r.nextInt(3);
            default -> prefetch ? r.nextInt(3) : r.nextInt(2);
        };
        return new int[] {size, opc};
    }

    /** The imm9 forms: unscaled (LDUR, STUR, PRFUM), post- and pre-indexed, unprivileged (LDTR, STTR). */
    static void imm9Form(InstructionGenerator g, Body b, int idx, String name) {
        Random r = g.random();
        boolean prfum = idx == A64.UNSCALED;
        int[] so = sizeAndOpc(r, prfum);
        int size = so[0];
        int opc = so[1];
        int imm = r.nextBoolean() ? r.nextInt(32) - 16 : r.nextInt(512) - 256;
        int rn = g.reg();
        boolean writeback = idx == A64.PRE_INDEXED || idx == A64.POST_INDEXED;
        int rt = writeback ? g.regExcept(rn == 31 ? -1 : rn) : g.reg();
        if (size == 3 && opc == 2) {
            if (r.nextBoolean()) {                       // PRFUM with whatever the base holds: never faults
                b.add(A64.loadStoreImm9(size, opc, imm, idx, rn, r.nextInt(32)), name);
                return;
            }
            rt = r.nextInt(32);
        }
        long accessOffset = idx == A64.POST_INDEXED ? 0 : imm;
        g.setBase(b, rn, accessOffset, 1 << size, 1);
        b.add(A64.loadStoreImm9(size, opc, imm, idx, rn, rt), name);
    }

    /** STP, LDP, LDPSW, STNP, LDNP in the given addressing form. */
    static void pairForm(InstructionGenerator g, Body b, int type, String name) {
        Random r = g.random();
        int l = r.nextInt(2);
        // opc 00: 32-bit, 10: 64-bit; 01 is LDPSW (loads only, not for the no-allocate pair).
        int opc = l == 1 && type != A64.PAIR_NO_ALLOCATE && r.nextInt(3) == 0 ? 0b01 : r.nextBoolean() ? 0b00 : 0b10;
        int scale = opc == 0b10 ? 3 : 2;
        int imm = r.nextBoolean() ? r.nextInt(8) - 4 : r.nextInt(128) - 64;
        int rn = g.reg();
        boolean writeback = type == A64.PAIR_POST_INDEXED || type == A64.PAIR_PRE_INDEXED;
        int rt = writeback ? g.regExcept(rn == 31 ? -1 : rn) : g.reg();
        int rt2 = l == 1 ? g.regExcept(rt, writeback && rn != 31 ? rn : -1)
                : writeback ? g.regExcept(rn == 31 ? -1 : rn) : g.reg();
        if (l == 1 && rt == 31 && rt2 == 31) {
            rt2 = g.gpr();
        }
        long accessOffset = type == A64.PAIR_POST_INDEXED ? 0 : (long) imm << scale;
        g.setBase(b, rn, accessOffset, 2 << scale, 1);
        b.add(A64.loadStorePair(opc, type, l, imm, rt2, rn, rt), name);
    }

    /**
     * A load-exclusive and its store-exclusive (same address and size, only register arithmetic between), or a
     * store-exclusive after CLREX (it must fail and write nothing), or a load-exclusive then CLREX then the store.
     */
    static void exclusiveForm(InstructionGenerator g, Body b, boolean pair, String name) {
        Random r = g.random();
        int size = pair ? 2 + r.nextInt(2) : r.nextInt(4);
        int bytes = pair ? 2 << size : 1 << size;
        int rn = g.reg();
        g.setBase(b, rn, 0, bytes, bytes);
        int variant = r.nextInt(8);                      // 0..5: load then store; 6: CLREX between; 7: store only
        if (variant < 7) {
            // The loaded registers must not overwrite the base: the store-exclusive must use the same address.
            int rt = g.regExcept(rn == 31 ? -1 : rn);
            int rt2 = pair ? g.regExcept(rt, rn == 31 ? -1 : rn) : 31;
            if (pair && rt == 31 && rt2 == 31) {
                rt2 = g.gpr();
            }
            b.add(A64.loadStoreExclusive(size, 0, 1, pair ? 1 : 0, 31, r.nextInt(2), rt2, rn, rt), name);
            for (int k = r.nextInt(3); k > 0; k--) {     // arithmetic that leaves the base alone
                int rd = g.gprExcept(rn);
                b.add(A64.addSubShiftedRegister(1, r.nextInt(2), r.nextInt(2), 0, g.reg(), r.nextInt(64), g.reg(),
                        rd), EncodingClass.ADD_SUB_SHIFTED.name);
            }
            if (variant == 6) {
                b.add(A64.barrier(0b1111, 0b010), BARRIERS.name);
            }
        } else {
            b.add(A64.barrier(r.nextInt(16), 0b010), BARRIERS.name);
        }
        int st = g.reg();
        int st2 = pair ? g.reg() : 31;
        // The status register must differ from the data and base registers (Arm ARM C6.2 STXR: else UNPREDICTABLE).
        int rs = g.regExcept(st, st2, rn == 31 ? -1 : rn);
        if (rs == 31 && (st == 31 || st2 == 31)) {
            rs = g.gprExcept(st, st2, rn);
        }
        b.add(A64.loadStoreExclusive(size, 0, 0, pair ? 1 : 0, rs, r.nextInt(2), st2, rn, st), name);
    }
}
