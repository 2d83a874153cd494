package dev.jvmm.core.vcpu;

/**
 * The AArch64 system registers of the GICv3 CPU interface (Arm IHI 0069, "GIC system register descriptions",
 * chapter 12.2) that guest code may access at EL1; each access traps to the machine's interrupt controller.
 * Encodings (op0, op1, CRn, CRm, op2) are those of the Arm ARM, so that a CPU can map an MRS/MSR to an entry with
 * {@link #of(int, int, int, int, int)}.
 *
 * <p>Group 0 registers are listed because a guest may touch them; with the single security state view (GICD_CTLR.DS
 * = 1, as KVM presents the GIC) group 0 exists, but jvmm's guests use group 1 only.
 *
 * <p>{@link #readable()} and {@link #writable()} give the access the architecture defines: an MRS of a write-only
 * register (ICC_EOIR1_EL1, ICC_SGI1R_EL1 ...) or an MSR to a read-only one (ICC_IAR1_EL1, ICC_RPR_EL1 ...) is
 * UNDEFINED, which a CPU reports to the guest before the access reaches the controller.
 */
public enum SystemRegister {
    /** Interrupt Priority Mask Register: only interrupts of higher priority (lower value) are signalled. */
    ICC_PMR_EL1(3, 0, 4, 6, 0, true, true),
    /** Interrupt Acknowledge Register, group 0. */
    ICC_IAR0_EL1(3, 0, 12, 8, 0, true, false),
    /** End Of Interrupt Register, group 0. */
    ICC_EOIR0_EL1(3, 0, 12, 8, 1, false, true),
    /** Highest Priority Pending Interrupt Register, group 0. */
    ICC_HPPIR0_EL1(3, 0, 12, 8, 2, true, false),
    /** Binary Point Register, group 0. */
    ICC_BPR0_EL1(3, 0, 12, 8, 3, true, true),
    /** Active Priorities group 0 registers. */
    ICC_AP0R0_EL1(3, 0, 12, 8, 4, true, true),
    ICC_AP0R1_EL1(3, 0, 12, 8, 5, true, true),
    ICC_AP0R2_EL1(3, 0, 12, 8, 6, true, true),
    ICC_AP0R3_EL1(3, 0, 12, 8, 7, true, true),
    /** Active Priorities group 1 registers. */
    ICC_AP1R0_EL1(3, 0, 12, 9, 0, true, true),
    ICC_AP1R1_EL1(3, 0, 12, 9, 1, true, true),
    ICC_AP1R2_EL1(3, 0, 12, 9, 2, true, true),
    ICC_AP1R3_EL1(3, 0, 12, 9, 3, true, true),
    /** Deactivate Interrupt Register (EOImode 1). */
    ICC_DIR_EL1(3, 0, 12, 11, 1, false, true),
    /** Running Priority Register. */
    ICC_RPR_EL1(3, 0, 12, 11, 3, true, false),
    /** SGI Generation Register, group 1 (the current security state). */
    ICC_SGI1R_EL1(3, 0, 12, 11, 5, false, true),
    /** Alias SGI Generation Register (group 1 of the other security state; with DS = 1, see the controller). */
    ICC_ASGI1R_EL1(3, 0, 12, 11, 6, false, true),
    /** SGI Generation Register, group 0. */
    ICC_SGI0R_EL1(3, 0, 12, 11, 7, false, true),
    /** Interrupt Acknowledge Register, group 1 (read): the acknowledged INTID, or 1023 when none is pending. */
    ICC_IAR1_EL1(3, 0, 12, 12, 0, true, false),
    /** End Of Interrupt Register, group 1 (write): the INTID whose handling ends. */
    ICC_EOIR1_EL1(3, 0, 12, 12, 1, false, true),
    /** Highest Priority Pending Interrupt Register, group 1. */
    ICC_HPPIR1_EL1(3, 0, 12, 12, 2, true, false),
    /** Binary Point Register, group 1. */
    ICC_BPR1_EL1(3, 0, 12, 12, 3, true, true),
    /** Interrupt Control Register. */
    ICC_CTLR_EL1(3, 0, 12, 12, 4, true, true),
    /** System Register Enable: SRE reads as 1 (the system-register interface is the only one). */
    ICC_SRE_EL1(3, 0, 12, 12, 5, true, true),
    /** Interrupt Group 0 Enable. */
    ICC_IGRPEN0_EL1(3, 0, 12, 12, 6, true, true),
    /** Interrupt Group 1 Enable: bit 0 enables group 1 interrupts at this CPU interface. */
    ICC_IGRPEN1_EL1(3, 0, 12, 12, 7, true, true);

    /** The INTID that ICC_IAR1_EL1 returns when no interrupt can be acknowledged. */
    public static final int SPURIOUS_INTID = 1023;

    private static final SystemRegister[] BY_KEY = new SystemRegister[1 << 14];

    static {
        for (SystemRegister r : values()) {
            BY_KEY[r.key()] = r;
        }
    }

    private final int op0;
    private final int op1;
    private final int crn;
    private final int crm;
    private final int op2;
    private final boolean readable;
    private final boolean writable;

    SystemRegister(int op0, int op1, int crn, int crm, int op2, boolean readable, boolean writable) {
        this.op0 = op0;
        this.op1 = op1;
        this.crn = crn;
        this.crm = crm;
        this.op2 = op2;
        this.readable = readable;
        this.writable = writable;
    }

    /**
     * The CPU-interface register with this encoding, or null when it is not one. The key is MRS/MSR's
     * {@code o0:op1:CRn:CRm:op2} field with op0's top bit dropped (op0 is 2 or 3 for system registers).
     */
    public static SystemRegister of(int op0, int op1, int crn, int crm, int op2) {
        if ((op0 & ~3) != 0 || (op1 & ~7) != 0 || (crn & ~15) != 0 || (crm & ~15) != 0 || (op2 & ~7) != 0) {
            return null;
        }
        return BY_KEY[key(op0, op1, crn, crm, op2)];
    }

    private int key() {
        return key(op0, op1, crn, crm, op2);
    }

    private static int key(int op0, int op1, int crn, int crm, int op2) {
        return (op0 & 1) << 13 | op1 << 10 | crn << 6 | crm << 3 | op2;
    }

    /** Whether MRS may read it (write-only registers are UNDEFINED to read). */
    public boolean readable() {
        return readable;
    }

    /** Whether MSR may write it (read-only registers are UNDEFINED to write). */
    public boolean writable() {
        return writable;
    }

    public int op0() {
        return op0;
    }

    public int op1() {
        return op1;
    }

    public int crn() {
        return crn;
    }

    public int crm() {
        return crm;
    }

    public int op2() {
        return op2;
    }

    /** The assembler name, e.g. {@code S3_0_C12_C12_0}. */
    public String encoding() {
        return "S" + op0 + "_" + op1 + "_C" + crn + "_C" + crm + "_" + op2;
    }
}
