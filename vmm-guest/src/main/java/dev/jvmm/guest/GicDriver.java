package dev.jvmm.guest;

import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.vcpu.GuestCpu;
import dev.jvmm.core.vcpu.SystemRegister;

/**
 * The toy guest's GICv3 driver, in the style of Linux's {@code irq-gic-v3.c} and {@code irq-gic-v3-its.c}: it
 * allocates the LPI configuration table, a pending table per redistributor, each ITS's command queue, device and
 * collection tables and each device's ITT in guest RAM, programs the registers, and drives the ITS with commands
 * whose completion it waits for on GITS_CREADR, as Linux's {@code its_wait_for_range_completion} does. A device with
 * a wired interrupt gets its SPI configured in the distributor ({@link #configureSpi}).
 *
 * <p>It only uses what a guest has: MMIO accesses through the vCPU, guest RAM, and the CPU-interface system
 * registers. Register offsets and command layouts are written out here from the GICv3 architecture
 * ({@code ../shared/reference/gicv3-its.md}); the guest does not share code with the emulated GIC.
 *
 * <p>vmm-gic has a guest-side driver of its own ({@code dev.jvmm.gic.guest}), built on the emulator's register
 * descriptors, for its tests and {@code LpiStress}. This one deliberately is not: written from the specification
 * alone, and driving the GIC the way Linux does (waking each redistributor, reading GITS_TYPER and the BASERs,
 * waiting on CREADR), it checks the emulator instead of sharing the emulator's reading of the specification.
 */
final class GicDriver {
    // Distributor (GICD) registers.
    static final long GICD_CTLR = 0x0000;
    static final long GICD_TYPER = 0x0004;
    static final long GICD_IGROUPR = 0x0080;
    static final long GICD_ISENABLER = 0x0100;
    static final long GICD_ICENABLER = 0x0180;
    static final long GICD_ICPENDR = 0x0280;
    static final long GICD_IPRIORITYR = 0x0400;
    static final long GICD_ICFGR = 0x0C00;
    static final long GICD_IROUTER = 0x6000;
    static final int GICD_CTLR_ENABLE_GRP1 = 1 << 1;
    static final int GICD_CTLR_ARE = 1 << 4;
    static final int GICD_CTLR_RWP = 1 << 31;
    static final int GICD_TYPER_LPIS = 1 << 17;
    static final int GICD_TYPER_IT_LINES = 0x1F;
    /** GICD_ICFGR: the upper bit of an interrupt's two-bit field, 1 for edge-triggered. */
    static final int ICFGR_EDGE = 0b10;
    static final int FIRST_SPI = 32;

    // Redistributor (GICR, RD_base frame) registers.
    static final long GICR_CTLR = 0x0000;
    static final long GICR_TYPER = 0x0008;
    static final long GICR_WAKER = 0x0014;
    static final long GICR_PROPBASER = 0x0070;
    static final long GICR_PENDBASER = 0x0078;
    static final int GICR_CTLR_ENABLE_LPIS = 1;
    static final int GICR_WAKER_PROCESSOR_SLEEP = 1 << 1;
    static final int GICR_WAKER_CHILDREN_ASLEEP = 1 << 2;
    static final long GICR_PENDBASER_PTZ = 1L << 62;
    static final long GICR_TYPER_PLPIS = 1;

    // ITS registers.
    static final long GITS_CTLR = 0x0000;
    static final long GITS_TYPER = 0x0008;
    static final long GITS_CBASER = 0x0080;
    static final long GITS_CWRITER = 0x0088;
    static final long GITS_CREADR = 0x0090;
    static final long GITS_BASER0 = 0x0100;
    static final int GITS_CTLR_ENABLED = 1;
    static final long GITS_CREADR_STALLED = 1;
    static final long BASER_VALID = 1L << 63;
    static final int BASER_TYPE_DEVICE = 1;
    static final int BASER_TYPE_COLLECTION = 4;

