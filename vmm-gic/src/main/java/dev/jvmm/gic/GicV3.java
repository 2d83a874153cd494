package dev.jvmm.gic;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.core.irq.DropReason;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.core.irq.InterruptController;
import dev.jvmm.core.irq.IrqLine;
import dev.jvmm.core.irq.IrqObserver;
import dev.jvmm.core.irq.MsiTarget;
import dev.jvmm.core.machine.Failures;
import dev.jvmm.core.machine.MachineContext;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.memory.GuestMemoryException;
import dev.jvmm.core.vcpu.SystemRegister;
import dev.jvmm.gic.cache.CacheStats;
import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.gic.cache.TranslationCache;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntConsumer;

/**
 * A GICv3 as QEMU and KVM present it to a guest (non-secure, one security state with GICD_CTLR.DS = 1, affinity
 * routing always on, no GICv2 mode): SGIs, PPIs, 256 SPIs, LPIs and one to four ITSes, with the whole CPU interface.
 *
 * <pre>
 *  MSI (doorbell = GITS_TRANSLATER of ITS i, data = EventID, DeviceID)
 *    │
 *    ├─ {@link #tryInjectCached}: translation cache lookup ─ hit ─▶ LPI guard ─▶ redistributor: pending, kick
 *    │        (no lock with per-its, never allocates)       miss ─▶ the caller takes the slow path
 *    └─ {@link #injectSlow}: ITS lock ─ device ─ entry ─ collection ─ redistributor ─ cache insert ─ pending, kick
 *
 *  wired: {@link #spiLine}(intid).set/pulse ─┐   ICC_SGI1R_EL1 ─┐    GICD_/GICR_ registers ─┐
 *         {@link #ppiLine}(vcpu, intid)     ─┴──────────────────┴───────────────────────────┴─▶ WiredInterrupts
 *                                  (one lock) ─▶ per vCPU: most urgent eligible per group, published ─▶ kick
 *
 *  CPU interface of vCPU n: highest priority pending = min(wired Group 0, wired Group 1, LPIs), ties to the lowest
 *  INTID; signalled as an IRQ ({@link #hasPendingInterrupt}) when it is Group 1 and beats PMR and the running
 *  priority's group priority; ICC_IAR1_EL1 takes it, ICC_EOIR1_EL1 / ICC_DIR_EL1 end it.
 *
 *  guest:  GICD 0x0800_0000 │ ITS i at itsBase(i) │ GICR n (RD_base, SGI_base) at redistributorBase(n)
 *          (QEMU virt's map: MemoryMap); every ICC_*_EL1 register of {@link SystemRegister} through the vCPU's trap
 * </pre>
 *
 * <p>What is left out, and why: no message-based SPIs (GICD_TYPER.MBIS = 0, as KVM), no extended SPI or PPI
 * ranges (GICv3.1), no direct LPI injection (GICR_INVLPIR/INVALLR/SYNCR; KVM offers them only from its revision 3),
 * no virtual LPIs or GICv4, no NMIs (FEAT_GICv3_NMI), no Aff3 (A3V = 0), and Group 0 interrupts are arbitrated and
 * taken through ICC_IAR0_EL1 but never signalled as an FIQ to a CPU (the CPUs of this project take IRQs only).
 *
 * <h2>Using it in a machine</h2>
 * <pre>{@code
 * Machine m = Machine.builder(config).interruptController(GicV3::create).guest(...).build();
 * }</pre>
 * {@link #create(MachineContext)} registers the distributor, one redistributor per vCPU and
 * {@code gic.its-count} ITSes on the machine's bus, and takes the translation cache strategy from the {@code gic}
 * section ({@link GicConfig#SECTION}). Devices learn their MSI doorbell from {@link #msiTarget}.
 *
 * <h2>Using it without a machine</h2>
 * A user who embeds only the GIC (or one ITS with its redistributors) builds it from guest memory, an MMIO bus and
 * a callback that wakes a vCPU:
 * <pre>{@code
 * GuestMemory ram = GuestMemory.create(MemoryMap.RAM_BASE, 64 << 20);
 * MmioBus bus = new MmioBus();
 * GicV3 gic = GicV3.builder(ram, bus).vcpus(4).itsCount(1).cache(CacheStrategy.PER_ITS)
 *         .kick(vcpu -> wake(vcpu)).failures(new Failures((what, e) -> log(what, e))).build();
 * MsiTarget t = gic.msiTarget(0, deviceId);                       // ITS 0's doorbell, for this DeviceID
 * bus.write(t.doorbell(), 4, eventId, t.deviceId());              // an MSI through the bus, or synchronously:
 * long r = gic.inject(t.doorbell(), eventId, t.deviceId(), System.nanoTime());
 * long its0 = gic.itsBase(0), rd1 = gic.redistributorBase(1);    // where the guest finds the frames
 * }</pre>
 *
 * <h2>Translation cache</h2>
 * One of the four strategies of {@link dev.jvmm.gic.cache}, chosen by configuration and swappable on a live
 * machine with {@link #setCacheStrategy} (the old cache is flushed under every ITS lock, so nothing it held is
 * delivered through afterwards), so that a benchmark compares them on one machine.
 *
 * <h2>Coherence</h2>
 * After a command completes (CREADR has passed it), no MSI is delivered through a mapping it removed or moved,
 * whatever the strategy and however many threads inject. The cache holds interrupt translation entries; a delivery
 * re-validates its entry inside the LPI's delivery guard, and every command that removes or moves a mapping
 * quiesces the LPI before it completes. The argument is written out in {@link Lpi}.
 *
 * <h2>Threads</h2>
 * Any thread may inject or drive a line. ITS commands run in the thread that writes GITS_CWRITER. The
 * system-register methods for vCPU n are called by vCPU n's thread. {@link #close()} comes after every injecting
 * thread has stopped. Locks: ITS locks (ascending), a redistributor's monitor, the LPI registry, a cache's spin
 * lock, in that order; the wired interrupts' lock is a leaf that no LPI path takes.
 */
