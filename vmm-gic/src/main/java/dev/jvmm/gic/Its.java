package dev.jvmm.gic;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.core.bus.MmioDevice;
import dev.jvmm.core.irq.DropReason;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.memory.GuestMemoryException;
import dev.jvmm.gic.internal.LongObjectMap;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

import static dev.jvmm.gic.ItsCommandDescriptor.COMMAND_SIZE;
import static dev.jvmm.gic.ItsCommandDescriptor.DW1_OFFSET;
import static dev.jvmm.gic.ItsCommandDescriptor.DW2_OFFSET;
import static dev.jvmm.gic.ItsCommandDescriptor.DW3_OFFSET;
import static dev.jvmm.gic.ItsRegisterDescriptor.BASER_COUNT;
import static dev.jvmm.gic.ItsRegisterDescriptor.BASER_ENTRY_SIZE_MASK;
import static dev.jvmm.gic.ItsRegisterDescriptor.BASER_ENTRY_SIZE_SHIFT;
import static dev.jvmm.gic.ItsRegisterDescriptor.BASER_INDIRECT;
import static dev.jvmm.gic.ItsRegisterDescriptor.BASER_L1_ENTRY_VALID;
import static dev.jvmm.gic.ItsRegisterDescriptor.BASER_PAGE_SIZE_64K;
import static dev.jvmm.gic.ItsRegisterDescriptor.BASER_PAGE_SIZE_MASK;
import static dev.jvmm.gic.ItsRegisterDescriptor.BASER_PAGE_SIZE_SHIFT;
import static dev.jvmm.gic.ItsRegisterDescriptor.BASER_TYPE_COLLECTION;
import static dev.jvmm.gic.ItsRegisterDescriptor.BASER_TYPE_DEVICE;
import static dev.jvmm.gic.ItsRegisterDescriptor.BASER_TYPE_SHIFT;
import static dev.jvmm.gic.ItsRegisterDescriptor.BASER_VALID;
import static dev.jvmm.gic.ItsRegisterDescriptor.BASER_WRITABLE;
import static dev.jvmm.gic.ItsRegisterDescriptor.CBASER_PA_MASK;
import static dev.jvmm.gic.ItsRegisterDescriptor.CBASER_VALID;
import static dev.jvmm.gic.ItsRegisterDescriptor.CBASER_WRITABLE;
import static dev.jvmm.gic.ItsRegisterDescriptor.CREADR_STALLED;
import static dev.jvmm.gic.ItsRegisterDescriptor.CTLR_ENABLED;
import static dev.jvmm.gic.ItsRegisterDescriptor.CTLR_QUIESCENT;
import static dev.jvmm.gic.RegisterTable.W16;
import static dev.jvmm.gic.RegisterTable.W32;
import static dev.jvmm.gic.RegisterTable.W64;
import static dev.jvmm.gic.ItsRegisterDescriptor.CWRITER_RETRY;
import static dev.jvmm.gic.ItsRegisterDescriptor.GITS_BASER0;
import static dev.jvmm.gic.ItsRegisterDescriptor.GITS_CBASER;
import static dev.jvmm.gic.ItsRegisterDescriptor.GITS_CREADR;
import static dev.jvmm.gic.ItsRegisterDescriptor.GITS_CTLR;
import static dev.jvmm.gic.ItsRegisterDescriptor.GITS_CWRITER;
import static dev.jvmm.gic.ItsRegisterDescriptor.GITS_IIDR;
import static dev.jvmm.gic.ItsRegisterDescriptor.GITS_TRANSLATER;
import static dev.jvmm.gic.ItsRegisterDescriptor.GITS_TRANSLATER_FRAME;
import static dev.jvmm.gic.ItsRegisterDescriptor.GITS_TYPER;
import static dev.jvmm.gic.ItsRegisterDescriptor.QUEUE_OFFSET_MASK;
import static dev.jvmm.gic.ItsRegisterDescriptor.TYPER_DEVICE_BITS_SHIFT;
import static dev.jvmm.gic.ItsRegisterDescriptor.TYPER_ID_BITS_SHIFT;
import static dev.jvmm.gic.ItsRegisterDescriptor.TYPER_ITT_ENTRY_SIZE_SHIFT;
import static dev.jvmm.gic.ItsRegisterDescriptor.TYPER_PHYSICAL;
import static dev.jvmm.gic.ItsRegisterDescriptor.baserAddress;
import static dev.jvmm.gic.ItsRegisterDescriptor.baserPageBytes;
import static dev.jvmm.gic.ItsRegisterDescriptor.baserTableBytes;
import static dev.jvmm.gic.ItsRegisterDescriptor.cbaserQueueBytes;

