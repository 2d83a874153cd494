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
import static dev.jvmm.gic.RedistributorRegisterDescriptor.CTLR_DPG0;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.CTLR_DPG1NS;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.GICR_ICACTIVER0;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.GICR_ICENABLER0;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.GICR_ICFGR0;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.GICR_ICPENDR0;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.GICR_IGROUPR0;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.GICR_IGRPMODR0;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.GICR_IPRIORITYR0;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.GICR_ISACTIVER0;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.GICR_ISENABLER0;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.GICR_ISPENDR0;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.GICR_NSACR;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.GICR_STATUSR;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.SGI_BASE;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.TYPER_DPGS;
import static dev.jvmm.gic.RegisterTable.W8;
import static dev.jvmm.gic.RegisterTable.W32;
import static dev.jvmm.gic.RegisterTable.W64;

/**
 * One vCPU's redistributor: its two register frames, its pending LPIs, and the CPU interface that takes them and
 * the wired interrupts ({@link WiredInterrupts}) routed here.
 *
 * <h2>Where pending state lives</h2>
 * LPIs: in host memory, in the {@link PendingLpiSet} (enabled LPIs, by priority) and in {@link Lpi#latched}
 * (disabled ones), so that ICC_IAR1_EL1 finds the most urgent LPI at once. A delivery also sets the LPI's bit in the
 * guest's pending table, before the LPI can be taken, so every pending LPI shows there. The architecture leaves the
 * table's contents UNKNOWN to software while EnableLPIs is 1, and this redistributor uses that latitude as a cache
 * would: acknowledging an LPI does not clear its bit (the bit is set once and stays set while the LPI is raised
 * again and again, so the table's cache line does not travel between the injecting and the acknowledging cores).
 * Every event that drops or moves an LPI's pending state clears its bit (CLEAR, DISCARD, unmapping, moving,
 * EnableLPIs 1 to 0), so once LPIs are disabled the table holds no dropped LPI, and re-enabling with PTZ = 0 cannot
 * resurrect one.
 *
 * <p>SGIs, PPIs and the SPIs routed here: in {@link WiredInterrupts}, which publishes the most urgent eligible one
 * per group into {@link #wiredBest} after every change.
 *
 * <h2>One arbitration</h2>
 * The highest priority pending interrupt (IHI 0069, "Interrupt prioritization") is the most urgent of the wired
 * interrupts of the groups the CPU interface enables and of the LPIs (Group 1), ties going to the lowest INTID
 * (every wired INTID is below every LPI). It is signalled as an IRQ when it is Group 1 and its priority beats the
 * threshold of {@link CpuInterface} (PMR and the running priority's group priority); a Group 0 one is an FIQ,
 * which the CPUs of this project never take, so it signals nothing to {@link #hasPendingInterrupt()}.
 *
 * <h2>EnableLPIs</h2>
 * 0 to 1: PENDBASER is latched; the configuration of the LPIs that target here is taken again from the table
 * PROPBASER names now; with PTZ = 0, each mapped LPI that targets this redistributor and whose bit is set in the
 * pending table becomes pending (KVM's {@code its_sync_lpi_pending_table}); with PTZ = 1 the table is taken as zero.
 * 1 to 0 (KVM allows it): every pending LPI of this redistributor is dropped, and every ITS's translation cache is
 * flushed. Both run holding every ITS lock (so no command or slow path runs), and quiesce each affected LPI (so no
 * cached-path delivery is in flight), see {@link GicV3#writeEnableLpis}.
 *
 * <p>PROPBASER is common to all redistributors (GICR_TYPER.CommonLPIAff = 0, as KVM): a write through any
 * redistributor whose LPIs are disabled sets it. PENDBASER is per redistributor; both ignore writes while
 * EnableLPIs is 1.
 *
 * <h2>Wake-up</h2>
 * GICR_WAKER resets with ProcessorSleep = 1 and ChildrenAsleep = 1 (QEMU); ChildrenAsleep follows ProcessorSleep at
 * once, so Linux's {@code gic_enable_redist} handshake (clear ProcessorSleep, poll ChildrenAsleep until 0) ends at
 * its first poll. As in QEMU and KVM, a sleeping redistributor still forwards its interrupts (there is no power
 * controller to wake); ProcessorSleep takes the PE out of 1-of-N SPI distribution, as the architecture says.
 */
final class Redistributor implements MmioDevice {
    /** {@link #wiredBest} when no wired interrupt of either group is eligible here. */
    static final long NO_WIRED = ((long) WiredInterrupts.NONE << 32) | WiredInterrupts.NONE;

