package dev.jvmm.gic;

/**
 * The ITS register frame (GICv3 architecture, "ITS register descriptions"): offsets from the ITS base and the
 * fields this ITS implements. The control frame is the first 64 KiB; GITS_TRANSLATER sits in the translation frame
 * that follows it.
 *
 * <pre>
 *  0x0000 GITS_CTLR      [0] Enabled  [31] Quiescent (RO)
 *  0x0004 GITS_IIDR      RO
 *  0x0008 GITS_TYPER     RO, 64-bit   [0] Physical [7:4] ITT entry size-1 [12:8] EventID bits-1
 *                                     [17:13] DeviceID bits-1 [19] PTA [35:32] CIDbits [36] CIL
 *  0x0080 GITS_CBASER    64-bit       [7:0] Size (4 KiB pages-1) [51:12] PA [63] Valid
 *  0x0088 GITS_CWRITER   64-bit       [0] Retry [19:5] offset
 *  0x0090 GITS_CREADR    64-bit, RO   [0] Stalled [19:5] offset
 *  0x0100 GITS_BASER0..7 64-bit       [7:0] Size [9:8] Page_Size (resets to 64 KiB) [47:12] PA
 *                                     [52:48] Entry_Size-1 (RO) [58:56] Type (RO) [62] Indirect [63] Valid
 *  0xFFD0..0xFFFC ID registers        GITS_PIDR2 0xFFE8: [7:4] ArchRev = 3
 *  0x1_0040 GITS_TRANSLATER 32-bit WO the EventID; the DeviceID comes from the bus
 * </pre>
 */
public final class ItsRegisterDescriptor {
    /** The ITS occupies two 64 KiB frames. */
    public static final long FRAME_SIZE = 0x2_0000L;

    public static final long GITS_CTLR = 0x0000;
    public static final long GITS_IIDR = 0x0004;
    public static final long GITS_TYPER = 0x0008;
    public static final long GITS_CBASER = 0x0080;
    public static final long GITS_CWRITER = 0x0088;
    public static final long GITS_CREADR = 0x0090;
    public static final long GITS_BASER0 = 0x0100;
    public static final int BASER_COUNT = 8;
    public static final long GITS_IDREGS_START = 0xFFD0;
    public static final long GITS_PIDR2 = 0xFFE8;
    /** The translation frame (the second 64 KiB) starts here. */
    public static final long GITS_TRANSLATER_FRAME = 0x1_0000;
    public static final long GITS_TRANSLATER = 0x1_0040;

    // GITS_CTLR
    public static final int CTLR_ENABLED = 1;
    public static final int CTLR_QUIESCENT = 1 << 31;

    // GITS_TYPER
    public static final long TYPER_PHYSICAL = 1L;
    public static final int TYPER_ITT_ENTRY_SIZE_SHIFT = 4;
    public static final int TYPER_ID_BITS_SHIFT = 8;
    public static final int TYPER_DEVICE_BITS_SHIFT = 13;
    public static final long TYPER_PTA = 1L << 19;
    public static final int TYPER_CID_BITS_SHIFT = 32;
    public static final long TYPER_CIL = 1L << 36;

    // GITS_CBASER
    public static final long CBASER_VALID = 1L << 63;
    public static final long CBASER_SIZE_MASK = 0xFFL;
    public static final long CBASER_PA_MASK = 0x000F_FFFF_FFFF_F000L;
    /** Writable bits: Valid, InnerCache [61:59], OuterCache [55:53], PA, Shareability [11:10], Size. */
    public static final long CBASER_WRITABLE = CBASER_VALID | (7L << 59) | (7L << 53) | CBASER_PA_MASK | (3L << 10)
            | CBASER_SIZE_MASK;
    public static final long QUEUE_PAGE_SIZE = 4096;

    // GITS_CWRITER / GITS_CREADR
    public static final long CWRITER_RETRY = 1L;
    public static final long CREADR_STALLED = 1L;
    /** Bits [19:5]: a byte offset that is a multiple of the 32-byte command size. */
    public static final long QUEUE_OFFSET_MASK = 0xF_FFE0L;

    // GITS_BASER<n>
    public static final long BASER_VALID = 1L << 63;
    public static final long BASER_INDIRECT = 1L << 62;
    public static final int BASER_TYPE_SHIFT = 56;
    public static final long BASER_TYPE_MASK = 7L << BASER_TYPE_SHIFT;
    public static final int BASER_TYPE_NONE = 0;
    public static final int BASER_TYPE_DEVICE = 1;
    public static final int BASER_TYPE_COLLECTION = 4;
    public static final int BASER_ENTRY_SIZE_SHIFT = 48;
    public static final long BASER_ENTRY_SIZE_MASK = 0x1FL << BASER_ENTRY_SIZE_SHIFT;
    public static final int BASER_PAGE_SIZE_SHIFT = 8;
    public static final long BASER_PAGE_SIZE_MASK = 3L << BASER_PAGE_SIZE_SHIFT;
    public static final int BASER_PAGE_SIZE_4K = 0;
    public static final int BASER_PAGE_SIZE_16K = 1;
    public static final int BASER_PAGE_SIZE_64K = 2;
    public static final long BASER_SIZE_MASK = 0xFFL;
    /** PA bits [47:12]; with 64 KiB pages, bits [15:12] hold PA[51:48]. */
    public static final long BASER_PA_MASK = 0x0000_FFFF_FFFF_F000L;
    /** Fields a guest may write: all but Type and Entry_Size. */
    public static final long BASER_WRITABLE = BASER_VALID | BASER_INDIRECT | (7L << 59) | (7L << 53) | BASER_PA_MASK
            | (3L << 10) | BASER_PAGE_SIZE_MASK | BASER_SIZE_MASK;
    /** An indirect table's level-1 entry: bit 63 says the level-2 page is valid. */
    public static final long BASER_L1_ENTRY_VALID = 1L << 63;

    private ItsRegisterDescriptor() {
    }

    /** GITS_BASER{@code n}'s offset. */
    public static long baser(int n) {
        return GITS_BASER0 + 8L * n;
    }

    /** The bytes of a GITS_BASER page, from its Page_Size field. */
    public static long baserPageBytes(long baser) {
        switch ((int) ((baser & BASER_PAGE_SIZE_MASK) >>> BASER_PAGE_SIZE_SHIFT)) {
            case BASER_PAGE_SIZE_4K: return 4096;
            case BASER_PAGE_SIZE_16K: return 16384;
            default: return 65536;
        }
    }

    /** The physical address a GITS_BASER holds (with 64 KiB pages, bits [15:12] are PA[51:48]). */
    public static long baserAddress(long baser) {
        long pa = baser & BASER_PA_MASK;
        if (baserPageBytes(baser) == 65536) {
            pa = (pa & ~0xF000L) | ((pa & 0xF000L) << 36);
        }
        return pa;
    }

    /** The bytes of the table (the level-1 table when indirect): (Size + 1) pages. */
    public static long baserTableBytes(long baser) {
        return ((baser & BASER_SIZE_MASK) + 1) * baserPageBytes(baser);
    }

    /** The bytes of the command queue GITS_CBASER describes. */
    public static long cbaserQueueBytes(long cbaser) {
        return ((cbaser & CBASER_SIZE_MASK) + 1) * QUEUE_PAGE_SIZE;
    }
}
