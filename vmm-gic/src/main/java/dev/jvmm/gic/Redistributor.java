package dev.jvmm.gic;

import dev.jvmm.core.bus.MmioDevice;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.memory.GuestMemoryException;
import dev.jvmm.core.vcpu.SystemRegister;

import java.util.List;

import static dev.jvmm.gic.LpiTableDescriptor.PENDING_TABLE_BYTES;
import static dev.jvmm.gic.LpiTableDescriptor.enabled;
import static dev.jvmm.gic.LpiTableDescriptor.level;
import static dev.jvmm.gic.LpiTableDescriptor.pendingBit;
import static dev.jvmm.gic.LpiTableDescriptor.pendingByteOffset;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.CTLR_ENABLE_LPIS;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.GICR_CTLR;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.GICR_IIDR;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.GICR_PENDBASER;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.GICR_PROPBASER;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.GICR_TYPER;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.GICR_WAKER;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.PENDBASER_PA_MASK;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.PENDBASER_PTZ;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.PENDBASER_WRITABLE;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.TYPER_AFFINITY_SHIFT;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.TYPER_LAST;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.TYPER_PLPIS;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.TYPER_PROCESSOR_NUMBER_SHIFT;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.WAKER_CHILDREN_ASLEEP;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.WAKER_PROCESSOR_SLEEP;
import static dev.jvmm.gic.RegisterTable.W32;
import static dev.jvmm.gic.RegisterTable.W64;

/**
 * One vCPU's redistributor: its RD_base registers, its pending LPIs, and the CPU interface that takes them.
 *
 * <h2>Where pending state lives</h2>
 * In host memory, in the {@link PendingLpiSet} (enabled LPIs, by priority) and in {@link Lpi#latched} (disabled
 * ones), so that ICC_IAR1_EL1 finds the most urgent LPI at once. A delivery also sets the LPI's bit in the guest's
 * pending table, before the LPI can be taken, so every pending LPI shows there. The architecture leaves the
 * table's contents UNKNOWN to software while EnableLPIs is 1, and this redistributor uses that latitude as a cache
 * would: acknowledging an LPI does not clear its bit (the bit is set once and stays set while the LPI is raised
 * again and again, so the table's cache line does not travel between the injecting and the acknowledging cores).
 * Every event that drops or moves an LPI's pending state clears its bit (CLEAR, DISCARD, unmapping, moving,
 * EnableLPIs 1 to 0), so once LPIs are disabled the table holds no dropped LPI, and re-enabling with PTZ = 0 cannot
 * resurrect one.
 *
 * <h2>EnableLPIs</h2>
 * 0 to 1: PENDBASER is latched; with PTZ = 0, each mapped LPI that targets this redistributor and whose bit is
 * set in the pending table becomes pending (KVM's {@code its_sync_lpi_pending_table}); with PTZ = 1 the table is
 * taken as zero. 1 to 0 (KVM allows it): every pending LPI of this redistributor is dropped, and every ITS's
 * translation cache is flushed. Both run holding every ITS lock (so no command or slow path runs), and quiesce
 * each affected LPI (so no cached-path delivery is in flight), see {@link GicV3#writeEnableLpis}.
 *
 * <p>PROPBASER is common to all redistributors (GICR_TYPER.CommonLPIAff = 0, as KVM): a write through any
 * redistributor whose LPIs are disabled sets it. PENDBASER is per redistributor; both ignore writes while
 * EnableLPIs is 1.
 */
final class Redistributor implements MmioDevice {
    final int index;
    final long base;
    final PendingLpiSet pending = new PendingLpiSet();
    final CpuInterface cpu = new CpuInterface();

    private final GicV3 gic;
    private final GuestMemory memory;
    private final boolean last;

    private volatile boolean lpisEnabled;
    /** Guarded by this. */
    private long pendbaser;
    /** Guarded by this. */
    private int waker = WAKER_PROCESSOR_SLEEP | WAKER_CHILDREN_ASLEEP;
    /** The pending table latched at EnableLPIs 0 to 1, and whether all of it is RAM. */
    private volatile long pendingTable;
    private volatile boolean pendingTableValid;