public final class GicV3 implements InterruptController {
    private final GuestMemory memory;
    private final MmioBus bus;
    private final int vcpus;
    private final IntConsumer kick;
    private final IrqObserver observer;
    private final Failures failures;
    private final boolean tracing;
    private final int cacheShards;
    private final int cacheEntriesPerVcpu;

    private final WiredInterrupts wired;
    private final Distributor distributor;
    private final Redistributor[] redistributors;
    private final WiredLine[] spiLines = new WiredLine[DistributorRegisterDescriptor.SPI_COUNT];
    /** Per vCPU, PPIs 16..31. */
    private final WiredLine[][] ppiLines;
    private final Its[] its;
    private final long[] doorbells;
    private final LpiRegistry registry = new LpiRegistry(this::dropPending);
    private final CacheReferences cacheReferences = new CacheReferences();

    private volatile TranslationCache<Ite> cache;
    /** Counters of strategies swapped out; guarded by {@link #lockAllIts()}. */
    private final Map<CacheStrategy, CacheStats> retiredCaches = new EnumMap<>(CacheStrategy.class);
    /** GICR_PROPBASER, common to every redistributor. */
    private volatile long propbaser;
    private volatile boolean closed;

    private final LongAdder acknowledged = new LongAdder();
    private final LongAdder wiredAcknowledged = new LongAdder();
    private final LongAdder unsupportedAccesses = new LongAdder();

    private GicV3(GuestMemory memory, MmioBus bus, int vcpus, int itsCount, CacheStrategy strategy, int cacheShards,
                  int cacheEntriesPerVcpu, IntConsumer kick, IrqObserver observer, Failures failures) {
        if (vcpus < 0 || vcpus > MemoryMap.maxVcpus(itsCount)) {
            throw new IllegalArgumentException("vCPU count must be between 0 and " + MemoryMap.maxVcpus(itsCount)
                    + ", got " + vcpus);
        }
        if (itsCount < 1 || itsCount > GicConfig.MAX_ITS) {
            throw new IllegalArgumentException("ITS count must be between 1 and " + GicConfig.MAX_ITS + ", got " + itsCount);
        }
        this.failures = failures == null ? Failures.counting() : failures;
        this.memory = Objects.requireNonNull(memory, "memory");
        this.bus = Objects.requireNonNull(bus, "bus");
        this.vcpus = vcpus;
        this.kick = Objects.requireNonNull(kick, "kick");
        this.observer = observer == null ? IrqObserver.NONE : observer;
        this.tracing = this.observer != IrqObserver.NONE;
        this.cacheShards = cacheShards;
        this.cacheEntriesPerVcpu = cacheEntriesPerVcpu;
        this.wired = new WiredInterrupts(this, vcpus);
        this.distributor = new Distributor(this);
        this.redistributors = new Redistributor[vcpus];
        for (int n = 0; n < vcpus; n++) {
            redistributors[n] = new Redistributor(this, n, MemoryMap.gicr(n), n == vcpus - 1);
        }
        wired.attach(redistributors);
        for (int s = 0; s < spiLines.length; s++) {
            int intid = DistributorRegisterDescriptor.FIRST_SPI + s;
            spiLines[s] = new WiredLine(wired, wired.bank(0, intid), intid);
        }
        this.ppiLines = new WiredLine[vcpus][DistributorRegisterDescriptor.PRIVATE_COUNT - DistributorRegisterDescriptor.FIRST_PPI];
        for (int n = 0; n < vcpus; n++) {
            for (int p = 0; p < ppiLines[n].length; p++) {
                ppiLines[n][p] = new WiredLine(wired, n, DistributorRegisterDescriptor.FIRST_PPI + p);
            }
        }
        this.its = new Its[itsCount];
        this.doorbells = new long[itsCount];
        for (int i = 0; i < itsCount; i++) {
            its[i] = new Its(this, i, MemoryMap.its(i, vcpus));
            doorbells[i] = its[i].doorbell;
        }
        this.cache = newCache(Objects.requireNonNull(strategy, "cache strategy"));
        registerFrames();
    }

