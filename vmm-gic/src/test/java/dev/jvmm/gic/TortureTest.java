package dev.jvmm.gic;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.irq.DropReason;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.gic.guest.ItsCommandQueue;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Several threads inject MSIs while another issues DISCARD, MAPD, MAPTI, MOVI, MAPC and MOVALL on two ITSes and
 * vCPUs toggle EnableLPIs, all through MMIO and guest memory. A model of the mapping state is versioned around
 * every operation; each MSI's result must be what some state it could have seen gives:
 *
 * <pre>
 *   injector:  cs = completed; r = inject(...); se = started        valid states: cs .. se
 *   operation: lock; started = v + 1; run it; completed = v + 1; unlock
 * </pre>
 * So an MSI that began after an operation completed is checked against the states from that operation on: a
 * delivery through a mapping the operation removed or moved fails the test. At the end: nothing is pending where
 * the final state says it cannot be, no cache copy was released twice, and nothing is left in any cache after
 * teardown.
 */
@ExtendWith(SeedExtension.class)
class TortureTest {
    static final int ITS = 2;
    static final int DEVICES = 3;
    static final int EVENTS = 4;
    static final int COLLECTIONS = 4;
    static final int VCPUS = 4;
    static final int INJECTORS = 3;
    static final long RUN_NANOS = 1_200_000_000L;
    static final int MAX_OPERATIONS = 6_000;
    /**
     * The commander runs at least this many commands even past {@link #RUN_NANOS} (a loaded machine gives its
     * threads little time), up to {@link #HARD_LIMIT_NANOS}: the run's size, not its duration, is what it checks.
     */
    static final int MIN_OPERATIONS = 400;
    static final long HARD_LIMIT_NANOS = 30_000_000_000L;
    static final int MAX_RECORDS = 300_000;

    static int intid(int its, int dev, int ev) {
        return 8192 + its * 64 + dev * 8 + ev;
    }

    /** The mapping state, as the guest's commands define it. */
    static final class Model {
        final boolean[][] device = new boolean[ITS][DEVICES];
        /** ICID of each entry, or -1. */
        final int[][][] ite = new int[ITS][DEVICES][EVENTS];
        final int[][] collection = new int[ITS][COLLECTIONS];
        final int[] target = new int[8192 + ITS * 64];
        final boolean[] enabled = new boolean[VCPUS];

        Model copy() {
            Model m = new Model();
            for (int i = 0; i < ITS; i++) {
                m.device[i] = device[i].clone();
                m.collection[i] = collection[i].clone();
                for (int d = 0; d < DEVICES; d++) {
                    m.ite[i][d] = ite[i][d].clone();
                }
            }
            System.arraycopy(target, 0, m.target, 0, target.length);
            System.arraycopy(enabled, 0, m.enabled, 0, VCPUS);
            return m;
        }

        /** Whether LPI {@code lpi} may be pending at {@code pe} in this state. */
        boolean deliverable(int lpi, int pe) {
            int v = lpi - 8192;
            int i = v / 64;
            int d = v % 64 / 8;
            int e = v % 8;
            if (v < 0 || i >= ITS || d >= DEVICES || e >= EVENTS || !device[i][d] || ite[i][d][e] < 0) {
                return false;
            }
            return collection[i][ite[i][d][e]] >= 0 && target[lpi] == pe && enabled[pe];
        }

        long expected(int i, int d, int e) {
            if (!device[i][d]) {
                return InjectResult.dropped(DropReason.DEVICE_UNMAPPED);
            }
            int icid = ite[i][d][e];
            if (icid < 0) {
                return InjectResult.dropped(DropReason.EVENT_UNMAPPED);
            }
            int t = target[intid(i, d, e)];
            if (collection[i][icid] < 0 || t < 0) {
                return InjectResult.dropped(DropReason.COLLECTION_UNMAPPED);
            }
            if (!enabled[t]) {
                return InjectResult.dropped(DropReason.LPIS_DISABLED);
            }
            return InjectResult.delivered(intid(i, d, e), t);
        }
    }

    /** The versioned history. Operations run one at a time under {@link #lock}. */
    static final class History {
        final Object lock = new Object();
        final List<Model> states = new ArrayList<>();
        volatile int started;
        volatile int completed;

        History(Model initial) {
            states.add(initial);
        }