/**
 * One Interrupt Translation Service: its registers, its command queue and its translation state.
 *
 * <h2>Where translation state lives</h2>
 * In host structures, as in KVM: devices ({@link ItsDevice}, by DeviceID), their interrupt translation entries
 * ({@link Ite}, by EventID) and the collection table ({@link #collections}, ICID to processor number). The guest's
 * device table, collection table and ITTs are only used as KVM uses them: GITS_BASER0/1 bound the DeviceIDs and
 * ICIDs a guest may use (reading a level-1 entry of an indirect table to check that its level-2 page is valid), and
 * no table memory is ever written. A guest sees the same behaviour as from an ITS that keeps its state in those
 * tables, except that this one never reads stale state back from them.
 *
 * <h2>Commands</h2>
 * Commands run synchronously, in the thread that writes GITS_CWRITER (or enables the ITS), under {@link #lock},
 * as KVM runs them in the vCPU's ioctl. Each is decoded by {@link ItsCommandDescriptor} and dispatched through one
 * table keyed by opcode to a handler named after the specification ({@link #handleMapd}, ...). Errors follow KVM:
 * a command with bad parameters is ignored, GITS_CREADR moves past it and the error is counted by code
 * ({@link ItsCommandError}). A command that cannot be read from guest memory stalls the queue (CREADR.Stalled, as
 * QEMU does): nothing more runs until GITS_CBASER is rewritten or CWRITER is written with Retry set.
 *
 * <h2>Locks</h2>
 * {@link #lock} guards the registers, the translation state and this ITS's inserts into and flushes of the
 * translation cache. Lock order: ITS locks in ascending index, then a redistributor's monitor, then the LPI
 * registry's monitor, then a cache's spin lock. LPIs are quiesced (see {@link Lpi}) one at a time, and no lock is
 * taken while one is: quiescing waits only for deliveries in flight, which hold no lock and never wait.
 */
final class Its implements MmioDevice {
    /** Interrupt translation entries one ITS may hold: a bound on the host memory a guest can claim. */
    static final int MAX_ITES = 1 << 18;
    static final int DEVICE_ID_BITS = 16;
    static final int EVENT_ID_BITS = 16;
    static final int COLLECTION_ID_BITS = 16;
    /** KVM's table entry sizes (its ABI v0): 8 bytes for device, collection and ITT entries. */
    static final int TABLE_ENTRY_BYTES = 8;
    static final int NO_COLLECTION = -1;
    /** The DeviceID of a vCPU's store to GITS_TRANSLATER (QEMU's requester id for CPU accesses). */
    static final int CPU_DEVICE_ID = 0;

    /** A command handler: returns the error that made it ignore the command, or null. */
    @FunctionalInterface
    private interface CommandHandler {
        ItsCommandError handle(long dw0, long dw1, long dw2, long dw3);
    }

    final int index;
    final long base;
    final long doorbell;
    /** Guards everything of this ITS; see the class comment for the lock order. */
    final ReentrantLock lock = new ReentrantLock();

    private final GicV3 gic;
    private final GuestMemory memory;
    private final CommandHandler[] handlers = new CommandHandler[256];

    private volatile boolean enabled;
    private long cbaser;
    private volatile long cwriter;
    private volatile long creadr;
    private volatile boolean stalled;
    private final long[] baser = new long[BASER_COUNT];

    private final LongObjectMap<ItsDevice> devices = new LongObjectMap<>(16);
    /** ICID to target processor number, or {@link #NO_COLLECTION}. */
    private final int[] collections = new int[1 << COLLECTION_ID_BITS];
    private int iteCount;

    private final LongAdder commands = new LongAdder();
    private final AtomicLongArray errors = new AtomicLongArray(ItsCommandError.values().length);
    private final LongAdder stalls = new LongAdder();
    private final LongAdder translaterWrites = new LongAdder();
    private final LongAdder translaterIgnored = new LongAdder();
    private final LongAdder internalErrors = new LongAdder();
    private final LongAdder unsupportedAccesses = new LongAdder();
    private final LongAdder forgottenTables = new LongAdder();

    Its(GicV3 gic, int index, long base) {
        this.gic = gic;
        this.memory = gic.memory();
        this.index = index;
        this.base = base;
        this.doorbell = base + GITS_TRANSLATER;
        Arrays.fill(collections, NO_COLLECTION);
        baser[0] = baserResetValue(0);
        baser[1] = baserResetValue(1);
        handlers[ItsCommandDescriptor.MOVI] = this::handleMovi;
        handlers[ItsCommandDescriptor.INT] = this::handleInt;
        handlers[ItsCommandDescriptor.CLEAR] = this::handleClear;
        handlers[ItsCommandDescriptor.SYNC] = this::handleSync;
        handlers[ItsCommandDescriptor.MAPD] = this::handleMapd;
        handlers[ItsCommandDescriptor.MAPC] = this::handleMapc;
        handlers[ItsCommandDescriptor.MAPTI] = this::handleMapti;
        handlers[ItsCommandDescriptor.MAPI] = this::handleMapi;
        handlers[ItsCommandDescriptor.INV] = this::handleInv;
        handlers[ItsCommandDescriptor.INVALL] = this::handleInvall;
        handlers[ItsCommandDescriptor.MOVALL] = this::handleMovall;
        handlers[ItsCommandDescriptor.DISCARD] = this::handleDiscard;
    }

