package dev.jvmm.arm64.oracle;

/**
 * Encoders for the A64 base integer instructions that the oracle generates, one method per encoding group of the
 * Arm Architecture Reference Manual (DDI 0487, C4.1 "A64 instruction set encoding"), named as the manual names the
 * group. Each takes the group's fields by their manual names and returns the 32-bit instruction word. Fields are
 * masked to their width, so a caller can pass a signed offset.
 *
 * <p>These are the oracle's own encoders, written from the manual's tables and checked against GNU objdump
 * ({@code A64EncodingTest}); they do not share code with the CPU under test.
 */
final class A64 {
    private A64() {
    }

    /** Register number 31: SP or ZR, depending on the field. */
    static final int R31 = 31;

    // ------------------------------------------------------------------------ data processing, immediate (C4.1.86)

    /** PC-rel. addressing: ADR (op 0) and ADRP (op 1), {@code imm} the 21-bit signed immediate (bytes or pages). */
    static int pcRelAddressing(int op, int imm21, int rd) {
        return op << 31 | (imm21 & 3) << 29 | 0b10000 << 24 | (imm21 >> 2 & 0x7FFFF) << 5 | rd;
    }

    /** Add/subtract (immediate): ADD, ADDS, SUB, SUBS; {@code sh} shifts imm12 left by 12. */
    static int addSubImmediate(int sf, int op, int s, int sh, int imm12, int rn, int rd) {
        return sf << 31 | op << 30 | s << 29 | 0b100010 << 23 | sh << 22 | (imm12 & 0xFFF) << 10 | rn << 5 | rd;
    }

    /** Logical (immediate): AND (opc 00), ORR (01), EOR (10), ANDS (11). */
    static int logicalImmediate(int sf, int opc, int n, int immr, int imms, int rn, int rd) {
        return sf << 31 | opc << 29 | 0b100100 << 23 | n << 22 | immr << 16 | imms << 10 | rn << 5 | rd;
    }

    /** Move wide (immediate): MOVN (opc 00), MOVZ (10), MOVK (11). */
    static int moveWide(int sf, int opc, int hw, int imm16, int rd) {
        return sf << 31 | opc << 29 | 0b100101 << 23 | hw << 21 | (imm16 & 0xFFFF) << 5 | rd;
    }

    /** Bitfield: SBFM (opc 00), BFM (01), UBFM (10). */
    static int bitfield(int sf, int opc, int n, int immr, int imms, int rn, int rd) {
        return sf << 31 | opc << 29 | 0b100110 << 23 | n << 22 | immr << 16 | imms << 10 | rn << 5 | rd;
    }

    /** Extract: EXTR. */
    static int extract(int sf, int n, int rm, int imms, int rn, int rd) {
        return sf << 31 | 0b100111 << 23 | n << 22 | rm << 16 | imms << 10 | rn << 5 | rd;
    }

    // ------------------------------------------------------------------ branches, exceptions, system (C4.1.87)

    /** Conditional branch (immediate): B.cond, {@code imm19} in words. */
    static int conditionalBranch(int imm19, int cond) {
        return 0x5400_0000 | (imm19 & 0x7FFFF) << 5 | cond;
    }

    /** Unconditional branch (immediate): B (op 0), BL (op 1), {@code imm26} in words. */
    static int unconditionalBranchImmediate(int op, int imm26) {
        return op << 31 | 0b00101 << 26 | imm26 & 0x3FF_FFFF;
    }

    /** Compare and branch (immediate): CBZ (op 0), CBNZ (op 1). */
    static int compareAndBranch(int sf, int op, int imm19, int rt) {
        return sf << 31 | 0b011010 << 25 | op << 24 | (imm19 & 0x7FFFF) << 5 | rt;
    }

    /** Test and branch (immediate): TBZ (op 0), TBNZ (op 1) on bit {@code bit} (0..63) of Rt. */
    static int testAndBranch(int op, int bit, int imm14, int rt) {
        return (bit >> 5) << 31 | 0b011011 << 25 | op << 24 | (bit & 31) << 19 | (imm14 & 0x3FFF) << 5 | rt;
    }

    /** Unconditional branch (register): BR (opc 0000), BLR (0001), RET (0010). */
    static int unconditionalBranchRegister(int opc, int rn) {
        return 0b1101011 << 25 | opc << 21 | 0b11111 << 16 | rn << 5;
    }

    /** Hints: HINT #(CRm:op2); NOP is 0, YIELD 1, WFE 2, WFI 3, SEV 4, SEVL 5. */
    static int hint(int crm, int op2) {
        return 0xD503_201F | crm << 8 | op2 << 5;
    }

    /** Barriers: CLREX (op2 010), DSB (100), DMB (101), ISB (110), with CRm the option. */
    static int barrier(int crm, int op2) {
        return 0xD503_301F | crm << 8 | op2 << 5;
    }