        Model current() {
            return states.get(states.size() - 1);
        }

        /**
         * Runs {@code op} (which changes the guest-visible state) as the next version, whose model {@code change}
         * derives from the current one (both under the lock, so that concurrent operators see each other's changes).
         */
        void apply(java.util.function.BiConsumer<Model, Model> change, Runnable op) {
            synchronized (lock) {
                Model cur = current();
                Model next = cur.copy();
                change.accept(cur, next);
                states.add(next);
                started = states.size() - 1;
                op.run();
                completed = states.size() - 1;
            }
        }
    }

    @ParameterizedTest
    @EnumSource(CacheStrategy.class)
    void commandsAndToggledRedistributorsUnderInjection(CacheStrategy strategy, SeededRandom random) throws Exception {
        long seed = random.nextLong();
        GicRig rig = GicRig.booted(VCPUS, ITS, strategy, 4);
        Model initial = new Model();
        for (int i = 0; i < ITS; i++) {
            ItsCommandQueue q = rig.its(i);
            for (int c = 0; c < COLLECTIONS; c++) {
                q.mapc(c, c % VCPUS, true);
                initial.collection[i][c] = c % VCPUS;
            }
            for (int d = 0; d < DEVICES; d++) {
                q.mapd(d, 2, rig.driver.allocateItt(2), true);
                initial.device[i][d] = true;
                for (int e = 0; e < EVENTS; e++) {
                    int c = (d + e) % COLLECTIONS;
                    rig.driver.setConfig(intid(i, d, e), LpiTableDescriptor.CONFIG_DEFAULT);
                    q.mapti(d, e, intid(i, d, e), c);
                    initial.ite[i][d][e] = c;
                    initial.target[intid(i, d, e)] = c % VCPUS;
                }
            }
        }
        java.util.Arrays.fill(initial.enabled, true);
        History history = new History(initial);

        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicLong operations = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        List<Recorder> recorders = new ArrayList<>();

        for (int t = 0; t < INJECTORS; t++) {
            Recorder rec = new Recorder(rig, history, stop, new SplittableRandom(seed + t));
            recorders.add(rec);
            threads.add(start("injector-" + t, rec, failure));
        }
        List<AckRecorder> ackers = new ArrayList<>();
        for (int pe = 0; pe < VCPUS; pe++) {
            AckRecorder acker = new AckRecorder(rig, history, stop, pe);
            ackers.add(acker);
            threads.add(start("vcpu-" + pe, acker, failure));
        }
        threads.add(start("toggler", () -> {
            SplittableRandom r = new SplittableRandom(seed ^ 0x5EED);
            while (!stop.get()) {
                int pe = r.nextInt(VCPUS);
                boolean[] on = new boolean[1];
                history.apply((cur, next) -> {
                    next.enabled[pe] = !cur.enabled[pe];
                    on[0] = next.enabled[pe];
                }, () -> {
                    if (on[0]) {
                        rig.driver.enableLpis(pe);
                    } else {
                        rig.driver.disableLpis(pe);
                    }
                });
                operations.incrementAndGet();
                Thread.yield();
            }
        }, failure));
        Thread commander = start("commander", () -> {
            SplittableRandom r = new SplittableRandom(seed ^ 0xC0DE);
            long start = System.nanoTime();
            for (int n = 0; n < MAX_OPERATIONS && failure.get() == null; n++) {
                long elapsed = System.nanoTime() - start;
                if (elapsed >= HARD_LIMIT_NANOS || elapsed >= RUN_NANOS && n >= MIN_OPERATIONS) {
                    break;
                }
                command(rig, history, r);
                operations.incrementAndGet();
                if (n % 4 == 0) {
                    Thread.yield();
                }
            }
        }, failure);
        commander.join(60_000);
        stop.set(true);
        for (Thread t : threads) {
            t.join(30_000);
            assertThat(t.isAlive()).as("%s stopped", t.getName()).isFalse();
        }
        assertThat(failure.get()).as("no exception in any thread").isNull();

        long checked = 0;
        long delivered = 0;
        for (Recorder rec : recorders) {
            for (int k = 0; k < rec.count; k++) {
                int key = rec.keys[k];
                int i = key >>> 16;
                int d = (key >>> 8) & 0xFF;
                int e = key & 0xFF;
                boolean ok = false;
                for (int u = rec.from[k]; u <= rec.to[k] && !ok; u++) {
                    ok = history.states.get(u).expected(i, d, e) == rec.results[k];
                }
                if (!ok) {
                    throw new AssertionError("MSI (ITS " + i + ", dev " + d + ", ev " + e + ") gave "
                            + InjectResult.describe(rec.results[k]) + ", which no state from version " + rec.from[k]
                            + " to " + rec.to[k] + " allows (state " + rec.from[k] + " expected "
                            + InjectResult.describe(history.states.get(rec.from[k]).expected(i, d, e)) + ")");
                }
                checked++;
                if (InjectResult.isDelivered(rec.results[k])) {
                    delivered++;
                }
            }
        }
        long acks = 0;
        for (AckRecorder a : ackers) {
            for (int k = 0; k < a.count; k++) {
                boolean ok = false;
                for (int u = a.from[k]; u <= a.to[k] && !ok; u++) {
                    ok = history.states.get(u).deliverable(a.intids[k], a.pe);
                }
                if (!ok) {
                    throw new AssertionError("PE " + a.pe + " took LPI " + a.intids[k] + ", which no state from version "
                            + a.from[k] + " to " + a.to[k] + " maps to it: delivered through a removed or moved mapping");
                }
                acks++;
            }
        }
        assertThat(acks).as("LPIs taken").isGreaterThan(0);
        assertThat(operations.get()).as("operations run").isGreaterThan(100);
        assertThat(checked).as("MSIs checked").isGreaterThan(1000);
        assertThat(delivered).as("MSIs delivered").isGreaterThan(0);

        Model last = history.current();
        for (int pe = 0; pe < VCPUS; pe++) {
            for (int lpi : rig.takeAll(pe)) {
                int ev = lpi - 8192;
                int i = ev / 64;
                int d = ev % 64 / 8;
                int e = ev % 8;
                assertThat(last.ite[i][d][e]).as("LPI %d pending at PE %d must still be mapped", lpi, pe).isNotNegative();
                assertThat(last.target[lpi]).as("LPI %d pending at PE %d must target it", lpi, pe).isEqualTo(pe);
            }
        }
        for (ItsStats s : rig.stats().its()) {
            assertThat(s.internalErrors()).isZero();
            assertThat(s.stalled()).isFalse();
        }
        assertThat(rig.stats().cacheDoubleReleases()).as("no cache copy released twice").isZero();
        rig.gic.close();
        GicStats after = rig.gic.stats();
        assertThat(after.cache().size()).as("nothing left in the cache after teardown").isZero();
        assertThat(after.cacheReferences()).as("every copy released").isZero();
        assertThat(rig.gic.entryCacheReferences()).as("no entry still counts a cache reference").isZero();
        assertThat(after.cacheDoubleReleases()).isZero();
        rig.memory.close();
    }

