package dev.jvmm.gic.cache;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.testing.Race;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(SeedExtension.class)
class TranslationCacheTest {

    /** A cached value that checks the reference discipline: never released more often than retained. */
    static final class Entry implements Cacheable {
        final int id;
        final AtomicInteger refs = new AtomicInteger();
        final AtomicInteger overReleases = new AtomicInteger();

        Entry(int id) {
            this.id = id;
        }

        @Override
        public void retainedByCache() {
            refs.incrementAndGet();
        }

        @Override
        public void releasedByCache() {
            if (refs.decrementAndGet() < 0) {
                overReleases.incrementAndGet();
            }
        }
    }

    private static TranslationCache<Entry> cache(CacheStrategy s, int vcpus) {
        return TranslationCache.create(s, 2, vcpus, 8, 16);
    }

    @ParameterizedTest
    @EnumSource(CacheStrategy.class)
    void missInsertHitFlush(CacheStrategy strategy) {
        TranslationCache<Entry> c = cache(strategy, 1);
        Entry e = new Entry(1);
        assertThat(c.lookup(0, 3, 4)).isNull();
        c.insert(0, 3, 4, e);
        assertThat(c.lookup(0, 3, 4)).isSameAs(strategy == CacheStrategy.NONE ? null : e);
        assertThat(c.lookup(1, 3, 4)).as("another ITS's key").isNull();
        assertThat(c.lookup(0, 1 << 16, 4)).as("out of range").isNull();
        c.invalidate(0);
        assertThat(c.lookup(0, 3, 4)).isNull();
        assertThat(e.refs.get()).as("released after the flush").isZero();
        CacheStats s = c.stats();
        assertThat(s.strategy()).isEqualTo(strategy);
        assertThat(s.flushes()).isEqualTo(1);
        assertThat(s.inserts()).isEqualTo(s.releases());
        assertThat(s.size()).isZero();
        assertThat(s.lookups()).as("five lookups, of either outcome").isEqualTo(5);
    }

    @Test
    void globalLruEvictsTheLeastRecentlyUsedAndReleasesIt() {
        TranslationCache<Entry> c = cache(CacheStrategy.GLOBAL_LRU, 1); // 16 entries
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            entries.add(new Entry(i));
            c.insert(0, 1, i, entries.get(i));
        }
        assertThat(c.lookup(0, 1, 0)).as("touch event 0: now the most recent").isNotNull();
        Entry extra = new Entry(16);
        c.insert(0, 1, 16, extra);
        assertThat(c.lookup(0, 1, 1)).as("event 1 was the least recent: evicted").isNull();
        assertThat(c.lookup(0, 1, 0)).isNotNull();
        assertThat(entries.get(1).refs.get()).isZero();
        assertThat(c.stats().evictions()).isEqualTo(1);
        assertThat(c.size()).isEqualTo(16);
    }

    @Test
    void shardedCopiesInsertsIntoEveryShardAndPromotesOnlyBeyondPosition32() {
        TranslationCache<Entry> c = TranslationCache.create(CacheStrategy.SHARDED, 1, 4, 8, 16); // 64 per shard
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            entries.add(new Entry(i));
            c.insert(0, 1, i, entries.get(i));
        }
        assertThat(c.size()).as("each insert is copied into all 8 shards").isEqualTo(64 * 8);
        assertThat(entries.get(0).refs.get()).isEqualTo(8);
        // Positions from the head: event 63 is 0, event 0 is 63.
        assertThat(c.lookup(0, 1, 40)).as("position 23: a hit, not promoted").isNotNull();
        assertThat(c.lookup(0, 1, 0)).as("position 63: a hit, promoted to the head").isNotNull();
        for (int i = 64; i < 64 + 2; i++) {
            c.insert(0, 1, i, new Entry(i));
        }
        assertThat(c.lookup(0, 1, 0)).as("promoted: survives the next evictions").isNotNull();
        assertThat(c.lookup(0, 1, 1)).as("the tail went first").isNull();
        assertThat(c.lookup(0, 1, 2)).isNull();
        c.invalidateAll();
        assertThat(c.size()).isZero();
        for (Entry e : entries) {
            assertThat(e.refs.get()).isZero();
            assertThat(e.overReleases.get()).isZero();
        }
    }

    @Test
    void perItsIsUnboundedAndFlushesOnlyItsOwnIts() {
        TranslationCache<Entry> c = cache(CacheStrategy.PER_ITS, 1);
        for (int i = 0; i < 1000; i++) {
            c.insert(0, i, 0, new Entry(i));
            c.insert(1, i, 0, new Entry(i));
        }
        assertThat(c.size()).as("no eviction").isEqualTo(2000);
        c.invalidate(0);
        assertThat(c.lookup(0, 5, 0)).isNull();
        assertThat(c.lookup(1, 5, 0)).as("ITS 1 keeps its entries").isNotNull();
        assertThat(c.size()).isEqualTo(1000);
        assertThat(c.stats().evictions()).isZero();
    }

    /**
     * Lookups on several threads while the owner (holding the "ITS lock": one thread) inserts, replaces, evicts
     * and flushes: every copy is released exactly once.
     */
    @ParameterizedTest
    @EnumSource(CacheStrategy.class)
    void everyCopyIsReleasedExactlyOnceUnderConcurrentLookups(CacheStrategy strategy) throws Exception {
        TranslationCache<Entry> c = cache(strategy, 2);
        List<Entry> all = new ArrayList<>();
        AtomicLong hits = new AtomicLong();
        java.util.SplittableRandom random = new java.util.SplittableRandom(42);
        Throwable failure = Race.readersDuring(3, (reader, n) -> {
            int k = (int) n;
            if (c.lookup(k & 1, k % 40, 0) != null) {
                hits.incrementAndGet();
            }
        }, () -> {
            for (int i = 0; i < 20_000; i++) {
                Entry e = new Entry(i);
                all.add(e);
                c.insert(random.nextInt(2), random.nextInt(40), 0, e);
                if (random.nextInt(200) == 0) {
                    c.invalidate(random.nextInt(2));
                }
            }
        });
        assertThat(failure).as("a reader threw").isNull();
        c.invalidateAll();
        assertThat(c.size()).isZero();
        for (Entry e : all) {
            assertThat(e.overReleases.get()).as("entry %d released twice", e.id).isZero();
            assertThat(e.refs.get()).as("entry %d still referenced", e.id).isZero();
        }
        CacheStats s = c.stats();
        assertThat(s.inserts()).isEqualTo(s.releases());
    }

    @Test
    void lruTableSurvivesRandomChurnAgainstAModel(SeededRandom random) {
        LruTable<Entry> lru = new LruTable<>(32);
        java.util.LinkedHashMap<Long, Entry> model = new java.util.LinkedHashMap<>(16, 0.75f, true);
        for (int i = 0; i < 20_000; i++) {
            long key = random.nextInt(100);
            if (random.nextBoolean()) {
                Entry e = new Entry(i);
                lru.put(key, e);
                model.put(key, e);
                if (model.size() > 32) {
                    Long eldest = model.keySet().iterator().next();
                    model.remove(eldest);
                }
            } else {
                int slot = lru.find(key);
                Entry expected = model.get(key);
                assertThat(slot >= 0).isEqualTo(expected != null);
                if (slot >= 0) {
                    assertThat(lru.value(slot)).isSameAs(expected);
                    lru.moveToFront(slot);
                }
            }
            assertThat(lru.size()).isEqualTo(model.size());
        }
    }
}
