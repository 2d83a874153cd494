package dev.jvmm.gic;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.testing.HostileCases;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.core.vcpu.SystemRegister;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static dev.jvmm.gic.DistributorRegisterDescriptor.*;
import static dev.jvmm.gic.RedistributorRegisterDescriptor.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile guests writing the distributor, the redistributors (both frames) and the CPU interface: any offset, any
 * width, any value, from several vCPUs at once while devices drive SPI and PPI lines, seeded. No access may throw or
 * hang, and no interrupt may be delivered that the state does not allow:
 * <ul>
 *   <li>during the storm, a "muted" vCPU whose ICC_PMR_EL1 stays 0 (every priority masked, IHI 0069 ICC_PMR_EL1)
 *       never has an IRQ signalled and never acknowledges anything, whatever the others write;</li>
 *   <li>every acknowledged INTID is one this GIC implements;</li>
 *   <li>afterwards, once the CPU interfaces are reset and SPIs routed by affinity, each vCPU's ICC_HPPIR0/1_EL1 and
 *       ICC_IAR*_EL1 agree with a model computed from the registers alone (pending, enabled, not active, group,
 *       priority, route): no state change was lost between the register file and the arbitration.</li>
 * </ul>
 * Replay a failure with {@code -Djvmm.seed=N}.
 */