    private void registerFrames() {
        try {
            bus.register("gicv3-gicd", MemoryMap.GICD_BASE, DistributorRegisterDescriptor.FRAME_SIZE, distributor);
            for (Redistributor rd : redistributors) {
                bus.register("gicv3-gicr" + rd.index, rd.base, RedistributorRegisterDescriptor.FRAME_SIZE, rd);
            }
            for (Its i : its) {
                bus.register("gicv3-its" + i.index, i.base, ItsRegisterDescriptor.FRAME_SIZE, i);
            }
        } catch (RuntimeException e) {
            unregisterFrames();
            throw e;
        }
    }

    private void unregisterFrames() {
        bus.unregister(distributor);
        for (Redistributor rd : redistributors) {
            bus.unregister(rd);
        }
        for (Its i : its) {
            bus.unregister(i);
        }
    }

    /**
     * The machine's interrupt controller: {@code Machine.builder(config).interruptController(GicV3::create)}.
     * Registers its frames on the machine's bus; sizes and strategy come from {@code config().gic()}.
     */
    public static GicV3 create(MachineContext context) {
        GicConfig g = context.config().get(GicConfig.SECTION);
        return new GicV3(context.memory(), context.bus(), context.vcpuCount(), g.itsCount(), g.cache(),
                g.cacheShards(), g.cacheEntriesPerVcpu(), context::kick, context.observer(), context.failures());
    }

    /** A builder for a GIC outside a {@code Machine}: guest memory, a bus, a kick callback and sizes. */
    public static Builder builder(GuestMemory memory, MmioBus bus) {
        return new Builder(memory, bus);
    }

    // ============================================================================================ MSI injection

    /**
     * The cached path. Looks the MSI up in the translation cache and, on a hit, delivers it inside the LPI's guard
     * after re-validating the entry; reports {@link InjectResult#MISS_RESULT} on a miss, and whenever it cannot
     * decide without the ITS lock (a command holds the LPI, the entry was removed, the ITS or the target's LPIs are
     * disabled). Never blocks on a lock a slow path holds; never allocates.
     */
    @Override
    public long tryInjectCached(long doorbell, int data, int deviceId, long signalNanos) {
        if (closed) {
            return InjectResult.dropped(DropReason.STOPPED);
        }
        Its target = itsFor(doorbell);
        if (target == null) {
            return InjectResult.dropped(DropReason.NO_DOORBELL);
        }
        Ite ite = cache.lookup(target.index, deviceId, data);
        return ite == null ? InjectResult.MISS_RESULT : deliverCached(target, ite, signalNanos);
    }

