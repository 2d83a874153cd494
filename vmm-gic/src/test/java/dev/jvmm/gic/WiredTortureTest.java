package dev.jvmm.gic;

import dev.jvmm.core.irq.IrqLine;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.core.vcpu.SystemRegister;
import dev.jvmm.gic.cache.CacheStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

import static dev.jvmm.gic.DistributorRegisterDescriptor.CTLR_ENABLE_GRP1;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_CTLR;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_ICENABLER;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_ICFGR;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_IPRIORITYR;
import static dev.jvmm.gic.DistributorRegisterDescriptor.GICD_ISENABLER;
import static dev.jvmm.gic.DistributorRegisterDescriptor.ICFGR_EDGE;
import static dev.jvmm.gic.DistributorRegisterDescriptor.IROUTER_IRM;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Device threads pulse edge-triggered SPIs and raise and drop level-sensitive ones (the lock-free raise, the locked
 * fall) while one guest thread, playing both vCPUs, reprograms GICD_ISENABLER/ICENABLER, GICD_IPRIORITYR,
 * GICD_IROUTER (IRM 0 and 1), GICD_ICFGR and GICD_CTLR.EnableGrp1NS, acknowledges (ICC_IAR1_EL1), holds some
 * interrupts active and ends them (ICC_EOIR1_EL1, nested).
 *
 * <p>Because the guest thread is the only one that changes the configuration, its model of the configuration is
 * exact at every acknowledge. What the devices did is known from counters bracketing each device call:
 * <pre>
 *  edge SPI y:  started[y]++  pulse  done[y]++
 *  level SPI y: view[y] = 1, riseStarted[y]++  set(true)  riseDone[y]++, confirmed[y] = 1
 *               confirmed[y] = 0  set(false)  view[y] = 0
 * </pre>
 * An edge SPI is certainly pending when a pulse that started after its last acknowledge (and after it was last
 * made edge-triggered) is done; a level one while its line is confirmed high. Checked at every ICC_IAR1_EL1 on
 * vCPU v returning x:
 * <ul>
 *   <li>x is one of the SPIs the devices drive, or 1023; never 1023 while an eligible SPI routed to v is certainly
 *       pending and beats v's running priority (the CPU interface's highest priority pending computation);</li>
 *   <li>x was enabled, Group 1 with EnableGrp1NS set, routed to v (or 1 of N), not active anywhere, and its
 *       priority beats the running priority of v's held interrupts;</li>
 *   <li>priorities are honoured: no certainly pending eligible SPI routed to v has a more urgent key
 *       (priority, then INTID) than x;</li>
 *   <li>x was pending: an edge SPI is acknowledged at most once per pulse started (no duplicate, no invented
 *       edge); a level one only while its line may be high or after a rise since its last acknowledge.</li>
 * </ul>
 * At the end the devices stop, every SPI is enabled, made edge-triggered and routed to vCPU 0, and vCPU 0 drains:
 * every edge SPI that was certainly pending must come out (no lost edge, including ones latched while disabled),
 * and nothing more.
 */
@ExtendWith(SeedExtension.class)
class WiredTortureTest {
    static final int VCPUS = 2;
    static final int DEVICES = 3;
    /** SPIs 32 + 9k: 24 of them, spread over every SPI bank but the last; even k edge, odd k level. */
    static final int SPIS = 24;
    static final long RUN_NANOS = 2_000_000_000L;
    /** The guest runs at least this many steps even past {@link #RUN_NANOS} on a loaded machine. */
    static final int MIN_STEPS = 20_000;
    static final long HARD_LIMIT_NANOS = 30_000_000_000L;
    static final int MAX_HELD = 3;
    static final int SPURIOUS = (int) SystemRegister.SPURIOUS_INTID;

    static int intid(int k) {
        return 32 + 9 * k;
    }

    static boolean edgeGroup(int k) {
        return (k & 1) == 0;
    }

