package dev.jvmm.arm64;

import dev.jvmm.core.memory.GuestMemory;

/** Builds stage 1 translation tables in guest RAM for tests (any granule, any start level). */
public final class PageTables {
    public static final long VALID = 1;
    public static final long TABLE = 2;
    public static final long AF = 1L << 10;
    public static final long AP_EL0 = 1L << 6;
    public static final long AP_RO = 1L << 7;
    public static final long PXN = 1L << 53;
    public static final long UXN = 1L << 54;
    public static final long ATTR_DEVICE = 1L << 2;   // MAIR index 1 in IdentityMap.MAIR

    private final GuestMemory memory;
    private final int granule;
    private final int startLevel;
    private final int inputSize;
    private long next;
    public final long root;

    /** Tables of {@code 1 << granule} bytes allocated upward from {@code pool}. */
    public PageTables(GuestMemory memory, int granule, int inputSize, long pool) {
        this.memory = memory;
        this.granule = granule;
        this.inputSize = inputSize;
        int stride = granule - 3;
        this.startLevel = 4 - (inputSize - granule + stride - 1) / stride;
        this.next = pool;
        this.root = alloc();
    }

    private long alloc() {
        long t = next;
        next += 1L << granule;
        memory.fill(t, 1L << granule, (byte) 0);
        return t;
    }

    private int shift(int level) {
        return granule + (3 - level) * (granule - 3);
    }

    /** Maps one page (level 3) or block (lower level) at {@code va} to {@code pa} with extra descriptor bits. */
    public void map(long va, long pa, int level, long bits) {
        long table = root;
        int stride = granule - 3;
        for (int l = startLevel; l < level; l++) {
            long idx = (va >>> shift(l)) & ((1L << stride) - 1);
            long entry = table + 8 * idx;
            long d = memory.read64(entry);
            if ((d & 3) != 3) {
                long t = alloc();
                memory.write64(entry, t | VALID | TABLE);
                d = t | 3;
            }
            table = d & 0x0000_FFFF_FFFF_F000L & -(1L << granule);
        }
        long idx = (va >>> shift(level)) & ((1L << stride) - 1);
        long desc = pa | VALID | (level == 3 ? TABLE : 0) | bits;
        memory.write64(table + 8 * idx, desc);
    }

    /** The descriptor slot for {@code va} at {@code level} (the tables above must exist). */
    public long slot(long va, int level) {
        long table = root;
        int stride = granule - 3;
        for (int l = startLevel; l < level; l++) {
            long idx = (va >>> shift(l)) & ((1L << stride) - 1);
            table = memory.read64(table + 8 * idx) & 0x0000_FFFF_FFFF_F000L & -(1L << granule);
        }
        return table + 8 * ((va >>> shift(level)) & ((1L << stride) - 1));
    }

    public int startLevel() {
        return startLevel;
    }
}
