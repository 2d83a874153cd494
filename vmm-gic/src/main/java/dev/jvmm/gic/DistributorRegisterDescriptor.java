package dev.jvmm.gic;

/**
 * The distributor's register frame (GICv3 architecture, IHI 0069, "The GIC Distributor register map" and the
 * GICD_* register descriptions), as this GIC implements it: one security state (GICD_CTLR.DS = 1, as KVM shows it),
 * affinity routing always on (ARE = 1, RAO/WI), 256 SPIs (INTIDs 32..287, as QEMU's {@code virt} machine wires
 * them) and LPIs. The per-interrupt registers hold 1, 2, 8 or 64 bits per INTID; their first 32 INTIDs (SGIs and
 * PPIs) are RAZ/WI here because affinity routing puts them in each redistributor's SGI_base frame.
 *
 * <pre>
 *  offset  register          width   bits per INTID   what this GIC does
 *  0x0000  GICD_CTLR          32                       [0] EnableGrp0 [1] EnableGrp1 [4] ARE RAO [6] DS RAO [31] RWP 0
 *  0x0004  GICD_TYPER         32 RO                    [4:0] ITLinesNumber = 8 [17] LPIS [23:19] IDbits = 15
 *                                                      [24] A3V = 0 [25] No1N = 0 (1-of-N supported)
 *  0x0008  GICD_IIDR          32 RO
 *  0x000C  GICD_TYPER2        32 RO                    0: no vPE IDs, no nASSGIcap
 *  0x0010  GICD_STATUSR       32                       RAZ/WI
 *  0x0080  GICD_IGROUPR&lt;n&gt;    32        1               0: Group 0 (FIQ), 1: Group 1 (IRQ); resets to 1
 *  0x0100  GICD_ISENABLER&lt;n&gt;  32        1
 *  0x0180  GICD_ICENABLER&lt;n&gt;  32        1
 *  0x0200  GICD_ISPENDR&lt;n&gt;    32        1               sets the pending latch (level: pending while set or high)
 *  0x0280  GICD_ICPENDR&lt;n&gt;    32        1               clears the latch; a level line still high stays pending
 *  0x0300  GICD_ISACTIVER&lt;n&gt;  32        1
 *  0x0380  GICD_ICACTIVER&lt;n&gt;  32        1
 *  0x0400  GICD_IPRIORITYR&lt;n&gt; 8 or 32   8               priority [7:3] kept (5 bits), [2:0] RAZ/WI
 *  0x0800  GICD_ITARGETSR&lt;n&gt;  8 or 32   8               RAZ/WI (affinity routing)
 *  0x0C00  GICD_ICFGR&lt;n&gt;      32        2               [2i+1] 1: edge-triggered, 0: level-sensitive
 *  0x0D00  GICD_IGRPMODR&lt;n&gt;   32        1               RAZ/WI (DS = 1)
 *  0x0E00  GICD_NSACR&lt;n&gt;      32        2               RAZ/WI (DS = 1)
 *  0x0F00  GICD_SGIR          32                       WI (affinity routing: SGIs come from ICC_SGI*R_EL1)
 *  0x0F10  GICD_CPENDSGIR&lt;n&gt;  8 or 32                   RAZ/WI (affinity routing)
 *  0x0F20  GICD_SPENDSGIR&lt;n&gt;  8 or 32                   RAZ/WI (affinity routing)
 *  0x6100  GICD_IROUTER&lt;n&gt;    32 or 64  64              [23:0] Aff2.Aff1.Aff0 [31] Interrupt_Routing_Mode; [39:32] Aff3 RAZ/WI
 *  0xFFD0  GICD_PIDR4..CIDR3  32 RO                    GICD_PIDR2 (0xFFE8) [7:4] ArchRev = 3
 * </pre>
 */
public final class DistributorRegisterDescriptor {
    public static final long FRAME_SIZE = 0x1_0000L;

    // ------------------------------------------------------------------------------------------ INTID space
    /** SGIs are INTIDs 0..15, PPIs 16..31: the private interrupts of each PE. */
    public static final int SGI_COUNT = 16;
    public static final int FIRST_PPI = 16;
    public static final int PRIVATE_COUNT = 32;
    public static final int FIRST_SPI = 32;
    /** SPIs this GIC implements, as QEMU's virt machine: INTIDs 32..287. */
    public static final int SPI_COUNT = 256;
    /** One past the last SPI: every wired INTID is below it. */
    public static final int SPI_LIMIT = FIRST_SPI + SPI_COUNT;
    /** INTIDs 1020..1023 are special (1023: no pending interrupt, spurious). */
    public static final int FIRST_SPECIAL = 1020;

