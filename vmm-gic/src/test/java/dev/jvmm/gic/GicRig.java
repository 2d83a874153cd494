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

    final GuestMemory memory;
    final MmioBus bus;
    final GicV3 gic;
    final GicDriver driver;
    final AtomicIntegerArray kicks;
    final int vcpus;

    private GicRig(int vcpus, int itsCount, CacheStrategy strategy) {
        this.vcpus = vcpus;
        memory = GuestMemory.create(MemoryMap.RAM_BASE, RAM_SIZE);
        bus = new MmioBus();
        kicks = new AtomicIntegerArray(vcpus);
        gic = GicV3.builder(memory, bus).vcpus(vcpus).itsCount(itsCount).cache(strategy)
                .kick(kicks::incrementAndGet).build();
        driver = new GicDriver(GuestAccess.of(bus, memory), vcpus, itsCount, ARENA, ARENA_SIZE);
    }

    /** A GIC with nothing programmed. */
    static GicRig bare(int vcpus, int itsCount, CacheStrategy strategy) {
        return new GicRig(vcpus, itsCount, strategy);
    }

    /**
     * A GIC set up as Linux would: distributor, LPI tables (PTZ = 1), EnableLPIs and an open CPU interface on every
     * vCPU, and every ITS enabled with a queue of {@code queuePages} pages.
     */
    static GicRig booted(int vcpus, int itsCount, CacheStrategy strategy, int queuePages) {
        GicRig rig = new GicRig(vcpus, itsCount, strategy);
        rig.driver.initDistributor();
        rig.driver.initLpiTables(true);
        for (int pe = 0; pe < vcpus; pe++) {
            rig.driver.enableLpis(pe);
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

    GicStats stats() {
        return gic.stats();
    }

    @Override
    public void close() {
        gic.close();
        memory.close();
    }
}