    // ITS commands (opcode in DW0[7:0]).
    static final int CMD_SYNC = 0x05;
    static final int CMD_MAPD = 0x08;
    static final int CMD_MAPC = 0x09;
    static final int CMD_MAPTI = 0x0A;
    static final int CMD_INV = 0x0C;
    static final int CMD_INVALL = 0x0D;
    static final int CMD_SIZE = 32;

    /** Linux's default: priority 0xA0, group 1 (the reserved bit 1 set), enabled. */
    static final int LPI_PROP_DEFAULT = 0xA3;
    /** Linux's GICD_INT_DEF_PRI, the priority it gives every SPI: the same as its LPIs'. */
    static final int SPI_PRIORITY = 0xA0;
    /** Linux's DEFAULT_PMR_VALUE: every priority numerically below 0xF0 is signalled. */
    static final int DEFAULT_PMR = 0xF0;
    static final int FIRST_LPI = 8192;
    static final int LPI_ID_BITS = 16;
    static final long COMMAND_QUEUE_SIZE = 64 * 1024;
    static final long COMMAND_TIMEOUT_NANOS = 1_000_000_000L;

    private final GuestCpu cpu;
    private final GuestMemory ram;
    private final GuestAllocator alloc;
    private final GuestPlatform platform;
    private long propBase;
    private int idBits;
    private int nextLpi = FIRST_LPI;
    private final Its[] its;

    /** One ITS as the driver sees it. */
    private static final class Its {
        final long base;
        long cmdQueue;
        long cwriter;
        int eventBitsMax;
        int deviceBitsMax;
        int ittEntrySize;

        Its(long base) {
            this.base = base;
        }
    }

    GicDriver(GuestCpu cpu, GuestAllocator alloc, GuestPlatform platform) {
        this.cpu = cpu;
        this.ram = cpu.memory();
        this.alloc = alloc;
        this.platform = platform;
        this.its = new Its[platform.itsBases().length];
        for (int i = 0; i < its.length; i++) {
            its[i] = new Its(platform.itsBases()[i]);
        }
    }

    // ------------------------------------------------------------------------------------------ boot CPU

    /** Distributor, every redistributor's LPI tables, every ITS. Runs once, on the boot vCPU. */
    void init() {
        int typer = (int) cpu.mmioRead(platform.gicdBase() + GICD_TYPER, 4);
        if ((typer & GICD_TYPER_LPIS) == 0) {
            throw new GuestPanic("GICD_TYPER.LPIS is 0: the interrupt controller does not support LPIs");
        }
        int gicdIdBits = ((typer >>> 19) & 0x1F) + 1;
        idBits = Math.min(gicdIdBits, LPI_ID_BITS);
        if (idBits < 14) {
            throw new GuestPanic("GICD_TYPER.IDbits gives only " + gicdIdBits + " INTID bits: no room for LPIs");
        }
        cpu.mmioWrite(platform.gicdBase() + GICD_CTLR, 4, GICD_CTLR_ARE | GICD_CTLR_ENABLE_GRP1);

        // One configuration table for every redistributor: one byte per LPI (INTIDs 8192 .. 2^idBits - 1).
        long propSize = (1L << idBits) - FIRST_LPI;
        propBase = alloc.allocate(propSize, 64 * 1024);
        GuestOs.zero(ram, propBase, propSize);
        for (int n = 0; n < platform.vcpus(); n++) {
            initRedistributor(n);
        }
        for (Its i : its) {
            initIts(i);
        }
    }