    // ------------------------------------------------------------------------------------------ offsets
    public static final long GICD_CTLR = 0x0000;
    public static final long GICD_TYPER = 0x0004;
    public static final long GICD_IIDR = 0x0008;
    public static final long GICD_TYPER2 = 0x000C;
    public static final long GICD_STATUSR = 0x0010;
    public static final long GICD_IGROUPR = 0x0080;
    public static final long GICD_ISENABLER = 0x0100;
    public static final long GICD_ICENABLER = 0x0180;
    public static final long GICD_ISPENDR = 0x0200;
    public static final long GICD_ICPENDR = 0x0280;
    public static final long GICD_ISACTIVER = 0x0300;
    public static final long GICD_ICACTIVER = 0x0380;
    public static final long GICD_IPRIORITYR = 0x0400;
    public static final long GICD_ITARGETSR = 0x0800;
    public static final long GICD_ICFGR = 0x0C00;
    public static final long GICD_IGRPMODR = 0x0D00;
    public static final long GICD_NSACR = 0x0E00;
    public static final long GICD_SGIR = 0x0F00;
    public static final long GICD_CPENDSGIR = 0x0F10;
    public static final long GICD_SPENDSGIR = 0x0F20;
    /** GICD_IROUTER&lt;n&gt; is at 0x6000 + 8n; n = 0..31 are reserved, the first SPI's is at 0x6100. */
    public static final long GICD_IROUTER = 0x6000;
    public static final long GICD_PIDR2 = 0xFFE8;

    /** Bytes of the 1-bit-per-INTID register arrays (IGROUPR, ISENABLER ...): 1024 INTIDs. */
    public static final long BIT_ARRAY_BYTES = 0x80;

    // ------------------------------------------------------------------------------------------ GICD_CTLR
    public static final int CTLR_ENABLE_GRP0 = 1;
    public static final int CTLR_ENABLE_GRP1 = 1 << 1;
    public static final int CTLR_ARE = 1 << 4;
    public static final int CTLR_DS = 1 << 6;
    public static final int CTLR_E1NWF = 1 << 7;
    public static final int CTLR_RWP = 1 << 31;

    // ------------------------------------------------------------------------------------------ GICD_TYPER
    public static final int TYPER_IT_LINES_MASK = 0x1F;
    public static final int TYPER_MBIS = 1 << 16;
    public static final int TYPER_LPIS = 1 << 17;
    public static final int TYPER_ID_BITS_SHIFT = 19;
    public static final int TYPER_A3V = 1 << 24;
    public static final int TYPER_NO1N = 1 << 25;

    // ------------------------------------------------------------------------------------------ GICD_ICFGR
    /** The upper bit of each 2-bit field: 1 = edge-triggered. */
    public static final int ICFGR_EDGE = 0b10;

    // ------------------------------------------------------------------------------------------ GICD_IROUTER
    /** Aff2.Aff1.Aff0 in [23:16].[15:8].[7:0]. */
    public static final long IROUTER_AFFINITY_MASK = 0xFF_FFFFL;
    /** Interrupt_Routing_Mode: 1 = to any one participating PE (1 of N). */
    public static final long IROUTER_IRM = 1L << 31;
    public static final long IROUTER_WRITABLE = IROUTER_AFFINITY_MASK | IROUTER_IRM;

    /** ArchRev 3 (GICv3) in [7:4], and the low nibble as KVM and Arm's implementations report it. */
    public static final int PIDR2_GICV3 = 0x3B;

    private DistributorRegisterDescriptor() {
    }

    /** The offset of GICD_IROUTER for SPI {@code intid}. */
    public static long irouter(int intid) {
        return GICD_IROUTER + 8L * intid;
    }

    /** Whether {@code intid} is an SPI this GIC implements. */
    public static boolean isSpi(long intid) {
        return intid >= FIRST_SPI && intid < SPI_LIMIT;
    }
}