    /**
     * The second half of the cached path: delivers through an entry a lookup returned, which may be stale by now
     * (the lookup ran before a flush). Inside the LPI's guard, the entry is re-validated: removed, ITS disabled, no
     * target, or LPIs off at the target all report a miss, and a command that removes or moves the mapping either
     * waited for this delivery or is seen by it. See {@link Lpi}.
     */
    long deliverCached(Its target, Ite ite, long signalNanos) {
        Lpi lpi = ite.lpi;
        if (!lpi.tryEnter()) {
            return InjectResult.MISS_RESULT;
        }
        try {
            int pe = lpi.target;
            if (!ite.live || !target.isEnabled() || pe == Lpi.NO_TARGET) {
                return InjectResult.MISS_RESULT;
            }
            Redistributor rd = redistributors[pe];
            if (!rd.lpisEnabled()) {
                return InjectResult.MISS_RESULT;
            }
            rd.makePending(lpi, signalNanos);
            return InjectResult.delivered(lpi.intid, pe);
        } finally {
            lpi.exit();
        }
    }

    /** The slow path: full translation under the ITS lock; fills the translation cache. */
    @Override
    public long injectSlow(long doorbell, int data, int deviceId, long signalNanos) {
        if (closed) {
            return InjectResult.dropped(DropReason.STOPPED);
        }
        Its target = itsFor(doorbell);
        if (target == null) {
            return InjectResult.dropped(DropReason.NO_DOORBELL);
        }
        return target.translate(deviceId, data, signalNanos);
    }

    Its itsFor(long doorbell) {
        for (int i = 0; i < doorbells.length; i++) {
            if (doorbells[i] == doorbell) {
                return its[i];
            }
        }
        return null;
    }

    /** An MSI written to GITS_TRANSLATER through the bus: the cached path, then the slow path on a miss. */
    void injectThroughBus(Its target, int deviceId, int eventId) {
        inject(target.doorbell, eventId, deviceId, System.nanoTime());
    }

    /**
     * The MSI target of a device with DeviceID {@code deviceId} behind ITS {@code its}: that ITS's GITS_TRANSLATER.
     *
     * @throws IllegalArgumentException when there is no such ITS or the DeviceID exceeds the ITS's 16 DeviceID bits
     */
    @Override
    public MsiTarget msiTarget(int its, int deviceId) {
        if (its < 0 || its >= this.its.length) {
            throw new IllegalArgumentException("no ITS " + its + "; the GIC has " + this.its.length + " (0.."
                    + (this.its.length - 1) + ")");
        }
        if ((deviceId >>> Its.DEVICE_ID_BITS) != 0) {
            throw new IllegalArgumentException("DeviceID " + Integer.toUnsignedString(deviceId) + " exceeds the "
                    + Its.DEVICE_ID_BITS + " DeviceID bits of ITS " + its);
        }
        return new MsiTarget(its, doorbells[its], deviceId);
    }

    // ============================================================================================ CPU interface

    /**
     * One volatile read when nothing is pending (the common case for a halted vCPU); otherwise a few more, to skip
     * stale hints of {@link PendingLpiSet}. Compares the most urgent pending priority with the CPU interface's
     * mask and running priority.
     */
    @Override
    public boolean hasPendingInterrupt(int vcpu) {
        return vcpu >= 0 && vcpu < vcpus && redistributors[vcpu].hasPendingInterrupt();
    }

    /**
     * MRS of a CPU-interface register by vCPU {@code vcpu}'s own thread. Every register of
     * {@link SystemRegister}; those this GIC does not implement ({@link #implementsRegister}) read as zero, as do
     * write-only ones (the CPU makes both UNDEFINED before asking).
     */
    @Override
    public long readSystemRegister(int vcpu, SystemRegister register) {
        if (vcpu < 0 || vcpu >= vcpus) {
            return register == SystemRegister.ICC_IAR1_EL1 || register == SystemRegister.ICC_IAR0_EL1
                    ? SystemRegister.SPURIOUS_INTID : 0;
        }
        Redistributor rd = redistributors[vcpu];
        CpuInterface cpu = rd.cpu;
        switch (register) {
            case ICC_IAR1_EL1: return rd.acknowledge(true);
            case ICC_IAR0_EL1: return rd.acknowledge(false);
            case ICC_HPPIR1_EL1: return rd.highestPending(true);
            case ICC_HPPIR0_EL1: return rd.highestPending(false);
            case ICC_PMR_EL1: return cpu.readPmr();
            case ICC_RPR_EL1: return cpu.runningPriority();
            case ICC_BPR1_EL1: return cpu.readBpr(true);
            case ICC_BPR0_EL1: return cpu.readBpr(false);
            case ICC_AP1R0_EL1: return cpu.readActivePriorities(true);
            case ICC_AP0R0_EL1: return cpu.readActivePriorities(false);
            case ICC_IGRPEN1_EL1: return cpu.readIgrpen(true);
            case ICC_IGRPEN0_EL1: return cpu.readIgrpen(false);
            case ICC_CTLR_EL1: return cpu.readCtlr();
            case ICC_SRE_EL1: return CpuInterfaceRegisterDescriptor.SRE_VALUE;
            default: return 0; // write-only (EOIR, DIR, SGI*R), or AP*R1..3 (not implemented)
        }
    }