@ExtendWith(SeedExtension.class)
class HostileRegisterTest {
    static final int ROUNDS = HostileCases.cases(120);
    static final int OPERATIONS_PER_THREAD = 3_000;
    static final int VCPUS = 4;
    static final int MUTED = VCPUS - 1;
    static final int SPURIOUS = SystemRegister.SPURIOUS_INTID;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void hostileRegisterWritesFromSeveralVcpusNeverBreakTheGic(SeededRandom seeds) throws Exception {
        long start = System.nanoTime();
        AtomicLong accesses = new AtomicLong();
        AtomicLong acknowledged = new AtomicLong();
        long checkedInterrupts = 0;
        try (GuestMemory ram = GicRig.sharedMemory()) {
            for (int round = 0; round < ROUNDS; round++) {
                long roundSeed = seeds.nextLong();
                try (GicRig rig = GicRig.booted(ram, VCPUS, 1, CacheStrategy.PER_ITS, 1)) {
                    rig.enableDistributor();
                    rig.sysreg(MUTED, SystemRegister.ICC_PMR_EL1, 0);
                    storm(rig, roundSeed, accesses, acknowledged, round);
                    checkedInterrupts += checkHppirAsLeft(rig, round);
                    checkedInterrupts += checkAgainstTheRegisters(rig, round);
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long cases = (long) ROUNDS * (VCPUS + 1) * OPERATIONS_PER_THREAD;
        System.out.printf(Locale.ROOT, "HostileRegisterTest: %d rounds x %d threads x %,d operations = %,d hostile "
                        + "operations (%,d register accesses, %,d interrupts acknowledged, %,d checked against the model) "
                        + "in %.1f s: %,.0f operations/s%n", ROUNDS, VCPUS + 1, OPERATIONS_PER_THREAD, cases,
                accesses.get(), acknowledged.get(), checkedInterrupts, seconds, cases / seconds);
        assertThat(acknowledged.get()).as("the storms did deliver interrupts").isPositive();
        assertThat(checkedInterrupts).as("the model check saw pending interrupts").isPositive();
    }

    /** One storm: a thread per vCPU and one for the devices' lines, started together. */
    private static void storm(GicRig rig, long seed, AtomicLong accesses, AtomicLong acknowledged, int round)
            throws Exception {
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        CyclicBarrier go = new CyclicBarrier(VCPUS + 1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t <= VCPUS; t++) {
            int id = t;
            SeededRandom random = new SeededRandom(seed + 31L * t);
            Thread th = new Thread(() -> {
                try {
                    go.await();
                    if (id == VCPUS) {
                        devices(rig, random);
                    } else {
                        vcpu(rig, id, random, accesses, acknowledged);
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "hostile-" + t);
            th.start();
            threads.add(th);
        }
        for (Thread th : threads) {
            th.join(TimeUnit.SECONDS.toMillis(60));
            assertThat(th.isAlive()).as("round %d: %s hangs", round, th.getName()).isFalse();
        }
        if (!failures.isEmpty()) {
            AssertionError e = new AssertionError("round " + round + ": " + failures.size() + " failures, first: "
                    + failures.peek(), failures.peek());
            throw e;
        }
    }

    /** Guest code on vCPU {@code pe}: MMIO anywhere in the GIC's frames, its own system registers, interrupts taken. */
    private static void vcpu(GicRig rig, int pe, SeededRandom random, AtomicLong accesses, AtomicLong acknowledged) {
        SystemRegister[] registers = SystemRegister.values();
        for (int op = 0; op < OPERATIONS_PER_THREAD; op++) {
            switch (random.nextInt(10)) {
                case 0:
                case 1: {
                    long offset = registerOffset(random, true);
                    access(rig, MemoryMap.GICD_BASE + offset, random);
                    break;
                }
                case 2:
                case 3: {
                    long offset = registerOffset(random, false);
                    access(rig, MemoryMap.gicr(random.nextInt(VCPUS)) + offset, random);
                    break;
                }
                case 4:
                case 5: {
                    SystemRegister r = registers[random.nextInt(registers.length)];
                    if (pe == MUTED && r == SystemRegister.ICC_PMR_EL1) {
                        break; // the muted vCPU keeps every priority masked
                    }
                    if (random.nextBoolean()) {
                        rig.gic.readSystemRegister(pe, r);
                    } else {
                        rig.gic.writeSystemRegister(pe, r, random.nextInt(4) == 0 ? random.edgyLong() : random.nextInt(256));
                    }
                    break;
                }
                default: {
                    // An interrupt handler: IAR, then EOIR (and DIR, for EOImode 1), or nothing if spurious.
                    boolean group1 = random.nextInt(4) > 0;
                    int intid = (int) rig.gic.readSystemRegister(pe, group1 ? SystemRegister.ICC_IAR1_EL1
                            : SystemRegister.ICC_IAR0_EL1);
                    if (pe == MUTED) {
                        assertThat(intid).as("the muted vCPU (PMR 0) acknowledged INTID %d", intid).isEqualTo(SPURIOUS);
                    }
                    assertThat(intid == SPURIOUS || intid < SPI_LIMIT || LpiTableDescriptor.isLpi(intid))
                            .as("acknowledged INTID %d exists", intid).isTrue();
                    if (intid != SPURIOUS) {
                        acknowledged.incrementAndGet();
                        rig.gic.writeSystemRegister(pe, group1 ? SystemRegister.ICC_EOIR1_EL1
                                : SystemRegister.ICC_EOIR0_EL1, intid);
                        rig.gic.writeSystemRegister(pe, SystemRegister.ICC_DIR_EL1, intid);
                    }
                }
            }
            accesses.incrementAndGet();
            assertThat(rig.gic.hasPendingInterrupt(MUTED)).as("an IRQ signalled to the muted vCPU").isFalse();
        }
    }

    /** The devices: SPI lines set, cleared and pulsed, and each vCPU's timer PPIs. */
    private static void devices(GicRig rig, SeededRandom random) {
        for (int op = 0; op < OPERATIONS_PER_THREAD; op++) {
            if (random.nextInt(3) == 0) {
                int pe = random.nextInt(VCPUS);
                rig.gic.ppiLine(pe, random.nextBoolean() ? 27 : 16 + random.nextInt(16)).set(random.nextBoolean());
            } else {
                int intid = FIRST_SPI + (random.nextBoolean() ? random.nextInt(8) : random.nextInt(SPI_COUNT));
                if (random.nextBoolean()) {
                    rig.gic.spiLine(intid).pulse();
                } else {
                    rig.gic.spiLine(intid).set(random.nextBoolean());
                }
            }
            assertThat(rig.gic.hasPendingInterrupt(MUTED)).as("an IRQ signalled to the muted vCPU").isFalse();
        }
    }

    /** An offset in a 64 KiB (GICD) or 128 KiB (GICR) frame: mostly near real registers, sometimes anywhere. */
    private static long registerOffset(SeededRandom random, boolean distributor) {
        long[] gicd = {GICD_CTLR, GICD_IGROUPR, GICD_ISENABLER, GICD_ICENABLER, GICD_ISPENDR, GICD_ICPENDR,
                GICD_ISACTIVER, GICD_ICACTIVER, GICD_IPRIORITYR, GICD_ICFGR, GICD_IROUTER + 0x100, GICD_TYPER};
        long[] gicr = {GICR_CTLR, GICR_WAKER, GICR_TYPER, GICR_IGROUPR0, GICR_ISENABLER0, GICR_ICENABLER0,
                GICR_ISPENDR0, GICR_ICPENDR0, GICR_ISACTIVER0, GICR_ICACTIVER0, GICR_IPRIORITYR0, GICR_ICFGR0,
                GICR_ICFGR1};
        if (random.nextInt(8) == 0) {
            return random.nextInt(distributor ? 0x1_0000 : 0x2_0000);
        }
        long[] base = distributor ? gicd : gicr;
        long b = base[random.nextInt(base.length)];
        int spread = b == GICD_IPRIORITYR || b == GICD_IROUTER + 0x100 ? 0x200 : b == GICD_ICFGR ? 0x48 : 0x24;
        long offset = b + random.nextInt(spread);
        // Mostly a well-formed access (a register's aligned word), so that state changes often enough to matter.
        return random.nextInt(4) == 0 ? offset : offset & ~3L;
    }

    private static void access(GicRig rig, long address, SeededRandom random) {
        int size = (address & 3) == 0 && random.nextInt(4) != 0 ? 4 : 1 << random.nextInt(4);
        if (random.nextInt(3) == 0) {
            rig.bus.read(address, size);
        } else {
            long value = random.nextInt(3) == 0 ? random.edgyLong() : random.nextLong();
            rig.bus.write(address, size, value);
        }
    }

    /**
     * Right after the storm, changing nothing: each vCPU's ICC_HPPIR0/1_EL1 (which ignore the mask and the running
     * priority) name the interrupt a model of the registers finds most urgent among the groups GICD_CTLR and the
     * CPU interface enable, unless a 1-of-N SPI (whose target no register shows) could be it. A change the storm
     * made to the registers but not to the arbitration shows here. Returns how many vCPUs had one pending.
     */
    private static long checkHppirAsLeft(GicRig rig, int round) {
        Model spis = Model.ofDistributor(rig);
        long seen = 0;
        for (int pe = 0; pe < VCPUS; pe++) {
            seen += Model.check(rig, spis, pe, "round " + round + ", as left by the storm");
        }
        return seen;
    }

    /**
     * One thread, the same hostile writes, and the model check after every single one: a write that changes what
     * the registers say but not what the CPU interface sees is caught at once, before a later change recomputes it.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void afterEveryHostileWriteTheArbitrationMatchesTheRegisters(SeededRandom random) {
        int operations = HostileCases.cases(20_000);
        long pendingSeen = 0;
        long start = System.nanoTime();
        try (GicRig rig = GicRig.booted(VCPUS, 1, CacheStrategy.PER_ITS, 1)) {
            rig.enableDistributor();
            SystemRegister[] registers = SystemRegister.values();
            for (int op = 0; op < operations; op++) {
                int pe = random.nextInt(VCPUS);
                switch (random.nextInt(6)) {
                    case 0:
                    case 1:
                        access(rig, MemoryMap.GICD_BASE + registerOffset(random, true), random);
                        break;
                    case 2:
                    case 3:
                        access(rig, MemoryMap.gicr(pe) + registerOffset(random, false), random);
                        break;
                    case 4: {
                        SystemRegister r = registers[random.nextInt(registers.length)];
                        if (r == SystemRegister.ICC_IAR0_EL1 || r == SystemRegister.ICC_IAR1_EL1 || random.nextBoolean()) {
                            rig.gic.readSystemRegister(pe, r);
                        } else {
                            rig.gic.writeSystemRegister(pe, r, random.nextInt(4) == 0 ? random.edgyLong() : random.nextInt(256));
                        }
                        break;
                    }
                    default: {
                        int intid = FIRST_SPI + random.nextInt(SPI_COUNT);
                        if (random.nextBoolean()) {
                            rig.gic.spiLine(intid).pulse();
                        } else {
                            rig.gic.ppiLine(pe, 16 + random.nextInt(16)).set(random.nextBoolean());
                        }
                    }
                }
                Model spis = Model.ofDistributor(rig);
                for (int v = 0; v < VCPUS; v++) {
                    pendingSeen += Model.check(rig, spis, v, "operation " + op);
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(Locale.ROOT, "HostileRegisterTest: %,d hostile operations, each followed by the model check "
                + "of %d vCPUs (%,d found something pending) in %.1f s%n", operations, VCPUS, pendingSeen, seconds);
        assertThat(pendingSeen).as("the sequence made interrupts pending").isPositive();
    }

    /** The wired interrupts' state as the registers show it, read a word at a time. */
    private static final class Model {
        final long[] pending = new long[SPI_LIMIT / 32];
        final long[] enabled = new long[SPI_LIMIT / 32];
        final long[] active = new long[SPI_LIMIT / 32];
        final long[] group = new long[SPI_LIMIT / 32];
        final int[] priority = new int[SPI_LIMIT];
        final long[] route = new long[SPI_LIMIT];
        long ctlr;

        static Model ofDistributor(GicRig rig) {
            Model m = new Model();
            m.ctlr = rig.readGicd(GICD_CTLR, 4);
            for (int w = 1; w < SPI_LIMIT / 32; w++) {
                m.pending[w] = rig.readGicd(GICD_ISPENDR + 4L * w, 4);
                m.enabled[w] = rig.readGicd(GICD_ISENABLER + 4L * w, 4);
                m.active[w] = rig.readGicd(GICD_ISACTIVER + 4L * w, 4);
                m.group[w] = rig.readGicd(GICD_IGROUPR + 4L * w, 4);
            }
            for (int intid = FIRST_SPI; intid < SPI_LIMIT; intid += 4) {
                long p = rig.readGicd(GICD_IPRIORITYR + intid, 4);
                for (int k = 0; k < 4; k++) {
                    m.priority[intid + k] = (int) (p >>> (8 * k)) & 0xFF;
                }
                for (int k = 0; k < 4; k++) {
                    m.route[intid + k] = rig.readGicd(irouter(intid + k), 8);
                }
            }
            return m;
        }

        /** Compares vCPU {@code pe}'s HPPIR0/1 with the model; returns 1 if something was pending, else 0. */
        static int check(GicRig rig, Model spis, int pe, String when) {
            Model m = spis;
            m.pending[0] = rig.readGicr(pe, GICR_ISPENDR0, 4);
            m.enabled[0] = rig.readGicr(pe, GICR_ISENABLER0, 4);
            m.active[0] = rig.readGicr(pe, GICR_ISACTIVER0, 4);
            m.group[0] = rig.readGicr(pe, GICR_IGROUPR0, 4);
            for (int intid = 0; intid < FIRST_SPI; intid += 4) {
                long p = rig.readGicr(pe, GICR_IPRIORITYR0 + intid, 4);
                for (int k = 0; k < 4; k++) {
                    m.priority[intid + k] = (int) (p >>> (8 * k)) & 0xFF;
                }
            }
            boolean[] groupOn = {
                    (m.ctlr & CTLR_ENABLE_GRP0) != 0 && rig.sysreg(pe, SystemRegister.ICC_IGRPEN0_EL1) != 0,
                    (m.ctlr & CTLR_ENABLE_GRP1) != 0 && rig.sysreg(pe, SystemRegister.ICC_IGRPEN1_EL1) != 0};
            long best = Long.MAX_VALUE;
            long bestOneOfN = Long.MAX_VALUE;
            int bestGroup = -1;
            for (int intid = 0; intid < SPI_LIMIT; intid++) {
                int w = intid / 32;
                long bit = 1L << (intid % 32);
                boolean oneOfN = intid >= FIRST_SPI && (m.route[intid] & IROUTER_IRM) != 0;
                if (intid >= FIRST_SPI && !oneOfN && m.route[intid] != Affinity.of(pe)) {
                    continue;
                }
                int g = (m.group[w] & bit) != 0 ? 1 : 0;
                if ((m.pending[w] & m.enabled[w] & ~m.active[w] & bit) == 0 || !groupOn[g]) {
                    continue;
                }
                long key = (long) m.priority[intid] << 16 | intid;
                if (oneOfN) {
                    bestOneOfN = Math.min(bestOneOfN, key);
                } else if (key < best) {
                    best = key;
                    bestGroup = g;
                }
            }
            if (bestOneOfN < best) {
                return 0; // a 1-of-N SPI may be the answer here, or at another PE
            }
            long[] hppir = {rig.sysreg(pe, SystemRegister.ICC_HPPIR0_EL1), rig.sysreg(pe, SystemRegister.ICC_HPPIR1_EL1)};
            if (bestGroup < 0) {
                assertThat(hppir).as("%s, vCPU %d: nothing pending", when, pe).containsExactly(SPURIOUS, SPURIOUS);
                return 0;
            }
            assertThat(hppir[bestGroup]).as("%s, vCPU %d: HPPIR%d", when, pe, bestGroup).isEqualTo(best & 0xFFFF);
            assertThat(hppir[1 - bestGroup]).as("%s, vCPU %d: the other group", when, pe).isEqualTo(SPURIOUS);
            return 1;
        }
    }

    /**
     * After the storm: reset every CPU interface, enable both groups, route SPIs by affinity (IRM = 0), then compare
     * each vCPU's highest priority pending interrupt with a model computed from register reads alone. Returns how
     * many pending interrupts the model saw.
     */
    private static long checkAgainstTheRegisters(GicRig rig, int round) {
        rig.writeGicd(GICD_CTLR, 4, CTLR_ENABLE_GRP0 | CTLR_ENABLE_GRP1);
        for (int pe = 0; pe < VCPUS; pe++) {
            rig.sysreg(pe, SystemRegister.ICC_CTLR_EL1, 0);
            rig.sysreg(pe, SystemRegister.ICC_AP0R0_EL1, 0);
            rig.sysreg(pe, SystemRegister.ICC_AP1R0_EL1, 0);
            rig.sysreg(pe, SystemRegister.ICC_PMR_EL1, 0xFF);
            rig.sysreg(pe, SystemRegister.ICC_IGRPEN0_EL1, 1);
            rig.sysreg(pe, SystemRegister.ICC_IGRPEN1_EL1, 1);
        }
        for (int intid = FIRST_SPI; intid < SPI_LIMIT; intid++) {
            long route = rig.readGicd(irouter(intid), 8);
            rig.writeGicd(irouter(intid), 8, route & IROUTER_AFFINITY_MASK);
        }
        long seen = 0;
        for (int pe = 0; pe < VCPUS; pe++) {
            long best = Long.MAX_VALUE;
            boolean bestGroup1 = false;
            for (int intid = 0; intid < SPI_LIMIT; intid++) {
                boolean spi = intid >= FIRST_SPI;
                if (spi && rig.readGicd(irouter(intid), 8) != Affinity.of(pe)) {
                    continue;
                }
                long word = 4L * (intid / 32);
                long bit = 1L << (intid % 32);
                long pending = spi ? rig.readGicd(GICD_ISPENDR + word, 4) : rig.readGicr(pe, GICR_ISPENDR0, 4);
                long enabled = spi ? rig.readGicd(GICD_ISENABLER + word, 4) : rig.readGicr(pe, GICR_ISENABLER0, 4);
                long active = spi ? rig.readGicd(GICD_ISACTIVER + word, 4) : rig.readGicr(pe, GICR_ISACTIVER0, 4);
                if ((pending & enabled & ~active & bit) == 0) {
                    continue;
                }
                seen++;
                long group = spi ? rig.readGicd(GICD_IGROUPR + word, 4) : rig.readGicr(pe, GICR_IGROUPR0, 4);
                long priority = spi ? rig.readGicd(GICD_IPRIORITYR + intid, 1) : rig.readGicr(pe, GICR_IPRIORITYR0 + intid, 1);
                long key = priority << 16 | intid;
                if (key < best) {
                    best = key;
                    bestGroup1 = (group & bit) != 0;
                }
            }
            long hppir1 = rig.sysreg(pe, SystemRegister.ICC_HPPIR1_EL1);
            long hppir0 = rig.sysreg(pe, SystemRegister.ICC_HPPIR0_EL1);
            if (best == Long.MAX_VALUE) {
                assertThat(new long[]{hppir0, hppir1}).as("round %d, vCPU %d: nothing pending", round, pe)
                        .containsExactly(SPURIOUS, SPURIOUS);
                continue;
            }
            long expected = best & 0xFFFF;
            assertThat(bestGroup1 ? hppir1 : hppir0).as("round %d, vCPU %d: the highest priority pending interrupt "
                    + "of group %d", round, pe, bestGroup1 ? 1 : 0).isEqualTo(expected);
            assertThat(bestGroup1 ? hppir0 : hppir1).as("round %d, vCPU %d: the other group's HPPIR", round, pe)
                    .isEqualTo(SPURIOUS);
            // PMR 0xFF keeps [7:3]: 0xF8, which masks priority 0xF8 itself (strictly lower values pass).
            boolean unmasked = (best >>> 16) < 0xF8;
            assertThat(rig.gic.hasPendingInterrupt(pe)).as("round %d, vCPU %d: IRQ signalled", round, pe)
                    .isEqualTo(bestGroup1 && unmasked);
            long iar = rig.sysreg(pe, bestGroup1 ? SystemRegister.ICC_IAR1_EL1 : SystemRegister.ICC_IAR0_EL1);
            assertThat(iar).as("round %d, vCPU %d: acknowledged", round, pe).isEqualTo(unmasked ? expected : SPURIOUS);
        }
        return seen;
    }
}
