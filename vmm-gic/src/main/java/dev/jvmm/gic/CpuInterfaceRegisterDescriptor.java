package dev.jvmm.gic;

/**
 * Fields of the CPU interface's system registers (GICv3 architecture, IHI 0069, "AArch64 System register
 * descriptions of the CPU interface"; the encodings are in {@link dev.jvmm.core.vcpu.SystemRegister}), as this GIC
 * implements them: 5 priority bits and 5 preemption bits, as KVM's vGIC on Arm's cores and QEMU's
 * {@code -cpu cortex-a57} (so AP0R0/AP1R0 hold every active priority, and AP0R1..3/AP1R1..3 are not implemented).
 *
 * <pre>
 *  ICC_CTLR_EL1    [0] CBPR [1] EOImode [6] PMHE (0) [10:8] PRIbits = 4 [13:11] IDbits = 0 (16 bits) [14] SEIS (0)
 *                  [15] A3V (0) [18] RSS (0) [19] ExtRange (0)
 *  ICC_PMR_EL1     [7:3] priority mask ([2:0] RAZ/WI)
 *  ICC_BPR0_EL1    [2:0] binary point, at least 2: group priority bits [7:BPR0+1]
 *  ICC_BPR1_EL1    [2:0] binary point, at least 3: group priority bits [7:BPR1]; with CBPR, reads BPR0 + 1
 *  ICC_AP0R0_EL1 / ICC_AP1R0_EL1   bit n: group priority n &lt;&lt; 3 is active
 *  ICC_SRE_EL1     [0] SRE [1] DFB [2] DIB: RAO/WI (the system register interface is the only one)
 *  ICC_IGRPEN0/1   [0] Enable
 *
 *  ICC_SGI0R_EL1, ICC_SGI1R_EL1, ICC_ASGI1R_EL1 (write-only, 64-bit):
 *        63    56 55   48 47  44 43 41 40  39   32 31  28 27  24 23   16 15           0
 *       ┌────────┬───────┬──────┬─────┬───┬───────┬──────┬──────┬───────┬──────────────┐
 *       │  RES0  │ Aff3  │  RS  │RES0 │IRM│ Aff2  │ RES0 │INTID │ Aff1  │  TargetList  │
 *       └────────┴───────┴──────┴─────┴───┴───────┴──────┴──────┴───────┴──────────────┘
 *   IRM = 0: the PEs Aff3.Aff2.Aff1.n for every bit n of TargetList; IRM = 1: every PE but the writer.
 * </pre>
 */
public final class CpuInterfaceRegisterDescriptor {
    /** Implemented priority bits ([7:3]); the same for LPIs (see {@link LpiTableDescriptor#PRIORITY_BITS}). */
    public static final int PRIORITY_BITS = LpiTableDescriptor.PRIORITY_BITS;
    /** The mask of implemented priority bits: 0xF8. */
    public static final int PRIORITY_MASK = ((1 << PRIORITY_BITS) - 1) << (8 - PRIORITY_BITS);
    /** ICC_RPR_EL1 when nothing is active. */
    public static final int IDLE_PRIORITY = 0xFF;

    public static final long CTLR_CBPR = 1L;
    public static final long CTLR_EOIMODE = 1L << 1;
    public static final int CTLR_PRI_BITS_SHIFT = 8;
    public static final int CTLR_ID_BITS_SHIFT = 11;
    public static final long CTLR_A3V = 1L << 15;
    public static final long CTLR_WRITABLE = CTLR_CBPR | CTLR_EOIMODE;

    /** The smallest binary points: 7 - preemption bits for BPR0, one more for BPR1 (QEMU's icc_min_bpr). */
    public static final int MIN_BPR0 = 7 - PRIORITY_BITS;
    public static final int MIN_BPR1 = MIN_BPR0 + 1;
    public static final int BPR_MASK = 7;

    /** ICC_SRE_EL1: SRE, DFB and DIB read as one. */
    public static final long SRE_VALUE = 0b111;

    public static final long IGRPEN_ENABLE = 1;

    // ------------------------------------------------------------------------------------------ ICC_SGI*R_EL1
    public static final long SGIR_TARGET_LIST_MASK = 0xFFFFL;
    public static final int SGIR_AFF1_SHIFT = 16;
    public static final int SGIR_INTID_SHIFT = 24;
    public static final long SGIR_INTID_MASK = 0xFL;
    public static final int SGIR_AFF2_SHIFT = 32;
    public static final long SGIR_IRM = 1L << 40;
    public static final int SGIR_RS_SHIFT = 44;
    public static final int SGIR_AFF3_SHIFT = 48;
    public static final long SGIR_AFF_MASK = 0xFFL;

    private CpuInterfaceRegisterDescriptor() {
    }

    /** An ICC_SGI*R_EL1 value that raises SGI {@code intid} at the PEs {@code aff3.aff2.aff1.n}, n in {@code targets}. */
    public static long sgir(int intid, int aff3, int aff2, int aff1, int targets) {
        return ((long) (aff3 & 0xFF) << SGIR_AFF3_SHIFT) | ((long) (aff2 & 0xFF) << SGIR_AFF2_SHIFT)
                | ((long) (intid & 0xF) << SGIR_INTID_SHIFT) | ((long) (aff1 & 0xFF) << SGIR_AFF1_SHIFT)
                | (targets & SGIR_TARGET_LIST_MASK);
    }

    /** An ICC_SGI*R_EL1 value that raises SGI {@code intid} at every PE but the writer (IRM = 1). */
    public static long sgirAllButSelf(int intid) {
        return SGIR_IRM | ((long) (intid & 0xF) << SGIR_INTID_SHIFT);
    }
}