    /** MSR of a CPU-interface register by vCPU {@code vcpu}'s own thread; writes to read-only ones are ignored. */
    @Override
    public void writeSystemRegister(int vcpu, SystemRegister register, long value) {
        if (vcpu < 0 || vcpu >= vcpus) {
            return;
        }
        Redistributor rd = redistributors[vcpu];
        CpuInterface cpu = rd.cpu;
        switch (register) {
            case ICC_EOIR1_EL1: rd.endOfInterrupt(true, value); break;
            case ICC_EOIR0_EL1: rd.endOfInterrupt(false, value); break;
            case ICC_DIR_EL1: rd.deactivateInterrupt(value); break;
            case ICC_PMR_EL1: cpu.writePmr(value); break;
            case ICC_BPR1_EL1: cpu.writeBpr(true, value); break;
            case ICC_BPR0_EL1: cpu.writeBpr(false, value); break;
            case ICC_AP1R0_EL1: cpu.writeActivePriorities(true, value); break;
            case ICC_AP0R0_EL1: cpu.writeActivePriorities(false, value); break;
            case ICC_CTLR_EL1: cpu.writeCtlr(value); break;
            case ICC_IGRPEN1_EL1:
                if (cpu.writeIgrpen(true, value)) {
                    wired.participationChanged(vcpu);
                }
                break;
            case ICC_IGRPEN0_EL1:
                if (cpu.writeIgrpen(false, value)) {
                    wired.participationChanged(vcpu);
                }
                break;
            // ICC_SGI1R_EL1 generates Group 1 SGIs; ICC_SGI0R_EL1 Group 0 ones; with one security state
            // ICC_ASGI1R_EL1's "other state's Group 1" is Secure Group 1, which DS = 1 turns into Group 0 (QEMU's
            // icc_asgi1r_write and icc_generate_sgi; KVM also lets ASGI1R generate Group 0 SGIs only).
            case ICC_SGI1R_EL1: generateSgi(vcpu, value, true); break;
            case ICC_SGI0R_EL1:
            case ICC_ASGI1R_EL1: generateSgi(vcpu, value, false); break;
            default: break; // read-only (IAR, HPPIR, RPR), SRE (RAO/WI), AP*R1..3 (not implemented)
        }
    }

    /**
     * Whether this GIC implements {@code register}: with five priority and preemption bits, ICC_AP0R1..3_EL1 and
     * ICC_AP1R1..3_EL1 do not exist (IHI 0069, ICC_AP1R&lt;n&gt;_EL1: AP1R1 needs 6 bits, AP1R2..3 need 7; QEMU
     * registers them only then), so an access is UNDEFINED; a CPU asks before it traps to the controller.
     */
    @Override
    public boolean implementsRegister(SystemRegister register) {
        switch (register) {
            case ICC_AP0R1_EL1:
            case ICC_AP0R2_EL1:
            case ICC_AP0R3_EL1:
            case ICC_AP1R1_EL1:
            case ICC_AP1R2_EL1:
            case ICC_AP1R3_EL1:
                return false;
            default:
                return true;
        }
    }

    /** ICC_SGI*R_EL1: decode the affinity target list (IRM = 0) or all-but-self (IRM = 1) and raise the SGI. */
    private void generateSgi(int from, long value, boolean group1) {
        int sgi = (int) ((value >>> CpuInterfaceRegisterDescriptor.SGIR_INTID_SHIFT) & CpuInterfaceRegisterDescriptor.SGIR_INTID_MASK);
        if ((value & CpuInterfaceRegisterDescriptor.SGIR_IRM) != 0) {
            wired.sendSgi(from, sgi, group1, -1, 0);
            return;
        }
        long aff3 = (value >>> CpuInterfaceRegisterDescriptor.SGIR_AFF3_SHIFT) & CpuInterfaceRegisterDescriptor.SGIR_AFF_MASK;
        if (aff3 != 0) {
            return; // no PE has a non-zero Aff3 (GICD_TYPER.A3V = 0)
        }
        // RS is RES0 with ICC_CTLR_EL1.RSS = 0: the target list names Aff0 values 0..15.
        long path = (((value >>> CpuInterfaceRegisterDescriptor.SGIR_AFF2_SHIFT) & CpuInterfaceRegisterDescriptor.SGIR_AFF_MASK) << 16)
                | (((value >>> CpuInterfaceRegisterDescriptor.SGIR_AFF1_SHIFT) & CpuInterfaceRegisterDescriptor.SGIR_AFF_MASK) << 8);
        wired.sendSgi(from, sgi, group1, path, (int) (value & CpuInterfaceRegisterDescriptor.SGIR_TARGET_LIST_MASK));
    }