    final int index;
    final long base;
    final PendingLpiSet pending = new PendingLpiSet();
    final CpuInterface cpu = new CpuInterface();

    private final GicV3 gic;
    private final GuestMemory memory;
    private final WiredInterrupts wired;
    private final boolean last;

    private volatile boolean lpisEnabled;
    /** Guarded by this. */
    private long pendbaser;
    /** GICR_WAKER.ProcessorSleep and GICR_CTLR.DPG*: written under the wired lock, read by 1-of-N distribution. */
    private volatile boolean processorSleep = true;
    private volatile int dpg;
    /** LPIs made pending from the pending table at EnableLPIs with no ITS mapping; guarded by this. */
    private final java.util.BitSet tableOnly = new java.util.BitSet();
    /** The pending table latched at EnableLPIs 0 to 1, and whether all of it is RAM. */
    private volatile long pendingTable;
    private volatile boolean pendingTableValid;
    /**
     * The most urgent eligible wired interrupt here per group, as keys {@code priority << 16 | intid}: Group 1 in
     * the high word, Group 0 in the low word, {@link WiredInterrupts#NONE} for none. Written under the wired lock.
     */
    private volatile long wiredBest = NO_WIRED;

    Redistributor(GicV3 gic, int index, long base, boolean last) {
        this.gic = gic;
        this.memory = gic.memory();
        this.wired = gic.wired();
        this.index = index;
        this.base = base;
        this.last = last;
    }

    boolean lpisEnabled() {
        return lpisEnabled;
    }

    // ------------------------------------------------------------------------------------------ MMIO

    /**
     * Both frames, as KVM's {@code vgic_v3_rd_registers[]}: RD_base, then SGI_base at 0x1_0000. Reserved offsets,
     * GICR_INVLPIR/INVALLR/SYNCR (DirectLPI = 0) and unsupported widths are RAZ/WI.
     */
    private static final RegisterTable<Redistributor> FRAMES = new RegisterTable<>(
            RegisterTable.register("GICR_CTLR", GICR_CTLR, 4, W32, Redistributor::readCtlr,
                    Redistributor::writeCtlr),
            RegisterTable.readOnly("GICR_IIDR", GICR_IIDR, 4, W32, (rd, at, size) -> RegisterAccess.IIDR),
            RegisterTable.readOnly("GICR_TYPER", GICR_TYPER, 8, W32 | W64,
                    (rd, at, size) -> RegisterAccess.read64(rd.typer(), at, size)),
            RegisterTable.raz("GICR_STATUSR", GICR_STATUSR, 4, W32),
            RegisterTable.register("GICR_WAKER", GICR_WAKER, 4, W32, Redistributor::readWaker,
                    Redistributor::writeWaker),
            RegisterTable.register("GICR_PROPBASER", GICR_PROPBASER, 8, W32 | W64,
                    (rd, at, size) -> RegisterAccess.read64(rd.gic.propbaser(), at, size),
                    Redistributor::writePropbaser),
            RegisterTable.register("GICR_PENDBASER", GICR_PENDBASER, 8, W32 | W64, Redistributor::readPendbaser,
                    Redistributor::writePendbaser),
            RegisterTable.readOnly("GICR_PIDR4..GICR_CIDR3", RegisterAccess.ID_REGISTERS,
                    RegisterAccess.ID_REGISTERS_LENGTH, W32, RegisterAccess::readIdRegister),
            // SGI_base
            bitWord("GICR_IGROUPR0", GICR_IGROUPR0, WiredInterrupts.Field.GROUP, WiredInterrupts.Write.ASSIGN),
            bitWord("GICR_ISENABLER0", GICR_ISENABLER0, WiredInterrupts.Field.ENABLED, WiredInterrupts.Write.SET),
            bitWord("GICR_ICENABLER0", GICR_ICENABLER0, WiredInterrupts.Field.ENABLED, WiredInterrupts.Write.CLEAR),
            bitWord("GICR_ISPENDR0", GICR_ISPENDR0, WiredInterrupts.Field.PENDING, WiredInterrupts.Write.SET),
            bitWord("GICR_ICPENDR0", GICR_ICPENDR0, WiredInterrupts.Field.PENDING, WiredInterrupts.Write.CLEAR),
            bitWord("GICR_ISACTIVER0", GICR_ISACTIVER0, WiredInterrupts.Field.ACTIVE, WiredInterrupts.Write.SET),
            bitWord("GICR_ICACTIVER0", GICR_ICACTIVER0, WiredInterrupts.Field.ACTIVE, WiredInterrupts.Write.CLEAR),
            RegisterTable.register("GICR_IPRIORITYR0..7", GICR_IPRIORITYR0, 32, W8 | W32,
                    (rd, at, size) -> rd.wired.readPriority(rd.index, (int) at, size),
                    (rd, at, size, value) -> rd.wired.writePriority(rd.index, (int) at, size, value)),
            RegisterTable.register("GICR_ICFGR0..1", GICR_ICFGR0, 8, W32,
                    (rd, at, size) -> rd.wired.readConfig(rd.index, (int) (at >>> 2)) & 0xFFFF_FFFFL,
                    (rd, at, size, value) -> rd.wired.writeConfig(rd.index, (int) (at >>> 2), (int) value)),
            RegisterTable.raz("GICR_IGRPMODR0", GICR_IGRPMODR0, 4, W32),
            RegisterTable.raz("GICR_NSACR", GICR_NSACR, 4, W32),
            RegisterTable.readOnly("GICR_PIDR4..GICR_CIDR3 (SGI_base)", SGI_BASE + RegisterAccess.ID_REGISTERS,
                    RegisterAccess.ID_REGISTERS_LENGTH, W32, RegisterAccess::readIdRegister));