    Redistributor(GicV3 gic, int index, long base, boolean last) {
        this.gic = gic;
        this.memory = gic.memory();
        this.index = index;
        this.base = base;
        this.last = last;
    }

    boolean lpisEnabled() {
        return lpisEnabled;
    }

    // ------------------------------------------------------------------------------------------ MMIO

    /** The RD_base frame, as KVM's {@code vgic_v3_rd_registers[]}; everything else (the SGI_base frame too) is RAZ/WI. */
    private static final RegisterTable<Redistributor> FRAME = new RegisterTable<>(
            RegisterTable.register("GICR_CTLR", GICR_CTLR, 4, W32,
                    (rd, at, size) -> rd.lpisEnabled ? CTLR_ENABLE_LPIS : 0,
                    (rd, at, size, value) -> rd.gic.writeEnableLpis(rd, (value & CTLR_ENABLE_LPIS) != 0)),
            RegisterTable.readOnly("GICR_IIDR", GICR_IIDR, 4, W32, (rd, at, size) -> RegisterAccess.IIDR),
            RegisterTable.readOnly("GICR_TYPER", GICR_TYPER, 8, W32 | W64,
                    (rd, at, size) -> RegisterAccess.read64(rd.typer(), at, size)),
            RegisterTable.register("GICR_WAKER", GICR_WAKER, 4, W32, Redistributor::readWaker,
                    Redistributor::writeWaker),
            RegisterTable.register("GICR_PROPBASER", GICR_PROPBASER, 8, W32 | W64,
                    (rd, at, size) -> RegisterAccess.read64(rd.gic.propbaser(), at, size),
                    Redistributor::writePropbaser),
            RegisterTable.register("GICR_PENDBASER", GICR_PENDBASER, 8, W32 | W64, Redistributor::readPendbaser,
                    Redistributor::writePendbaser),
            RegisterTable.readOnly("GICR_PIDR4..GICR_CIDR3", RegisterAccess.ID_REGISTERS,
                    RegisterAccess.ID_REGISTERS_LENGTH, W32, RegisterAccess::readIdRegister));

    @Override
    public long read(long offset, int size) {
        RegisterTable.Register<Redistributor> r = FRAME.find(offset, size);
        return r == null ? 0 : r.read(this, offset, size);
    }

    @Override
    public void write(long offset, int size, long value, int requesterId) {
        RegisterTable.Register<Redistributor> r = FRAME.find(offset, size);
        if (r != null) {
            r.write(this, offset, size, value, requesterId);
        }
    }

    private synchronized long readWaker(long at, int size) {
        return waker;
    }

    private synchronized void writeWaker(long at, int size, long value) {
        // ChildrenAsleep follows ProcessorSleep at once: there is nothing to quiesce.
        waker = (value & WAKER_PROCESSOR_SLEEP) != 0 ? WAKER_PROCESSOR_SLEEP | WAKER_CHILDREN_ASLEEP : 0;
    }

    private void writePropbaser(long at, int size, long value) {
        if (!lpisEnabled) {
            gic.writePropbaser(at, size, value);
        }
    }

    private synchronized long readPendbaser(long at, int size) {
        // PTZ is write-only: it reads as zero.
        return RegisterAccess.read64(pendbaser & ~PENDBASER_PTZ, at, size);
    }

    private synchronized void writePendbaser(long at, int size, long value) {
        if (!lpisEnabled) {
            pendbaser = RegisterAccess.write64(pendbaser, at, size, value) & PENDBASER_WRITABLE;
        }
    }

    private long typer() {
        // KVM's default MPIDR for vCPU n: Aff0 = n[3:0], Aff1 = n[11:4], Aff2 = n[19:12].
        long affinity = (index & 0xF) | ((long) ((index >>> 4) & 0xFF) << 8) | ((long) ((index >>> 12) & 0xFF) << 16);
        return TYPER_PLPIS | ((long) index << TYPER_PROCESSOR_NUMBER_SHIFT) | (last ? TYPER_LAST : 0)
                | (affinity << TYPER_AFFINITY_SHIFT);
    }

