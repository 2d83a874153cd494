package dev.jvmm.gic;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.vcpu.SystemRegister;
import dev.jvmm.gic.guest.GicDriver;
import dev.jvmm.core.vcpu.GuestAccess;
import dev.jvmm.gic.guest.ItsCommandQueue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * A GIC outside a machine, driven as a guest would from the test thread: guest RAM, the MMIO bus, the guest-side
 * driver, and the CPU-interface system registers of each vCPU called directly (the vCPU's trap).
 */
final class GicRig implements AutoCloseable {
    static final long RAM_SIZE = 64L << 20;
    static final long ARENA = MemoryMap.RAM_BASE + (8L << 20);
    static final long ARENA_SIZE = 48L << 20;

    /** RAM for rigs that share one memory ({@link #sharedMemory()}): enough for a hostile stream and its recovery. */
    static final long SHARED_RAM_SIZE = 16L << 20;
    static final long SHARED_ARENA = MemoryMap.RAM_BASE + (1L << 20);

    final GuestMemory memory;
    final MmioBus bus;
    final GicV3 gic;
    final GicDriver driver;
    final AtomicIntegerArray kicks;
    final int vcpus;
    /** One past the last byte of guest RAM. */
    final long ramEnd;
    private final boolean ownsMemory;

    private GicRig(GuestMemory shared, int vcpus, int itsCount, CacheStrategy strategy) {
        this.vcpus = vcpus;
        ownsMemory = shared == null;
        long arena;
        long arenaSize;
        if (shared == null) {
            memory = GuestMemory.create(MemoryMap.RAM_BASE, RAM_SIZE);
            arena = ARENA;
            arenaSize = ARENA_SIZE;
            ramEnd = MemoryMap.RAM_BASE + RAM_SIZE;
        } else {
            // Allocating and zeroing tens of MiB of RAM costs far more than a whole hostile stream: rigs in a loop
            // share one small memory, zeroed again here.
            memory = shared;
            shared.fill(MemoryMap.RAM_BASE, SHARED_RAM_SIZE, (byte) 0);
            arena = SHARED_ARENA;
            arenaSize = SHARED_RAM_SIZE - (SHARED_ARENA - MemoryMap.RAM_BASE);
            ramEnd = MemoryMap.RAM_BASE + SHARED_RAM_SIZE;
        }
        bus = new MmioBus();
        kicks = new AtomicIntegerArray(vcpus);
        gic = GicV3.builder(memory, bus).vcpus(vcpus).itsCount(itsCount).cache(strategy)
                .kick(kicks::incrementAndGet).build();
        driver = new GicDriver(GuestAccess.of(bus, memory), vcpus, itsCount, arena, arenaSize);
    }

    /** A memory for {@link #booted(GuestMemory, int, int, CacheStrategy, int)}; the caller closes it. */
    static GuestMemory sharedMemory() {
        return GuestMemory.create(MemoryMap.RAM_BASE, SHARED_RAM_SIZE);
    }

    /** A GIC with nothing programmed. */
    static GicRig bare(int vcpus, int itsCount, CacheStrategy strategy) {
        return new GicRig(null, vcpus, itsCount, strategy);
    }

    /** As {@link #booted(int, int, CacheStrategy, int)}, on a memory from {@link #sharedMemory()} (zeroed first). */
    static GicRig booted(GuestMemory shared, int vcpus, int itsCount, CacheStrategy strategy, int queuePages) {
        return boot(new GicRig(shared, vcpus, itsCount, strategy), itsCount, queuePages);
    }

    /**
     * A GIC set up as Linux would: distributor, LPI tables (PTZ = 1), EnableLPIs and an open CPU interface on every
     * vCPU, and every ITS enabled with a queue of {@code queuePages} pages.
     */
    static GicRig booted(int vcpus, int itsCount, CacheStrategy strategy, int queuePages) {
        return boot(new GicRig(null, vcpus, itsCount, strategy), itsCount, queuePages);
    }

    private static GicRig boot(GicRig rig, int itsCount, int queuePages) {
        int vcpus = rig.vcpus;
        rig.driver.initDistributorAndLpis();
        for (int pe = 0; pe < vcpus; pe++) {
            rig.openCpuInterface(pe);
        }
        for (int i = 0; i < itsCount; i++) {
            rig.driver.initIts(i, queuePages);
        }
        return rig;
    }

    static GicRig booted(int vcpus, CacheStrategy strategy) {
        return booted(vcpus, 1, strategy, 16);
    }

    ItsCommandQueue its(int i) {
        return driver.its(i);
    }

    ItsCommandQueue its() {
        return driver.its(0);
    }

    void openCpuInterface(int pe) {
        gic.writeSystemRegister(pe, SystemRegister.ICC_PMR_EL1, 0xFF);
        gic.writeSystemRegister(pe, SystemRegister.ICC_IGRPEN1_EL1, 1);
    }

    /** IAR1 then (unless spurious) EOIR1: what a guest's interrupt handler does. Returns the INTID or 1023. */
    int take(int pe) {
        int intid = (int) gic.readSystemRegister(pe, SystemRegister.ICC_IAR1_EL1);
        if (intid != SystemRegister.SPURIOUS_INTID) {
            gic.writeSystemRegister(pe, SystemRegister.ICC_EOIR1_EL1, intid);
        }
        return intid;
    }

    /** Every LPI {@code pe} can take now, in the order it takes them. */
    List<Integer> takeAll(int pe) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            int intid = take(pe);
            if (intid == SystemRegister.SPURIOUS_INTID) {
                break;
            }
            out.add(intid);
        }
        return out;
    }

    /** What each vCPU takes now, {@code [pe] -> intids}. */
    List<List<Integer>> takeAllEverywhere() {
        List<List<Integer>> out = new ArrayList<>();
        for (int pe = 0; pe < vcpus; pe++) {
            out.add(takeAll(pe));
        }
        return out;
    }

    /** An MSI as KVM_SIGNAL_MSI raises it: the cached path, then the slow path on a miss. */
    long msi(int its, int deviceId, int eventId) {
        long doorbell = gic.doorbell(its);
        long r = gic.tryInjectCached(doorbell, eventId, deviceId, System.nanoTime());
        if (InjectResult.isMiss(r)) {
            r = gic.injectSlow(doorbell, eventId, deviceId, System.nanoTime());
        }
        return r;
    }

    long msi(int deviceId, int eventId) {
        return msi(0, deviceId, eventId);
    }

    /**
     * Maps device {@code deviceId} of ITS 0 (an ITT for {@code 2^ittBits} events) with events {@code 0 .. events-1}
     * to LPIs {@code 8192 + e} (default configuration) in collection 0 on PE 0, then raises each event once.
     */
    void raiseEventsOnPe0(int deviceId, int ittBits, int events) {
        ItsCommandQueue its = its();
        its.mapd(deviceId, ittBits, driver.allocateItt(ittBits), true);
        its.mapc(0, 0, true);
        for (int e = 0; e < events; e++) {
            driver.setConfig(8192 + e, LpiTableDescriptor.CONFIG_DEFAULT);
            its.mapti(deviceId, e, 8192 + e, 0);
            msi(deviceId, e);
        }
    }

    long readIts(int i, long offset, int size) {
        return bus.read(gic.itsBase(i) + offset, size);
    }

    void writeIts(int i, long offset, int size, long value) {
        bus.write(gic.itsBase(i) + offset, size, value);
    }

    long readGicr(int pe, long offset, int size) {
        return bus.read(MemoryMap.gicr(pe) + offset, size);
    }

    void writeGicr(int pe, long offset, int size, long value) {
        bus.write(MemoryMap.gicr(pe) + offset, size, value);
    }

    long readGicd(long offset, int size) {
        return bus.read(MemoryMap.GICD_BASE + offset, size);
    }

    void writeGicd(long offset, int size, long value) {
        bus.write(MemoryMap.GICD_BASE + offset, size, value);
    }

    long sysreg(int pe, SystemRegister r) {
        return gic.readSystemRegister(pe, r);
    }

    void sysreg(int pe, SystemRegister r, long value) {
        gic.writeSystemRegister(pe, r, value);
    }

    /** ICC_IAR1_EL1 on {@code pe}. */
    int iar1(int pe) {
        return (int) gic.readSystemRegister(pe, SystemRegister.ICC_IAR1_EL1);
    }

    /** ICC_EOIR1_EL1 on {@code pe}. */
    void eoi1(int pe, int intid) {
        gic.writeSystemRegister(pe, SystemRegister.ICC_EOIR1_EL1, intid);
    }

    /** GICD_CTLR.EnableGrp1 (and EnableGrp0), as Linux's gic_dist_init leaves it. */
    void enableDistributor() {
        writeGicd(DistributorRegisterDescriptor.GICD_CTLR, 4,
                DistributorRegisterDescriptor.CTLR_ENABLE_GRP1 | DistributorRegisterDescriptor.CTLR_ENABLE_GRP0);
    }

    /** SPI {@code intid}: priority, enabled, routed to {@code pe} (IRM = 0). */
    void enableSpi(int intid, int priority, int pe) {
        writeGicd(DistributorRegisterDescriptor.GICD_IPRIORITYR + intid, 1, priority);
        writeGicd(DistributorRegisterDescriptor.irouter(intid), 8, Affinity.of(pe));
        writeGicd(DistributorRegisterDescriptor.GICD_ISENABLER + 4L * (intid / 32), 4, 1L << (intid % 32));
    }

    /** SGI or PPI {@code intid} of {@code pe}: priority and enabled. */
    void enablePrivate(int pe, int intid, int priority) {
        writeGicr(pe, RedistributorRegisterDescriptor.GICR_IPRIORITYR0 + intid, 1, priority);
        writeGicr(pe, RedistributorRegisterDescriptor.GICR_ISENABLER0, 4, 1L << intid);
    }

    /** Edge-triggered SPI {@code intid} (GICD_ICFGR). */
    void makeEdge(int intid) {
        long at = DistributorRegisterDescriptor.GICD_ICFGR + 4L * (intid / 16);
        writeGicd(at, 4, readGicd(at, 4) | ((long) DistributorRegisterDescriptor.ICFGR_EDGE << (2 * (intid % 16))));
    }

    /** The vCPU SPI {@code intid} is forwarded to now ({@link WiredInterrupts#NO_TARGET}: nobody). */
    int wiredTarget(int intid) {
        return gic.wired().targetOf(intid);
    }

    GicStats stats() {
        return gic.stats();
    }

    @Override
    public void close() {
        gic.close();
        if (ownsMemory) {
            memory.close();
        }
    }
}
