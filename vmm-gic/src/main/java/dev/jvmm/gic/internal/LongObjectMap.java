package dev.jvmm.gic.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;

/**
 * An open-addressing hash map from non-negative {@code long} keys to objects, for one writer at a time and any
 * number of lock-free readers: the structure behind the per-ITS translation cache, the LPI registry and the ITS's
 * device and event tables.
 *
 * <pre>
 *   table ──▶ keys   [ K0 | EMPTY | K2 | TOMB | ... ]   linear probing, Fibonacci hashing, capacity 2^n
 *             values [ V0 | null  | V2 | null | ... ]
 * </pre>
 *
 * <h2>Threads</h2>
 * Mutators ({@link #put}, {@link #remove}, {@link #clear}) must be serialised by the caller (the owner holds a
 * lock). {@link #get} may run concurrently with them, takes no lock, never allocates, and probes at most the
 * table's capacity: it is wait-free.
 *
 * <h2>Why readers are safe</h2>
 * A writer publishes a new entry by storing the value, then the key, both with release semantics; a reader loads
 * the key, then the value, both with acquire semantics, so a reader that finds a key sees its value. A removed slot
 * gets its value cleared, then its key replaced by a tombstone; a reader that raced with the removal returns
 * either the old value or null, both correct linearisations. Slots are never reused for another key: tombstones are
 * only dropped by a rehash, which copies the live entries into a fresh table and publishes it through one volatile
 * store. A reader still probing the old table sees a consistent old state (the writer no longer touches it).
 */
public final class LongObjectMap<V> {
    private static final long EMPTY = -1L;
    private static final long TOMBSTONE = -2L;
    private static final long GOLDEN = 0x9E37_79B9_7F4A_7C15L;
    private static final int MIN_CAPACITY = 8;

    private static final VarHandle KEYS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle VALUES = MethodHandles.arrayElementVarHandle(Object[].class);

    private static final class Table {
        final long[] keys;
        final Object[] values;
        final int mask;
        final int shift;

        Table(int capacity) {
            keys = new long[capacity];
            java.util.Arrays.fill(keys, EMPTY);
            values = new Object[capacity];
            mask = capacity - 1;
            shift = 64 - Integer.numberOfTrailingZeros(capacity);
        }

        int home(long key) {
            return (int) ((key * GOLDEN) >>> shift);
        }
    }

    private volatile Table table;
    /** Live entries; written by the writer only, volatile so that {@link #size()} may be read by anyone. */
    private volatile int size;
    /** Live entries plus tombstones: what limits probing. Writer-only. */
    private int used;

    public LongObjectMap() {
        this(MIN_CAPACITY);
    }

    /** A map that holds {@code expected} entries without a rehash. */
    public LongObjectMap(int expected) {
        table = new Table(capacityFor(expected));
    }

    private static int capacityFor(int entries) {
        int c = MIN_CAPACITY;
        // Load factor at most 1/2: short probe sequences for the lock-free readers.
        while (c < (long) entries * 2) {
            c <<= 1;
        }
        return c;
    }

    /** The value of {@code key}, or null. Lock-free, allocation-free; any thread. */
    @SuppressWarnings("unchecked")
    public V get(long key) {
        Table t = table;
        long[] keys = t.keys;
        int mask = t.mask;
        int i = t.home(key);
        for (int probes = 0; probes <= mask; probes++) {
            long k = (long) KEYS.getAcquire(keys, i);
            if (k == key) {
                return (V) VALUES.getAcquire(t.values, i);
            }
            if (k == EMPTY) {
                return null;
            }
            i = (i + 1) & mask;
        }
        return null;
    }

    /** Live entries. Any thread. */
    public int size() {
        return size;
    }

    /**
     * Maps {@code key} to {@code value} (non-null); returns the previous value or null. Writer only.
     *
     * @throws IllegalArgumentException if the key is negative (negative keys mark empty and removed slots)
     */
    @SuppressWarnings("unchecked")
    public V put(long key, V value) {
        if (key < 0) {
            throw new IllegalArgumentException("keys must be non-negative, got " + key);
        }
        if (value == null) {
            throw new IllegalArgumentException("values must be non-null");
        }
        Table t = table;
        int i = t.home(key);
        while (true) {
            long k = t.keys[i];
            if (k == key) {
                Object old = t.values[i];
                VALUES.setRelease(t.values, i, value);
                return (V) old;
            }
            if (k == EMPTY) {
                break;
            }
            i = (i + 1) & t.mask;
        }
        if ((used + 1) * 2 > t.keys.length) {
            t = rehash(size + 1);
            i = t.home(key);
            while (t.keys[i] != EMPTY) {
                i = (i + 1) & t.mask;
            }
        }
        VALUES.setRelease(t.values, i, value);
        KEYS.setRelease(t.keys, i, key);
        used++;
        size = size + 1;
        return null;
    }

    /** Removes {@code key}; returns its value or null. Writer only. */
    @SuppressWarnings("unchecked")
    public V remove(long key) {
        Table t = table;
        int i = t.home(key);
        for (int probes = 0; probes <= t.mask; probes++) {
            long k = t.keys[i];
            if (k == key) {
                Object old = t.values[i];
                VALUES.setRelease(t.values, i, null);
                KEYS.setRelease(t.keys, i, TOMBSTONE);
                size = size - 1;
                return (V) old;
            }
            if (k == EMPTY) {
                return null;
            }
            i = (i + 1) & t.mask;
        }
        return null;
    }

    /**
     * Empties the map by publishing a fresh table; returns how many entries it held. Writer only. The old entries
     * are appended to {@code drained} when it is not null, so the caller can release them: after this call no
     * reader can find them any more, except one that loaded the old table before the swap.
     */
    @SuppressWarnings("unchecked")
    public int clear(List<? super V> drained) {
        Table old = table;
        int n = size;
        table = new Table(MIN_CAPACITY);
        size = 0;
        used = 0;
        if (drained != null) {
            for (int i = 0; i < old.keys.length; i++) {
                if (old.keys[i] >= 0 && old.values[i] != null) {
                    drained.add((V) old.values[i]);
                }
            }
        }
        return n;
    }

    /** Appends every value to {@code out} (a snapshot for the writer to iterate while it mutates). Writer only. */
    @SuppressWarnings("unchecked")
    public void values(List<? super V> out) {
        Table t = table;
        for (int i = 0; i < t.keys.length; i++) {
            if (t.keys[i] >= 0 && t.values[i] != null) {
                out.add((V) t.values[i]);
            }
        }
    }

    private Table rehash(int live) {
        Table old = table;
        Table t = new Table(capacityFor(Math.max(live, MIN_CAPACITY / 2) * 2));
        int n = 0;
        for (int j = 0; j < old.keys.length; j++) {
            long k = old.keys[j];
            if (k >= 0 && old.values[j] != null) {
                int i = t.home(k);
                while (t.keys[i] != EMPTY) {
                    i = (i + 1) & t.mask;
                }
                t.keys[i] = k;
                t.values[i] = old.values[j];
                n++;
            }
        }
        used = n;
        // The volatile store publishes the filled arrays to readers.
        table = t;
        return t;
    }
}
