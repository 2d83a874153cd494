package dev.jvmm.arm64.oracle;

import java.util.Random;

/**
 * The top-level A64 encoding groups (Arm ARM C4.1, op0 = bits 28:25), for drawing random words whose outcome
 * depends only on registers: executed or UNDEFINED, never a memory access or a jump.
 */
final class EncodingSpace {
    private EncodingSpace() {
    }

    /** op0 = bits 28:25. */
    static int op0(int w) {
        return w >>> 25 & 0xF;
    }

    /** Loads and stores: op0 = x1x0. */
    static boolean isLoadStore(int w) {
        return (op0(w) & 0b0101) == 0b0100;
    }

    /** Data processing, SIMD and FP: op0 = x111. */
    static boolean isSimdFp(int w) {
        return (op0(w) & 0b0111) == 0b0111;
    }

    /** Branches, exception generation and system instructions: op0 = 101x. */
    static boolean isBranchOrSystem(int w) {
        return (op0(w) & 0b1110) == 0b1010;
    }

    /**
     * System words that neither branch nor touch memory nor trap to a handler: the hints (CRn 2), barriers (CRn 3)
     * and PSTATE (CRn 4) rows, op0 = 0 and L = 0, any op1, CRm, op2 and Rt. WFE and WFI are left out (they may wait).
     */
    static boolean isRegisterOnlySystem(int w) {
        int crn = w >>> 12 & 0xF;
        if ((w & 0xFFF8_0000) != 0xD500_0000 || crn < 2 || crn > 4) {
            return false;
        }
        boolean wfeOrWfi = (w & 0xFFFF_FFDF) == 0xD503_205F;
        return !wfeOrWfi;
    }

    /** A random word of the register-only spaces (for the UNDEFINED test of {@link DifferentialTest}). */
    static int randomRegisterOnlyWord(Random r) {
        while (true) {
            int w = switch (r.nextInt(5)) {
                case 0 -> r.nextInt();
                case 1 -> r.nextInt() & ~(0xF << 25) | (0b1000 | r.nextInt(2)) << 25;             // DP immediate
                case 2 -> r.nextInt() & ~(0x7 << 25) | 0b101 << 25;                               // DP register
                case 3 -> 0xD500_0000 | r.nextInt(8) << 16 | (2 + r.nextInt(3)) << 12 | r.nextInt(1 << 12); // system
                default -> r.nextInt() & ~(0xF << 25) | new int[] {0b0000, 0b0001, 0b0010, 0b0011}[r.nextInt(4)] << 25;
            };
            if (isBranchOrSystem(w) ? isRegisterOnlySystem(w) : !isLoadStore(w) && !isSimdFp(w)) {
                return w;
            }
        }
    }

    /** The group a word belongs to, for reports. */
    static String describe(int w) {
        if (isRegisterOnlySystem(w)) {
            return "System (hints, barriers, PSTATE)";
        }
        return switch (op0(w)) {
            case 0b1000, 0b1001 -> "Data processing (immediate)";
            case 0b0101, 0b1101 -> "Data processing (register)";
            case 0b0000 -> "Reserved / SME";
            case 0b0010 -> "SVE";
            default -> "Unallocated (op0 " + Integer.toBinaryString(op0(w)) + ")";
        };
    }
}