    @Override
    public long read(long offset, int size) {
        return FRAMES.read(this, offset, size, gic.unsupportedAccesses());
    }

    @Override
    public void write(long offset, int size, long value, int requesterId) {
        FRAMES.write(this, offset, size, value, requesterId, gic.unsupportedAccesses());
    }

    /** A row for one word of SGI_base's one-bit-per-INTID registers (this PE's INTIDs 0..31). */
    private static RegisterTable.Register<Redistributor> bitWord(String name, long offset, WiredInterrupts.Field field,
                                                                WiredInterrupts.Write write) {
        return RegisterTable.register(name, offset, 4, W32,
                (rd, at, size) -> rd.wired.read(field, rd.index) & 0xFFFF_FFFFL,
                (rd, at, size, value) -> write.apply(rd.wired, field, rd.index, (int) value));
    }

    /** GICR_CTLR: EnableLPIs and the DPG bits; RWP and UWP read 0, as writes take effect before they return. */
    private long readCtlr(long at, int size) {
        return (lpisEnabled ? CTLR_ENABLE_LPIS : 0) | (dpg & 0xFFFF_FFFFL);
    }

    private void writeCtlr(long at, int size, long value) {
        int newDpg = (int) value & (CTLR_DPG0 | CTLR_DPG1NS); // DPG1S is RAZ/WI with one security state
        if (newDpg != dpg) {
            wired.withLock(() -> dpg = newDpg, index);
        }
        gic.writeEnableLpis(this, (value & CTLR_ENABLE_LPIS) != 0);
    }

    private long readWaker(long at, int size) {
        return processorSleep ? WAKER_PROCESSOR_SLEEP | WAKER_CHILDREN_ASLEEP : 0;
    }

