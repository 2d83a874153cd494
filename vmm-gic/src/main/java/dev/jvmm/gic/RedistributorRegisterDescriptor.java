package dev.jvmm.gic;

/**
 * A redistributor's two 64 KiB frames (GICv3 architecture, IHI 0069, "The GIC Redistributor register map"):
 * RD_base, which controls LPIs, wake-up and identification, and SGI_base, which holds the SGIs' and PPIs'
 * per-interrupt registers (affinity routing moves them here from the distributor).
 *
 * <pre>
 *  RD_base  (offset from the redistributor's base)
 *  0x0000 GICR_CTLR       [0] EnableLPIs [3] RWP (0) [24] DPG0 [25] DPG1NS [26] DPG1S (RAZ/WI, DS = 1) [31] UWP (0)
 *  0x0004 GICR_IIDR       RO
 *  0x0008 GICR_TYPER      RO, 64-bit  [0] PLPIS [4] Last [5] DPGS [23:8] Processor_Number [63:32] affinity
 *  0x0010 GICR_STATUSR    RAZ/WI
 *  0x0014 GICR_WAKER      [1] ProcessorSleep [2] ChildrenAsleep (RO, follows ProcessorSleep)
 *  0x0070 GICR_PROPBASER  64-bit      [4:0] IDbits [51:12] PA of the LPI configuration table
 *  0x0078 GICR_PENDBASER  64-bit      [51:16] PA of the pending table [62] PTZ (reads as 0)
 *  0xFFE8 GICR_PIDR2      [7:4] ArchRev = 3
 *
 *  SGI_base (offset from the redistributor's base + 0x1_0000), one bit (or byte, or 2 bits) per INTID 0..31
 *  0x0080 GICR_IGROUPR0     0: Group 0, 1: Group 1 (resets to 1)
 *  0x0100 GICR_ISENABLER0   0x0180 GICR_ICENABLER0
 *  0x0200 GICR_ISPENDR0     0x0280 GICR_ICPENDR0
 *  0x0300 GICR_ISACTIVER0   0x0380 GICR_ICACTIVER0
 *  0x0400 GICR_IPRIORITYR0..7  one byte per INTID, byte or word access
 *  0x0C00 GICR_ICFGR0       SGIs: always edge (0xAAAA_AAAA, RO)
 *  0x0C04 GICR_ICFGR1       PPIs: level (0) or edge (2) per 2-bit field, configurable as QEMU allows
 *  0x0D00 GICR_IGRPMODR0    RAZ/WI (DS = 1)
 *  0x0E00 GICR_NSACR        RAZ/WI (DS = 1)
 * </pre>
 */
public final class RedistributorRegisterDescriptor {
    /** RD_base and SGI_base. */
    public static final long FRAME_SIZE = 0x2_0000L;
    /** Where the SGI_base frame starts. */
    public static final long SGI_BASE = 0x1_0000L;

    // ------------------------------------------------------------------------------------------ RD_base
    public static final long GICR_CTLR = 0x0000;
    public static final long GICR_IIDR = 0x0004;
    public static final long GICR_TYPER = 0x0008;
    public static final long GICR_STATUSR = 0x0010;
    public static final long GICR_WAKER = 0x0014;
    public static final long GICR_PROPBASER = 0x0070;
    public static final long GICR_PENDBASER = 0x0078;
    public static final long GICR_PIDR2 = 0xFFE8;

    // ------------------------------------------------------------------------------------------ SGI_base
    public static final long GICR_IGROUPR0 = SGI_BASE + 0x0080;
    public static final long GICR_ISENABLER0 = SGI_BASE + 0x0100;
    public static final long GICR_ICENABLER0 = SGI_BASE + 0x0180;
    public static final long GICR_ISPENDR0 = SGI_BASE + 0x0200;
    public static final long GICR_ICPENDR0 = SGI_BASE + 0x0280;
    public static final long GICR_ISACTIVER0 = SGI_BASE + 0x0300;
    public static final long GICR_ICACTIVER0 = SGI_BASE + 0x0380;
    public static final long GICR_IPRIORITYR0 = SGI_BASE + 0x0400;
    public static final long GICR_ICFGR0 = SGI_BASE + 0x0C00;
    public static final long GICR_ICFGR1 = SGI_BASE + 0x0C04;
    public static final long GICR_IGRPMODR0 = SGI_BASE + 0x0D00;
    public static final long GICR_NSACR = SGI_BASE + 0x0E00;

    // ------------------------------------------------------------------------------------------ fields
    public static final int CTLR_ENABLE_LPIS = 1;
    public static final int CTLR_RWP = 1 << 3;
    /** Disable Processor selection for Group 0 / Group 1 interrupts (1 of N SPIs). */
    public static final int CTLR_DPG0 = 1 << 24;
    public static final int CTLR_DPG1NS = 1 << 25;
    public static final int CTLR_DPG1S = 1 << 26;

    public static final long TYPER_PLPIS = 1L;
    public static final long TYPER_LAST = 1L << 4;
    /** GICR_CTLR.DPG* are implemented. */
    public static final long TYPER_DPGS = 1L << 5;
    public static final int TYPER_PROCESSOR_NUMBER_SHIFT = 8;
    public static final int TYPER_AFFINITY_SHIFT = 32;

    public static final int WAKER_PROCESSOR_SLEEP = 1 << 1;
    public static final int WAKER_CHILDREN_ASLEEP = 1 << 2;

    /** GICR_ICFGR0 as it always reads: every SGI edge-triggered. */
    public static final int ICFGR0_SGIS_EDGE = 0xAAAA_AAAA;

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