    /**
     * Configures SPI {@code intid} edge-triggered, Group 1, priority 0xA0, routed to vCPU {@code vcpu}, and enables
     * it: what Linux's {@code irq-gic-v3.c} does for an SPI whose device-tree trigger is edge rising
     * ({@code gic_configure_irq}, {@code gic_set_affinity}, {@code gic_poke_irq}), disabled while it is changed.
     * The routing affinity is the one the target's redistributor reports in GICR_TYPER[63:32], as Linux matches a
     * CPU's MPIDR to its redistributor.
     */
    void configureSpi(int intid, int vcpu) {
        long d = platform.gicdBase();
        int typer = (int) cpu.mmioRead(d + GICD_TYPER, 4);
        int limit = 32 * ((typer & GICD_TYPER_IT_LINES) + 1);
        if (intid < FIRST_SPI || intid >= Math.min(limit, 1020)) {
            throw new GuestPanic("SPI " + intid + " is beyond GICD_TYPER.ITLinesNumber (INTIDs below " + limit + ")");
        }
        long word = 4L * (intid / 32);
        int bit = 1 << (intid % 32);
        cpu.mmioWrite(d + GICD_ICENABLER + word, 4, bit & 0xFFFF_FFFFL);
        waitForRwp();
        cpu.mmioWrite(d + GICD_IGROUPR + word, 4, (cpu.mmioRead(d + GICD_IGROUPR + word, 4) | bit) & 0xFFFF_FFFFL);
        cpu.mmioWrite(d + GICD_IPRIORITYR + intid, 1, SPI_PRIORITY);
        long cfg = d + GICD_ICFGR + 4L * (intid / 16);
        int shift = 2 * (intid % 16);
        cpu.mmioWrite(cfg, 4, (cpu.mmioRead(cfg, 4) | ((long) ICFGR_EDGE << shift)) & 0xFFFF_FFFFL);
        if (((cpu.mmioRead(cfg, 4) >>> shift) & ICFGR_EDGE) == 0) {
            throw new GuestPanic("SPI " + intid + " did not become edge-triggered (GICD_ICFGR)");
        }
        long affinity = cpu.mmioRead(platform.gicrBase(vcpu) + GICR_TYPER, 8) >>> 32;
        long route = (affinity & 0xFF_FFFFL) | ((affinity >>> 24) << 32);   // Aff3 moves to IROUTER[39:32]
        cpu.mmioWrite(d + GICD_IROUTER + 8L * intid, 8, route);
        cpu.mmioWrite(d + GICD_ICPENDR + word, 4, bit & 0xFFFF_FFFFL);
        cpu.mmioWrite(d + GICD_ISENABLER + word, 4, bit & 0xFFFF_FFFFL);
    }

    /** Linux's {@code gic_dist_wait_for_rwp}: an enable cleared in the distributor has taken effect. */
    private void waitForRwp() {
        long ctlr = platform.gicdBase() + GICD_CTLR;
        waitFor(() -> (cpu.mmioRead(ctlr, 4) & GICD_CTLR_RWP) == 0, "GICD_CTLR.RWP to clear");
    }

    private void initRedistributor(int n) {
        long rd = platform.gicrBase(n);
        long typer = cpu.mmioRead(rd + GICR_TYPER, 8);
        if ((typer & GICR_TYPER_PLPIS) == 0) {
            throw new GuestPanic("redistributor " + n + " does not support physical LPIs (GICR_TYPER.PLPIS = 0)");
        }
        int processor = (int) ((typer >>> 8) & 0xFFFF);
        if (processor != n) {
            throw new GuestPanic("redistributor " + n + " reports processor number " + processor);
        }
        // Wake the redistributor (Linux's gic_enable_redist).
        int waker = (int) cpu.mmioRead(rd + GICR_WAKER, 4);
        cpu.mmioWrite(rd + GICR_WAKER, 4, waker & ~GICR_WAKER_PROCESSOR_SLEEP);
        waitFor(() -> (cpu.mmioRead(rd + GICR_WAKER, 4) & GICR_WAKER_CHILDREN_ASLEEP) == 0,
                "redistributor " + n + " to wake");

        // Pending table: one bit per INTID, 64 KiB aligned; zeroed, so PTZ may be set.
        long pendSize = Math.max(64 * 1024, (1L << idBits) / 8);
        long pend = alloc.allocate(pendSize, 64 * 1024);
        GuestOs.zero(ram, pend, pendSize);
        cpu.mmioWrite(rd + GICR_PROPBASER, 8, propBase | (idBits - 1));
        cpu.mmioWrite(rd + GICR_PENDBASER, 8, pend | GICR_PENDBASER_PTZ);
        int ctlr = (int) cpu.mmioRead(rd + GICR_CTLR, 4);
        cpu.mmioWrite(rd + GICR_CTLR, 4, ctlr | GICR_CTLR_ENABLE_LPIS);
        if ((cpu.mmioRead(rd + GICR_CTLR, 4) & GICR_CTLR_ENABLE_LPIS) == 0) {
            throw new GuestPanic("redistributor " + n + " did not enable LPIs");
        }
    }

