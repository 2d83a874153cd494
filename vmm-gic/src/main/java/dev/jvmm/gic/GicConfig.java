package dev.jvmm.gic;

import dev.jvmm.core.config.ConfigNode;
import dev.jvmm.core.config.ConfigSection;
import dev.jvmm.core.config.ConfigSource;
import dev.jvmm.core.config.InterruptControllerConfig;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.gic.cache.CacheStrategy;

import java.util.Arrays;

/**
 * The gic section, owned by vmm-gic:
 *
 * <pre>
 * gic: {its-count: 1, cache: per-its, cache-shards: 8, cache-entries-per-vcpu: 16}
 * </pre>
 *
 * @param itsCount            how many ITSes (the first at 0x0808_0000, the others after the last redistributor)
 * @param cache               the translation cache strategy
 * @param cacheShards         shard count of the {@code sharded} strategy
 * @param cacheEntriesPerVcpu LRU capacity per vCPU of the {@code global-lru} and {@code sharded} strategies
 */
public record GicConfig(int itsCount, CacheStrategy cache, int cacheShards, int cacheEntriesPerVcpu)
        implements InterruptControllerConfig {

    public static final int MAX_ITS = 4;
    public static final int MAX_CACHE_SHARDS = 256;
    public static final int MAX_CACHE_ENTRIES_PER_VCPU = 4096;

    /** The {@code gic} section. */
    public static final ConfigSection<GicConfig> SECTION = ConfigSection.of("gic", GicConfig::defaults,
            GicConfig::parse, GicConfig::validate);

    /** One ITS, the per-its cache (Linux 6.10), 8 shards and 16 entries per vCPU for the LRU strategies. */
    public static GicConfig defaults() {
        return new GicConfig(1, CacheStrategy.PER_ITS, 8, 16);
    }

    public GicConfig withCache(CacheStrategy c) {
        return new GicConfig(itsCount, c, cacheShards, cacheEntriesPerVcpu);
    }

    public GicConfig withItsCount(int n) {
        return new GicConfig(n, cache, cacheShards, cacheEntriesPerVcpu);
    }

    /** Every ITS is an MSI controller. */
    @Override
    public int msiControllerCount() {
        return itsCount;
    }

    /** Reads the {@code gic} section. */
    static GicConfig parse(ConfigNode s) {
        GicConfig d = defaults();
        int its = s.integer("its-count", d.itsCount());
        String[] names = Arrays.stream(CacheStrategy.values()).map(CacheStrategy::configName).toArray(String[]::new);
        String cache = s.choice("cache", d.cache().configName(), names);
        int shards = s.integer("cache-shards", d.cacheShards());
        int perVcpu = s.integer("cache-entries-per-vcpu", d.cacheEntriesPerVcpu());
        return new GicConfig(its, CacheStrategy.fromConfigName(cache), shards, perVcpu);
    }

    /** Checks the {@code gic} section and its relations with the rest of the configuration. */
    static void validate(GicConfig gic, VmConfig config) {
        ConfigSource s = config.source();
        if (gic.itsCount() < 1 || gic.itsCount() > MAX_ITS) {
            throw s.error("gic.its-count", "must be between 1 and " + MAX_ITS + ", got " + gic.itsCount());
        }
        int maxVcpus = MemoryMap.maxVcpus(gic.itsCount());
        if (config.machine().vcpus() > maxVcpus) {
            throw s.error("machine.vcpus", "must be between 0 and " + maxVcpus + " (the redistributors of QEMU's"
                    + " virt memory map), got " + config.machine().vcpus());
        }
        if (gic.cache() == null) {
            throw s.error("gic.cache", "must be one of none, global-lru, sharded, per-its");
        }
        if (gic.cacheShards() < 1 || gic.cacheShards() > MAX_CACHE_SHARDS) {
            throw s.error("gic.cache-shards", "must be between 1 and " + MAX_CACHE_SHARDS + ", got "
                    + gic.cacheShards());
        }
        if (gic.cacheEntriesPerVcpu() < 1 || gic.cacheEntriesPerVcpu() > MAX_CACHE_ENTRIES_PER_VCPU) {
            throw s.error("gic.cache-entries-per-vcpu", "must be between 1 and " + MAX_CACHE_ENTRIES_PER_VCPU
                    + ", got " + gic.cacheEntriesPerVcpu());
        }
    }
}
