package dev.jvmm.gic;

/**
 * The distributor registers this GIC implements (GICv3 architecture, "Distributor registers"): only what a guest
 * needs to find LPIs. There are no SPIs; every other register reads as zero and ignores writes.
 *
 * <pre>
 *  0x0000 GICD_CTLR   [0] EnableGrp0 [1] EnableGrp1 [4] ARE (RAO/WI) [6] DS (RAO/WI) [31] RWP (0)
 *  0x0004 GICD_TYPER  RO  [4:0] ITLinesNumber [17] LPIS [23:19] IDbits
 *  0x0008 GICD_IIDR   RO
 *  0xFFE8 GICD_PIDR2  RO  [7:4] ArchRev = 3
 * </pre>
 */
public final class DistributorRegisterDescriptor {
    public static final long FRAME_SIZE = 0x1_0000L;

    public static final long GICD_CTLR = 0x0000;
    public static final long GICD_TYPER = 0x0004;
    public static final long GICD_IIDR = 0x0008;
    public static final long GICD_PIDR2 = 0xFFE8;

    public static final int CTLR_ENABLE_GRP0 = 1;
    public static final int CTLR_ENABLE_GRP1 = 1 << 1;
    public static final int CTLR_ARE = 1 << 4;
    public static final int CTLR_DS = 1 << 6;

    public static final int TYPER_LPIS = 1 << 17;
    public static final int TYPER_ID_BITS_SHIFT = 19;

    /** ArchRev 3 (GICv3) in [7:4], and the low nibble as KVM and Arm's implementations report it. */
    public static final int PIDR2_GICV3 = 0x3B;

    private DistributorRegisterDescriptor() {
    }
}