    private void writeWaker(long at, int size, long value) {
        boolean sleep = (value & WAKER_PROCESSOR_SLEEP) != 0;
        if (sleep != processorSleep) {
            wired.withLock(() -> processorSleep = sleep, index);
        }
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

    /** GICR_TYPER: PLPIS, Last, DPGS, Processor_Number and the vCPU's affinity (KVM's vgic_mmio_read_v3r_typer). */
    private long typer() {
        return TYPER_PLPIS | TYPER_DPGS | ((long) index << TYPER_PROCESSOR_NUMBER_SHIFT) | (last ? TYPER_LAST : 0)
                | (Affinity.of(index) << TYPER_AFFINITY_SHIFT);
    }

    /** Whether the PE is awake (GICR_WAKER.ProcessorSleep = 0): a sleeping PE takes no 1-of-N SPI (E1NWF = 0). */
    boolean awake() {
        return !processorSleep;
    }

    /** GICR_CTLR.DPG0 / DPG1NS: this PE is not selected for 1-of-N SPIs of that group. */
    boolean disabledForOneOfN(boolean group1) {
        return (dpg & (group1 ? CTLR_DPG1NS : CTLR_DPG0)) != 0;
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
        takeUnmappedPending(bits);
    }

    /**
     * EnableLPIs 0 to 1 with PTZ = 0, the LPIs no ITS maps: the pending table is this redistributor's, so a bit set
     * in it is an LPI pending here whatever the ITSes say (IHI 0069H, 5.1.1 "LPIs": the pending state of an LPI is in
     * the LPI Pending table of the redistributor it targets; QEMU's redistributor scans the table the same way). KVM
     * loads only the LPIs it knows from an ITS mapping; the team's {@code its} guest prepares a table for a CPU
     * before any MAPTI and expects QEMU's answer. An enabled one joins the pending set at the priority the
     * configuration table gives it now; a disabled one stays a bit in the table (no ITS entry can INV it, and a later
     * MAPTI of its INTID starts from the table as a new mapping would). The caller holds every ITS lock, so the
     * registry does not change meanwhile.
     */
    private void takeUnmappedPending(byte[] bits) {
        long limit = gic.lpiLimit();
        int first = (int) (LpiTableDescriptor.FIRST_LPI / 8);
        int end = (int) Math.min(bits.length, limit / 8);
        boolean kick = false;
        for (int b = first; b < end; b++) {
            if (bits[b] == 0) {
                continue;
            }
            for (int bit = 0; bit < 8; bit++) {
                int intid = b * 8 + bit;
                if ((bits[b] & (1 << bit)) == 0 || gic.registry().get(intid) != null) {
                    continue;
                }
                int config = gic.readLpiConfig(intid, 0);
                if (!LpiTableDescriptor.enabled(config)) {
                    continue;
                }
                pending.prepare(level(config));
                kick |= pending.add(level(config), intid);
                tableOnly.set(intid);
            }
        }
        if (kick) {
            gic.kick(index);
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
        // Pending LPIs taken from the table without an ITS mapping are dropped too, their bits with them, so that
        // re-enabling with PTZ = 0 cannot bring back one that was already taken.
        for (int intid = tableOnly.nextSetBit(0); intid >= 0; intid = tableOnly.nextSetBit(intid + 1)) {
            tableClear(intid);
        }
        tableOnly.clear();
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

    /** Published by {@link WiredInterrupts} under its lock after every change that may concern this PE. */
    void publishWired(int best0, int best1) {
        wiredBest = ((long) best1 << 32) | (best0 & 0xFFFF_FFFFL);
    }

    long wiredBest() {
        return wiredBest;
    }

    /** The key of an LPI at priority level {@code level}: it loses a tie to every wired INTID. */
    private static int lpiKey(int level) {
        return (LpiTableDescriptor.priorityOfLevel(level) << 16) | 0xFFFF;
    }

    private static int priorityOf(int key) {
        return key >>> 16;
    }

    /**
     * Whether the CPU interface signals an IRQ now: the highest priority pending interrupt is Group 1 and beats the
     * threshold. Two volatile reads when nothing is pending (the common case for a halted vCPU), a few more
     * otherwise (stale hints of {@link PendingLpiSet} included).
     */
    boolean hasPendingInterrupt() {
        long w = wiredBest;
        long lpiLevels = pending.levelMask();
        if (w == NO_WIRED) {
            // LPIs only (Group 1): the MSI path's check, as before wired interrupts existed.
            if (lpiLevels == 0) {
                return false;
            }
            int level = pending.highest();
            return level >= 0 && LpiTableDescriptor.priorityOfLevel(level) < cpu.threshold(true);
        }
        int best1 = cpu.groupEnabled(true) ? (int) (w >>> 32) : WiredInterrupts.NONE;
        if (lpiLevels != 0 && cpu.groupEnabled(true)) {
            int level = pending.highest();
            if (level >= 0) {
                best1 = Math.min(best1, lpiKey(level));
            }
        }
        if (best1 == WiredInterrupts.NONE) {
            return false;
        }
        int best0 = cpu.groupEnabled(false) ? (int) w : WiredInterrupts.NONE;
        // A more urgent Group 0 interrupt is the highest priority pending one: it would be an FIQ, not an IRQ.
        return best0 > best1 && priorityOf(best1) < cpu.threshold(true);
    }

    /**
     * ICC_IAR1_EL1 ({@code group1}) or ICC_IAR0_EL1: acknowledges the highest priority pending interrupt if it is of
     * that group and can preempt (QEMU's icc_iar1_read: icc_hppi_can_preempt, then CheckGroup*ForSpecialIdentifiers,
     * which returns 1023 when the highest one is of the other group), or returns 1023.
     */
    long acknowledge(boolean group1) {
        int threshold = cpu.threshold(group1);
        if (threshold == 0) {
            return SystemRegister.SPURIOUS_INTID; // group disabled, or everything masked
        }
        if (group1 && wiredBest == NO_WIRED) {
            return acknowledgeLpi(threshold); // LPIs only: the MSI path's acknowledge, as before wired interrupts
        }
        for (int attempt = 0; attempt < 4; attempt++) {
            long w = wiredBest;
            int wired1 = cpu.groupEnabled(true) ? (int) (w >>> 32) : WiredInterrupts.NONE;
            int wired0 = cpu.groupEnabled(false) ? (int) w : WiredInterrupts.NONE;
            int lpi = WiredInterrupts.NONE;
            if (lpisEnabled && cpu.groupEnabled(true) && pending.levelMask() != 0) {
                int level = pending.highest();
                if (level >= 0) {
                    lpi = lpiKey(level);
                }
            }
            int best1 = Math.min(wired1, lpi);
            int best = Math.min(best1, wired0);
            if (best == WiredInterrupts.NONE || (best == best1) != group1 || priorityOf(best) >= threshold) {
                return SystemRegister.SPURIOUS_INTID;
            }
            if (group1 && lpi < wired1) {
                return acknowledgeLpi(threshold);
            }
            int key = wired.acknowledge(index, group1, threshold);
            if (key != WiredInterrupts.NONE) {
                int intid = key & 0xFFFF;
                cpu.activate(group1, priorityOf(key));
                gic.wiredAcknowledged(index, intid);
                return intid;
            }
            // The wired interrupt went (deactivated, cleared, taken by ICC_IAR of the other group) meanwhile: again.
        }
        return SystemRegister.SPURIOUS_INTID;
    }

    private long acknowledgeLpi(int threshold) {
        if (!lpisEnabled) {
            return SystemRegister.SPURIOUS_INTID;
        }
        int packed = pending.pollHighest(threshold);
        if (packed < 0) {
            return SystemRegister.SPURIOUS_INTID;
        }
        int level = packed >>> 16;
        int intid = packed & 0xFFFF;
        // The pending-table bit stays set (see the class comment).
        cpu.activate(true, LpiTableDescriptor.priorityOfLevel(level));
        gic.acknowledged(index, intid);
        return intid;
    }

    /**
     * ICC_HPPIR1_EL1 ({@code group1}) or ICC_HPPIR0_EL1: the INTID of the highest priority pending interrupt,
     * whatever the priority mask and running priority, if it is of that group; otherwise 1023 (QEMU's
     * icc_hppir1_value). Has no side effect.
     */
    long highestPending(boolean group1) {
        long w = wiredBest;
        int wired1 = cpu.groupEnabled(true) ? (int) (w >>> 32) : WiredInterrupts.NONE;
        int wired0 = cpu.groupEnabled(false) ? (int) w : WiredInterrupts.NONE;
        int lpiLevel = lpisEnabled && cpu.groupEnabled(true) && pending.levelMask() != 0 ? pending.highest() : -1;
        int lpi = lpiLevel >= 0 ? lpiKey(lpiLevel) : WiredInterrupts.NONE;
        int best1 = Math.min(wired1, lpi);
        int best = Math.min(best1, wired0);
        if (best == WiredInterrupts.NONE || (best == best1) != group1) {
            return SystemRegister.SPURIOUS_INTID;
        }
        if (best == lpi) {
            int intid = pending.first(lpiLevel);
            return intid >= 0 ? intid : SystemRegister.SPURIOUS_INTID;
        }
        return best & 0xFFFF;
    }

    /**
     * ICC_EOIR1_EL1 ({@code group1}) or ICC_EOIR0_EL1: a priority drop, and with ICC_CTLR_EL1.EOImode = 0 the
     * deactivation of {@code value}'s INTID too (LPIs have no active state). Special INTIDs and INTIDs this GIC does
     * not implement are ignored (QEMU's icc_eoir_write), as is an EOI whose group is not that of the highest active
     * priority.
     */
    void endOfInterrupt(boolean group1, long value) {
        int intid = (int) (value & 0xFF_FFFF);
        if (intid >= DistributorRegisterDescriptor.SPI_LIMIT && !LpiTableDescriptor.isLpi(intid)) {
            return; // special INTIDs 1020..1023 included: they are never acknowledged, so never ended
        }
        if (!cpu.dropPriority(group1)) {
            return;
        }
        if (!cpu.eoiMode() && intid < DistributorRegisterDescriptor.SPI_LIMIT) {
            wired.deactivate(index, intid);
        }
    }

    /**
     * ICC_DIR_EL1: deactivates {@code value}'s INTID when ICC_CTLR_EL1.EOImode is 1 (with EOImode 0 the write is
     * UNPREDICTABLE and ignored, as QEMU does); LPIs and special INTIDs have no active state.
     */
    void deactivateInterrupt(long value) {
        if (cpu.eoiMode()) {
            wired.deactivate(index, (int) (value & 0xFF_FFFF));
        }
    }
}
