package dev.jvmm.gic;

import dev.jvmm.core.concurrent.VarHandles;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import static dev.jvmm.gic.LpiTableDescriptor.FIRST_LPI;
import static dev.jvmm.gic.LpiTableDescriptor.LPI_COUNT;
import static dev.jvmm.gic.LpiTableDescriptor.PRIORITY_LEVELS;
import static dev.jvmm.gic.LpiTableDescriptor.priorityOfLevel;

/**
 * A redistributor's pending and enabled LPIs, by priority: what ICC_IAR1_EL1 searches. Finding the most urgent
 * pending LPI (ties: lowest INTID) takes a handful of word reads, never a scan of the 57,344 LPI bits.
 *
 * <pre>
 *  levelMask   (bit L: level L may hold an LPI)                 lowest set bit = most urgent level
 *     └─ level L: summary[14]   (bit w%64 of word w/64: bitmap word w may be non-zero)
 *                    └─ words[896]   (bit i%64 of word i/64: LPI 8192 + i is pending)
 * </pre>
 *
 * <h2>Concurrency</h2>
 * Any number of threads add (deliveries) and remove (the CPU interface acknowledging, commands clearing) at once,
 * with atomic bitwise operations and no lock. A summary bit, and a mask bit, is a hint that what it covers may be
 * non-zero:
 * <ul>
 *   <li>an adder sets the leaf bit; if the leaf word was zero, it sets the summary bit; if that summary word was
 *       zero, it sets the level's mask bit;</li>
 *   <li>a remover clears only the leaf bit: hints are left behind, and cleared lazily by searchers;</li>
 *   <li>a searcher that finds hints over zero words ("stale" hints) leaves up to {@value #TOLERATED_STALE} of them
 *       in a level, and clears them all when there are more. Clearing a hint is: clear the bit, re-read what it
 *       covers, and set it again (propagating upwards like an adder) if someone refilled it meanwhile.</li>
 * </ul>
 * Why tolerate stale hints: under load, an LPI is taken and raised again over and over. If the CPU interface
 * cleared the hints after each acknowledge, the injecting thread would have to set them again after each one, and
 * the cache lines holding them would travel between the two cores twice per interrupt. Left in place, only the
 * leaf word moves.
 *
 * <p>Invariant: every non-zero word has its summary bit set, and every non-zero summary word its mask bit, or a
 * thread is about to set it (an adder that made it non-zero, or a searcher between its clear and its re-read).
 * All operations are sequentially consistent, which is what the re-read argument needs. Hints err only towards
 * "may be pending"; a search verifies against the words, so a stale hint costs a few reads, never a wrong answer.
 *
 * <p>Level structures are created at command time ({@link #prepare}), when an LPI's target or configuration is
 * set, so that the injection path never allocates.
 */
final class PendingLpiSet {
    static final int WORDS = LPI_COUNT / 64;
    static final int SUMMARY_WORDS = WORDS / 64;
    /** Stale hints a level may keep before a search clears them. */
    static final int TOLERATED_STALE = 4;
    /** How often an acknowledge retries when racing removers before it reports nothing (spurious is allowed). */
    private static final int MAX_ATTEMPTS = 64;

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle LEVELS = MethodHandles.arrayElementVarHandle(Level[].class);
    private static final VarHandle MASK = VarHandles.field(MethodHandles.lookup(), "levelMask", long.class);

    /** One priority level: a summary over a bitmap of every LPI. */
    static final class Level {
        final long[] words = new long[WORDS];
        final long[] summary = new long[SUMMARY_WORDS];
    }

    private final Level[] levels = new Level[PRIORITY_LEVELS];
    private volatile long levelMask;

    /** Creates level {@code level}'s structure if it does not exist yet (command time). */
    Level prepare(int level) {
        Level lv = level(level);
        if (lv == null) {
            Level fresh = new Level();
            lv = (Level) LEVELS.compareAndExchangeRelease(levels, level, null, fresh);
            if (lv == null) {
                lv = fresh;
            }
        }
        return lv;
    }

    private Level level(int level) {
        return (Level) LEVELS.getAcquire(levels, level);
    }

    /** Whether {@code intid} is pending at {@code level}. */
    boolean contains(int level, int intid) {
        Level lv = level(level);
        if (lv == null) {
            return false;
        }
        int i = intid - FIRST_LPI;
        return ((long) LONGS.getVolatile(lv.words, i >>> 6) & (1L << i)) != 0;
    }

    /** Makes {@code intid} pending at {@code level}; returns whether it was not pending before. */
    boolean add(int level, int intid) {
        Level lv = level(level);
        if (lv == null) {
            lv = prepare(level); // only if no command prepared it: not on the steady-state path
        }
        int i = intid - FIRST_LPI;
        int w = i >>> 6;
        long bit = 1L << i;
        long old = (long) LONGS.getAndBitwiseOr(lv.words, w, bit);
        if ((old & bit) != 0) {
            return false;
        }
        if (old == 0) {
            setSummary(lv, level, w);
        }
        return true;
    }

    /** Removes {@code intid} from {@code level}; returns whether this call removed it. Hints stay (see above). */
    boolean remove(int level, int intid) {
        Level lv = level(level);
        if (lv == null) {
            return false;
        }
        int i = intid - FIRST_LPI;
        long bit = 1L << i;
        return ((long) LONGS.getAndBitwiseAnd(lv.words, i >>> 6, ~bit) & bit) != 0;
    }

    /** The bit mask of levels that may hold a pending LPI (a volatile read; may be stale-high). */
    long levelMask() {
        return levelMask;
    }