    // ============================================================================================ wired lines

    /** The input line of SPI {@code intid} (32..287), for a device to drive; the same object on every call. */
    @Override
    public IrqLine spiLine(int intid) {
        if (!DistributorRegisterDescriptor.isSpi(intid)) {
            throw new IllegalArgumentException("SPI INTIDs are " + DistributorRegisterDescriptor.FIRST_SPI + ".."
                    + (DistributorRegisterDescriptor.SPI_LIMIT - 1) + ", got " + intid);
        }
        return spiLines[intid - DistributorRegisterDescriptor.FIRST_SPI];
    }

    /** The input line of PPI {@code intid} (16..31) of vCPU {@code vcpu} (the generic timer's 27 and 30 ...). */
    @Override
    public IrqLine ppiLine(int vcpu, int intid) {
        if (vcpu < 0 || vcpu >= vcpus) {
            throw new IllegalArgumentException("no vCPU " + vcpu + " (this GIC has " + vcpus + ")");
        }
        if (!WiredInterrupts.isPpi(intid)) {
            throw new IllegalArgumentException("PPI INTIDs are " + DistributorRegisterDescriptor.FIRST_PPI + ".."
                    + (DistributorRegisterDescriptor.PRIVATE_COUNT - 1) + ", got " + intid);
        }
        return ppiLines[vcpu][intid - DistributorRegisterDescriptor.FIRST_PPI];
    }

    /** Whether the CPU interface of {@code vcpu} has a Group 0 interrupt to signal as an FIQ (tests; never taken). */
    boolean hasPendingFiq(int vcpu) {
        Redistributor rd = redistributors[vcpu];
        int best0 = rd.cpu.groupEnabled(false) ? (int) rd.wiredBest() : WiredInterrupts.NONE;
        return best0 != WiredInterrupts.NONE && (best0 >>> 16) < rd.cpu.threshold(false)
                && rd.highestPending(false) == (best0 & 0xFFFF);
    }

    WiredInterrupts wired() {
        return wired;
    }

    /** Counts distributor and redistributor accesses that decode to no register. */
    LongAdder unsupportedAccesses() {
        return unsupportedAccesses;
    }

    void wiredAcknowledged(int vcpu, int intid) {
        wiredAcknowledged.increment();
        if (tracing) {
            observer.acknowledged(vcpu, intid, 0, 0, System.nanoTime());
        }
    }

    /** Whether an observer wants acknowledge latencies (then deliveries record their timestamps). */
    boolean tracing() {
        return tracing;
    }

    void acknowledged(int vcpu, int intid) {
        acknowledged.increment();
        if (tracing) {
            Lpi lpi = registry.get(intid);
            observer.acknowledged(vcpu, intid, lpi == null ? 0 : lpi.signalNanos, lpi == null ? 0 : lpi.pendingNanos,
                    System.nanoTime());
        }
    }

    // ============================================================================================ redistributors

    /**
     * GICR_CTLR.EnableLPIs written on {@code rd}. Holds every ITS lock (no command or slow path runs meanwhile),
     * then the redistributor's monitor. 1 to 0 drops its pending LPIs and flushes every ITS's cache (a listed
     * flushing event).
     */
    void writeEnableLpis(Redistributor rd, boolean enable) {
        if (enable == rd.lpisEnabled()) {
            return;
        }
        lockAllIts();
        try {
            List<Lpi> mapped = registry.snapshot();
            if (enable) {
                rd.enableLpis(mapped);
            } else {
                rd.disableLpis(mapped);
                cache.invalidateAll();
            }
        } finally {
            unlockAllIts();
        }
    }

    long propbaser() {
        return propbaser;
    }