    /** System register move: MSR (l 0) and MRS (l 1), op0 2 or 3. */
    static int systemRegisterMove(int l, int op0, int op1, int crn, int crm, int op2, int rt) {
        return 0xD510_0000 | l << 21 | (op0 & 1) << 19 | op1 << 16 | crn << 12 | crm << 8 | op2 << 5 | rt;
    }

    /** System instructions: SYS (DC, IC, AT, TLBI aliases), op0 1. */
    static int systemInstruction(int op1, int crn, int crm, int op2, int rt) {
        return 0xD508_0000 | op1 << 16 | crn << 12 | crm << 8 | op2 << 5 | rt;
    }

    /** Exception generation: SVC (opc 000, ll 01), HVC (000, 10), SMC (000, 11), BRK (001, 00). */
    static int exceptionGeneration(int opc, int imm16, int ll) {
        return 0xD400_0000 | opc << 21 | (imm16 & 0xFFFF) << 5 | ll;
    }

    static final int MRS = 1;
    static final int MSR = 0;

    /** MRS/MSR NZCV: op0 3, op1 3, CRn 4, CRm 2, op2 0. */
    static int nzcv(int l, int rt) {
        return systemRegisterMove(l, 3, 3, 4, 2, 0, rt);
    }

    /** MRS/MSR TPIDR_EL0: op0 3, op1 3, CRn 13, CRm 0, op2 2. */
    static int tpidrEl0(int l, int rt) {
        return systemRegisterMove(l, 3, 3, 13, 0, 2, rt);
    }

    // ------------------------------------------------------------------------- loads and stores (C4.1.88)

    /** Load register (literal): LDR W (opc 00), LDR X (01), LDRSW (10), PRFM (11); {@code imm19} in words. */
    static int loadLiteral(int opc, int imm19, int rt) {
        return opc << 30 | 0b011 << 27 | (imm19 & 0x7FFFF) << 5 | rt;
    }

    /**
     * Load/store register (unscaled immediate, immediate post-indexed, unprivileged, immediate pre-indexed):
     * {@code idx} 00, 01, 10, 11 (bits 11:10).
     */
    static int loadStoreImm9(int size, int opc, int imm9, int idx, int rn, int rt) {
        return size << 30 | 0b111 << 27 | opc << 22 | (imm9 & 0x1FF) << 12 | idx << 10 | rn << 5 | rt;
    }

    static final int UNSCALED = 0b00;
    static final int POST_INDEXED = 0b01;
    static final int UNPRIVILEGED = 0b10;
    static final int PRE_INDEXED = 0b11;

    /** Load/store register (unsigned immediate), {@code imm12} scaled by the access size. */
    static int loadStoreUnsignedImmediate(int size, int opc, int imm12, int rn, int rt) {
        return size << 30 | 0b111 << 27 | 0b01 << 24 | opc << 22 | (imm12 & 0xFFF) << 10 | rn << 5 | rt;
    }

    /** Load/store register (register offset): option 010 UXTW, 011 LSL, 110 SXTW, 111 SXTX; s scales by the size. */
    static int loadStoreRegisterOffset(int size, int opc, int rm, int option, int s, int rn, int rt) {
        return size << 30 | 0b111 << 27 | opc << 22 | 1 << 21 | rm << 16 | option << 13 | s << 12 | 0b10 << 10
                | rn << 5 | rt;
    }

    /** Load/store pair: type 000 no-allocate offset, 001 post-indexed, 010 signed offset, 011 pre-indexed. */
    static int loadStorePair(int opc, int type, int l, int imm7, int rt2, int rn, int rt) {
        return opc << 30 | 0b101 << 27 | type << 23 | l << 22 | (imm7 & 0x7F) << 15 | rt2 << 10 | rn << 5 | rt;
    }

    static final int PAIR_NO_ALLOCATE = 0b000;
    static final int PAIR_POST_INDEXED = 0b001;
    static final int PAIR_OFFSET = 0b010;
    static final int PAIR_PRE_INDEXED = 0b011;

    /** Load/store exclusive and ordered (o2 L o1 o0 select STXR, LDXR, STXP, LDXP, STLR, LDAR and the A/L forms). */
    static int loadStoreExclusive(int size, int o2, int l, int o1, int rs, int o0, int rt2, int rn, int rt) {
        return size << 30 | 0b001000 << 24 | o2 << 23 | l << 22 | o1 << 21 | rs << 16 | o0 << 15 | rt2 << 10
                | rn << 5 | rt;
    }

    // ------------------------------------------------------------------------ data processing, register (C4.1.89)

    /** Logical (shifted register): AND, BIC, ORR, ORN, EOR, EON, ANDS, BICS by opc:N; shift LSL LSR ASR ROR. */
    static int logicalShiftedRegister(int sf, int opc, int shift, int n, int rm, int imm6, int rn, int rd) {
        return sf << 31 | opc << 29 | 0b01010 << 24 | shift << 22 | n << 21 | rm << 16 | imm6 << 10 | rn << 5 | rd;
    }

    /** Add/subtract (shifted register); shift LSL LSR ASR. */
    static int addSubShiftedRegister(int sf, int op, int s, int shift, int rm, int imm6, int rn, int rd) {
        return sf << 31 | op << 30 | s << 29 | 0b01011 << 24 | shift << 22 | rm << 16 | imm6 << 10 | rn << 5 | rd;
    }