    private void initIts(Its i) {
        long typer = cpu.mmioRead(i.base + GITS_TYPER, 8);
        if ((typer & 1) == 0) {
            throw new GuestPanic("ITS at 0x" + Long.toHexString(i.base) + " does not support physical LPIs");
        }
        if ((typer & (1L << 19)) != 0) {
            throw new GuestPanic("ITS at 0x" + Long.toHexString(i.base) + " wants physical addresses as RDbase (PTA=1)");
        }
        i.ittEntrySize = (int) ((typer >>> 4) & 0xF) + 1;
        i.eventBitsMax = (int) ((typer >>> 8) & 0x1F) + 1;
        i.deviceBitsMax = (int) ((typer >>> 13) & 0x1F) + 1;

        // Make sure the ITS is off while its tables are set up (GITS_CBASER/BASER are writable only then).
        cpu.mmioWrite(i.base + GITS_CTLR, 4, 0);

        i.cmdQueue = alloc.allocate(COMMAND_QUEUE_SIZE, 64 * 1024);
        GuestOs.zero(ram, i.cmdQueue, COMMAND_QUEUE_SIZE);
        cpu.mmioWrite(i.base + GITS_CBASER, 8, BASER_VALID | i.cmdQueue | (COMMAND_QUEUE_SIZE / 4096 - 1));
        cpu.mmioWrite(i.base + GITS_CWRITER, 8, 0);
        i.cwriter = 0;

        for (int n = 0; n < 8; n++) {
            long reg = i.base + GITS_BASER0 + 8L * n;
            long baser = cpu.mmioRead(reg, 8);
            int type = (int) ((baser >>> 56) & 7);
            int entrySize = (int) ((baser >>> 48) & 0x1F) + 1;
            long entries;
            if (type == BASER_TYPE_DEVICE) {
                entries = 1L << Math.min(i.deviceBitsMax, 16);
            } else if (type == BASER_TYPE_COLLECTION) {
                entries = Math.max(platform.vcpus(), 1);
            } else {
                continue;
            }
            // Flat table of 4 KiB pages; Size is pages - 1 (at most 256 pages).
            long bytes = Math.max(4096, (entries * entrySize + 4095) & -4096L);
            long pages = Math.min(256, bytes / 4096);
            long table = alloc.allocate(pages * 4096, 64 * 1024);
            GuestOs.zero(ram, table, pages * 4096);
            cpu.mmioWrite(reg, 8, BASER_VALID | table | (pages - 1));
        }
        cpu.mmioWrite(i.base + GITS_CTLR, 4, GITS_CTLR_ENABLED);
        if ((cpu.mmioRead(i.base + GITS_CTLR, 4) & GITS_CTLR_ENABLED) == 0) {
            throw new GuestPanic("ITS at 0x" + Long.toHexString(i.base) + " did not enable");
        }
        // One collection per vCPU, targeting that vCPU's redistributor (RDbase = processor number, PTA = 0).
        for (int n = 0; n < platform.vcpus(); n++) {
            command(i, CMD_MAPC, 0, 0, (1L << 63) | ((long) n << 16) | n, 0);
            command(i, CMD_INVALL, 0, 0, n, 0);
        }
        for (int n = 0; n < platform.vcpus(); n++) {
            command(i, CMD_SYNC, 0, 0, (long) n << 16, 0);
        }
    }