    synchronized void writePropbaser(long at, int size, long value) {
        propbaser = RegisterAccess.write64(propbaser, at, size, value) & RedistributorRegisterDescriptor.PROPBASER_WRITABLE;
    }

    /** One past the largest LPI INTID the configuration table covers: 2^min(PROPBASER.IDbits + 1, 16) (KVM). */
    long lpiLimit() {
        int idBits = (int) (propbaser & RedistributorRegisterDescriptor.PROPBASER_ID_BITS_MASK) + 1;
        return 1L << Math.min(idBits, LpiTableDescriptor.ID_BITS);
    }

    /** The configuration byte of {@code intid} from the guest's table, or {@code fallback} if it is not in RAM. */
    int readLpiConfig(int intid, int fallback) {
        long table = propbaser & RedistributorRegisterDescriptor.PROPBASER_PA_MASK;
        try {
            return memory.read8(table + LpiTableDescriptor.configOffset(intid)) & 0xFF;
        } catch (GuestMemoryException e) {
            return fallback;
        }
    }

    /** Creates the pending structure an LPI of {@code config} needs at {@code target} (command time). */
    void prepareLevel(int target, int config) {
        if (target >= 0 && target < vcpus) {
            redistributors[target].pending.prepare(LpiTableDescriptor.level(config));
        }
    }

    /** Drops an LPI's pending state wherever it is; the LPI is quiesced. */
    void dropPending(Lpi lpi) {
        int target = lpi.target;
        if (target >= 0 && target < vcpus) {
            redistributors[target].dropPending(lpi);
        } else {
            lpi.latched = false;
        }
    }

    void kick(int vcpu) {
        kick.accept(vcpu);
    }

    // ============================================================================================ translation cache

    private TranslationCache<Ite> newCache(CacheStrategy strategy) {
        return TranslationCache.create(strategy, its.length, vcpus, cacheShards, cacheEntriesPerVcpu);
    }

    TranslationCache<Ite> cache() {
        return cache;
    }

    /** The slow path's insert, with the ITS lock of {@code itsIndex} held and every check passed. */
    void cacheTranslation(int itsIndex, int deviceId, int eventId, Ite ite) {
        if (!closed) {
            cache.insert(itsIndex, deviceId, eventId, ite);
        }
    }

    /** The active translation cache strategy. */
    public CacheStrategy cacheStrategy() {
        return cache.strategy();
    }

    /**
     * Replaces the translation cache with a new, empty one of {@code strategy}, on a live machine: holds every ITS
     * lock (no insert or flush runs), publishes the new cache, then flushes the old one. A cached-path lookup that
     * still reads the old cache finds entries that are re-validated before use, or nothing.
     */
    public void setCacheStrategy(CacheStrategy strategy) {
        Objects.requireNonNull(strategy, "strategy");
        lockAllIts();
        try {
            if (closed) {
                return;
            }
            TranslationCache<Ite> old = cache;
            cache = newCache(strategy);
            old.invalidateAll();
            retiredCaches.merge(old.strategy(), old.stats(), CacheStats::plus);
        } finally {
            unlockAllIts();
        }
    }

    // ============================================================================================ accessors

    GuestMemory memory() {
        return memory;
    }

    LpiRegistry registry() {
        return registry;
    }

    CacheReferences cacheReferences() {
        return cacheReferences;
    }

    Redistributor redistributor(int vcpu) {
        return redistributors[vcpu];
    }

    /** How many vCPUs (and redistributors). */
    public int vcpuCount() {
        return vcpus;
    }

    /** How many ITSes. */
    public int itsCount() {
        return its.length;
    }

    /** The MSI doorbell (GITS_TRANSLATER address) of ITS {@code index}. */
    public long doorbell(int index) {
        return doorbells[index];
    }

    /** The guest physical base of ITS {@code index}'s frames (its control frame; the translation frame follows). */
    public long itsBase(int index) {
        return its[index].base;
    }

    /** The guest physical base of vCPU {@code vcpu}'s redistributor (its RD_base frame). */
    public long redistributorBase(int vcpu) {
        return redistributors[vcpu].base;
    }

    /** The guest physical base of the distributor. */
    public long distributorBase() {
        return MemoryMap.GICD_BASE;
    }

    /** Where the GIC reports its internal errors (an ITS command that threw: a bug, never the guest's doing). */
    Failures failures() {
        return failures;
    }

