package dev.jvmm.gic;

/**
 * The LPI tables in guest memory (GICv3 architecture, "LPI Configuration tables" and "LPI Pending tables").
 *
 * <pre>
 *  configuration table (one for all redistributors, at GICR_PROPBASER.PA), one byte per LPI:
 *     byte (INTID - 8192):   7            2   1          0
 *                           ┌───────────────┬──────────┬────────┐
 *                           │   priority    │ RES1     │ Enable │      0xA3 = priority 0xA0, enabled
 *                           └───────────────┴──────────┴────────┘
 *  pending table (one per redistributor, at GICR_PENDBASER.PA, 64 KiB aligned), one bit per INTID:
 *     INTID n is bit (n % 8) of byte (n / 8); the first 1 KiB (INTIDs 0..8191) holds no LPI state.
 * </pre>
 *
 * <p>This GIC implements 16 INTID bits (LPIs 8192..65535) and 5 bits of priority, as KVM's vGIC does: a priority
 * is compared on bits [7:3], so 32 priority levels exist.
 */
public final class LpiTableDescriptor {
    /** The first LPI INTID. */
    public static final int FIRST_LPI = 8192;
    /** INTID bits this GIC implements (GICD_TYPER.IDbits + 1). */
    public static final int ID_BITS = 16;
    /** One past the largest LPI INTID. */
    public static final int LPI_LIMIT = 1 << ID_BITS;
    /** How many LPI INTIDs exist. */
    public static final int LPI_COUNT = LPI_LIMIT - FIRST_LPI;

    public static final int CONFIG_ENABLE = 1;
    public static final int CONFIG_RES1 = 1 << 1;
    public static final int CONFIG_PRIORITY_MASK = 0xFC;
    /** Linux's LPI_PROP_DEFAULT: priority 0xA0, group 1, enabled. */
    public static final int CONFIG_DEFAULT = 0xA3;

    /** Implemented priority bits: [7:3]. */
    public static final int PRIORITY_BITS = 5;
    public static final int PRIORITY_LEVELS = 1 << PRIORITY_BITS;
    public static final int PRIORITY_LEVEL_SHIFT = 8 - PRIORITY_BITS;

    /** Bytes of a pending table for {@link #ID_BITS} INTID bits. */
    public static final long PENDING_TABLE_BYTES = LPI_LIMIT / 8;
    /** Pending tables are 64 KiB aligned. */
    public static final long PENDING_TABLE_ALIGN = 0x1_0000L;

    private LpiTableDescriptor() {
    }

    /** The byte of the configuration table that holds {@code intid}'s configuration. */
    public static long configOffset(int intid) {
        return intid - FIRST_LPI;
    }

    /** The byte of a pending table that holds {@code intid}'s bit. */
    public static long pendingByteOffset(int intid) {
        return intid >>> 3;
    }

    /** The bit within that byte. */
    public static int pendingBit(int intid) {
        return intid & 7;
    }

    /** The priority level (0 = most urgent) of a configuration byte. */
    public static int level(int config) {
        return (config & 0xFF) >>> PRIORITY_LEVEL_SHIFT;
    }

    /** The priority value (as compared with ICC_PMR_EL1) of a level. */
    public static int priorityOfLevel(int level) {
        return level << PRIORITY_LEVEL_SHIFT;
    }

    public static boolean enabled(int config) {
        return (config & CONFIG_ENABLE) != 0;
    }

    /** Whether {@code intid} is an LPI this GIC implements. */
    public static boolean isLpi(long intid) {
        return intid >= FIRST_LPI && intid < LPI_LIMIT;
    }
}
