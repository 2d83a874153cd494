package dev.jvmm.arm64;

/**
 * The operations {@link Interpreter} executes: one constant per semantic, so that one {@code switch} dispatches
 * (ints, so the switch is a plain tableswitch). Several encoding rows of {@link A64} may share an op (the
 * load/store rows share {@link #LD}/{@link #ST} and carry size and sign in the {@link Insn}).
 */
final class Op {
    private Op() {
    }

    static final int UNDEF = 0;
    // data processing, immediate
    static final int ADR = 1;
    static final int ADRP = 2;
    static final int ADD_IMM = 3;
    static final int ADDS_IMM = 4;
    static final int SUB_IMM = 5;
    static final int SUBS_IMM = 6;
    static final int AND_IMM = 7;
    static final int ORR_IMM = 8;
    static final int EOR_IMM = 9;
    static final int ANDS_IMM = 10;
    static final int MOVN = 11;
    static final int MOVZ = 12;
    static final int MOVK = 13;
    static final int SBFM = 14;
    static final int BFM = 15;
    static final int UBFM = 16;
    static final int EXTR = 17;
    // branches, exceptions, system
    static final int B_COND = 18;
    static final int SVC = 19;
    static final int HVC = 20;
    static final int SMC = 21;
    static final int BRK = 22;
    static final int HINT = 23;
    static final int CLREX = 24;
    static final int DSB = 25;
    static final int DMB = 26;
    static final int ISB = 27;
    static final int MSR_IMM = 28;
    static final int SYS = 29;
    static final int MSR = 30;
    static final int MRS = 31;
    static final int BR = 32;
    static final int BLR = 33;
    static final int RET = 34;
    static final int ERET = 35;
    static final int B = 36;
    static final int BL = 37;
    static final int CBZ = 38;
    static final int CBNZ = 39;
    static final int TBZ = 40;
    static final int TBNZ = 41;
    // loads and stores
    static final int LDXR = 42;
    static final int STXR = 43;
    static final int LDXP = 44;
    static final int STXP = 45;
    static final int LDAR = 46;
    static final int STLR = 47;
    static final int LDR_LIT = 48;
    static final int PRFM = 49;
    static final int LDP = 50;
    static final int STP = 51;
    static final int LD = 52;
    static final int ST = 53;
    static final int LD_PRE = 54;
    static final int ST_PRE = 55;
    static final int LD_POST = 56;
    static final int ST_POST = 57;
    static final int LD_REG = 58;
    static final int ST_REG = 59;
    static final int LDP_PRE = 60;
    static final int STP_PRE = 61;
    static final int LDP_POST = 62;
    static final int STP_POST = 63;
    // data processing, register
    static final int UDIV = 64;
    static final int SDIV = 65;
    static final int LSLV = 66;
    static final int LSRV = 67;
    static final int ASRV = 68;
    static final int RORV = 69;
    static final int CRC32 = 70;
    static final int RBIT = 71;
    static final int REV16 = 72;
    static final int REV32 = 73;
    static final int REV = 74;
    static final int CLZ = 75;
    static final int CLS = 76;
    static final int AND_REG = 77;
    static final int BIC_REG = 78;
    static final int ORR_REG = 79;
    static final int ORN_REG = 80;
    static final int EOR_REG = 81;
    static final int EON_REG = 82;
    static final int ANDS_REG = 83;
    static final int BICS_REG = 84;
    static final int ADD_SREG = 85;
    static final int ADDS_SREG = 86;
    static final int SUB_SREG = 87;
    static final int SUBS_SREG = 88;
    static final int ADD_EREG = 89;
    static final int ADDS_EREG = 90;
    static final int SUB_EREG = 91;
    static final int SUBS_EREG = 92;
    static final int ADC = 93;
    static final int ADCS = 94;
    static final int SBC = 95;
    static final int SBCS = 96;
    static final int CCMN = 97;
    static final int CCMP = 98;
    static final int CSEL = 99;
    static final int CSINC = 100;
    static final int CSINV = 101;
    static final int CSNEG = 102;
    static final int MADD = 103;
    static final int MSUB = 104;
    static final int SMADDL = 105;
    static final int SMSUBL = 106;
    static final int SMULH = 107;
    static final int UMADDL = 108;
    static final int UMSUBL = 109;
    static final int UMULH = 110;
    /** NOP, YIELD and every hint that executes as NOP here: no effect, does not end a block. */
    static final int NOP = 111;
    static final int COUNT = 112;

    private static final String[] NAMES = new String[COUNT];

    static {
        for (java.lang.reflect.Field f : Op.class.getDeclaredFields()) {
            if (f.getType() == int.class && !f.getName().equals("COUNT")) {
                try {
                    NAMES[f.getInt(null)] = f.getName();
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    static String name(int op) {
        return op >= 0 && op < COUNT ? NAMES[op] : "op" + op;
    }

    /**
     * Whether an op ends a block: it may change the PC other than by falling through, or change state that the
     * following instructions depend on in a way a block cannot see (exception level, translation, interrupt masks).
     */
    static boolean endsBlock(int op) {
        switch (op) {
            case UNDEF: case B_COND: case SVC: case HVC: case SMC: case BRK: case HINT: case ISB: case MSR_IMM:
            case SYS: case MSR: case BR: case BLR: case RET: case ERET: case B: case BL: case CBZ: case CBNZ:
            case TBZ: case TBNZ: case DSB:
                return true;
            default:
                return false;
        }
    }
}
