package dev.jvmm.bench;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.vcpu.SystemRegister;
import dev.jvmm.gic.DistributorRegisterDescriptor;
import dev.jvmm.gic.GicV3;
import dev.jvmm.gic.LpiTableDescriptor;
import dev.jvmm.gic.guest.GicDriver;
import dev.jvmm.core.vcpu.GuestAccess;
import dev.jvmm.gic.guest.ItsCommandQueue;

import java.util.function.IntConsumer;

/**
 * A {@link GicV3} outside a machine, programmed the way a guest programs it: guest RAM, an MMIO bus, and the
 * guest-side {@link GicDriver} writing real ITS commands into a command queue in guest RAM. The benchmark threads
 * then play the vCPUs: they read ICC_IAR1_EL1 and write ICC_EOIR1_EL1 through the GIC's system-register methods,
 * exactly what a vCPU's trap calls.
 *
 * <pre>
 *  RAM_BASE ─ 8 MiB ─▶ arena (48 MiB): LPI configuration table, pending tables, ITS device/collection tables,
 *                                        command queue, ITTs        (allocated by the driver)
 *  GICD / GICR n / ITS 0 frames on the bus (registered by the GIC)
 * </pre>
 *
 * <h2>Use</h2>
 * <pre>{@code
 * GicFixture f = GicFixture.boot(2, CacheStrategy.PER_ITS);   // distributor, LPI tables, EnableLPIs, ITS 0
 * f.mapDevice(0, 16, 8192, 0);                               // DeviceID 0, EventIDs 0..15 -> LPIs 8192.., PE 0
 * long r = f.gic.tryInjectCached(f.gic.doorbell(0), 3, 0, 0); // an MSI on the cached path
 * int intid = f.take(0);                                      // IAR1 + EOIR1 on vCPU 0: 8195
 * f.close();
 * }</pre>
 *
 * Not thread-safe while it is being programmed; once mapped, any thread may inject, and vCPU n's system registers
 * must be used by one thread at a time (the GIC's own rule).
 */
final class GicFixture implements AutoCloseable {
    static final long RAM_SIZE = 64L << 20;
    static final long ARENA = MemoryMap.RAM_BASE + (8L << 20);
    static final long ARENA_SIZE = 48L << 20;
    /** Command queue pages: 16 x 4 KiB holds 2048 commands, enough for every mapping a benchmark makes at once. */
    static final int QUEUE_PAGES = 16;

    final GuestMemory memory;
    final MmioBus bus;
    final GicV3 gic;
    final GicDriver driver;
    final ItsCommandQueue its;
    private final int vcpus;

    private GicFixture(int vcpus, CacheStrategy strategy, IntConsumer kick) {
        this.vcpus = vcpus;
        this.memory = GuestMemory.create(MemoryMap.RAM_BASE, RAM_SIZE);
        this.bus = new MmioBus();
        this.gic = GicV3.builder(memory, bus).vcpus(vcpus).itsCount(1).cache(strategy).kick(kick).build();
        this.driver = new GicDriver(GuestAccess.of(bus, memory), vcpus, 1, ARENA, ARENA_SIZE);
        driver.initDistributor();
        driver.initLpiTables(true);
        for (int pe = 0; pe < vcpus; pe++) {
            driver.enableLpis(pe);
            openCpuInterface(pe);
        }
        this.its = driver.initIts(0, QUEUE_PAGES);
        // One collection per vCPU, collection n on PE n (what Linux's ITS driver sets up).
        for (int pe = 0; pe < vcpus; pe++) {
            its.mapc(pe, pe, true);
        }
    }

    /**
     * A GIC with {@code vcpus} redistributors, LPIs enabled everywhere, one ITS with a collection per vCPU. Nobody
     * is kicked: the benchmark threads that play the vCPUs take their interrupts without waiting for one.
     */
    static GicFixture boot(int vcpus, CacheStrategy strategy) {
        return new GicFixture(vcpus, strategy, vcpu -> { });
    }

