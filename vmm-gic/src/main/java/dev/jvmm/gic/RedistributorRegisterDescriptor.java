package dev.jvmm.gic;

/**
 * A redistributor's RD_base frame (GICv3 architecture, "Redistributor registers"), the registers that control LPIs.
 * Each redistributor has 128 KiB: RD_base, then the SGI_base frame (SGIs and PPIs, not implemented here: RAZ/WI).
 *
 * <pre>
 *  0x0000 GICR_CTLR       [0] EnableLPIs
 *  0x0004 GICR_IIDR       RO
 *  0x0008 GICR_TYPER      RO, 64-bit  [0] PLPIS [4] Last [23:8] Processor_Number [63:32] affinity
 *  0x0014 GICR_WAKER      [1] ProcessorSleep [2] ChildrenAsleep (RO)
 *  0x0070 GICR_PROPBASER  64-bit      [4:0] IDbits [51:12] PA of the LPI configuration table
 *  0x0078 GICR_PENDBASER  64-bit      [51:16] PA of the pending table [62] PTZ (reads as 0)
 *  0xFFE8 GICR_PIDR2      [7:4] ArchRev = 3
 * </pre>
 */
public final class RedistributorRegisterDescriptor {
    public static final long FRAME_SIZE = 0x2_0000L;

    public static final long GICR_CTLR = 0x0000;
    public static final long GICR_IIDR = 0x0004;
    public static final long GICR_TYPER = 0x0008;
    public static final long GICR_STATUSR = 0x0010;
    public static final long GICR_WAKER = 0x0014;
    public static final long GICR_PROPBASER = 0x0070;
    public static final long GICR_PENDBASER = 0x0078;
    public static final long GICR_PIDR2 = 0xFFE8;

    public static final int CTLR_ENABLE_LPIS = 1;

    public static final long TYPER_PLPIS = 1L;
    public static final long TYPER_LAST = 1L << 4;
    public static final int TYPER_PROCESSOR_NUMBER_SHIFT = 8;
    public static final int TYPER_AFFINITY_SHIFT = 32;

    public static final int WAKER_PROCESSOR_SLEEP = 1 << 1;
    public static final int WAKER_CHILDREN_ASLEEP = 1 << 2;

    public static final long PROPBASER_ID_BITS_MASK = 0x1FL;
    public static final long PROPBASER_PA_MASK = 0x000F_FFFF_FFFF_F000L;
    /** Writable: IDbits, InnerCache [9:7], Shareability [11:10], PA, OuterCache [58:56]. */
    public static final long PROPBASER_WRITABLE = PROPBASER_ID_BITS_MASK | (7L << 7) | (3L << 10) | PROPBASER_PA_MASK
            | (7L << 56);

    public static final long PENDBASER_PA_MASK = 0x000F_FFFF_FFFF_0000L;
    public static final long PENDBASER_PTZ = 1L << 62;
    /** Writable: InnerCache [9:7], Shareability [11:10], PA, OuterCache [58:56], PTZ. */
    public static final long PENDBASER_WRITABLE = (7L << 7) | (3L << 10) | PENDBASER_PA_MASK | (7L << 56)
            | PENDBASER_PTZ;

    private RedistributorRegisterDescriptor() {
    }
}