    // ------------------------------------------------------------------------------------------ EnableLPIs

    /** EnableLPIs 0 to 1. The caller holds every ITS lock. */
    synchronized void enableLpis(List<Lpi> mapped) {
        if (lpisEnabled) {
            return;
        }
        refreshConfigurations(mapped);
        long table = pendbaser & PENDBASER_PA_MASK;
        boolean zero = (pendbaser & PENDBASER_PTZ) != 0;
        pendingTable = table;
        pendingTableValid = memory.isValid(table, PENDING_TABLE_BYTES);
        lpisEnabled = true;
        if (zero || !pendingTableValid) {
            return;
        }
        byte[] bits = new byte[(int) PENDING_TABLE_BYTES];
        try {
            memory.read(table, bits, 0, bits.length);
        } catch (GuestMemoryException e) {
            return;
        }
        for (Lpi lpi : mapped) {
            int intid = lpi.intid;
            if ((bits[(int) pendingByteOffset(intid)] & (1 << pendingBit(intid))) == 0) {
                continue;
            }
            if (!lpi.quiesce()) {
                continue;
            }
            try {
                if (lpi.target == index) {
                    lpi.signalNanos = 0;
                    lpi.pendingNanos = 0;
                    receivePending(lpi);
                }
            } finally {
                lpi.resume();
            }
        }
    }

    /**
     * EnableLPIs 0 to 1, before any LPI can be delivered here: the configuration each LPI that targets this
     * redistributor caches is taken again from the table GICR_PROPBASER names now. While LPIs were disabled the guest
     * may have pointed PROPBASER at another table (it may not while they are enabled); a cached byte of the old table
     * would keep an LPI enabled, or disabled, that the new table says otherwise, and a guest would see a cache it
     * never filled. An LPI beyond the new table's IDbits is disabled. A table outside RAM keeps the cached byte, as
     * INV does (KVM's {@code update_lpi_config} reads nothing it cannot reach).
     */
    private void refreshConfigurations(List<Lpi> mapped) {
        long limit = gic.lpiLimit();
        for (Lpi lpi : mapped) {
            if (lpi.target != index) {
                continue;
            }
            int config = lpi.intid < limit ? gic.readLpiConfig(lpi.intid, lpi.config) : 0;
            if (config == lpi.config || !lpi.quiesce()) {
                continue;
            }
            try {
                // No pending state exists here while LPIs are off: only the cached byte changes.
                lpi.latched = false;
                pending.prepare(level(config));
                lpi.config = config;
            } finally {
                lpi.resume();
            }
        }
    }

    /** EnableLPIs 1 to 0: drops every pending LPI. The caller holds every ITS lock and flushes the caches. */
    synchronized void disableLpis(List<Lpi> mapped) {
        if (!lpisEnabled) {
            return;
        }
        lpisEnabled = false;
        for (Lpi lpi : mapped) {
            if (lpi.target != index || !lpi.quiesce()) {
                continue;
            }
            try {
                if (lpi.target == index) {
                    dropPending(lpi);
                }
            } finally {
                lpi.resume();
            }
        }
        pending.clearAll();
    }

    // ------------------------------------------------------------------------------------------ pending state

    /**
     * Makes {@code lpi} pending here: the delivery itself. The caller is inside the LPI's delivery guard (or has it
     * quiesced) and checked that LPIs are enabled. Lock-free and allocation-free: this is on the cached MSI path.
     */
    void makePending(Lpi lpi, long signalNanos) {
        int cfg = lpi.config;
        int intid = lpi.intid;
        if (!enabled(cfg)) {
            // A disabled LPI is latched: it is taken once INV/INVALL enables it.
            if (!lpi.latched) {
                lpi.latched = true;
                tableSet(intid);
            }
            return;
        }
        int level = level(cfg);
        if (pending.contains(level, intid)) {
            return; // already pending: this MSI is coalesced into it
        }
        if (gic.tracing()) {
            // Only an observer reads these; without one, the vCPU that takes the LPI never touches this object.
            lpi.signalNanos = signalNanos;
            lpi.pendingNanos = signalNanos == 0 ? 0 : System.nanoTime();
        }
        tableSet(intid);
        if (pending.add(level, intid)) {
            gic.kick(index);
        }
    }