    /**
     * As {@link #boot(int, CacheStrategy)}, with {@code kick} called (in the injecting thread) whenever an LPI
     * becomes pending at a vCPU that had nothing pending: how a halted vCPU is woken.
     */
    static GicFixture boot(int vcpus, CacheStrategy strategy, IntConsumer kick) {
        return new GicFixture(vcpus, strategy, kick);
    }

    /** ICC_PMR_EL1 = 0xFF (every priority) and ICC_IGRPEN1_EL1 = 1, as a guest's GIC driver does per CPU. */
    private void openCpuInterface(int pe) {
        gic.writeSystemRegister(pe, SystemRegister.ICC_PMR_EL1, 0xFF);
        gic.writeSystemRegister(pe, SystemRegister.ICC_IGRPEN1_EL1, 1);
    }

    /**
     * MAPD {@code deviceId} with an ITT for {@code events} EventIDs, then for each EventID e: the LPI
     * {@code firstIntid + e} enabled at the default priority, MAPTI to the collection of {@code pe}. Finishes with
     * a SYNC and checks that the ITS ran every command (CREADR caught up with CWRITER).
     */
    void mapDevice(int deviceId, int events, int firstIntid, int pe) {
        if (pe < 0 || pe >= vcpus) {
            throw new IllegalArgumentException("no vCPU " + pe);
        }
        int eventBits = Math.max(1, 32 - Integer.numberOfLeadingZeros(events - 1));
        its.mapd(deviceId, eventBits, driver.allocateItt(eventBits), true);
        for (int e = 0; e < events; e++) {
            driver.setConfig(firstIntid + e, LpiTableDescriptor.CONFIG_DEFAULT);
            its.mapti(deviceId, e, firstIntid + e, pe);
        }
        its.sync(pe);
        if (!its.drained()) {
            throw new IllegalStateException("the ITS did not run the mapping commands (stalled: " + its.stalled() + ")");
        }
    }

    /**
     * SPI {@code intid} edge-triggered, Group 1, priority 0xA0, routed to {@code pe} and enabled, through the
     * distributor's registers as a guest's driver writes them (Linux's {@code gic_configure_irq} for a device-tree
     * trigger of edge rising).
     */
    void configureSpi(int intid, int pe) {
        long d = gic.distributorBase();
        long word = 4L * (intid / 32);
        int bit = 1 << (intid % 32);
        bus.write(d + DistributorRegisterDescriptor.GICD_IGROUPR + word, 4,
                bus.read(d + DistributorRegisterDescriptor.GICD_IGROUPR + word, 4) | (bit & 0xFFFF_FFFFL), 0);
        bus.write(d + DistributorRegisterDescriptor.GICD_IPRIORITYR + intid, 1, 0xA0, 0);
        long cfg = d + DistributorRegisterDescriptor.GICD_ICFGR + 4L * (intid / 16);
        bus.write(cfg, 4, bus.read(cfg, 4) | ((long) DistributorRegisterDescriptor.ICFGR_EDGE << (2 * (intid % 16))), 0);
        bus.write(d + DistributorRegisterDescriptor.irouter(intid), 8, pe, 0);
        bus.write(d + DistributorRegisterDescriptor.GICD_ISENABLER + word, 4, bit & 0xFFFF_FFFFL, 0);
    }

    /**
     * What a guest's interrupt handler does on vCPU {@code pe}: ICC_IAR1_EL1 acknowledges the most urgent pending
     * interrupt (an LPI, or a wired SPI), ICC_EOIR1_EL1 ends it. Returns the INTID, or {@link SystemRegister#SPURIOUS_INTID} (1023) when nothing
     * was pending. Allocation-free.
     */
    int take(int pe) {
        int intid = (int) gic.readSystemRegister(pe, SystemRegister.ICC_IAR1_EL1);
        if (intid != SystemRegister.SPURIOUS_INTID) {
            gic.writeSystemRegister(pe, SystemRegister.ICC_EOIR1_EL1, intid);
        }
        return intid;
    }

    /** Empties the translation cache, takes the GIC off the bus and frees guest RAM. */
    @Override
    public void close() {
        gic.close();
        memory.close();
    }
}