    /** The most urgent level that holds a pending LPI, or -1. */
    int highest() {
        long mask = levelMask;
        while (mask != 0) {
            int level = Long.numberOfTrailingZeros(mask);
            if (first(level) >= 0) {
                return level;
            }
            mask &= mask - 1;
        }
        return -1;
    }

    /**
     * Removes and returns the most urgent pending LPI whose priority value is below {@code threshold} (ties:
     * lowest INTID), packed as {@code level << 16 | intid}; -1 when there is none.
     */
    int pollHighest(int threshold) {
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            int level = -1;
            int intid = -1;
            long mask = levelMask;
            while (mask != 0) {
                level = Long.numberOfTrailingZeros(mask);
                intid = first(level);
                if (intid >= 0) {
                    break;
                }
                mask &= mask - 1;
            }
            if (intid < 0 || priorityOfLevel(level) >= threshold) {
                return -1;
            }
            if (remove(level, intid)) {
                return (level << 16) | intid;
            }
            // Another remover (CLEAR, a disable) took it first: search again.
        }
        return -1;
    }

    /** The lowest pending INTID at {@code level}, or -1. Clears the level's stale hints if there are too many. */
    int first(int level) {
        Level lv = level(level);
        if (lv == null) {
            clearMask(level);
            return -1;
        }
        int stale = 0;
        for (int s = 0; s < SUMMARY_WORDS; s++) {
            long sw = (long) LONGS.getVolatile(lv.summary, s);
            while (sw != 0) {
                int w = (s << 6) + Long.numberOfTrailingZeros(sw);
                long ww = (long) LONGS.getVolatile(lv.words, w);
                if (ww != 0) {
                    if (stale > TOLERATED_STALE) {
                        clearStale(lv, level);
                    }
                    return FIRST_LPI + (w << 6) + Long.numberOfTrailingZeros(ww);
                }
                stale++;
                sw &= sw - 1;
            }
        }
        if (stale == 0) {
            clearMask(level); // nothing hinted at all: the mask bit itself is stale
        } else if (stale > TOLERATED_STALE) {
            clearStale(lv, level);
        }
        return -1;
    }

    /** Removes every pending LPI (EnableLPIs 1 to 0, after the LPIs were dropped one by one: a sweep). */
    void clearAll() {
        for (int level = 0; level < PRIORITY_LEVELS; level++) {
            Level lv = level(level);
            if (lv == null) {
                continue;
            }
            for (int w = 0; w < WORDS; w++) {
                if ((long) LONGS.getVolatile(lv.words, w) != 0) {
                    LONGS.getAndSet(lv.words, w, 0L);
                }
            }
            clearStale(lv, level);
        }
    }

    /** How many LPIs are pending (a scan, for tests and statistics). */
    int count() {
        int n = 0;
        for (int level = 0; level < PRIORITY_LEVELS; level++) {
            Level lv = level(level);
            if (lv != null) {
                for (int w = 0; w < WORDS; w++) {
                    n += Long.bitCount((long) LONGS.getVolatile(lv.words, w));
                }
            }
        }
        return n;
    }

    // ----------------------------------------------------------------------------- hint propagation

    /**
     * Sets word {@code w}'s hint, and the level's mask bit if the summary word was empty. A hint found already set
     * is left alone: an atomic OR that changes nothing would still take the cache line away from the CPU
     * interface that reads it. Safe, because a searcher that clears a hint re-reads the word afterwards.
     */
    private void setSummary(Level lv, int level, int w) {
        int s = w >>> 6;
        long bit = 1L << w;
        if (((long) LONGS.getVolatile(lv.summary, s) & bit) != 0) {
            return;
        }
        long old = (long) LONGS.getAndBitwiseOr(lv.summary, s, bit);
        if (old == 0 && (levelMask & (1L << level)) == 0) {
            MASK.getAndBitwiseOr(this, 1L << level);
        }
    }

    /** Clears every summary hint of {@code level} whose word is zero, then the mask bit if nothing is left. */
    private void clearStale(Level lv, int level) {
        boolean any = false;
        for (int s = 0; s < SUMMARY_WORDS; s++) {
            long sw = (long) LONGS.getVolatile(lv.summary, s);
            for (long bits = sw; bits != 0; bits &= bits - 1) {
                int w = (s << 6) + Long.numberOfTrailingZeros(bits);
                if ((long) LONGS.getVolatile(lv.words, w) == 0) {
                    clearSummaryBit(lv, level, w);
                }
            }
            any |= (long) LONGS.getVolatile(lv.summary, s) != 0;
        }
        if (!any) {
            clearMask(level);
        }
    }

    /** Clears word {@code w}'s hint, then re-reads the word and repairs the hint if it was refilled. */
    private void clearSummaryBit(Level lv, int level, int w) {
        long bit = 1L << w;
        long old = (long) LONGS.getAndBitwiseAnd(lv.summary, w >>> 6, ~bit);
        if ((old & bit) != 0 && (long) LONGS.getVolatile(lv.words, w) != 0) {
            setSummary(lv, level, w);
        }
    }

    /** Clears {@code level}'s mask bit, then re-reads every summary word and repairs it if one is non-zero. */
    private void clearMask(int level) {
        long bit = 1L << level;
        long old = (long) MASK.getAndBitwiseAnd(this, ~bit);
        if ((old & bit) == 0) {
            return;
        }
        // Re-read the level itself: it may have been created (and filled) since the caller looked.
        Level lv = level(level);
        if (lv == null) {
            return;
        }
        for (int s = 0; s < SUMMARY_WORDS; s++) {
            if ((long) LONGS.getVolatile(lv.summary, s) != 0) {
                MASK.getAndBitwiseOr(this, bit);
                return;
            }
        }
    }
}