    /** Moves pending state in (MOVI, MOVALL, MAPC, pending table); {@code lpi} is quiesced and targets here. */
    void receivePending(Lpi lpi) {
        if (!lpisEnabled) {
            return; // a redistributor with LPIs off holds no pending LPI
        }
        int cfg = lpi.config;
        tableSet(lpi.intid);
        if (!enabled(cfg)) {
            lpi.latched = true;
        } else if (pending.add(level(cfg), lpi.intid)) {
            gic.kick(index);
        }
    }

    /** Clears {@code lpi}'s pending state here; {@code lpi} is quiesced. Returns whether it was pending. */
    boolean dropPending(Lpi lpi) {
        int cfg = lpi.config;
        boolean was = enabled(cfg) && pending.remove(level(cfg), lpi.intid);
        if (lpi.latched) {
            lpi.latched = false;
            was = true;
        }
        tableClear(lpi.intid);
        return was;
    }

    /** INV/INVALL: takes a new configuration byte; {@code lpi} is quiesced and targets here. */
    void refreshConfig(Lpi lpi, int config) {
        int old = lpi.config;
        if (old == config) {
            return;
        }
        boolean wasPending;
        if (enabled(old)) {
            // Fails when the CPU interface just took it: then it is no longer pending.
            wasPending = pending.remove(level(old), lpi.intid);
        } else {
            wasPending = lpi.latched;
        }
        lpi.latched = false;
        pending.prepare(level(config));
        lpi.config = config;
        if (!wasPending) {
            return;
        }
        if (!enabled(config)) {
            lpi.latched = true;
        } else if (pending.add(level(config), lpi.intid)) {
            gic.kick(index);
        }
    }

    private void tableSet(int intid) {
        if (pendingTableValid) {
            long at = pendingTable + pendingByteOffset(intid);
            int bit = pendingBit(intid);
            try {
                // Read first: a bit already set is left alone, and its cache line is not taken from other cores.
                if ((memory.read8(at) & (1 << bit)) == 0) {
                    memory.setBitAtomic(at, bit);
                }
            } catch (GuestMemoryException e) {
                pendingTableValid = false; // only if the memory was closed under us: stop mirroring
            }
        }
    }

    private void tableClear(int intid) {
        if (pendingTableValid) {
            try {
                memory.clearBitAtomic(pendingTable + pendingByteOffset(intid), pendingBit(intid));
            } catch (GuestMemoryException e) {
                pendingTableValid = false;
            }
        }
    }

    // ------------------------------------------------------------------------------------------ CPU interface

    /** Whether the CPU interface would signal an LPI now: a few volatile reads when nothing is pending. */
    boolean hasPendingInterrupt() {
        if (pending.levelMask() == 0) {
            return false;
        }
        int level = pending.highest();
        return level >= 0 && LpiTableDescriptor.priorityOfLevel(level) < cpu.threshold();
    }

    /** ICC_IAR1_EL1: acknowledges the most urgent deliverable LPI, or returns 1023. */
    long acknowledge() {
        if (!lpisEnabled || !cpu.groupEnabled()) {
            return SystemRegister.SPURIOUS_INTID;
        }
        int packed = pending.pollHighest(cpu.threshold());
        if (packed < 0) {
            return SystemRegister.SPURIOUS_INTID;
        }
        int level = packed >>> 16;
        int intid = packed & 0xFFFF;
        // The pending-table bit stays set (see the class comment).
        cpu.activate(level);
        gic.acknowledged(index, intid);
        return intid;
    }

    /** ICC_EOIR1_EL1. */
    void endOfInterrupt(long value) {
        int intid = (int) (value & 0xFF_FFFF);
        if (intid >= 1020 && intid <= 1023) {
            return; // special INTIDs are not acknowledged, so they are not ended either
        }
        cpu.dropPriority();
    }
}
