package dev.jvmm.gic.guest;

import dev.jvmm.core.vcpu.GuestAccess;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.vcpu.GuestCpu;
import dev.jvmm.core.vcpu.SystemRegister;
import dev.jvmm.gic.DistributorRegisterDescriptor;
import dev.jvmm.gic.ItsRegisterDescriptor;
import dev.jvmm.gic.LpiTableDescriptor;
import dev.jvmm.gic.RedistributorRegisterDescriptor;

/**
 * A guest's GICv3 driver: lays out the LPI configuration table, one pending table per redistributor, each ITS's
 * tables and command queue in a region of guest RAM it is given (an "arena", carved with a bump allocator), and
 * programs the registers, in the order Linux's {@code irq-gic-v3.c} and {@code irq-gic-v3-its.c} do.
 *
 * <pre>{@code
 * GicDriver gic = new GicDriver(cpu, vcpus, 1, arenaBase, arenaSize);
 * gic.initDistributorAndLpis();      // GICD_CTLR; PROPBASER, PENDBASER (PTZ = 1), EnableLPIs on every redistributor
 * ItsCommandQueue its = gic.initIts(0, 1);    // BASER0/1, a one-page command queue, GITS_CTLR.Enabled
 * its.mapd(dev, 8, gic.allocateItt(8), true);
 * its.mapc(0, 0, true);
 * gic.setConfig(8192, LpiTableDescriptor.CONFIG_DEFAULT);
 * its.mapti(dev, 0, 8192, 0);
 * }</pre>
 *
 * <p>It uses only MMIO and guest RAM ({@link GuestAccess}); the CPU-interface helpers need the vCPU itself.
 * Not thread-safe: one guest CPU (or one test thread) drives it.
 */
public final class GicDriver {
    /** Bytes of each ITS table this driver allocates: a flat table of 4 KiB pages. */
    static final long TABLE_PAGE = 4096;

    private final GuestAccess access;
    private final GuestMemory ram;
    private final int vcpus;
    private final ItsCommandQueue[] queues;
    private final long arenaEnd;
    private long next;
    private long configTable;
    private final long[] pendingTables;

    /**
     * @param arenaBase guest physical address of RAM the driver may use (64 KiB aligned is best)
     * @param arenaSize its size; {@code 4 MiB + vcpus x 64 KiB} is plenty for small tests
     */
    public GicDriver(GuestAccess access, int vcpus, int itsCount, long arenaBase, long arenaSize) {
        this.access = access;
        this.ram = access.memory();
        this.vcpus = vcpus;
        this.queues = new ItsCommandQueue[itsCount];
        this.next = arenaBase;
        this.arenaEnd = arenaBase + arenaSize;
        this.pendingTables = new long[vcpus];
    }

    public GuestAccess access() {
        return access;
    }

    /** Allocates {@code bytes} of zeroed arena memory at {@code align}. */
    public long allocate(long bytes, long align) {
        long at = (next + align - 1) & -align;
        if (at + bytes > arenaEnd || at + bytes < at) {
            throw new IllegalStateException("guest arena exhausted: " + bytes + " bytes at 0x" + Long.toHexString(at));
        }
        next = at + bytes;
        ram.fill(at, bytes, (byte) 0);
        return at;
    }

    // ------------------------------------------------------------------------------------------ distributor

    /** GICD_CTLR: affinity routing and group 1 enabled, as Linux writes it. */
    public void initDistributor() {
        access.mmioWrite(MemoryMap.GICD_BASE + DistributorRegisterDescriptor.GICD_CTLR, 4,
                DistributorRegisterDescriptor.CTLR_ARE | DistributorRegisterDescriptor.CTLR_ENABLE_GRP1);
    }

    /**
     * What a guest's GIC driver does at boot before it turns to the ITS: {@link #initDistributor()},
     * {@link #initLpiTables initLpiTables(true)} and {@link #enableLpis} on every redistributor.
     */
    public void initDistributorAndLpis() {
        initDistributor();
        initLpiTables(true);
        for (int pe = 0; pe < vcpus; pe++) {
            enableLpis(pe);
        }
    }

