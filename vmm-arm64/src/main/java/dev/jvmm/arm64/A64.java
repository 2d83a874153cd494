package dev.jvmm.arm64;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every A64 encoding this CPU knows, once: the Arm ARM's name for it, its bit pattern with the fields named as the
 * Arm ARM's encoding diagrams name them, and the {@link Form} that turns those fields into an {@link Insn}. This is
 * the table that {@link Decoder} is built from (as QEMU builds its decoder from {@code a64.decode} and dynarmic from
 * {@code a64.inc}).
 *
 * <h2>Patterns</h2>
 * A pattern lists bit 31 first. A token of {@code 0}, {@code 1} and {@code x} is that many fixed (or don't-care)
 * bits; any other token is a field, {@code name} or {@code name:width}. The width of a bare name comes from
 * {@link Widths#WIDTHS}. Every pattern covers exactly 32 bits (checked when the class loads).
 *
 * <h2>Order and what is not here</h2>
 * The decoder tries rows in order and takes the first that matches, so a row that carves out part of a wider one
 * comes first (the Arm ARM does the same with its "unallocated" notes). The {@link Form} rejects field values the
 * Arm ARM calls unallocated or reserved (ADD with shift = 11, a 32-bit bitfield with N = 1 ...), which then decode as
 * UNDEFINED. Rows with {@link Form#UNDEFINED} are encodings recognised on purpose and left UNDEFINED: features a
 * Cortex-A57 does not have (LSE atomics, LOR, PAC, RCpc, MTE ...) and the debug-state instructions. Encodings in no
 * row are UNDEFINED too; that covers FP and Advanced SIMD, absent on this CPU (ID_AA64PFR0.FP = AdvSIMD = 0xF), whose
 * instructions are UNDEFINED as the Arm ARM requires when the unit is not implemented.
 *
 * <p>References: Arm Architecture Reference Manual for A-profile (DDI 0487), chapter C4 "A64 Instruction Set
 * Encoding" and chapter C6 "A64 Base Instruction Descriptions".
 */
enum A64 {
    // ---------------------------------------------------------------- C4.1.2 Data Processing -- Immediate
    ADR("ADR", "0 immlo 10000 immhi Rd", Form.PC_REL),
    ADRP("ADRP", "1 immlo 10000 immhi Rd", Form.PC_REL),
    ADD_IMM("ADD (immediate)", "sf 0 0 100010 sh imm12 Rn Rd", Form.ADDSUB_IMM),
    ADDS_IMM("ADDS (immediate)", "sf 0 1 100010 sh imm12 Rn Rd", Form.ADDSUB_IMM),
    SUB_IMM("SUB (immediate)", "sf 1 0 100010 sh imm12 Rn Rd", Form.ADDSUB_IMM),
    SUBS_IMM("SUBS (immediate)", "sf 1 1 100010 sh imm12 Rn Rd", Form.ADDSUB_IMM),
    AND_IMM("AND (immediate)", "sf 00 100100 N immr imms Rn Rd", Form.LOGICAL_IMM),
    ORR_IMM("ORR (immediate)", "sf 01 100100 N immr imms Rn Rd", Form.LOGICAL_IMM),
    EOR_IMM("EOR (immediate)", "sf 10 100100 N immr imms Rn Rd", Form.LOGICAL_IMM),
    ANDS_IMM("ANDS (immediate)", "sf 11 100100 N immr imms Rn Rd", Form.LOGICAL_IMM),
    MOVN("MOVN", "sf 00 100101 hw imm16 Rd", Form.MOVE_WIDE),
    MOVZ("MOVZ", "sf 10 100101 hw imm16 Rd", Form.MOVE_WIDE),
    MOVK("MOVK", "sf 11 100101 hw imm16 Rd", Form.MOVE_WIDE),
    SBFM("SBFM", "sf 00 100110 N immr imms Rn Rd", Form.BITFIELD),
    BFM("BFM", "sf 01 100110 N immr imms Rn Rd", Form.BITFIELD),
    UBFM("UBFM", "sf 10 100110 N immr imms Rn Rd", Form.BITFIELD),
    EXTR("EXTR", "sf 00 100111 N 0 Rm imms Rn Rd", Form.EXTRACT),

    // ---------------------------------------------------------------- C4.1.3 Branches, Exception Generating and System
    B_COND("B.cond", "0101010 0 imm19 0 cond", Form.COND_BRANCH),
    SVC("SVC", "11010100 000 imm16 000 01", Form.EXCEPTION),
    HVC("HVC", "11010100 000 imm16 000 10", Form.EXCEPTION),
    SMC("SMC", "11010100 000 imm16 000 11", Form.EXCEPTION),
    BRK("BRK", "11010100 001 imm16 000 00", Form.EXCEPTION),
    HLT("HLT (no external debug: UNDEFINED)", "11010100 010 imm16 000 00", Form.UNDEFINED),
    DCPS("DCPS1/2/3 (not in Debug state: UNDEFINED)", "11010100 101 imm16 000 LL:2", Form.UNDEFINED),
    HINT("HINT (NOP, YIELD, WFE, WFI, SEV, SEVL; the rest execute as NOP)", "11010101000000110010 CRm op2 11111",
            Form.HINT),
    CLREX("CLREX", "11010101000000110011 CRm 010 11111", Form.BARRIER),
    DSB("DSB", "11010101000000110011 CRm 100 11111", Form.BARRIER),
    DMB("DMB", "11010101000000110011 CRm 101 11111", Form.BARRIER),
    ISB("ISB", "11010101000000110011 CRm 110 11111", Form.BARRIER),
    MSR_IMM("MSR (immediate)", "1101010100000 op1 0100 CRm op2 11111", Form.MSR_IMM),
    SYS("SYS (IC, DC, AT, TLBI)", "1101010100 0 01 op1 CRn CRm op2 Rt", Form.SYS),
    SYSL("SYSL (none defined)", "1101010100 1 01 op1 CRn CRm op2 Rt", Form.UNDEFINED),
    MSR_REG("MSR (register)", "1101010100 0 1 o0 op1 CRn CRm op2 Rt", Form.SYSREG),
    MRS("MRS", "1101010100 1 1 o0 op1 CRn CRm op2 Rt", Form.SYSREG),
    BR("BR", "1101011 0000 11111 000000 Rn 00000", Form.BRANCH_REG),
    BLR("BLR", "1101011 0001 11111 000000 Rn 00000", Form.BRANCH_REG),
    RET("RET", "1101011 0010 11111 000000 Rn 00000", Form.BRANCH_REG),
    ERET("ERET", "1101011 0100 11111 000000 11111 00000", Form.BRANCH_REG),
    DRPS("DRPS (not in Debug state: UNDEFINED)", "1101011 0101 11111 000000 11111 00000", Form.UNDEFINED),
    B("B", "0 00101 imm26", Form.BRANCH_IMM),
    BL("BL", "1 00101 imm26", Form.BRANCH_IMM),
    CBZ("CBZ", "sf 011010 0 imm19 Rt", Form.COMPARE_BRANCH),
    CBNZ("CBNZ", "sf 011010 1 imm19 Rt", Form.COMPARE_BRANCH),
    TBZ("TBZ", "b5 011011 0 b40 imm14 Rt", Form.TEST_BRANCH),
    TBNZ("TBNZ", "b5 011011 1 b40 imm14 Rt", Form.TEST_BRANCH),

    // ---------------------------------------------------------------- C4.1.4 Loads and Stores
    // Load/store exclusive: size 001000 o2 L o1 Rs o0 Rt2 Rn Rt. Rs of a load and Rt2 of a single-register form
    // should be ones; other values are CONSTRAINED UNPREDICTABLE and, as on QEMU, ignored.
    STXRB("STXRB", "00 001000 0 0 0 Rs 0 Rt2 Rn Rt", Form.EXCLUSIVE),
    STLXRB("STLXRB", "00 001000 0 0 0 Rs 1 Rt2 Rn Rt", Form.EXCLUSIVE),
    LDXRB("LDXRB", "00 001000 0 1 0 Rs 0 Rt2 Rn Rt", Form.EXCLUSIVE),
    LDAXRB("LDAXRB", "00 001000 0 1 0 Rs 1 Rt2 Rn Rt", Form.EXCLUSIVE),
    STXRH("STXRH", "01 001000 0 0 0 Rs 0 Rt2 Rn Rt", Form.EXCLUSIVE),
    STLXRH("STLXRH", "01 001000 0 0 0 Rs 1 Rt2 Rn Rt", Form.EXCLUSIVE),
    LDXRH("LDXRH", "01 001000 0 1 0 Rs 0 Rt2 Rn Rt", Form.EXCLUSIVE),
    LDAXRH("LDAXRH", "01 001000 0 1 0 Rs 1 Rt2 Rn Rt", Form.EXCLUSIVE),
    STXR("STXR", "1 size0:1 001000 0 0 0 Rs 0 Rt2 Rn Rt", Form.EXCLUSIVE),
    STLXR("STLXR", "1 size0:1 001000 0 0 0 Rs 1 Rt2 Rn Rt", Form.EXCLUSIVE),
    LDXR("LDXR", "1 size0:1 001000 0 1 0 Rs 0 Rt2 Rn Rt", Form.EXCLUSIVE),
    LDAXR("LDAXR", "1 size0:1 001000 0 1 0 Rs 1 Rt2 Rn Rt", Form.EXCLUSIVE),
    STXP("STXP", "1 sz 001000 0 0 1 Rs 0 Rt2 Rn Rt", Form.EXCLUSIVE),
    STLXP("STLXP", "1 sz 001000 0 0 1 Rs 1 Rt2 Rn Rt", Form.EXCLUSIVE),
    LDXP("LDXP", "1 sz 001000 0 1 1 Rs 0 Rt2 Rn Rt", Form.EXCLUSIVE),
    LDAXP("LDAXP", "1 sz 001000 0 1 1 Rs 1 Rt2 Rn Rt", Form.EXCLUSIVE),
    CASP("CASP (FEAT_LSE, absent)", "0 sz 001000 0 L 1 Rs o0 Rt2 Rn Rt", Form.UNDEFINED),
    STLLR("STLLR (FEAT_LOR, absent)", "size 001000 1 0 0 Rs 0 Rt2 Rn Rt", Form.UNDEFINED),
    STLR("STLR, STLRB, STLRH", "size 001000 1 0 0 Rs 1 Rt2 Rn Rt", Form.EXCLUSIVE),
    LDLAR("LDLAR (FEAT_LOR, absent)", "size 001000 1 1 0 Rs 0 Rt2 Rn Rt", Form.UNDEFINED),
    LDAR("LDAR, LDARB, LDARH", "size 001000 1 1 0 Rs 1 Rt2 Rn Rt", Form.EXCLUSIVE),
    CAS("CAS (FEAT_LSE, absent)", "size 001000 1 L 1 Rs o0 Rt2 Rn Rt", Form.UNDEFINED),
    LDR_LIT("LDR (literal)", "0 sf 011 0 00 imm19 Rt", Form.LOAD_LITERAL),
    LDRSW_LIT("LDRSW (literal)", "10 011 0 00 imm19 Rt", Form.LOAD_LITERAL),
    PRFM_LIT("PRFM (literal)", "11 011 0 00 imm19 Rt", Form.LOAD_LITERAL),
    // Load/store pair: opc 101 V mode L imm7 Rt2 Rn Rt, mode 000 no-allocate, 001 post, 010 offset, 011 pre.
    STNP("STNP", "opc 101 0 000 0 imm7 Rt2 Rn Rt", Form.PAIR),
    LDNP("LDNP", "opc 101 0 000 1 imm7 Rt2 Rn Rt", Form.PAIR),
    STP_POST("STP (post-index)", "opc 101 0 001 0 imm7 Rt2 Rn Rt", Form.PAIR),
    LDP_POST("LDP, LDPSW (post-index)", "opc 101 0 001 1 imm7 Rt2 Rn Rt", Form.PAIR),
    STP("STP (signed offset)", "opc 101 0 010 0 imm7 Rt2 Rn Rt", Form.PAIR),
    LDP("LDP, LDPSW (signed offset)", "opc 101 0 010 1 imm7 Rt2 Rn Rt", Form.PAIR),
    STP_PRE("STP (pre-index)", "opc 101 0 011 0 imm7 Rt2 Rn Rt", Form.PAIR),
    LDP_PRE("LDP, LDPSW (pre-index)", "opc 101 0 011 1 imm7 Rt2 Rn Rt", Form.PAIR),
    // Load/store register: size 111 V 00 opc ..., the size:opc pair picks STRB/LDRB/LDRSB/STRH/.../LDRSW/PRFM.
    LDST_UNSCALED("STURB, LDURB, LDURSB, STURH, LDURH, LDURSH, STUR, LDUR, LDURSW, PRFUM",
            "size 111 0 00 opc 0 imm9 00 Rn Rt", Form.LOAD_STORE),
    LDST_POST("STRB, LDRB, LDRSB, STRH, LDRH, LDRSH, STR, LDR, LDRSW (immediate, post-index)",
            "size 111 0 00 opc 0 imm9 01 Rn Rt", Form.LOAD_STORE),
    LDST_UNPRIV("STTRB, LDTRB, LDTRSB, STTRH, LDTRH, LDTRSH, STTR, LDTR, LDTRSW",
            "size 111 0 00 opc 0 imm9 10 Rn Rt", Form.LOAD_STORE),
    LDST_PRE("STRB, LDRB, LDRSB, STRH, LDRH, LDRSH, STR, LDR, LDRSW (immediate, pre-index)",
            "size 111 0 00 opc 0 imm9 11 Rn Rt", Form.LOAD_STORE),
    LDST_ATOMIC("LDADD, LDCLR, LDEOR, LDSET, LDSMAX, ..., SWP (FEAT_LSE, absent)",
            "size 111 0 00 A R 1 Rs o3 opc:3 00 Rn Rt", Form.UNDEFINED),
    LDST_PAC("LDRAA, LDRAB (FEAT_PAuth, absent)", "11 111 0 00 M S 1 imm9 W 1 Rn Rt", Form.UNDEFINED),
    LDST_REG("STRB, LDRB, LDRSB, STRH, LDRH, LDRSH, STR, LDR, LDRSW, PRFM (register)",
            "size 111 0 00 opc 1 Rm option S 10 Rn Rt", Form.LOAD_STORE),
    LDST_UIMM("STRB, LDRB, LDRSB, STRH, LDRH, LDRSH, STR, LDR, LDRSW, PRFM (immediate, unsigned offset)",
            "size 111 0 01 opc imm12 Rn Rt", Form.LOAD_STORE),

    // ---------------------------------------------------------------- C4.1.5 Data Processing -- Register
    UDIV("UDIV", "sf 0 0 11010110 Rm 00001 0 Rn Rd", Form.DP_2SRC),
    SDIV("SDIV", "sf 0 0 11010110 Rm 00001 1 Rn Rd", Form.DP_2SRC),
    LSLV("LSLV", "sf 0 0 11010110 Rm 0010 00 Rn Rd", Form.DP_2SRC),
    LSRV("LSRV", "sf 0 0 11010110 Rm 0010 01 Rn Rd", Form.DP_2SRC),
    ASRV("ASRV", "sf 0 0 11010110 Rm 0010 10 Rn Rd", Form.DP_2SRC),
    RORV("RORV", "sf 0 0 11010110 Rm 0010 11 Rn Rd", Form.DP_2SRC),
    CRC32("CRC32B, CRC32H, CRC32W, CRC32X", "sf 0 0 11010110 Rm 010 0 sz:2 Rn Rd", Form.CRC32),
    CRC32C("CRC32CB, CRC32CH, CRC32CW, CRC32CX", "sf 0 0 11010110 Rm 010 1 sz:2 Rn Rd", Form.CRC32),
    RBIT("RBIT", "sf 1 0 11010110 00000 000000 Rn Rd", Form.DP_1SRC),
    REV16("REV16", "sf 1 0 11010110 00000 000001 Rn Rd", Form.DP_1SRC),
    REV32("REV32 (64-bit), REV (32-bit)", "sf 1 0 11010110 00000 000010 Rn Rd", Form.DP_1SRC),
    REV("REV (64-bit)", "sf 1 0 11010110 00000 000011 Rn Rd", Form.DP_1SRC),
    CLZ("CLZ", "sf 1 0 11010110 00000 000100 Rn Rd", Form.DP_1SRC),
    CLS("CLS", "sf 1 0 11010110 00000 000101 Rn Rd", Form.DP_1SRC),
    AND_REG("AND (shifted register)", "sf 00 01010 shift 0 Rm imm6 Rn Rd", Form.LOGICAL_REG),
    BIC_REG("BIC (shifted register)", "sf 00 01010 shift 1 Rm imm6 Rn Rd", Form.LOGICAL_REG),
    ORR_REG("ORR (shifted register)", "sf 01 01010 shift 0 Rm imm6 Rn Rd", Form.LOGICAL_REG),
    ORN_REG("ORN (shifted register)", "sf 01 01010 shift 1 Rm imm6 Rn Rd", Form.LOGICAL_REG),
    EOR_REG("EOR (shifted register)", "sf 10 01010 shift 0 Rm imm6 Rn Rd", Form.LOGICAL_REG),
    EON_REG("EON (shifted register)", "sf 10 01010 shift 1 Rm imm6 Rn Rd", Form.LOGICAL_REG),
    ANDS_REG("ANDS (shifted register)", "sf 11 01010 shift 0 Rm imm6 Rn Rd", Form.LOGICAL_REG),
    BICS_REG("BICS (shifted register)", "sf 11 01010 shift 1 Rm imm6 Rn Rd", Form.LOGICAL_REG),
    ADD_SREG("ADD (shifted register)", "sf 0 0 01011 shift 0 Rm imm6 Rn Rd", Form.ADDSUB_SHIFTED),
    ADDS_SREG("ADDS (shifted register)", "sf 0 1 01011 shift 0 Rm imm6 Rn Rd", Form.ADDSUB_SHIFTED),
    SUB_SREG("SUB (shifted register)", "sf 1 0 01011 shift 0 Rm imm6 Rn Rd", Form.ADDSUB_SHIFTED),
    SUBS_SREG("SUBS (shifted register)", "sf 1 1 01011 shift 0 Rm imm6 Rn Rd", Form.ADDSUB_SHIFTED),
    ADD_EREG("ADD (extended register)", "sf 0 0 01011 00 1 Rm option imm3 Rn Rd", Form.ADDSUB_EXTENDED),
    ADDS_EREG("ADDS (extended register)", "sf 0 1 01011 00 1 Rm option imm3 Rn Rd", Form.ADDSUB_EXTENDED),
    SUB_EREG("SUB (extended register)", "sf 1 0 01011 00 1 Rm option imm3 Rn Rd", Form.ADDSUB_EXTENDED),
    SUBS_EREG("SUBS (extended register)", "sf 1 1 01011 00 1 Rm option imm3 Rn Rd", Form.ADDSUB_EXTENDED),
    ADC("ADC", "sf 0 0 11010000 Rm 000000 Rn Rd", Form.ADDSUB_CARRY),
    ADCS("ADCS", "sf 0 1 11010000 Rm 000000 Rn Rd", Form.ADDSUB_CARRY),
    SBC("SBC", "sf 1 0 11010000 Rm 000000 Rn Rd", Form.ADDSUB_CARRY),
    SBCS("SBCS", "sf 1 1 11010000 Rm 000000 Rn Rd", Form.ADDSUB_CARRY),
    CCMN_REG("CCMN (register)", "sf 0 1 11010010 Rm cond 0 0 Rn 0 nzcv", Form.COND_COMPARE),
    CCMP_REG("CCMP (register)", "sf 1 1 11010010 Rm cond 0 0 Rn 0 nzcv", Form.COND_COMPARE),
    CCMN_IMM("CCMN (immediate)", "sf 0 1 11010010 imm5 cond 1 0 Rn 0 nzcv", Form.COND_COMPARE),
    CCMP_IMM("CCMP (immediate)", "sf 1 1 11010010 imm5 cond 1 0 Rn 0 nzcv", Form.COND_COMPARE),
    CSEL("CSEL", "sf 0 0 11010100 Rm cond 00 Rn Rd", Form.COND_SELECT),
    CSINC("CSINC", "sf 0 0 11010100 Rm cond 01 Rn Rd", Form.COND_SELECT),
    CSINV("CSINV", "sf 1 0 11010100 Rm cond 00 Rn Rd", Form.COND_SELECT),
    CSNEG("CSNEG", "sf 1 0 11010100 Rm cond 01 Rn Rd", Form.COND_SELECT),
    MADD("MADD", "sf 00 11011 000 Rm 0 Ra Rn Rd", Form.DP_3SRC),
    MSUB("MSUB", "sf 00 11011 000 Rm 1 Ra Rn Rd", Form.DP_3SRC),
    SMADDL("SMADDL", "1 00 11011 001 Rm 0 Ra Rn Rd", Form.DP_3SRC),
    SMSUBL("SMSUBL", "1 00 11011 001 Rm 1 Ra Rn Rd", Form.DP_3SRC),
    SMULH("SMULH", "1 00 11011 010 Rm 0 Ra Rn Rd", Form.DP_3SRC),
    UMADDL("UMADDL", "1 00 11011 101 Rm 0 Ra Rn Rd", Form.DP_3SRC),
    UMSUBL("UMSUBL", "1 00 11011 101 Rm 1 Ra Rn Rd", Form.DP_3SRC),
    UMULH("UMULH", "1 00 11011 110 Rm 0 Ra Rn Rd", Form.DP_3SRC);

    /** How a row's fields become an {@link Insn}; see {@link Decoder}. */
    enum Form {
        PC_REL, ADDSUB_IMM, LOGICAL_IMM, MOVE_WIDE, BITFIELD, EXTRACT,
        COND_BRANCH, EXCEPTION, HINT, BARRIER, MSR_IMM, SYS, SYSREG, BRANCH_REG, BRANCH_IMM, COMPARE_BRANCH,
        TEST_BRANCH,
        EXCLUSIVE, LOAD_LITERAL, PAIR, LOAD_STORE,
        DP_2SRC, CRC32, DP_1SRC, LOGICAL_REG, ADDSUB_SHIFTED, ADDSUB_EXTENDED, ADDSUB_CARRY, COND_COMPARE,
        COND_SELECT, DP_3SRC,
        /** Recognised, and UNDEFINED on this CPU on purpose. */
        UNDEFINED
    }

    /** The widths of the Arm ARM's field names when a pattern writes them bare. */
    static final class Widths {
        private Widths() {
        }

        static final Map<String, Integer> WIDTHS = Map.ofEntries(
            Map.entry("sf", 1), Map.entry("sh", 1), Map.entry("N", 1), Map.entry("S", 1), Map.entry("L", 1),
            Map.entry("o0", 1), Map.entry("b5", 1), Map.entry("sz", 1), Map.entry("A", 1), Map.entry("R", 1),
            Map.entry("o3", 1), Map.entry("M", 1), Map.entry("W", 1),
            Map.entry("hw", 2), Map.entry("immlo", 2), Map.entry("shift", 2), Map.entry("size", 2),
            Map.entry("opc", 2),
            Map.entry("op1", 3), Map.entry("op2", 3), Map.entry("option", 3), Map.entry("imm3", 3),
            Map.entry("cond", 4), Map.entry("nzcv", 4), Map.entry("CRn", 4), Map.entry("CRm", 4),
            Map.entry("Rd", 5), Map.entry("Rn", 5), Map.entry("Rm", 5), Map.entry("Ra", 5), Map.entry("Rt", 5),
            Map.entry("Rt2", 5), Map.entry("Rs", 5), Map.entry("b40", 5), Map.entry("imm5", 5),
            Map.entry("immr", 6), Map.entry("imms", 6), Map.entry("imm6", 6),
            Map.entry("imm7", 7), Map.entry("imm9", 9), Map.entry("imm12", 12), Map.entry("imm14", 14),
            Map.entry("imm16", 16), Map.entry("imm19", 19), Map.entry("immhi", 19), Map.entry("imm26", 26));
    }

    final String armName;
    final String pattern;
    final Form form;
    /** The bits a word must have set or clear to match ({@code (word & mask) == value}). */
    final int mask;
    final int value;
    /** Field name to (lsb << 8 | width), in pattern order. */
    final Map<String, Integer> fields;

    A64(String armName, String pattern, Form form) {
        this.armName = armName;
        this.pattern = pattern;
        this.form = form;
        int m = 0;
        int v = 0;
        int bit = 32;
        Map<String, Integer> f = new LinkedHashMap<>();
        for (String token : pattern.trim().split("\\s+")) {
            if (token.matches("[01x]+")) {
                for (char c : token.toCharArray()) {
                    bit--;
                    if (c != 'x') {
                        m |= 1 << bit;
                        v |= (c - '0') << bit;
                    }
                }
            } else {
                int colon = token.indexOf(':');
                String name = colon < 0 ? token : token.substring(0, colon);
                Integer width = colon < 0 ? Widths.WIDTHS.get(name) : Integer.valueOf(token.substring(colon + 1));
                if (width == null) {
                    throw new IllegalStateException(name() + ": field " + name + " has no known width");
                }
                bit -= width;
                f.put(name, bit << 8 | width);
            }
        }
        if (bit != 0) {
            throw new IllegalStateException(name() + ": pattern covers " + (32 - bit) + " bits, not 32");
        }
        this.mask = m;
        this.value = v;
        this.fields = Map.copyOf(f);
    }

    boolean matches(int word) {
        return (word & mask) == value;
    }

    /** The value of field {@code name} in {@code word} (unsigned). */
    int field(int word, String name) {
        Integer at = fields.get(name);
        if (at == null) {
            throw new IllegalArgumentException(name() + " has no field " + name);
        }
        int lsb = at >>> 8;
        int width = at & 0xFF;
        return (int) ((word & 0xFFFF_FFFFL) >>> lsb & ((1L << width) - 1));
    }
}
