package dev.jvmm.core.vcpu;

/**
 * The AArch64 system registers of the GICv3 CPU interface that guest code may access; each access traps to the
 * interrupt controller of the machine. Encodings (op0, op1, CRn, CRm, op2) as in the Arm ARM, for reference.
 */
public enum SystemRegister {
    /** Interrupt Acknowledge Register, group 1 (read): the acknowledged INTID, or 1023 when none is pending. */
    ICC_IAR1_EL1(3, 0, 12, 12, 0),
    /** End Of Interrupt Register, group 1 (write): the INTID whose handling ends. */
    ICC_EOIR1_EL1(3, 0, 12, 12, 1),
    /** Interrupt Priority Mask Register: only interrupts of higher priority (lower value) are signalled. */
    ICC_PMR_EL1(3, 0, 4, 6, 0),
    /** Interrupt Group 1 Enable: bit 0 enables group 1 interrupts at this CPU interface. */
    ICC_IGRPEN1_EL1(3, 0, 12, 12, 7),
    /** Interrupt Control Register. */
    ICC_CTLR_EL1(3, 0, 12, 12, 4);

    private final int op0;
    private final int op1;
    private final int crn;
    private final int crm;
    private final int op2;

    SystemRegister(int op0, int op1, int crn, int crm, int op2) {
        this.op0 = op0;
        this.op1 = op1;
        this.crn = crn;
        this.crm = crm;
        this.op2 = op2;
    }

    /** The assembler name, e.g. {@code S3_0_C12_C12_0}. */
    public String encoding() {
        return "S" + op0 + "_" + op1 + "_C" + crn + "_C" + crm + "_" + op2;
    }

    /** The INTID that ICC_IAR1_EL1 returns when no interrupt can be acknowledged. */
    public static final int SPURIOUS_INTID = 1023;
}