    // What the devices did (see the class comment).
    final AtomicLongArray started = new AtomicLongArray(SPIS);
    final AtomicLongArray done = new AtomicLongArray(SPIS);
    final AtomicLongArray riseStarted = new AtomicLongArray(SPIS);
    final AtomicLongArray riseDone = new AtomicLongArray(SPIS);
    final AtomicIntegerArray view = new AtomicIntegerArray(SPIS);
    final AtomicIntegerArray confirmed = new AtomicIntegerArray(SPIS);

    // The guest's exact model of the configuration, and what it knows about consumption.
    final boolean[] enabled = new boolean[SPIS];
    final int[] priority = new int[SPIS];
    final int[] target = new int[SPIS];
    final boolean[] oneOfN = new boolean[SPIS];
    final boolean[] edgeConfig = new boolean[SPIS];
    boolean group1On;
    /** started[y] read after y's last acknowledge, or after y was last made edge-triggered: the later of the two. */
    final long[] edgeBaseline = new long[SPIS];
    /** riseDone[y] read before y's last acknowledge. */
    final long[] riseBaseline = new long[SPIS];
    final long[] acks = new long[SPIS];
    /** Per vCPU, the keys (priority at acknowledge, INTID) of the interrupts it holds active, latest first. */
    @SuppressWarnings("unchecked")
    final ArrayDeque<Integer>[] held = new ArrayDeque[VCPUS];
    final boolean[] active = new boolean[SPIS];
    long acknowledged;
    long spurious;

    @Test
    void devicesAgainstAReprogrammingGuest(SeededRandom random) throws Exception {
        long seed = random.nextLong();
        System.out.println("WiredTortureTest seed " + random.seed());
        try (GicRig rig = GicRig.booted(VCPUS, CacheStrategy.PER_ITS)) {
            setUp(rig);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> deviceFailure = new AtomicReference<>();
            List<Thread> devices = new ArrayList<>();
            for (int d = 0; d < DEVICES; d++) {
                int device = d;
                SplittableRandom r = new SplittableRandom(seed + d);
                Thread t = new Thread(() -> {
                    try {
                        drive(rig, device, r, stop);
                    } catch (Throwable e) {
                        deviceFailure.compareAndSet(null, e);
                    }
                }, "wired-device-" + d);
                t.setDaemon(true);
                devices.add(t);
                t.start();
            }
            SplittableRandom r = new SplittableRandom(seed ^ 0x5EED);
            long begin = System.nanoTime();
            int steps = 0;
            try {
                while (deviceFailure.get() == null) {
                    long elapsed = System.nanoTime() - begin;
                    if ((elapsed > RUN_NANOS && steps >= MIN_STEPS) || elapsed > HARD_LIMIT_NANOS) {
                        break;
                    }
                    step(rig, r);
                    steps++;
                }
            } finally {
                stop.set(true);
                for (Thread t : devices) {
                    t.join(10_000);
                }
            }
            if (deviceFailure.get() != null) {
                throw new AssertionError("a device thread failed", deviceFailure.get());
            }
            for (Thread t : devices) {
                assertThat(t.isAlive()).as("device thread %s stopped", t.getName()).isFalse();
            }
            drain(rig);
            System.out.printf("WiredTortureTest: %,d guest steps, %,d acknowledged, %,d spurious, %,d pulses, "
                            + "%,d rises%n", steps, acknowledged, spurious, sum(started), sum(riseStarted));
            assertThat(acknowledged).as("the run acknowledged interrupts").isPositive();
        }
    }

    private static long sum(AtomicLongArray a) {
        long s = 0;
        for (int i = 0; i < a.length(); i++) {
            s += a.get(i);
        }
        return s;
    }

    // ------------------------------------------------------------------------------------------ devices