    /**
     * GITS_BASER{@code n}'s reset value: the fixed fields, and Page_Size = 64 KiB as KVM ({@code INITIAL_BASER_VALUE})
     * and QEMU ({@code its_reset_hold}) reset it, so that a guest that keeps the page size it reads sizes its table
     * as those ITSes expect.
     */
    private static long baserResetValue(int n) {
        long fixed = baserFixedFields(n);
        return fixed == 0 ? 0 : fixed | ((long) BASER_PAGE_SIZE_64K << BASER_PAGE_SIZE_SHIFT);
    }

    /** BASER0 describes the device table, BASER1 the collection table (KVM's layout); the others are RAZ/WI. */
    private static long baserFixedFields(int n) {
        int type = n == 0 ? BASER_TYPE_DEVICE : n == 1 ? BASER_TYPE_COLLECTION : 0;
        if (type == 0) {
            return 0;
        }
        return ((long) type << BASER_TYPE_SHIFT) | ((long) (TABLE_ENTRY_BYTES - 1) << BASER_ENTRY_SIZE_SHIFT);
    }

    /** Read without the lock by the cached path: a volatile read. */
    boolean isEnabled() {
        return enabled;
    }

    // ============================================================================================ MMIO

    /**
     * The control frame (ITS_base, the first 64 KiB), as KVM's {@code its_registers[]}: every row but the ID
     * registers runs under {@link #lock}. Registers not listed are reserved (RAZ/WI); GITS_BASER2..7 exist but
     * describe no table (Type 0, RAZ/WI), as in KVM.
     */
    private static final RegisterTable<Its> CONTROL_FRAME = new RegisterTable<>(
            RegisterTable.register("GITS_CTLR", GITS_CTLR, 4, W32, Its::readCtlr, Its::writeCtlrRegister),
            RegisterTable.readOnly("GITS_IIDR", GITS_IIDR, 4, W32, (its, at, size) -> RegisterAccess.IIDR),
            RegisterTable.readOnly("GITS_TYPER", GITS_TYPER, 8, W32 | W64,
                    (its, at, size) -> RegisterAccess.read64(typer(), at, size)),
            RegisterTable.register("GITS_CBASER", GITS_CBASER, 8, W32 | W64,
                    (its, at, size) -> RegisterAccess.read64(its.cbaser, at, size),
                    (its, at, size, value) -> its.writeCbaser(RegisterAccess.write64(its.cbaser, at, size, value))),
            RegisterTable.register("GITS_CWRITER", GITS_CWRITER, 8, W32 | W64,
                    (its, at, size) -> RegisterAccess.read64(its.cwriter, at, size),
                    (its, at, size, value) -> its.writeCwriter(RegisterAccess.write64(its.cwriter, at, size, value))),
            RegisterTable.readOnly("GITS_CREADR", GITS_CREADR, 8, W32 | W64,
                    (its, at, size) -> RegisterAccess.read64(its.creadr | (its.stalled ? CREADR_STALLED : 0), at, size)),
            RegisterTable.register("GITS_BASER<n>", GITS_BASER0, 8L * BASER_COUNT, W32 | W64,
                    (its, at, size) -> RegisterAccess.read64(its.baser[(int) (at >>> 3)], at & 7, size),
                    Its::writeBaserRegister),
            RegisterTable.readOnly("GITS_PIDR4..GITS_CIDR3", RegisterAccess.ID_REGISTERS,
                    RegisterAccess.ID_REGISTERS_LENGTH, W32, RegisterAccess::readIdRegister));

    /**
     * The translation frame (the second 64 KiB): GITS_TRANSLATER alone, 16- or 32-bit writes (IHI 0069,
     * GITS_TRANSLATER); write-only, so reads are zero. Not under the lock: an MSI takes the injection paths.
     */
    private static final RegisterTable<Its> TRANSLATION_FRAME = new RegisterTable<>(
            new RegisterTable.Register<>("GITS_TRANSLATER", GITS_TRANSLATER, 4, W16 | W32, RegisterTable::readZero,
                    Its::writeTranslater));

