package dev.jvmm.arm64;

/**
 * Turns the MMU on with an identity map, for tests that need Normal memory (unaligned accesses, as QEMU user mode
 * has): 4 KiB granule, 39-bit VAs (T0SZ = 25, the walk starts at level 1), 1 GiB blocks: the first GiB (MMIO on
 * QEMU's virt) Device-nGnRnE, the rest Normal write-back. TTBR1 is disabled (EPD1). The single level 1 table lives in
 * the last 4 KiB of {@link BareMetal}'s RAM.
 */
public final class IdentityMap {
    /** MAIR_EL1: index 0 Normal write-back, index 1 Device-nGnRnE. */
    public static final long MAIR = 0x00FFL;
    /** TCR_EL1: T0SZ 25, inner/outer write-back, inner shareable, TG0 4K, EPD1, IPS 44 bits. */
    public static final long TCR = 25 | 1L << 8 | 1L << 10 | 3L << 12 | 1L << 23 | 4L << 32;

    private IdentityMap() {
    }

    /**
     * Builds the table and enables the MMU on {@code m.cpu}. With {@code el0Access} the RAM is EL0-accessible
     * (AP = 01; then, as the architecture says, not executable at EL1), otherwise EL1-only (AP = 00).
     */
    public static long install(BareMetal m, boolean el0Access) {
        long table = BareMetal.RAM_BASE + BareMetal.RAM_SIZE - 4096;
        m.memory.fill(table, 4096, (byte) 0);
        long af = 1L << 10;
        long innerShareable = 3L << 8;
        // Level 1 block descriptors (bits 1:0 = 01).
        m.memory.write64(table, 0x0L | 1 | 1L << 2 | af | 1L << 54 | 1L << 53);
        long ap = el0Access ? 1L << 6 : 0;
        for (int i = 1; i < 512; i++) {
            m.memory.write64(table + 8L * i, ((long) i << 30) | 1 | af | innerShareable | ap);
        }
        m.cpu.writeSystemRegister("MAIR_EL1", MAIR);
        m.cpu.writeSystemRegister("TCR_EL1", TCR);
        m.cpu.writeSystemRegister("TTBR0_EL1", table);
        long sctlr = m.cpu.readSystemRegister("SCTLR_EL1");
        m.cpu.writeSystemRegister("SCTLR_EL1", sctlr | 1 | 1L << 2 | 1L << 12);
        return table;
    }
}