    /** One random operation on a random ITS, with the model's next state. */
    private static void command(GicRig rig, History history, SplittableRandom r) {
        int i = r.nextInt(ITS);
        int d = r.nextInt(DEVICES);
        int e = r.nextInt(EVENTS);
        int c = r.nextInt(COLLECTIONS);
        int pe = r.nextInt(VCPUS);
        int other = r.nextInt(VCPUS);
        boolean valid = r.nextInt(4) > 0;
        ItsCommandQueue q = rig.its(i);
        int lpi = intid(i, d, e);
        int op = r.nextInt(100);
        if (op < 20) {
            history.apply((cur, next) -> {
                if (cur.device[i][d] && cur.ite[i][d][e] >= 0 && cur.collection[i][cur.ite[i][d][e]] >= 0) {
                    next.ite[i][d][e] = -1;
                }
            }, () -> q.discard(d, e));
        } else if (op < 45) {
            history.apply((cur, next) -> {
                if (cur.device[i][d] && cur.ite[i][d][e] < 0) {
                    next.ite[i][d][e] = c;
                    next.target[lpi] = cur.collection[i][c];
                }
            }, () -> q.mapti(d, e, lpi, c));
        } else if (op < 60) {
            history.apply((cur, next) -> {
                if (cur.device[i][d] && cur.ite[i][d][e] >= 0 && cur.collection[i][cur.ite[i][d][e]] >= 0
                        && cur.collection[i][c] >= 0) {
                    next.ite[i][d][e] = c;
                    next.target[lpi] = cur.collection[i][c];
                }
            }, () -> q.movi(d, e, c));
        } else if (op < 72) {
            long itt = rig.driver.allocateItt(2);
            history.apply((cur, next) -> {
                next.device[i][d] = valid;
                java.util.Arrays.fill(next.ite[i][d], -1);
            }, () -> q.mapd(d, 2, valid ? itt : 0, valid));
        } else if (op < 90) {
            history.apply((cur, next) -> {
                next.collection[i][c] = valid ? pe : -1;
                for (int dd = 0; dd < DEVICES; dd++) {
                    for (int ee = 0; ee < EVENTS; ee++) {
                        if (cur.device[i][dd] && cur.ite[i][dd][ee] == c) {
                            next.target[intid(i, dd, ee)] = valid ? pe : -1;
                        }
                    }
                }
            }, () -> q.mapc(c, pe, valid));
        } else {
            history.apply((cur, next) -> {
                if (pe != other) {
                    for (int x = 0; x < next.target.length; x++) {
                        if (cur.target[x] == pe && isMapped(cur, x)) {
                            next.target[x] = other;
                        }
                    }
                }
            }, () -> q.movall(pe, other));
        }
    }