    @Override
    public long read(long offset, int size) {
        RegisterTable.Register<Its> r = (offset >= GITS_TRANSLATER_FRAME ? TRANSLATION_FRAME : CONTROL_FRAME)
                .find(offset, size);
        if (r == null) {
            unsupportedAccesses.increment();
            return 0;
        }
        if (offset >= GITS_TRANSLATER_FRAME) {
            return r.read(this, offset, size);
        }
        lock.lock();
        try {
            return r.read(this, offset, size);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void write(long offset, int size, long value, int requesterId) {
        if (offset >= GITS_TRANSLATER_FRAME) {
            RegisterTable.Register<Its> r = TRANSLATION_FRAME.find(offset, size);
            if (r == null) {
                translaterIgnored.increment();
            } else {
                r.write(this, offset, size, value, requesterId);
            }
            return;
        }
        RegisterTable.Register<Its> r = CONTROL_FRAME.find(offset, size);
        if (r == null) {
            unsupportedAccesses.increment();
            return;
        }
        lock.lock();
        try {
            r.write(this, offset, size, value, requesterId);
        } finally {
            lock.unlock();
        }
    }

    private static long typer() {
        return TYPER_PHYSICAL
                | ((long) (TABLE_ENTRY_BYTES - 1) << TYPER_ITT_ENTRY_SIZE_SHIFT)
                | ((long) (EVENT_ID_BITS - 1) << TYPER_ID_BITS_SHIFT)
                | ((long) (DEVICE_ID_BITS - 1) << TYPER_DEVICE_BITS_SHIFT);
        // PTA = 0 (RDbase is a processor number), CIL = 0 (16-bit ICIDs), no virtual LPIs.
    }

    /** GITS_CTLR: KVM reports Quiescent when the queue is drained (commands run synchronously, nothing is in flight). */
    private long readCtlr(long at, int size) {
        return (enabled ? CTLR_ENABLED : 0) | (creadr == cwriter && !stalled ? CTLR_QUIESCENT & 0xFFFF_FFFFL : 0);
    }

    private void writeCtlrRegister(long at, int size, long value) {
        writeCtlr((value & CTLR_ENABLED) != 0);
    }

    private void writeBaserRegister(long at, int size, long value) {
        int n = (int) (at >>> 3);
        writeBaser(n, RegisterAccess.write64(baser[n], at & 7, size, value));
    }

    /**
     * GITS_TRANSLATER: an MSI whose DeviceID is the bus requester. A vCPU's own store carries DeviceID 0, as in QEMU
     * (a CPU's MemTxAttrs have requester_id 0, which gicv3_its_translation_write takes as the DeviceID): guests
     * written for QEMU's virt test the ITS that way (the architecture leaves a PE's DeviceID IMPLEMENTATION DEFINED).
     */
    private void writeTranslater(long at, int size, long value, int requesterId) {
        if (at != 0) {
            translaterIgnored.increment();
            return;
        }
        translaterWrites.increment();
        int eventId = (int) (size == 2 ? value & 0xFFFF : value & 0xFFFF_FFFFL);
        gic.injectThroughBus(this, requesterId == MmioBus.CPU_REQUESTER ? CPU_DEVICE_ID : requesterId, eventId);
    }

    private void writeCtlr(boolean enable) {
        if (enable && !enabled) {
            // KVM refuses to enable an ITS whose device table, collection table or command queue is not valid.
            if ((baser[0] & BASER_VALID) == 0 || (baser[1] & BASER_VALID) == 0 || (cbaser & CBASER_VALID) == 0) {
                return;
            }
            enabled = true;
            processCommands();
        } else if (!enable && enabled) {
            enabled = false;
            // Wait out cached-path deliveries that read Enabled = 1, then flush (a listed flushing event).
            for (Ite ite : ites()) {
                if (ite.lpi.quiesce()) {
                    ite.lpi.resume();
                }
            }
            gic.cache().invalidate(index);
        }
    }

    private void writeCbaser(long value) {
        if (enabled) {
            return; // writable only while the ITS is disabled
        }
        cbaser = value & CBASER_WRITABLE;
        // KVM resets both offsets, so an ITS enabled later never runs stale commands; the stall is cleared.
        creadr = 0;
        cwriter = 0;
        stalled = false;
    }

    private void writeCwriter(long value) {
        long offset = value & QUEUE_OFFSET_MASK;
        if (offset >= cbaserQueueBytes(cbaser)) {
            return; // beyond the queue: ignored, as KVM does
        }
        cwriter = offset;
        if ((value & CWRITER_RETRY) != 0) {
            stalled = false; // retry the command that stalled
        }
        processCommands();
    }

    /**
     * GITS_BASER{@code n}, while the ITS is disabled. A write with Valid = 0 forgets the table's contents: the
     * devices (with their entries and cached translations) for the device table, the collections for the
     * collection table, as KVM frees its device and collection lists ({@code vgic_mmio_write_its_baser}) and as a
     * QEMU guest that installs a fresh table finds only zeroed entries. Since this ITS keeps the tables' contents
     * in host structures, they must go with the table, or a guest could tell them apart.
     */
    private void writeBaser(int n, long value) {
        long fixed = baserFixedFields(n);
        if (enabled || fixed == 0) {
            return; // ignored while enabled; BASER2..7 are RAZ/WI
        }
        long v = (value & BASER_WRITABLE) | fixed;
        if ((v & BASER_PAGE_SIZE_MASK) == BASER_PAGE_SIZE_MASK) {
            // The reserved page size encoding reads back as 64 KiB.
            v = (v & ~BASER_PAGE_SIZE_MASK) | ((long) BASER_PAGE_SIZE_64K << BASER_PAGE_SIZE_SHIFT);
        }
        baser[n] = v;
        if ((v & BASER_VALID) == 0) {
            if (n == 0) {
                forgetDevices();
            } else {
                forgetCollections();
            }
        }
    }

    /** The device table became invalid: every device goes, as with MAPD V = 0 for each (a flushing event). */
    private void forgetDevices() {
        if (devices.size() == 0) {
            return;
        }
        List<ItsDevice> all = new ArrayList<>(devices.size());
        devices.clear(all);
        for (ItsDevice device : all) {
            for (Ite ite : eventsOf(device)) {
                removeIte(ite, false);
            }
        }
        gic.cache().invalidate(index);
        forgottenTables.increment();
    }

    /**
     * The collection table became invalid: every collection is unmapped, as with MAPC V = 0 for each (one pass over
     * the entries, whatever the number of collections).
     */
    private void forgetCollections() {
        boolean any = false;
        for (int icid = 0; icid < collections.length; icid++) {
            any |= collections[icid] != NO_COLLECTION;
        }
        if (!any) {
            return;
        }
        Arrays.fill(collections, NO_COLLECTION);
        for (Ite ite : ites()) {
            unlinkFromCollection(ite.lpi);
        }
        gic.cache().invalidate(index);
        forgottenTables.increment();
    }

    // ============================================================================================ command queue

    /** Runs every queued command while the ITS is enabled and the queue not stalled. Lock held. */
    private void processCommands() {
        if (!enabled || stalled || (cbaser & CBASER_VALID) == 0) {
            return;
        }
        long queueBytes = cbaserQueueBytes(cbaser);
        long queue = cbaser & CBASER_PA_MASK;
        long rd = creadr;
        // At most one lap of the queue per call: a bound, whatever the guest wrote.
        for (long budget = queueBytes / COMMAND_SIZE; rd != cwriter && budget > 0; budget--) {
            long dw0;
            long dw1;
            long dw2;
            long dw3;
            try {
                long slot = queue + rd;
                dw0 = memory.read64(slot);
                dw1 = memory.read64(slot + DW1_OFFSET);
                dw2 = memory.read64(slot + DW2_OFFSET);
                dw3 = memory.read64(slot + DW3_OFFSET);
            } catch (GuestMemoryException e) {
                stalled = true;
                stalls.increment();
                return;
            }
            execute(dw0, dw1, dw2, dw3);
            rd += COMMAND_SIZE;
            if (rd >= queueBytes) {
                rd = 0;
            }
            creadr = rd;
        }
    }

    private void execute(long dw0, long dw1, long dw2, long dw3) {
        commands.increment();
        CommandHandler handler = handlers[ItsCommandDescriptor.opcode(dw0)];
        ItsCommandError error;
        try {
            error = handler == null ? ItsCommandError.UNKNOWN_COMMAND : handler.handle(dw0, dw1, dw2, dw3);
        } catch (RuntimeException e) {
            // A bug of ours must not escape into the vCPU that wrote CWRITER: count it (tests assert zero), tell the
            // embedder's failure listener, and go on.
            internalErrors.increment();
            gic.failures().report("ITS " + index + " command 0x" + Integer.toHexString(ItsCommandDescriptor.opcode(dw0)), e);
            error = null;
        }
        if (error != null) {
            errors.incrementAndGet(error.ordinal());
        }
    }

    // ============================================================================================ commands

    /** MAPD: maps DeviceID to an ITT of 2^(Size+1) events (V = 1) or unmaps it (V = 0). */
    private ItsCommandError handleMapd(long dw0, long dw1, long dw2, long dw3) {
        long deviceId = ItsCommandDescriptor.deviceId(dw0);
        boolean valid = ItsCommandDescriptor.valid(dw2);
        int eventIdBits = ItsCommandDescriptor.ittEventIdBits(dw1);
        if (!idInTable(baser[0], deviceId, DEVICE_ID_BITS)) {
            return ItsCommandError.MAPD_DEVICE_OOR;
        }
        if (valid && eventIdBits > EVENT_ID_BITS) {
            return ItsCommandError.MAPD_ITTSIZE_OOR;
        }
        ItsDevice old = devices.get(deviceId);
        if (old != null) {
            // Remapping or unmapping a mapped device drops all its entries: a flushing event.
            devices.remove(deviceId);
            for (Ite ite : eventsOf(old)) {
                removeIte(ite, false);
            }
            gic.cache().invalidate(index);
        }
        if (valid) {
            devices.put(deviceId, new ItsDevice((int) deviceId, eventIdBits, ItsCommandDescriptor.ittAddress(dw2)));
        }
        return null;
    }

    /** MAPC: maps ICID to a redistributor (V = 1) or unmaps it (V = 0). */
    private ItsCommandError handleMapc(long dw0, long dw1, long dw2, long dw3) {
        int icid = ItsCommandDescriptor.icid(dw2);
        long target = ItsCommandDescriptor.rdBase(dw2);
        // KVM checks the processor number first, whatever V says.
        if (target >= gic.vcpuCount()) {
            return ItsCommandError.MAPC_PROCNUM_OOR;
        }
        if (!ItsCommandDescriptor.valid(dw2)) {
            unmapCollection(icid);
            return null;
        }
        if (collections[icid] == NO_COLLECTION && !idInTable(baser[1], icid, COLLECTION_ID_BITS)) {
            return ItsCommandError.MAPC_COLLECTION_OOR;
        }
        collections[icid] = (int) target;
        // Mapping (or retargeting) a collection moves its LPIs in place: the cache keeps pointing at the same
        // entries, whose LPIs now target the new redistributor, so no flush is needed.
        for (Ite ite : ites()) {
            if (ite.icid == icid) {
                retarget(ite.lpi, Lpi.NO_TARGET, (int) target, false);
            }
        }
        return null;
    }

    /**
     * MAPC V = 0. The architecture leaves pending LPIs of an unmapped collection UNPREDICTABLE; this ITS drops
     * them, and its entries keep the ICID, so a later MAPC of the same ICID delivers them again (QEMU's choice).
     */
    private void unmapCollection(int icid) {
        collections[icid] = NO_COLLECTION;
        for (Ite ite : ites()) {
            if (ite.icid == icid) {
                unlinkFromCollection(ite.lpi);
            }
        }
        gic.cache().invalidate(index);
    }

    /** The LPI's collection went away: its pending state is dropped and it targets no redistributor. */
    private void unlinkFromCollection(Lpi lpi) {
        if (!lpi.quiesce()) {
            return;
        }
        try {
            dropPendingOf(lpi);
            lpi.target = Lpi.NO_TARGET;
        } finally {
            lpi.resume();
        }
    }

    /** MAPTI: maps (DeviceID, EventID) to pINTID in collection ICID. */
    private ItsCommandError handleMapti(long dw0, long dw1, long dw2, long dw3) {
        return mapEvent(dw0, dw1, dw2, ItsCommandDescriptor.physicalId(dw1));
    }

    /** MAPI: MAPTI with pINTID = EventID. */
    private ItsCommandError handleMapi(long dw0, long dw1, long dw2, long dw3) {
        return mapEvent(dw0, dw1, dw2, ItsCommandDescriptor.eventId(dw1));
    }

    private ItsCommandError mapEvent(long dw0, long dw1, long dw2, long intid) {
        long deviceId = ItsCommandDescriptor.deviceId(dw0);
        long eventId = ItsCommandDescriptor.eventId(dw1);
        int icid = ItsCommandDescriptor.icid(dw2);
        ItsDevice device = devices.get(deviceId);
        if (device == null) {
            return ItsCommandError.MAPTI_UNMAPPED_DEVICE;
        }
        if (!device.eventInRange(eventId)) {
            return ItsCommandError.MAPTI_ID_OOR;
        }
        if (intid < LpiTableDescriptor.FIRST_LPI || intid >= gic.lpiLimit()) {
            return ItsCommandError.MAPTI_PHYSICALID_OOR;
        }
        if (device.events.get(eventId) != null) {
            return null; // UNPREDICTABLE in the architecture; KVM keeps the first mapping, and so do we
        }
        if (collections[icid] == NO_COLLECTION && !idInTable(baser[1], icid, COLLECTION_ID_BITS)) {
            return ItsCommandError.MAPC_COLLECTION_OOR;
        }
        if (iteCount >= MAX_ITES) {
            return ItsCommandError.ITE_LIMIT;
        }
        int target = collections[icid];
        int config = gic.readLpiConfig((int) intid, 0);
        Lpi lpi = gic.registry().acquire((int) intid, target, config);
        gic.prepareLevel(lpi.target, lpi.config);
        device.events.put(eventId, new Ite(device, (int) eventId, lpi, icid, gic.cacheReferences()));
        iteCount++;
        return null;
    }

    /** MOVI: moves (DeviceID, EventID) to collection ICID, with its pending state. */
    private ItsCommandError handleMovi(long dw0, long dw1, long dw2, long dw3) {
        Ite ite = findIte(dw0, dw1);
        if (ite == null) {
            return ItsCommandError.MOVI_UNMAPPED_INTERRUPT;
        }
        int icid = ItsCommandDescriptor.icid(dw2);
        if (collections[ite.icid] == NO_COLLECTION || collections[icid] == NO_COLLECTION) {
            return ItsCommandError.MOVI_UNMAPPED_COLLECTION;
        }
        ite.icid = icid;
        retarget(ite.lpi, Lpi.NO_TARGET, collections[icid], false);
        gic.cache().invalidate(index);
        return null;
    }

    /** MOVALL: moves every LPI that targets RDbase1 (and only those) to RDbase2, with its pending state. */
    private ItsCommandError handleMovall(long dw0, long dw1, long dw2, long dw3) {
        long from = ItsCommandDescriptor.rdBase(dw2);
        long to = ItsCommandDescriptor.rdBase(dw3);
        if (from >= gic.vcpuCount() || to >= gic.vcpuCount()) {
            return ItsCommandError.MOVALL_PROCNUM_OOR;
        }
        if (from == to) {
            return null;
        }
        // LPIs are machine-wide: those mapped through other ITSes move too, as in KVM.
        for (Lpi lpi : gic.registry().snapshot()) {
            if (lpi.target == from) {
                retarget(lpi, (int) from, (int) to, true);
            }
        }
        gic.cache().invalidate(index);
        return null;
    }

    /** DISCARD: removes (DeviceID, EventID) and its pending state. */
    private ItsCommandError handleDiscard(long dw0, long dw1, long dw2, long dw3) {
        Ite ite = findIte(dw0, dw1);
        // KVM ignores a DISCARD whose entry's collection is unmapped (and keeps the entry).
        if (ite == null || collections[ite.icid] == NO_COLLECTION) {
            return ItsCommandError.DISCARD_UNMAPPED_INTERRUPT;
        }
        ite.device.events.remove(ite.eventId);
        removeIte(ite, true);
        gic.cache().invalidate(index);
        return null;
    }

    /** INT: makes (DeviceID, EventID)'s LPI pending, as an MSI would. */
    private ItsCommandError handleInt(long dw0, long dw1, long dw2, long dw3) {
        Ite ite = findIte(dw0, dw1);
        if (ite == null || collections[ite.icid] == NO_COLLECTION) {
            return ItsCommandError.INT_UNMAPPED_INTERRUPT;
        }
        Lpi lpi = ite.lpi;
        if (lpi.enter()) {
            try {
                int target = lpi.target;
                if (target != Lpi.NO_TARGET && gic.redistributor(target).lpisEnabled()) {
                    gic.redistributor(target).makePending(lpi, 0);
                }
            } finally {
                lpi.exit();
            }
        }
        return null;
    }

    /** CLEAR: clears the pending state of (DeviceID, EventID)'s LPI. */
    private ItsCommandError handleClear(long dw0, long dw1, long dw2, long dw3) {
        Ite ite = findIte(dw0, dw1);
        if (ite == null) {
            return ItsCommandError.CLEAR_UNMAPPED_INTERRUPT;
        }
        Lpi lpi = ite.lpi;
        if (lpi.quiesce()) {
            try {
                dropPendingOf(lpi);
            } finally {
                lpi.resume();
            }
        }
        return null;
    }

    /** INV: re-reads the configuration of (DeviceID, EventID)'s LPI. */
    private ItsCommandError handleInv(long dw0, long dw1, long dw2, long dw3) {
        Ite ite = findIte(dw0, dw1);
        if (ite == null) {
            return ItsCommandError.INV_UNMAPPED_INTERRUPT;
        }
        refreshConfig(ite.lpi);
        return null;
    }

    /** INVALL: re-reads the configuration of every LPI that targets the collection's redistributor (as KVM). */
    private ItsCommandError handleInvall(long dw0, long dw1, long dw2, long dw3) {
        int target = collections[ItsCommandDescriptor.icid(dw2)];
        if (target == NO_COLLECTION) {
            return ItsCommandError.INVALL_UNMAPPED_COLLECTION;
        }
        for (Lpi lpi : gic.registry().snapshot()) {
            if (lpi.target == target) {
                refreshConfig(lpi);
            }
        }
        return null;
    }

    /** SYNC: every earlier command has completed already (they run synchronously). */
    private ItsCommandError handleSync(long dw0, long dw1, long dw2, long dw3) {
        return null;
    }

    // ============================================================================================ helpers

    /** The entry of (DeviceID, EventID), or null (introspection; takes the lock). */
    Ite entry(long deviceId, long eventId) {
        lock.lock();
        try {
            ItsDevice device = devices.get(deviceId);
            return device == null ? null : device.events.get(eventId);
        } finally {
            lock.unlock();
        }
    }

    private Ite findIte(long dw0, long dw1) {
        ItsDevice device = devices.get(ItsCommandDescriptor.deviceId(dw0));
        return device == null ? null : device.events.get(ItsCommandDescriptor.eventId(dw1));
    }

    /**
     * Removes an entry (already unlinked from its device's map or about to be dropped with its device): marks it
     * removed, waits out deliveries through it, drops the LPI's pending state if {@code discard}, and releases
     * the LPI (the last entry retires it).
     */
    private void removeIte(Ite ite, boolean discard) {
        iteCount--;
        ite.live = false;
        Lpi lpi = ite.lpi;
        if (lpi.quiesce()) {
            try {
                if (discard) {
                    dropPendingOf(lpi);
                }
            } finally {
                lpi.resume();
            }
        }
        gic.registry().release(lpi);
    }

    /**
     * Moves {@code lpi} to {@code to} with its pending state. With {@code onlyFrom}, only if it still targets
     * {@code from} once quiesced (MOVALL's filter, kept under concurrent commands of other ITSes).
     */
    private void retarget(Lpi lpi, int from, int to, boolean onlyFrom) {
        if (!lpi.quiesce()) {
            return;
        }
        try {
            int old = lpi.target;
            if (old == to || onlyFrom && old != from) {
                return;
            }
            gic.prepareLevel(to, lpi.config);
            boolean wasPending = old != Lpi.NO_TARGET && gic.redistributor(old).dropPending(lpi);
            lpi.target = to;
            if (wasPending) {
                gic.redistributor(to).receivePending(lpi);
            }
        } finally {
            lpi.resume();
        }
    }

    private void dropPendingOf(Lpi lpi) {
        gic.dropPending(lpi);
    }

    private void refreshConfig(Lpi lpi) {
        int config = gic.readLpiConfig(lpi.intid, -1);
        if (config < 0) {
            return; // the configuration table is not in RAM: keep the cached configuration, as KVM does
        }
        if (!lpi.quiesce()) {
            return;
        }
        try {
            int target = lpi.target;
            if (target == Lpi.NO_TARGET) {
                lpi.config = config;
            } else {
                gic.redistributor(target).refreshConfig(lpi, config);
            }
        } finally {
            lpi.resume();
        }
    }

    /**
     * Whether {@code id} may be used with the table {@code reg} describes (KVM's {@code vgic_its_check_id}): within
     * the ID bits, the table valid, and inside a flat table or, for an indirect one, under a valid level-1 entry.
     */
    private boolean idInTable(long reg, long id, int idBits) {
        if (id < 0 || id >= (1L << idBits) || (reg & BASER_VALID) == 0) {
            return false;
        }
        long entryBytes = ((reg & BASER_ENTRY_SIZE_MASK) >>> BASER_ENTRY_SIZE_SHIFT) + 1;
        long tableBytes = baserTableBytes(reg);
        if ((reg & BASER_INDIRECT) == 0) {
            return id < tableBytes / entryBytes;
        }
        long perPage = baserPageBytes(reg) / entryBytes;
        long l1Index = id / perPage;
        if (l1Index >= tableBytes / TABLE_ENTRY_BYTES) {
            return false;
        }
        try {
            return (memory.read64(baserAddress(reg) + l1Index * TABLE_ENTRY_BYTES) & BASER_L1_ENTRY_VALID) != 0;
        } catch (GuestMemoryException e) {
            return false; // a level-1 table outside RAM holds no valid entry
        }
    }

    private List<Ite> ites() {
        List<ItsDevice> ds = new ArrayList<>(devices.size());
        devices.values(ds);
        List<Ite> out = new ArrayList<>();
        for (ItsDevice d : ds) {
            d.events.values(out);
        }
        return out;
    }

    private static List<Ite> eventsOf(ItsDevice device) {
        List<Ite> out = new ArrayList<>(device.events.size());
        device.events.values(out);
        return out;
    }

    // ============================================================================================ MSI slow path

    /**
     * The full translation of an MSI, under the ITS lock: device, entry, collection, redistributor; on success it
     * fills the translation cache (after every check passed, as upstream) and makes the LPI pending.
     */
    long translate(int deviceId, int eventId, long signalNanos) {
        lockForInjection();
        try {
            if (!enabled) {
                return InjectResult.dropped(DropReason.ITS_DISABLED);
            }
            ItsDevice device = deviceId >= 0 ? devices.get(deviceId) : null;
            if (device == null) {
                return InjectResult.dropped(DropReason.DEVICE_UNMAPPED);
            }
            Ite ite = device.events.get(eventId & 0xFFFF_FFFFL);
            if (ite == null) {
                return InjectResult.dropped(DropReason.EVENT_UNMAPPED);
            }
            if (collections[ite.icid] == NO_COLLECTION) {
                return InjectResult.dropped(DropReason.COLLECTION_UNMAPPED);
            }
            Lpi lpi = ite.lpi;
            if (!lpi.enter()) {
                return InjectResult.dropped(DropReason.EVENT_UNMAPPED);
            }
            try {
                int target = lpi.target;
                if (target == Lpi.NO_TARGET) {
                    return InjectResult.dropped(DropReason.COLLECTION_UNMAPPED);
                }
                Redistributor rd = gic.redistributor(target);
                if (!rd.lpisEnabled()) {
                    return InjectResult.dropped(DropReason.LPIS_DISABLED);
                }
                gic.cacheTranslation(index, deviceId, eventId, ite);
                rd.makePending(lpi, signalNanos);
                return InjectResult.delivered(lpi.intid, target);
            } finally {
                lpi.exit();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes the ITS lock for an MSI: a short spin first, because on a machine with few cores the holder is usually
     * another injector that will be done in a few hundred nanoseconds and parking would cost microseconds.
     */
    private void lockForInjection() {
        for (int i = 0; i < 64; i++) {
            if (lock.tryLock()) {
                return;
            }
            Thread.onSpinWait();
        }
        lock.lock();
    }

    // ============================================================================================ statistics, teardown

    ItsStats stats() {
        lock.lock();
        try {
            Map<ItsCommandError, Long> byCode = new EnumMap<>(ItsCommandError.class);
            for (ItsCommandError e : ItsCommandError.values()) {
                long n = errors.get(e.ordinal());
                if (n != 0) {
                    byCode.put(e, n);
                }
            }
            return new ItsStats(index, enabled, stalled, creadr, cwriter, commands.sum(), byCode, stalls.sum(),
                    translaterWrites.sum(), translaterIgnored.sum(), internalErrors.sum(), devices.size(), iteCount,
                    unsupportedAccesses.sum(), forgottenTables.sum());
        } finally {
            lock.unlock();
        }
    }

    /** Every entry's cache references (for the teardown check). Lock held by the caller. */
    long cacheReferencesOfEntries() {
        long n = 0;
        for (Ite ite : ites()) {
            n += ite.cacheReferences();
        }
        return n;
    }
}