    // ------------------------------------------------------------------------------------------ redistributors

    /**
     * Allocates the configuration table (16 INTID bits) and a pending table per redistributor, wakes each
     * redistributor and writes GICR_PROPBASER and GICR_PENDBASER ({@code ptz}: the tables are zero). Leaves
     * EnableLPIs alone.
     */
    public void initLpiTables(boolean ptz) {
        configTable = allocate(LpiTableDescriptor.LPI_COUNT, LpiTableDescriptor.PENDING_TABLE_ALIGN);
        for (int pe = 0; pe < vcpus; pe++) {
            pendingTables[pe] = allocate(LpiTableDescriptor.PENDING_TABLE_BYTES, LpiTableDescriptor.PENDING_TABLE_ALIGN);
            long rd = MemoryMap.gicr(pe);
            access.mmioWrite(rd + RedistributorRegisterDescriptor.GICR_WAKER, 4, 0);
            access.mmioWrite(rd + RedistributorRegisterDescriptor.GICR_PROPBASER, 8,
                    configTable | (LpiTableDescriptor.ID_BITS - 1));
            writePendbaser(pe, ptz);
        }
    }

    /** Rewrites GICR_PENDBASER of {@code pe} (ignored by the GIC while its LPIs are enabled). */
    public void writePendbaser(int pe, boolean ptz) {
        access.mmioWrite(MemoryMap.gicr(pe) + RedistributorRegisterDescriptor.GICR_PENDBASER, 8,
                pendingTables[pe] | (ptz ? RedistributorRegisterDescriptor.PENDBASER_PTZ : 0));
    }

    public void enableLpis(int pe) {
        access.mmioWrite(MemoryMap.gicr(pe) + RedistributorRegisterDescriptor.GICR_CTLR, 4,
                RedistributorRegisterDescriptor.CTLR_ENABLE_LPIS);
    }

    public void disableLpis(int pe) {
        access.mmioWrite(MemoryMap.gicr(pe) + RedistributorRegisterDescriptor.GICR_CTLR, 4, 0);
    }

    public boolean lpisEnabled(int pe) {
        return (access.mmioRead(MemoryMap.gicr(pe) + RedistributorRegisterDescriptor.GICR_CTLR, 4)
                & RedistributorRegisterDescriptor.CTLR_ENABLE_LPIS) != 0;
    }

    public long configTable() {
        return configTable;
    }

    public long pendingTable(int pe) {
        return pendingTables[pe];
    }

    /** Writes LPI {@code intid}'s configuration byte (the GIC sees it after INV or INVALL). */
    public void setConfig(int intid, int config) {
        ram.write8(configTable + LpiTableDescriptor.configOffset(intid), (byte) config);
    }

    public int config(int intid) {
        return ram.read8(configTable + LpiTableDescriptor.configOffset(intid)) & 0xFF;
    }

    /** Sets or clears {@code intid}'s bit in {@code pe}'s pending table. */
    public void setPendingBit(int pe, int intid, boolean pending) {
        long at = pendingTables[pe] + LpiTableDescriptor.pendingByteOffset(intid);
        if (pending) {
            ram.setBitAtomic(at, LpiTableDescriptor.pendingBit(intid));
        } else {
            ram.clearBitAtomic(at, LpiTableDescriptor.pendingBit(intid));
        }
    }

    public boolean pendingBit(int pe, int intid) {
        long at = pendingTables[pe] + LpiTableDescriptor.pendingByteOffset(intid);
        return (ram.read8(at) & (1 << LpiTableDescriptor.pendingBit(intid))) != 0;
    }

    // ------------------------------------------------------------------------------------------ ITS

