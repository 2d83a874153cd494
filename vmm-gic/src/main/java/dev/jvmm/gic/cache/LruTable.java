package dev.jvmm.gic.cache;

import java.util.Arrays;

/**
 * A bounded LRU list of cached translations with an index, all in preallocated primitive arrays: what one Linux
 * 5.4 translation cache (or one seed-patch shard) is, with the linear list walk replaced by a hash index (the
 * "better data structure" the maintainer asked the seed patch for).
 *
 * <pre>
 *  index: key ──hash──▶ slot          list (by slot): head ⇄ ... ⇄ tail      free slots: a stack through next[]
 *                                       most recent            least recent (evicted first)
 * </pre>
 *
 * <p>Not thread-safe: the owning cache guards it with its lock, which also guards the counters here (plain fields:
 * no atomic operation is needed under a lock). Nothing here allocates after construction. The table retains a
 * value when a copy enters and releases it when the copy leaves.
 */
final class LruTable<V extends Cacheable> {
    private static final int NIL = -1;
    private static final long EMPTY = -1L;
    private static final long GOLDEN = 0x9E37_79B9_7F4A_7C15L;

    private final int capacity;
    private final long[] keys;
    private final Object[] values;
    private final int[] prev;
    private final int[] next;
    private int head = NIL;
    private int tail = NIL;
    private int size;
    private int free;

    /** Counters, guarded by the owner's lock. */
    long hits;
    long misses;
    long inserts;
    long evictions;
    long releases;

    private final long[] indexKeys;
    private final int[] indexSlots;
    private final int indexMask;
    private final int indexShift;

    LruTable(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive");
        }
        this.capacity = capacity;
        keys = new long[capacity];
        values = new Object[capacity];
        prev = new int[capacity];
        next = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            next[i] = i + 1 < capacity ? i + 1 : NIL;
        }
        free = 0;
        int indexSize = Integer.highestOneBit(Math.max(2, capacity * 2 - 1)) << 1;
        indexKeys = new long[indexSize];
        Arrays.fill(indexKeys, EMPTY);
        indexSlots = new int[indexSize];
        indexMask = indexSize - 1;
        indexShift = 64 - Integer.numberOfTrailingZeros(indexSize);
    }

    int capacity() {
        return capacity;
    }

    int size() {
        return size;
    }

    /** The slot holding {@code key}, or -1. */
    int find(long key) {
        int i = home(key);
        while (true) {
            long k = indexKeys[i];
            if (k == key) {
                return indexSlots[i];
            }
            if (k == EMPTY) {
                return NIL;
            }
            i = (i + 1) & indexMask;
        }
    }

    @SuppressWarnings("unchecked")
    V value(int slot) {
        return (V) values[slot];
    }

    /** Whether {@code slot} is among the first {@code positions} entries from the head (the seed patch's test). */
    boolean withinFirst(int slot, int positions) {
        int s = head;
        for (int p = 0; p < positions && s != NIL; p++) {
            if (s == slot) {
                return true;
            }
            s = next[s];
        }
        return false;
    }

    /**
     * The value under {@code key} (null: none), counting the hit or miss; a hit not within the first
     * {@code keepWithin} positions becomes the most recently used entry (0: every hit does). The caller holds the
     * table's lock.
     */
    V lookup(long key, int keepWithin) {
        int slot = find(key);
        if (slot < 0) {
            misses++;
            return null;
        }
        hits++;
        if (!withinFirst(slot, keepWithin)) {
            moveToFront(slot);
        }
        return value(slot);
    }

    /** Makes {@code slot} the most recently used entry. */
    void moveToFront(int slot) {
        if (slot == head) {
            return;
        }
        unlink(slot);
        linkAtHead(slot);
    }

    /**
     * Stores {@code key -> value} as the most recent entry, evicting the least recent one when full. A key already
     * present keeps its slot and gets the new value (the old copy is released when it differs).
     */
    void put(long key, V value) {
        int slot = find(key);
        if (slot != NIL) {
            Object old = values[slot];
            if (old != value) {
                value.retainedByCache();
                values[slot] = value;
                inserts++;
                release(old);
            }
            moveToFront(slot);
            return;
        }
        if (size == capacity) {
            int victim = tail;
            Object evicted = values[victim];
            removeSlot(victim);
            evictions++;
            release(evicted);
        }
        slot = free;
        free = next[slot];
        keys[slot] = key;
        values[slot] = value;
        value.retainedByCache();
        inserts++;
        linkAtHead(slot);
        indexPut(key, slot);
        size++;
    }

    /** Releases and removes every entry; returns how many there were. */
    int clear() {
        int n = size;
        int s = head;
        while (s != NIL) {
            int nx = next[s];
            Object v = values[s];
            values[s] = null;
            release(v);
            s = nx;
        }
        Arrays.fill(indexKeys, EMPTY);
        head = NIL;
        tail = NIL;
        size = 0;
        for (int i = 0; i < capacity; i++) {
            next[i] = i + 1 < capacity ? i + 1 : NIL;
        }
        free = 0;
        return n;
    }

    private void release(Object v) {
        ((Cacheable) v).releasedByCache();
        releases++;
    }

    private void removeSlot(int slot) {
        unlink(slot);
        indexRemove(keys[slot]);
        values[slot] = null;
        next[slot] = free;
        free = slot;
        size--;
    }

    private void unlink(int slot) {
        int p = prev[slot];
        int n = next[slot];
        if (p != NIL) {
            next[p] = n;
        } else {
            head = n;
        }
        if (n != NIL) {
            prev[n] = p;
        } else {
            tail = p;
        }
    }

    private void linkAtHead(int slot) {
        prev[slot] = NIL;
        next[slot] = head;
        if (head != NIL) {
            prev[head] = slot;
        }
        head = slot;
        if (tail == NIL) {
            tail = slot;
        }
    }

    private int home(long key) {
        return (int) ((key * GOLDEN) >>> indexShift);
    }

    private void indexPut(long key, int slot) {
        int i = home(key);
        while (indexKeys[i] != EMPTY) {
            i = (i + 1) & indexMask;
        }
        indexKeys[i] = key;
        indexSlots[i] = slot;
    }

    /** Linear-probing removal by backward shift: no tombstones, so probe lengths stay short under churn. */
    private void indexRemove(long key) {
        int i = home(key);
        while (indexKeys[i] != key) {
            if (indexKeys[i] == EMPTY) {
                return;
            }
            i = (i + 1) & indexMask;
        }
        int j = i;
        while (true) {
            j = (j + 1) & indexMask;
            long k = indexKeys[j];
            if (k == EMPTY) {
                break;
            }
            int h = home(k);
            // Move entry j back to the hole at i unless its home lies cyclically in (i, j].
            boolean homeBetween = i <= j ? (i < h && h <= j) : (i < h || h <= j);
            if (!homeBetween) {
                indexKeys[i] = k;
                indexSlots[i] = indexSlots[j];
                i = j;
            }
        }
        indexKeys[i] = EMPTY;
    }
}