    /**
     * Maps a device's events 0 .. nvecs-1 to fresh LPIs, all in the collection of {@code vcpu}; returns the first
     * LPI (event e raises LPI first + e).
     */
    int mapDevice(int itsIndex, int deviceId, int nvecs, int vcpu) {
        Its i = its[itsIndex];
        int eventBits = Math.max(1, 32 - Integer.numberOfLeadingZeros(Math.max(1, nvecs - 1)));
        if (eventBits > i.eventBitsMax) {
            throw new GuestPanic("device " + deviceId + " needs " + eventBits + " EventID bits; the ITS has " + i.eventBitsMax);
        }
        long ittSize = Math.max(256, (long) i.ittEntrySize << eventBits);
        long itt = alloc.allocate(ittSize, 256);
        GuestOs.zero(ram, itt, ittSize);
        int first = nextLpi;
        if (first + nvecs > (1 << idBits)) {
            throw new GuestPanic("out of LPIs");
        }
        nextLpi += nvecs;
        for (int e = 0; e < nvecs; e++) {
            ram.write8(propBase + (first + e - FIRST_LPI), (byte) LPI_PROP_DEFAULT);
        }
        command(i, CMD_MAPD, (long) deviceId << 32, eventBits - 1, (1L << 63) | itt, 0);
        for (int e = 0; e < nvecs; e++) {
            command(i, CMD_MAPTI, (long) deviceId << 32, e | ((long) (first + e) << 32), vcpu, 0);
        }
        command(i, CMD_INVALL, 0, 0, vcpu, 0);
        command(i, CMD_SYNC, 0, 0, (long) vcpu << 16, 0);
        return first;
    }

    /** Writes one command, moves GITS_CWRITER past it, and waits until GITS_CREADR has passed it. */
    private void command(Its i, int opcode, long dw0, long dw1, long dw2, long dw3) {
        long slot = i.cmdQueue + i.cwriter;
        ram.write64(slot, dw0 | opcode);
        ram.write64(slot + 8, dw1);
        ram.write64(slot + 16, dw2);
        ram.write64(slot + 24, dw3);
        i.cwriter = (i.cwriter + CMD_SIZE) % COMMAND_QUEUE_SIZE;
        long target = i.cwriter;
        // The command bytes must be in RAM before the ITS is told to read them (Linux: dsb(ishst) before CWRITER).
        GuestMemory.fullFence();
        cpu.mmioWrite(i.base + GITS_CWRITER, 8, target);
        waitFor(() -> {
            long creadr = cpu.mmioRead(i.base + GITS_CREADR, 8);
            if ((creadr & GITS_CREADR_STALLED) != 0) {
                throw new GuestPanic("ITS command queue stalled at offset 0x" + Long.toHexString(creadr & ~31L));
            }
            return (creadr & 0xF_FFE0L) == target;
        }, "ITS command 0x" + Integer.toHexString(opcode) + " to complete");
    }

    private void waitFor(java.util.function.BooleanSupplier done, String what) {
        long start = cpu.counterNanos();
        while (!done.getAsBoolean()) {
            if (cpu.counterNanos() - start > COMMAND_TIMEOUT_NANOS) {
                throw new GuestPanic("timed out waiting for " + what);
            }
            Thread.onSpinWait();
        }
    }

    // ------------------------------------------------------------------------------------------ every CPU

    /** The CPU interface of the calling vCPU: unmask priorities below 0xF0 and enable group 1. */
    static void initCpuInterface(GuestCpu cpu) {
        cpu.writeSystemRegister(SystemRegister.ICC_PMR_EL1, DEFAULT_PMR);
        cpu.writeSystemRegister(SystemRegister.ICC_IGRPEN1_EL1, 1);
    }
}
