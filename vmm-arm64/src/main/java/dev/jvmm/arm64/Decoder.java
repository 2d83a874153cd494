package dev.jvmm.arm64;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns an instruction word into an {@link Insn}, from the {@link A64} table: the rows that can match a word are
 * bucketed by its top 11 bits, the first row that matches decides, and its {@link A64.Form} reads the named fields.
 * Field values the Arm ARM calls unallocated or reserved give {@link Op#UNDEF}. Stateless and thread-safe.
 */
final class Decoder {
    private static final int BUCKET_SHIFT = 21;
    private static final A64[][] BUCKETS = new A64[1 << (32 - BUCKET_SHIFT)][];

    static {
        List<A64> rows = new ArrayList<>();
        for (int b = 0; b < BUCKETS.length; b++) {
            rows.clear();
            int top = b << BUCKET_SHIFT;
            for (A64 row : A64.values()) {
                int m = row.mask & (-1 << BUCKET_SHIFT);
                if ((top & m) == (row.value & m)) {
                    rows.add(row);
                }
            }
            BUCKETS[b] = rows.toArray(new A64[0]);
        }
    }

    private Decoder() {
    }

    /** The row that {@code word} matches, or null when none does. */
    static A64 row(int word) {
        for (A64 row : BUCKETS[word >>> BUCKET_SHIFT]) {
            if (row.matches(word)) {
                return row;
            }
        }
        return null;
    }

    static Insn decode(int word) {
        A64 row = row(word);
        if (row == null) {
            return undefined(null, word);
        }
        Insn i = decode(row, word);
        return i != null ? i : undefined(row, word);
    }

    static Insn undefined(A64 row, int word) {
        return new Insn(row, word, Op.UNDEF, Insn.SINK, Insn.ZR, Insn.ZR, Insn.ZR, 0, 0, true, 0, 0, 0, 0, 0);
    }

    /** A register operand read where 31 means XZR. */
    private static int rz(int r) {
        return r == 31 ? Insn.ZR : r;
    }

    /** A register operand written where 31 means XZR. */
    private static int wz(int r) {
        return r == 31 ? Insn.SINK : r;
    }

    private static long sext(long v, int bits) {
        return v << (64 - bits) >> (64 - bits);
    }

    /** The {@code o0:op1:CRn:CRm:op2} key of a system register or instruction, with op0 in 0..3. */
    static int sysKey(int op0, int op1, int crn, int crm, int op2) {
        return op0 << 14 | op1 << 11 | crn << 7 | crm << 3 | op2;
    }

    /**
     * The Arm ARM's DecodeBitMasks (shared/functions/bitmasks): {wmask, tmask} for a logical immediate or a
     * bitfield, or null when the combination is reserved.
     */
    static long[] decodeBitMasks(int immN, int imms, int immr, boolean immediate, int datasize) {
        int combined = immN << 6 | (~imms & 0x3F);
        int len = 31 - Integer.numberOfLeadingZeros(combined);
        if (len < 1) {
            return null;
        }
        int levels = (1 << len) - 1;
        if (immediate && (imms & levels) == levels) {
            return null;
        }
        int s = imms & levels;
        int r = immr & levels;
        int d = (s - r) & levels;
        int esize = 1 << len;
        if (esize > datasize) {
            return null;
        }
        long welem = ones(s + 1);
        long telem = ones(d + 1);
        long wrot = ror(welem, r, esize);
        return new long[] {replicate(wrot, esize, datasize), replicate(telem, esize, datasize)};
    }

    private static long ones(int n) {
        return n >= 64 ? -1L : (1L << n) - 1;
    }

    private static long ror(long v, int r, int esize) {
        if (r == 0) {
            return v;
        }
        long mask = ones(esize);
        return ((v >>> r) | (v << (esize - r))) & mask;
    }

    private static long replicate(long elem, int esize, int datasize) {
        long out = 0;
        for (int i = 0; i < datasize; i += esize) {
            out |= elem << i;
        }
        return datasize == 64 ? out : out & 0xFFFF_FFFFL;
    }

    private static Insn decode(A64 row, int w) {
        final boolean sf = row.fields.containsKey("sf") ? row.field(w, "sf") == 1 : true;
        switch (row.form) {
            case UNDEFINED:
                return null;
            case PC_REL: {
                long imm = sext((long) row.field(w, "immhi") << 2 | row.field(w, "immlo"), 21);
                boolean page = row == A64.ADRP;
                return insn(row, w, page ? Op.ADRP : Op.ADR, wz(row.field(w, "Rd")), 0, 0, 0,
                        page ? imm << 12 : imm, 0, true, 0, 0, 0, 0, 0);
            }
            case ADDSUB_IMM: {
                long imm = (long) row.field(w, "imm12") << (row.field(w, "sh") * 12);
                boolean setFlags = row == A64.ADDS_IMM || row == A64.SUBS_IMM;
                int op = row == A64.ADD_IMM ? Op.ADD_IMM : row == A64.ADDS_IMM ? Op.ADDS_IMM
                        : row == A64.SUB_IMM ? Op.SUB_IMM : Op.SUBS_IMM;
                int rd = row.field(w, "Rd");
                return insn(row, w, op, setFlags ? wz(rd) : rd, row.field(w, "Rn"), 0, 0, imm, 0, sf, 0, 0, 0, 0, 0);
            }
            case LOGICAL_IMM: {
                int n = row.field(w, "N");
                if (!sf && n == 1) {
                    return null;
                }
                long[] m = decodeBitMasks(n, row.field(w, "imms"), row.field(w, "immr"), true, sf ? 64 : 32);
                if (m == null) {
                    return null;
                }
                int op = row == A64.AND_IMM ? Op.AND_IMM : row == A64.ORR_IMM ? Op.ORR_IMM
                        : row == A64.EOR_IMM ? Op.EOR_IMM : Op.ANDS_IMM;
                int rd = row.field(w, "Rd");
                return insn(row, w, op, op == Op.ANDS_IMM ? wz(rd) : rd, rz(row.field(w, "Rn")), 0, 0, m[0], 0, sf,
                        0, 0, 0, 0, 0);
            }
            case MOVE_WIDE: {
                int hw = row.field(w, "hw");
                if (!sf && hw >= 2) {
                    return null;
                }
                int op = row == A64.MOVN ? Op.MOVN : row == A64.MOVZ ? Op.MOVZ : Op.MOVK;
                int rd = row.field(w, "Rd");
                return insn(row, w, op, wz(rd), 0, 0, rz(rd), row.field(w, "imm16"), 0, sf, 0, 0, hw * 16, 0, 0);
            }
            case BITFIELD: {
                int n = row.field(w, "N");
                int immr = row.field(w, "immr");
                int imms = row.field(w, "imms");
                if ((sf ? 1 : 0) != n || !sf && (immr >= 32 || imms >= 32)) {
                    return null;
                }
                long[] m = decodeBitMasks(n, imms, immr, false, sf ? 64 : 32);
                if (m == null) {
                    return null;
                }
                int op = row == A64.SBFM ? Op.SBFM : row == A64.BFM ? Op.BFM : Op.UBFM;
                int rd = row.field(w, "Rd");
                return insn(row, w, op, wz(rd), rz(row.field(w, "Rn")), 0, rz(rd), m[0], m[1], sf, imms, 0, immr,
                        0, 0);
            }
            case EXTRACT: {
                int n = row.field(w, "N");
                int imms = row.field(w, "imms");
                if ((sf ? 1 : 0) != n || !sf && imms >= 32) {
                    return null;
                }
                return insn(row, w, Op.EXTR, wz(row.field(w, "Rd")), rz(row.field(w, "Rn")), rz(row.field(w, "Rm")),
                        0, 0, 0, sf, 0, 0, imms, 0, 0);
            }
            case COND_BRANCH:
                return insn(row, w, Op.B_COND, 0, 0, 0, 0, sext(row.field(w, "imm19"), 19) << 2, 0, true, 0, 0, 0,
                        row.field(w, "cond"), 0);
            case EXCEPTION: {
                int op = row == A64.SVC ? Op.SVC : row == A64.HVC ? Op.HVC : row == A64.SMC ? Op.SMC : Op.BRK;
                return insn(row, w, op, 0, 0, 0, 0, row.field(w, "imm16"), 0, true, 0, 0, 0, 0, 0);
            }
            case HINT: {
                int hint = row.field(w, "CRm") << 3 | row.field(w, "op2");
                // WFE, WFI, SEV and SEVL need the CPU; NOP, YIELD and the hints this CPU does not implement (which the
                // Arm ARM says execute as NOP) are no-ops that do not end a block (compilers pad loops with NOPs).
                boolean cpuHint = hint >= 2 && hint <= 5;
                return insn(row, w, cpuHint ? Op.HINT : Op.NOP, 0, 0, 0, 0, hint, 0, true, 0, 0, 0, 0, 0);
            }
            case BARRIER: {
                int op = row == A64.CLREX ? Op.CLREX : row == A64.DSB ? Op.DSB : row == A64.DMB ? Op.DMB : Op.ISB;
                return insn(row, w, op, 0, 0, 0, 0, row.field(w, "CRm"), 0, true, 0, 0, 0, 0, 0);
            }
            case MSR_IMM:
                return insn(row, w, Op.MSR_IMM, 0, 0, 0, 0, row.field(w, "op1") << 3 | row.field(w, "op2"), 0, true,
                        0, 0, row.field(w, "CRm"), 0, 0);
            case SYS: {
                int key = sysKey(1, row.field(w, "op1"), row.field(w, "CRn"), row.field(w, "CRm"), row.field(w, "op2"));
                return insn(row, w, Op.SYS, rz(row.field(w, "Rt")), 0, 0, 0, key, 0, true, 0, 0, 0, 0, 0);
            }
            case SYSREG: {
                int key = sysKey(2 + row.field(w, "o0"), row.field(w, "op1"), row.field(w, "CRn"), row.field(w, "CRm"),
                        row.field(w, "op2"));
                int rt = row.field(w, "Rt");
                boolean read = row == A64.MRS;
                return insn(row, w, read ? Op.MRS : Op.MSR, read ? wz(rt) : rz(rt), 0, 0, 0, key, 0, true, 0, 0, 0,
                        0, 0);
            }
            case BRANCH_REG: {
                if (row == A64.ERET) {
                    return insn(row, w, Op.ERET, 0, 0, 0, 0, 0, 0, true, 0, 0, 0, 0, 0);
                }
                int op = row == A64.BR ? Op.BR : row == A64.BLR ? Op.BLR : Op.RET;
                return insn(row, w, op, 30, rz(row.field(w, "Rn")), 0, 0, 0, 0, true, 0, 0, 0, 0, 0);
            }
            case BRANCH_IMM:
                return insn(row, w, row == A64.B ? Op.B : Op.BL, 30, 0, 0, 0, sext(row.field(w, "imm26"), 26) << 2,
                        0, true, 0, 0, 0, 0, 0);
            case COMPARE_BRANCH:
                return insn(row, w, row == A64.CBZ ? Op.CBZ : Op.CBNZ, rz(row.field(w, "Rt")), 0, 0, 0,
                        sext(row.field(w, "imm19"), 19) << 2, 0, sf, 0, 0, 0, 0, 0);
            case TEST_BRANCH: {
                int bit = row.field(w, "b5") << 5 | row.field(w, "b40");
                return insn(row, w, row == A64.TBZ ? Op.TBZ : Op.TBNZ, rz(row.field(w, "Rt")), 0, 0, 0,
                        sext(row.field(w, "imm14"), 14) << 2, 1L << bit, true, 0, 0, bit, 0, 0);
            }
            case EXCLUSIVE:
                return exclusive(row, w);
            case LOAD_LITERAL: {
                long imm = sext(row.field(w, "imm19"), 19) << 2;
                int rt = row.field(w, "Rt");
                if (row == A64.PRFM_LIT) {
                    return insn(row, w, Op.PRFM, 0, 0, 0, 0, imm, 0, true, 0, 0, 0, 0, 0);
                }
                boolean signed = row == A64.LDRSW_LIT;
                int size = signed ? 2 : sf ? 3 : 2;
                return insn(row, w, Op.LDR_LIT, wz(rt), 0, 0, 0, imm, 0, true, 0, size, 0, 0,
                        signed ? Insn.SIGNED64 : 0);
            }
            case PAIR:
                return pair(row, w);
            case LOAD_STORE:
                return loadStore(row, w);
            case DP_2SRC: {
                int op = row == A64.UDIV ? Op.UDIV : row == A64.SDIV ? Op.SDIV : row == A64.LSLV ? Op.LSLV
                        : row == A64.LSRV ? Op.LSRV : row == A64.ASRV ? Op.ASRV : Op.RORV;
                return insn(row, w, op, wz(row.field(w, "Rd")), rz(row.field(w, "Rn")), rz(row.field(w, "Rm")), 0, 0,
                        0, sf, 0, 0, 0, 0, 0);
            }
            case CRC32: {
                int sz = row.field(w, "sz");
                if (sf != (sz == 3)) {
                    return null;
                }
                return insn(row, w, Op.CRC32, wz(row.field(w, "Rd")), rz(row.field(w, "Rn")), rz(row.field(w, "Rm")),
                        0, 0, 0, sf, 0, sz, 0, 0, row == A64.CRC32C ? Insn.CASTAGNOLI : 0);
            }
            case DP_1SRC: {
                int op;
                switch (row) {
                    case RBIT: op = Op.RBIT; break;
                    case REV16: op = Op.REV16; break;
                    case REV32: op = sf ? Op.REV32 : Op.REV; break;
                    case REV:
                        if (!sf) {
                            return null;
                        }
                        op = Op.REV;
                        break;
                    case CLZ: op = Op.CLZ; break;
                    default: op = Op.CLS; break;
                }
                return insn(row, w, op, wz(row.field(w, "Rd")), rz(row.field(w, "Rn")), 0, 0, 0, 0, sf, 0, 0, 0, 0,
                        0);
            }
            case LOGICAL_REG: {
                int imm6 = row.field(w, "imm6");
                if (!sf && imm6 >= 32) {
                    return null;
                }
                int op;
                switch (row) {
                    case AND_REG: op = Op.AND_REG; break;
                    case BIC_REG: op = Op.BIC_REG; break;
                    case ORR_REG: op = Op.ORR_REG; break;
                    case ORN_REG: op = Op.ORN_REG; break;
                    case EOR_REG: op = Op.EOR_REG; break;
                    case EON_REG: op = Op.EON_REG; break;
                    case ANDS_REG: op = Op.ANDS_REG; break;
                    default: op = Op.BICS_REG; break;
                }
                return insn(row, w, op, wz(row.field(w, "Rd")), rz(row.field(w, "Rn")), rz(row.field(w, "Rm")), 0, 0,
                        0, sf, row.field(w, "shift"), 0, imm6, 0, 0);
            }
            case ADDSUB_SHIFTED: {
                int shift = row.field(w, "shift");
                int imm6 = row.field(w, "imm6");
                if (shift == 3 || !sf && imm6 >= 32) {
                    return null;
                }
                int op = row == A64.ADD_SREG ? Op.ADD_SREG : row == A64.ADDS_SREG ? Op.ADDS_SREG
                        : row == A64.SUB_SREG ? Op.SUB_SREG : Op.SUBS_SREG;
                return insn(row, w, op, wz(row.field(w, "Rd")), rz(row.field(w, "Rn")), rz(row.field(w, "Rm")), 0, 0,
                        0, sf, shift, 0, imm6, 0, 0);
            }
            case ADDSUB_EXTENDED: {
                int imm3 = row.field(w, "imm3");
                if (imm3 > 4) {
                    return null;
                }
                boolean setFlags = row == A64.ADDS_EREG || row == A64.SUBS_EREG;
                int op = row == A64.ADD_EREG ? Op.ADD_EREG : row == A64.ADDS_EREG ? Op.ADDS_EREG
                        : row == A64.SUB_EREG ? Op.SUB_EREG : Op.SUBS_EREG;
                int rd = row.field(w, "Rd");
                return insn(row, w, op, setFlags ? wz(rd) : rd, row.field(w, "Rn"), rz(row.field(w, "Rm")), 0, 0, 0,
                        sf, row.field(w, "option"), 0, imm3, 0, 0);
            }
            case ADDSUB_CARRY: {
                int op = row == A64.ADC ? Op.ADC : row == A64.ADCS ? Op.ADCS : row == A64.SBC ? Op.SBC : Op.SBCS;
                return insn(row, w, op, wz(row.field(w, "Rd")), rz(row.field(w, "Rn")), rz(row.field(w, "Rm")), 0, 0,
                        0, sf, 0, 0, 0, 0, 0);
            }
            case COND_COMPARE: {
                boolean imm = row == A64.CCMN_IMM || row == A64.CCMP_IMM;
                int op = row == A64.CCMN_REG || row == A64.CCMN_IMM ? Op.CCMN : Op.CCMP;
                return insn(row, w, op, 0, rz(row.field(w, "Rn")), imm ? Insn.ZR : rz(row.field(w, "Rm")), 0,
                        imm ? row.field(w, "imm5") : 0, 0, sf, 0, 0, row.field(w, "nzcv"), row.field(w, "cond"),
                        imm ? Insn.IMMEDIATE : 0);
            }
            case COND_SELECT: {
                int op = row == A64.CSEL ? Op.CSEL : row == A64.CSINC ? Op.CSINC : row == A64.CSINV ? Op.CSINV
                        : Op.CSNEG;
                return insn(row, w, op, wz(row.field(w, "Rd")), rz(row.field(w, "Rn")), rz(row.field(w, "Rm")), 0, 0,
                        0, sf, 0, 0, 0, row.field(w, "cond"), 0);
            }
            case DP_3SRC: {
                int op;
                switch (row) {
                    case MADD: op = Op.MADD; break;
                    case MSUB: op = Op.MSUB; break;
                    case SMADDL: op = Op.SMADDL; break;
                    case SMSUBL: op = Op.SMSUBL; break;
                    case SMULH: op = Op.SMULH; break;
                    case UMADDL: op = Op.UMADDL; break;
                    case UMSUBL: op = Op.UMSUBL; break;
                    default: op = Op.UMULH; break;
                }
                return insn(row, w, op, wz(row.field(w, "Rd")), rz(row.field(w, "Rn")), rz(row.field(w, "Rm")),
                        rz(row.field(w, "Ra")), 0, 0, sf, 0, 0, 0, 0, 0);
            }
            default:
                throw new IllegalStateException("no decoder for form " + row.form);
        }
    }

    private static Insn insn(A64 row, int w, int op, int rd, int rn, int rm, int ra, long imm, long imm2, boolean sf,
                             int shift, int size, int amount, int cond, int flags) {
        return new Insn(row, w, op, rd, rn, rm, ra, imm, imm2, sf, shift, size, amount, cond, flags);
    }

    private static int baseFlags(int rn) {
        return rn == 31 ? Insn.BASE_SP : 0;
    }

    private static Insn exclusive(A64 row, int w) {
        int size = w >>> 30;
        int rt = row.field(w, "Rt");
        int rt2 = row.field(w, "Rt2");
        int rn = row.field(w, "Rn");
        int rs = row.field(w, "Rs");
        int flags = baseFlags(rn);
        int op;
        boolean load;
        switch (row) {
            case STXRB: case STXRH: case STXR: op = Op.STXR; load = false; break;
            case STLXRB: case STLXRH: case STLXR: op = Op.STXR; load = false; flags |= Insn.RELEASE; break;
            case LDXRB: case LDXRH: case LDXR: op = Op.LDXR; load = true; break;
            case LDAXRB: case LDAXRH: case LDAXR: op = Op.LDXR; load = true; flags |= Insn.ACQUIRE; break;
            case STXP: op = Op.STXP; load = false; break;
            case STLXP: op = Op.STXP; load = false; flags |= Insn.RELEASE; break;
            case LDXP: op = Op.LDXP; load = true; break;
            case LDAXP: op = Op.LDXP; load = true; flags |= Insn.ACQUIRE; break;
            case STLR: op = Op.STLR; load = false; flags |= Insn.RELEASE; break;
            default: op = Op.LDAR; load = true; flags |= Insn.ACQUIRE; break;
        }
        boolean pair = op == Op.STXP || op == Op.LDXP;
        if (pair) {
            // STXP/LDXP: each register is 32 bits (sz = 0) or 64 bits (sz = 1); the access is twice that.
            size = (w >>> 30 & 1) == 1 ? 3 : 2;
            if (size == 3) {
                flags |= Insn.WIDE;
            }
        }
        return insn(row, w, op, load ? wz(rt) : rz(rt), rn, wz(rs), load ? wz(rt2) : rz(rt2), 0, 0, true, 0, size,
                0, 0, flags);
    }

    private static Insn pair(A64 row, int w) {
        int opc = w >>> 30;
        boolean load = (w >>> 22 & 1) == 1;
        int size;
        int flags = 0;
        if (opc == 0) {
            size = 2;
        } else if (opc == 2) {
            size = 3;
            flags |= Insn.WIDE;
        } else if (opc == 1 && load && row != A64.LDNP) {
            size = 2;
            flags |= Insn.SIGNED64;
        } else {
            return null;
        }
        int rn = row.field(w, "Rn");
        flags |= baseFlags(rn);
        long imm = sext(row.field(w, "imm7"), 7) << size;
        int op;
        switch (row) {
            case STNP: case STP: op = Op.STP; break;
            case LDNP: case LDP: op = Op.LDP; break;
            case STP_POST: op = Op.STP_POST; break;
            case LDP_POST: op = Op.LDP_POST; break;
            case STP_PRE: op = Op.STP_PRE; break;
            default: op = Op.LDP_PRE; break;
        }
        int rt = row.field(w, "Rt");
        int rt2 = row.field(w, "Rt2");
        return insn(row, w, op, load ? wz(rt) : rz(rt), rn, 0, load ? wz(rt2) : rz(rt2), imm, 0, true, 0, size, 0, 0,
                flags);
    }

    private static Insn loadStore(A64 row, int w) {
        int size = w >>> 30;
        int opc = w >>> 22 & 3;
        int rt = row.field(w, "Rt");
        int rn = row.field(w, "Rn");
        boolean store = opc == 0;
        int flags = baseFlags(rn);
        boolean prefetch = false;
        if (opc == 2) {
            if (size == 3) {
                prefetch = true;
            } else {
                flags |= Insn.SIGNED64;
            }
        } else if (opc == 3) {
            if (size >= 2) {
                return null;
            }
            flags |= Insn.SIGNED32;
        }
        long imm;
        int op;
        int option = 0;
        int amount = 0;
        int rm = 0;
        switch (row) {
            case LDST_UNSCALED:
                imm = sext(row.field(w, "imm9"), 9);
                op = store ? Op.ST : Op.LD;
                break;
            case LDST_UIMM:
                imm = (long) row.field(w, "imm12") << size;
                op = store ? Op.ST : Op.LD;
                break;
            case LDST_UNPRIV:
            case LDST_PRE:
            case LDST_POST:
                if (prefetch) {
                    return null;                // only the unscaled imm9 form has a prefetch (PRFUM)
                }
                imm = sext(row.field(w, "imm9"), 9);
                if (row == A64.LDST_PRE) {
                    op = store ? Op.ST_PRE : Op.LD_PRE;
                } else if (row == A64.LDST_POST) {
                    op = store ? Op.ST_POST : Op.LD_POST;
                } else {
                    op = store ? Op.ST : Op.LD;
                    flags |= Insn.UNPRIVILEGED;
                }
                break;
            default: // LDST_REG
                option = row.field(w, "option");
                if ((option & 2) == 0) {
                    return null;
                }
                amount = row.field(w, "S") == 1 ? size : 0;
                rm = rz(row.field(w, "Rm"));
                imm = 0;
                op = store ? Op.ST_REG : Op.LD_REG;
                break;
        }
        if (prefetch) {
            // PRFM/PRFUM: a hint; it never faults and changes no register.
            return insn(row, w, Op.PRFM, 0, 0, 0, 0, 0, 0, true, 0, 0, 0, 0, 0);
        }
        return insn(row, w, op, store ? rz(rt) : wz(rt), rn, rm, 0, imm, 0, true, option, size, amount, 0, flags);
    }
}