    private static boolean isMapped(Model m, int lpi) {
        if (lpi < 8192) {
            return false;
        }
        int v = lpi - 8192;
        int i = v / 64;
        int d = v % 64 / 8;
        int e = v % 8;
        return i < ITS && d < DEVICES && e < EVENTS && m.device[i][d] && m.ite[i][d][e] >= 0;
    }

    /**
     * A thread that records what it saw, each record with the range of history versions it could have seen: from the
     * last version completed before it acted to the last one started after.
     */
    abstract static class VersionRecorder implements Runnable {
        final GicRig rig;
        final History history;
        final AtomicBoolean stop;
        final int[] from = new int[MAX_RECORDS];
        final int[] to = new int[MAX_RECORDS];
        int count;

        VersionRecorder(GicRig rig, History history, AtomicBoolean stop) {
            this.rig = rig;
            this.history = history;
            this.stop = stop;
        }

        boolean running() {
            return !stop.get() && count < MAX_RECORDS;
        }

        /** Ends record {@code count} (its payload already stored) with its versions. */
        void record(int completedBefore, int startedAfter) {
            from[count] = completedBefore;
            to[count] = startedAfter;
            count++;
        }
    }

    /** An injecting thread that records (key, result, versions) of every MSI it raises. */
    static final class Recorder extends VersionRecorder {
        final SplittableRandom random;
        final int[] keys = new int[MAX_RECORDS];
        final long[] results = new long[MAX_RECORDS];

        Recorder(GicRig rig, History history, AtomicBoolean stop, SplittableRandom random) {
            super(rig, history, stop);
            this.random = random;
        }

        @Override
        public void run() {
            while (running()) {
                int i = random.nextInt(ITS);
                int d = random.nextInt(DEVICES);
                int e = random.nextInt(EVENTS);
                int cs = history.completed;
                long r = rig.msi(i, d, e);
                int se = history.started;
                keys[count] = i << 16 | d << 8 | e;
                results[count] = r;
                record(cs, se);
            }
        }
    }

    /** A vCPU taking LPIs (IAR1, EOIR1) and recording each with the versions it could have seen. */
    static final class AckRecorder extends VersionRecorder {
        final int pe;
        final int[] intids = new int[MAX_RECORDS];

        AckRecorder(GicRig rig, History history, AtomicBoolean stop, int pe) {
            super(rig, history, stop);
            this.pe = pe;
        }

        @Override
        public void run() {
            while (running()) {
                int cs = history.completed;
                int intid = (int) rig.gic.readSystemRegister(pe, dev.jvmm.core.vcpu.SystemRegister.ICC_IAR1_EL1);
                int se = history.started;
                if (intid == dev.jvmm.core.vcpu.SystemRegister.SPURIOUS_INTID) {
                    Thread.onSpinWait();
                    continue;
                }
                rig.gic.writeSystemRegister(pe, dev.jvmm.core.vcpu.SystemRegister.ICC_EOIR1_EL1, intid);
                intids[count] = intid;
                record(cs, se);
            }
        }
    }

    private static Thread start(String name, Runnable body, AtomicReference<Throwable> failure) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }
}
