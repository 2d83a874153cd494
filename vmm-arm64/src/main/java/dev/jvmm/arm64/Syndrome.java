package dev.jvmm.arm64;

/**
 * Exception classes and fault status codes of ESR_EL1 (Arm ARM D17.2.37 "ESR_EL1", and the ISS encodings of
 * section D1.10.4 "Exception syndrome").
 */
final class Syndrome {
    private Syndrome() {
    }

    // ESR_ELx.EC
    static final int EC_UNKNOWN = 0x00;
    static final int EC_WFX = 0x01;
    static final int EC_ILLEGAL_STATE = 0x0E;
    static final int EC_SVC = 0x15;
    static final int EC_HVC = 0x16;
    static final int EC_SMC = 0x17;
    static final int EC_SYSREG = 0x18;
    static final int EC_IABT_LOWER = 0x20;
    static final int EC_IABT_SAME = 0x21;
    static final int EC_PC_ALIGN = 0x22;
    static final int EC_DABT_LOWER = 0x24;
    static final int EC_DABT_SAME = 0x25;
    static final int EC_SP_ALIGN = 0x26;
    static final int EC_BRK = 0x3C;

    /** ISS of a trapped WFI/WFE from AArch64: CV = 1, COND = 0b1110 (always), then TI (Arm ARM D17.2.37, EC 0x01). */
    static final long WFX_CV_AL = 1L << 24 | 0xEL << 20;

    /** ESR_ELx.IL: a 32-bit instruction. */
    static final long IL = 1L << 25;

    // Fault status codes (DFSC/IFSC); the level is added to the level-based ones.
    static final int FSC_ADDRESS_SIZE = 0x00;
    static final int FSC_TRANSLATION = 0x04;
    static final int FSC_ACCESS_FLAG = 0x08;
    static final int FSC_PERMISSION = 0x0C;
    static final int FSC_EXTERNAL = 0x10;
    static final int FSC_EXTERNAL_WALK = 0x14;
    static final int FSC_ALIGNMENT = 0x21;

    // Data abort ISS bits. ISV stays 0 for aborts taken to EL1, as QEMU reports them (its merge_syn_data_abort keeps
    // the instruction syndrome only for stage 2 aborts taken to EL2).
    static final int ISS_WNR = 1 << 6;
    static final int ISS_CM = 1 << 8;
    static final int ISS_EA = 1 << 9;

    static long esr(int ec, long iss) {
        return (long) ec << 26 | IL | (iss & 0x1FF_FFFFL);
    }

    /** The ISS of an MSR, MRS or SYS instruction trapped to EL1 (EC 0x18). */
    static long sysregIss(int key, int rt, boolean read) {
        int op0 = key >>> 14;
        int op1 = key >>> 11 & 7;
        int crn = key >>> 7 & 15;
        int crm = key >>> 3 & 15;
        int op2 = key & 7;
        return (long) op0 << 20 | op2 << 17 | op1 << 14 | crn << 10 | (rt & 31) << 5 | crm << 1 | (read ? 1 : 0);
    }
}