    /** Add/subtract (extended register): option UXTB..SXTX, imm3 0..4. */
    static int addSubExtendedRegister(int sf, int op, int s, int rm, int option, int imm3, int rn, int rd) {
        return sf << 31 | op << 30 | s << 29 | 0b01011 << 24 | 1 << 21 | rm << 16 | option << 13 | imm3 << 10
                | rn << 5 | rd;
    }

    /** Add/subtract (with carry): ADC, ADCS, SBC, SBCS. */
    static int addSubWithCarry(int sf, int op, int s, int rm, int rn, int rd) {
        return sf << 31 | op << 30 | s << 29 | 0b11010000 << 21 | rm << 16 | rn << 5 | rd;
    }

    /** Conditional compare (register): CCMN (op 0), CCMP (op 1). */
    static int conditionalCompareRegister(int sf, int op, int rm, int cond, int rn, int nzcv) {
        return sf << 31 | op << 30 | 1 << 29 | 0b11010010 << 21 | rm << 16 | cond << 12 | rn << 5 | nzcv;
    }

    /** Conditional compare (immediate): CCMN, CCMP with a 5-bit unsigned immediate. */
    static int conditionalCompareImmediate(int sf, int op, int imm5, int cond, int rn, int nzcv) {
        return sf << 31 | op << 30 | 1 << 29 | 0b11010010 << 21 | imm5 << 16 | cond << 12 | 1 << 11 | rn << 5 | nzcv;
    }

    /** Conditional select: CSEL (op 0, op2 00), CSINC (0, 01), CSINV (1, 00), CSNEG (1, 01). */
    static int conditionalSelect(int sf, int op, int rm, int cond, int op2, int rn, int rd) {
        return sf << 31 | op << 30 | 0b11010100 << 21 | rm << 16 | cond << 12 | op2 << 10 | rn << 5 | rd;
    }

    /** Data-processing (3 source): op31 000 MADD/MSUB, 001 SMADDL/SMSUBL, 010 SMULH, 101 UMADDL/UMSUBL, 110 UMULH. */
    static int dataProcessing3Source(int sf, int op31, int rm, int o0, int ra, int rn, int rd) {
        return sf << 31 | 0b11011 << 24 | op31 << 21 | rm << 16 | o0 << 15 | ra << 10 | rn << 5 | rd;
    }

    /** Data-processing (2 source): UDIV 000010, SDIV 000011, LSLV..RORV 0010xx, CRC32 010xxx. */
    static int dataProcessing2Source(int sf, int opcode, int rm, int rn, int rd) {
        return sf << 31 | 0b11010110 << 21 | rm << 16 | opcode << 10 | rn << 5 | rd;
    }

    /** Data-processing (1 source): RBIT 000000, REV16 000001, REV32/REV 000010, REV 000011, CLZ 000100, CLS 000101. */
    static int dataProcessing1Source(int sf, int opcode, int rn, int rd) {
        return sf << 31 | 1 << 30 | 0b11010110 << 21 | opcode << 10 | rn << 5 | rd;
    }

    // ------------------------------------------------------------------------------- bitmask immediates

    /**
     * The (N, immr, imms) encoding of a logical immediate: an element of {@code esize} bits (2..64) holding a run of
     * {@code ones} set bits (1..esize-1) rotated right by {@code rotation} (0..esize-1), replicated (Arm ARM
     * J1 "DecodeBitMasks"). Returns {@code N << 12 | immr << 6 | imms}.
     */
    static int bitmaskFields(int esize, int ones, int rotation) {
        int n = esize == 64 ? 1 : 0;
        // imms: the high bits are ones, then a zero, marking the element size (NOT(imms) bits above len).
        int imms = (~(esize * 2 - 1) & 0x3F) | (ones - 1);
        return n << 12 | rotation << 6 | imms;
    }

    /** The value a valid (N, immr, imms) logical immediate stands for (DecodeBitMasks with immediate true). */
    static long decodeBitMask(int n, int immr, int imms, int datasize) {
        int len = 31 - Integer.numberOfLeadingZeros(n << 6 | (~imms & 0x3F));
        if (len < 1) {
            throw new IllegalArgumentException("reserved logical immediate");
        }
        int esize = 1 << len;
        int levels = esize - 1;
        int s = imms & levels;
        int r = immr & levels;
        if (s == levels) {
            throw new IllegalArgumentException("reserved logical immediate (all ones)");
        }
        long welem = s + 1 == 64 ? -1L : (1L << (s + 1)) - 1;
        long emask = esize == 64 ? -1L : (1L << esize) - 1;
        long elem = r == 0 ? welem : ((welem >>> r) | (welem << (esize - r))) & emask;
        long v = 0;
        for (int i = 0; i < datasize; i += esize) {
            v |= elem << i;
        }
        return datasize == 32 ? v & 0xFFFF_FFFFL : v;
    }
}