    /**
     * Sets up ITS {@code index}: disables it, points GITS_BASER0 (device table, 2^16 entries) and GITS_BASER1
     * (collection table, one page) at zeroed arena memory, gives it a command queue of {@code queuePages} 4 KiB
     * pages, and enables it. Returns the queue.
     */
    public ItsCommandQueue initIts(int index, int queuePages) {
        long its = MemoryMap.its(index, vcpus);
        access.mmioWrite(its + ItsRegisterDescriptor.GITS_CTLR, 4, 0);
        for (int n = 0; n < ItsRegisterDescriptor.BASER_COUNT; n++) {
            long reg = its + ItsRegisterDescriptor.baser(n);
            long baser = access.mmioRead(reg, 8);
            int type = (int) ((baser & ItsRegisterDescriptor.BASER_TYPE_MASK) >>> ItsRegisterDescriptor.BASER_TYPE_SHIFT);
            long entryBytes = ((baser & ItsRegisterDescriptor.BASER_ENTRY_SIZE_MASK)
                    >>> ItsRegisterDescriptor.BASER_ENTRY_SIZE_SHIFT) + 1;
            long entries;
            if (type == ItsRegisterDescriptor.BASER_TYPE_DEVICE) {
                entries = 1L << 16;
            } else if (type == ItsRegisterDescriptor.BASER_TYPE_COLLECTION) {
                entries = Math.max(vcpus, 512);
            } else {
                continue;
            }
            long pages = Math.min(256, (entries * entryBytes + TABLE_PAGE - 1) / TABLE_PAGE);
            long table = allocate(pages * TABLE_PAGE, 0x1_0000L);
            access.mmioWrite(reg, 8, ItsRegisterDescriptor.BASER_VALID | table | (pages - 1));
        }
        long queueBytes = (long) queuePages * ItsRegisterDescriptor.QUEUE_PAGE_SIZE;
        long queue = allocate(queueBytes, 0x1_0000L);
        access.mmioWrite(its + ItsRegisterDescriptor.GITS_CBASER, 8,
                ItsRegisterDescriptor.CBASER_VALID | queue | (queuePages - 1));
        access.mmioWrite(its + ItsRegisterDescriptor.GITS_CWRITER, 8, 0);
        access.mmioWrite(its + ItsRegisterDescriptor.GITS_CTLR, 4, ItsRegisterDescriptor.CTLR_ENABLED);
        queues[index] = new ItsCommandQueue(access, its, queue, queueBytes);
        return queues[index];
    }

    /**
     * Points ITS {@code index} at a new command queue (disabling it for the CBASER write, then enabling it again):
     * how a guest recovers a stalled queue. Returns the new queue.
     */
    public ItsCommandQueue replaceCommandQueue(int index, int queuePages) {
        long its = MemoryMap.its(index, vcpus);
        access.mmioWrite(its + ItsRegisterDescriptor.GITS_CTLR, 4, 0);
        long queueBytes = (long) queuePages * ItsRegisterDescriptor.QUEUE_PAGE_SIZE;
        long queue = allocate(queueBytes, 0x1_0000L);
        access.mmioWrite(its + ItsRegisterDescriptor.GITS_CBASER, 8,
                ItsRegisterDescriptor.CBASER_VALID | queue | (queuePages - 1));
        access.mmioWrite(its + ItsRegisterDescriptor.GITS_CTLR, 4, ItsRegisterDescriptor.CTLR_ENABLED);
        queues[index] = new ItsCommandQueue(access, its, queue, queueBytes);
        return queues[index];
    }

    /** The queue {@link #initIts} set up for ITS {@code index}. */
    public ItsCommandQueue its(int index) {
        return queues[index];
    }

    /** An ITT for a device with {@code eventIdBits} EventID bits (256-byte aligned, 8-byte entries). */
    public long allocateItt(int eventIdBits) {
        return allocate(Math.max(256, 8L << eventIdBits), 256);
    }

    // ------------------------------------------------------------------------------------------ CPU interface

    /** On the vCPU: unmask every priority and enable group 1 (Linux writes PMR 0xF0; 0xFF opens all 32 levels). */
    public static void initCpuInterface(GuestCpu cpu) {
        cpu.writeSystemRegister(SystemRegister.ICC_PMR_EL1, 0xFF);
        cpu.writeSystemRegister(SystemRegister.ICC_IGRPEN1_EL1, 1);
    }
}