    /** Takes every ITS lock in ascending index order: the lock order every multi-ITS operation follows. */
    private void lockAllIts() {
        for (Its i : its) {
            i.lock.lock();
        }
    }

    private void unlockAllIts() {
        for (int i = its.length - 1; i >= 0; i--) {
            its[i].lock.unlock();
        }
    }

    // ============================================================================================ statistics

    /** A snapshot of every counter. */
    public GicStats stats() {
        List<ItsStats> itsStats = new ArrayList<>(its.length);
        for (Its i : its) {
            itsStats.add(i.stats());
        }
        Map<CacheStrategy, CacheStats> byStrategy;
        CacheStats current;
        lockAllIts();
        try {
            current = cache.stats();
            byStrategy = new EnumMap<>(retiredCaches);
            byStrategy.merge(current.strategy(), current, CacheStats::plus);
        } finally {
            unlockAllIts();
        }
        int pending = 0;
        for (Redistributor rd : redistributors) {
            pending += rd.pending.count();
        }
        long held = 0;
        for (CacheStats s : byStrategy.values()) {
            held += s.inserts() - s.releases();
        }
        return new GicStats(current.strategy(), current, byStrategy, itsStats, acknowledged.sum(), pending,
                registry.size(), held, cacheReferences.doubleReleases.sum(),
                wiredAcknowledged.sum(), wired.sgisRaised(), wired.sgisRefused(), unsupportedAccesses.sum());
    }

    /**
     * Copies of translations that the interrupt translation entries still count as held by caches, summed over
     * every ITS: zero after {@link #close()} when every copy was released exactly once.
     */
    long entryCacheReferences() {
        lockAllIts();
        try {
            long n = 0;
            for (Its i : its) {
                n += i.cacheReferencesOfEntries();
            }
            return n;
        } finally {
            unlockAllIts();
        }
    }

    /**
     * Empties the translation cache, stops taking MSIs ({@link DropReason#STOPPED}) and takes the frames off the
     * bus. Called once every thread that injects has stopped; idempotent.
     */
    @Override
    public void close() {
        lockAllIts();
        try {
            if (closed) {
                return;
            }
            closed = true;
            cache.invalidateAll();
        } finally {
            unlockAllIts();
        }
        unregisterFrames();
    }

    @Override
    public String toString() {
        return "GicV3[" + vcpus + " vCPUs, " + its.length + " ITS, cache " + cache.strategy().configName() + "]";
    }

    // ============================================================================================ builder

    /**
     * Builds a {@link GicV3} outside a {@code Machine}. Defaults: 1 vCPU, {@link GicConfig#defaults()} (one ITS,
     * per-its cache, 8 shards, 16 entries per vCPU), no kick, no observer, internal errors only counted.
     */
    public static final class Builder {
        private final GuestMemory memory;
        private final MmioBus bus;
        private int vcpus = 1;
        private GicConfig config = GicConfig.defaults();
        private IntConsumer kick = vcpu -> {
        };
        private IrqObserver observer = IrqObserver.NONE;
        private Failures failures = Failures.counting();

        private Builder(GuestMemory memory, MmioBus bus) {
            this.memory = memory;
            this.bus = bus;
        }

        /** vCPUs, one redistributor each. */
        public Builder vcpus(int n) {
            vcpus = n;
            return this;
        }

        /** ITS count, cache strategy, shards and LRU size, as the configuration's gic section. */
        public Builder config(GicConfig c) {
            config = Objects.requireNonNull(c);
            return this;
        }

        public Builder itsCount(int n) {
            config = config.withItsCount(n);
            return this;
        }

        public Builder cache(CacheStrategy s) {
            config = config.withCache(s);
            return this;
        }

        /** Called (from any thread, possibly the cached MSI path) after an interrupt became pending for a vCPU. */
        public Builder kick(IntConsumer k) {
            kick = Objects.requireNonNull(k);
            return this;
        }

        public Builder observer(IrqObserver o) {
            observer = o;
            return this;
        }

        /** Where internal errors (an ITS command that threw) are counted and reported. */
        public Builder failures(Failures f) {
            failures = Objects.requireNonNull(f);
            return this;
        }

        /** Builds the GIC and registers its frames on the bus. */
        public GicV3 build() {
            return new GicV3(memory, bus, vcpus, config.itsCount(), config.cache(), config.cacheShards(),
                    config.cacheEntriesPerVcpu(), kick, observer, failures);
        }
    }
}
