package dev.jvmm.gic;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.core.irq.DropReason;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.core.irq.InterruptController;
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
 * A GICv3 with LPIs and one to four ITSes: the interrupt controller that MSIs reach.
 *
 * <pre>
 *  MSI (doorbell = GITS_TRANSLATER of ITS i, data = EventID, DeviceID)
 *    │
 *    ├─ {@link #tryInjectCached}: translation cache lookup ─ hit ─▶ LPI guard ─▶ redistributor: pending, kick
 *    │        (no lock with per-its, never allocates)       miss ─▶ the caller takes the slow path
 *    └─ {@link #injectSlow}: ITS lock ─ device ─ entry ─ collection ─ redistributor ─ cache insert ─ pending, kick
 *
 *  guest:  GICD 0x0800_0000 │ ITS i at itsBase(i) │ GICR n at redistributorBase(n)   (QEMU virt's map: MemoryMap)
 *          ICC_IAR1_EL1 / ICC_EOIR1_EL1 / ICC_PMR_EL1 / ICC_IGRPEN1_EL1 / ICC_CTLR_EL1 through the vCPU's trap
 * </pre>
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
 * Any thread may inject. ITS commands run in the thread that writes GITS_CWRITER. The system-register methods for
 * vCPU n are called by vCPU n's thread. {@link #close()} comes after every injecting thread has stopped.
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

    private final Distributor distributor = new Distributor();
    private final Redistributor[] redistributors;
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
        this.redistributors = new Redistributor[vcpus];
        for (int n = 0; n < vcpus; n++) {
            redistributors[n] = new Redistributor(this, n, MemoryMap.gicr(n), n == vcpus - 1);
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

    @Override
    public long readSystemRegister(int vcpu, SystemRegister register) {
        if (vcpu < 0 || vcpu >= vcpus) {
            return register == SystemRegister.ICC_IAR1_EL1 ? SystemRegister.SPURIOUS_INTID : 0;
        }
        Redistributor rd = redistributors[vcpu];
        switch (register) {
            case ICC_IAR1_EL1: return rd.acknowledge();
            case ICC_PMR_EL1: return rd.cpu.readPmr();
            case ICC_IGRPEN1_EL1: return rd.cpu.readIgrpen1();
            case ICC_CTLR_EL1: return rd.cpu.readCtlr();
            default: return 0; // ICC_EOIR1_EL1 is write-only
        }
    }

    @Override
    public void writeSystemRegister(int vcpu, SystemRegister register, long value) {
        if (vcpu < 0 || vcpu >= vcpus) {
            return;
        }
        Redistributor rd = redistributors[vcpu];
        switch (register) {
            case ICC_EOIR1_EL1: rd.endOfInterrupt(value); break;
            case ICC_PMR_EL1: rd.cpu.writePmr(value); break;
            case ICC_IGRPEN1_EL1: rd.cpu.writeIgrpen1(value); break;
            case ICC_CTLR_EL1: rd.cpu.writeCtlr(value); break;
            default: break; // ICC_IAR1_EL1 is read-only
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
                registry.size(), held, cacheReferences.doubleReleases.sum());
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