    private void drive(GicRig rig, int device, SplittableRandom r, AtomicBoolean stop) {
        List<Integer> mine = new ArrayList<>();
        for (int k = device; k < SPIS; k += DEVICES) {
            mine.add(k);
        }
        IrqLine[] lines = new IrqLine[SPIS];
        for (int k : mine) {
            lines[k] = rig.gic.spiLine(intid(k));
        }
        while (!stop.get()) {
            int k = mine.get(r.nextInt(mine.size()));
            if (edgeGroup(k)) {
                started.incrementAndGet(k);
                lines[k].pulse();
                done.incrementAndGet(k);
            } else if (view.get(k) == 0) {
                view.set(k, 1);
                riseStarted.incrementAndGet(k);
                lines[k].set(true);
                riseDone.incrementAndGet(k);
                confirmed.set(k, 1);
            } else {
                confirmed.set(k, 0);
                lines[k].set(false);
                view.set(k, 0);
            }
            if (r.nextInt(16) == 0) {
                Thread.yield();
            }
        }
        for (int k : mine) {
            if (!edgeGroup(k) && view.get(k) != 0) {
                confirmed.set(k, 0);
                lines[k].set(false);
                view.set(k, 0);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ the guest

    private void setUp(GicRig rig) {
        for (int v = 0; v < VCPUS; v++) {
            rig.openCpuInterface(v);
            held[v] = new ArrayDeque<>();
        }
        rig.enableDistributor();
        group1On = true;
        for (int k = 0; k < SPIS; k++) {
            priority[k] = 0xA0;
            target[k] = k % VCPUS;
            rig.enableSpi(intid(k), priority[k], target[k]);
            enabled[k] = true;
            setEdge(rig, k, edgeGroup(k));
        }
    }

    private void step(GicRig rig, SplittableRandom r) {
        int op = r.nextInt(100);
        int k = r.nextInt(SPIS);
        if (op < 50) {
            acknowledge(rig, r.nextInt(VCPUS), r.nextInt(3) == 0);
        } else if (op < 62) {
            endOne(rig, r.nextInt(VCPUS));
        } else if (op < 72) {
            long word = 4L * (intid(k) / 32);
            long bit = 1L << (intid(k) % 32);
            enabled[k] = !enabled[k];
            rig.writeGicd((enabled[k] ? GICD_ISENABLER : GICD_ICENABLER) + word, 4, bit);
        } else if (op < 82) {
            priority[k] = (1 + r.nextInt(30)) << 3;
            rig.writeGicd(GICD_IPRIORITYR + intid(k), 1, priority[k]);
        } else if (op < 92) {
            oneOfN[k] = r.nextInt(8) == 0;
            target[k] = r.nextInt(VCPUS);
            rig.writeGicd(DistributorRegisterDescriptor.irouter(intid(k)), 8,
                    oneOfN[k] ? IROUTER_IRM : Affinity.of(target[k]));
        } else if (op < 98) {
            setEdge(rig, k, !edgeConfig[k]);
        } else {
            group1On = r.nextInt(3) != 0;
            rig.writeGicd(GICD_CTLR, 4, group1On ? CTLR_ENABLE_GRP1 : 0);
        }
    }

    private void setEdge(GicRig rig, int k, boolean edge) {
        int intid = intid(k);
        long at = GICD_ICFGR + 4L * (intid / 16);
        long field = (long) ICFGR_EDGE << (2 * (intid % 16));
        long old = rig.readGicd(at, 4);
        rig.writeGicd(at, 4, edge ? old | field : old & ~field);
        if (edge && !edgeConfig[k]) {
            // Pulses started from now on see the edge configuration.
            edgeBaseline[k] = Math.max(edgeBaseline[k], started.get(k));
        }
        edgeConfig[k] = edge;
    }

    /** The running priority of vCPU {@code v}'s held interrupts, as a threshold (0x100 when none). */
    private int threshold(int v) {
        int t = 0xFF; // ICC_PMR_EL1 = 0xFF
        for (int heldKey : held[v]) {
            t = Math.min(t, heldKey >>> 16); // the priority it was acknowledged at: a later IPRIORITYR write is no drop
        }
        return t;
    }

    private static int indexOf(int intid) {
        return (intid - 32) / 9;
    }

    /**
     * Whether SPI {@code y} was pending all through an acknowledge: an edge pulsed (done before it) after its
     * baseline, or a level line confirmed high before and after it with no rise in between (so no fall either).
     */
    private boolean certainlyPending(int y, long[] doneBefore, int[] confirmedBefore, long[] risesBefore,
                                     int[] confirmedAfter, long[] risesAfter) {
        if (edgeGroup(y)) {
            return edgeConfig[y] && doneBefore[y] > edgeBaseline[y];
        }
        return !edgeConfig[y] && confirmedBefore[y] != 0 && confirmedAfter[y] != 0 && risesBefore[y] == risesAfter[y];
    }

    private static int key(int prio, int intid) {
        return (prio << 16) | intid;
    }

    private void acknowledge(GicRig rig, int v, boolean hold) {
        long[] doneBefore = new long[SPIS];
        long[] riseDoneBefore = new long[SPIS];
        long[] risesBefore = new long[SPIS];
        int[] confirmedBefore = new int[SPIS];
        int[] viewBefore = new int[SPIS];
        for (int y = 0; y < SPIS; y++) {
            viewBefore[y] = view.get(y);
            risesBefore[y] = riseStarted.get(y);
            confirmedBefore[y] = confirmed.get(y);
            doneBefore[y] = done.get(y);
            riseDoneBefore[y] = riseDone.get(y);
        }

        int x = rig.iar1(v);

        int[] confirmedAfter = new int[SPIS];
        long[] risesAfter = new long[SPIS];
        for (int y = 0; y < SPIS; y++) {
            confirmedAfter[y] = confirmed.get(y);
            risesAfter[y] = riseStarted.get(y);
        }
        int threshold = threshold(v);
        int best = Integer.MAX_VALUE;
        for (int y = 0; y < SPIS; y++) {
            if (group1On && enabled[y] && !oneOfN[y] && target[y] == v && !active[y] && priority[y] < threshold
                    && certainlyPending(y, doneBefore, confirmedBefore, risesBefore, confirmedAfter, risesAfter)) {
                best = Math.min(best, key(priority[y], intid(y)));
            }
        }

        if (x == SPURIOUS) {
            spurious++;
            assertThat(best).as("ICC_IAR1_EL1 on vCPU %d returned 1023 while SPI %d was certainly pending and "
                    + "eligible there", v, best & 0xFFFF).isEqualTo(Integer.MAX_VALUE);
            return;
        }
        int k = indexOf(x);
        assertThat(x >= 32 && (x - 32) % 9 == 0 && k < SPIS).as("vCPU %d acknowledged INTID %d, which nobody "
                + "raised", v, x).isTrue();
        assertThat(group1On).as("SPI %d acknowledged with GICD_CTLR.EnableGrp1NS = 0", x).isTrue();
        assertThat(enabled[k]).as("SPI %d acknowledged while disabled", x).isTrue();
        assertThat(active[k]).as("SPI %d acknowledged while active", x).isFalse();
        assertThat(oneOfN[k] || target[k] == v).as("SPI %d acknowledged on vCPU %d, routed to vCPU %d", x, v,
                target[k]).isTrue();
        assertThat(priority[k]).as("SPI %d's priority against vCPU %d's running priority", x, v)
                .isLessThan(threshold);
        assertThat(key(priority[k], x)).as("vCPU %d took SPI %d (priority %#x) while SPI %d (key %#x) was pending",
                v, x, priority[k], best & 0xFFFF, best).isLessThanOrEqualTo(best);
        acks[k]++;
        if (edgeGroup(k)) {
            long s = started.get(k);
            assertThat(acks[k]).as("edge SPI %d acknowledged %d times for %d pulses", x, acks[k], s)
                    .isLessThanOrEqualTo(s);
            edgeBaseline[k] = Math.max(edgeBaseline[k], s);
        } else {
            // The line may have been high during ICC_IAR1_EL1 if it was not known low before it (the view goes to 0
            // only once a fall is done), or if a rise began since the last acknowledge (it may have latched).
            boolean mayBeHigh = viewBefore[k] != 0 || riseStarted.get(k) > riseBaseline[k];
            assertThat(mayBeHigh).as("level SPI %d acknowledged with its line low and no rise since its last "
                    + "acknowledge (%s-triggered now, %d rises started, %d done before the last acknowledge)",
                    x, edgeConfig[k] ? "edge" : "level", riseStarted.get(k), riseBaseline[k]).isTrue();
            riseBaseline[k] = riseDoneBefore[k];
        }
        acknowledged++;
        active[k] = true;
        held[v].push(key(priority[k], x));
        if (!hold || held[v].size() > MAX_HELD) {
            endOne(rig, v);
        }
    }

    /** ICC_EOIR1_EL1 of the most recently acknowledged interrupt held by {@code v} (nested order). */
    private void endOne(GicRig rig, int v) {
        Integer heldKey = held[v].poll();
        if (heldKey != null) {
            int x = heldKey & 0xFFFF;
            rig.eoi1(v, x);
            active[indexOf(x)] = false;
        }
    }

    /** Devices stopped: every SPI enabled, edge-triggered, on vCPU 0; everything certainly pending comes out. */
    private void drain(GicRig rig) {
        for (int v = 0; v < VCPUS; v++) {
            while (!held[v].isEmpty()) {
                endOne(rig, v);
            }
        }
        long[] doneNow = new long[SPIS];
        boolean[] expected = new boolean[SPIS];
        for (int y = 0; y < SPIS; y++) {
            doneNow[y] = done.get(y);
            expected[y] = edgeGroup(y) && edgeConfig[y] && doneNow[y] > edgeBaseline[y];
        }
        group1On = true;
        rig.writeGicd(GICD_CTLR, 4, CTLR_ENABLE_GRP1);
        for (int k = 0; k < SPIS; k++) {
            oneOfN[k] = false;
            target[k] = 0;
            rig.writeGicd(DistributorRegisterDescriptor.irouter(intid(k)), 8, Affinity.of(0));
            if (!enabled[k]) {
                enabled[k] = true;
                rig.writeGicd(GICD_ISENABLER + 4L * (intid(k) / 32), 4, 1L << (intid(k) % 32));
            }
            if (!edgeConfig[k]) {
                setEdge(rig, k, true);
            }
        }
        boolean[] drained = new boolean[SPIS];
        for (int i = 0; i <= SPIS; i++) {
            int x = rig.take(0);
            if (x == SPURIOUS) {
                break;
            }
            int k = indexOf(x);
            assertThat(x >= 32 && (x - 32) % 9 == 0 && k < SPIS && !drained[k]).as("the drain took INTID %d", x)
                    .isTrue();
            drained[k] = true;
            acks[k]++;
            if (edgeGroup(k)) {
                assertThat(acks[k]).as("edge SPI %d acknowledged %d times for %d pulses", x, acks[k],
                        started.get(k)).isLessThanOrEqualTo(started.get(k));
            } else {
                assertThat(riseStarted.get(k)).as("level SPI %d latched with no rise since its last acknowledge", x)
                        .isGreaterThan(riseBaseline[k]);
            }
        }
        for (int k = 0; k < SPIS; k++) {
            assertThat(drained[k] || !expected[k]).as("edge SPI %d was pulsed after its last acknowledge (%d done, "
                    + "baseline %d) and never came out: a lost edge", intid(k), doneNow[k], edgeBaseline[k]).isTrue();
        }
        assertThat(rig.iar1(0)).as("after the drain").isEqualTo(SPURIOUS);
    }
}
