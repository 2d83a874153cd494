package dev.jvmm.gic;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.gic.cache.CacheStats;

import java.util.List;
import java.util.Map;

/**
 * A snapshot of a {@link GicV3}'s counters.
 *
 * @param cacheStrategy       the translation cache strategy in use
 * @param cache               the counters of the cache in use (since it was installed)
 * @param cacheByStrategy     every strategy used on this GIC, with its counters summed over its periods of use
 * @param its                 each ITS's counters, by index
 * @param lpisAcknowledged    LPIs acknowledged through ICC_IAR1_EL1, over every vCPU
 * @param lpisPending         LPIs pending and enabled now, over every redistributor
 * @param lpisMapped          INTIDs mapped by at least one interrupt translation entry
 * @param cacheReferences     copies of translations held by caches now (inserted minus released, every strategy)
 * @param cacheDoubleReleases releases of a copy that was not held: must always be zero
 * @param wiredAcknowledged   SGIs, PPIs and SPIs acknowledged through ICC_IAR0/1_EL1, over every vCPU
 * @param sgisRaised          SGIs made pending by ICC_SGI0R/SGI1R/ASGI1R_EL1 writes (one per target)
 * @param sgisRefused         SGI targets skipped because the SGI's group is not the register's
 * @param unsupportedAccesses distributor and redistributor accesses that decode to no register (RAZ/WI)
 */
public record GicStats(CacheStrategy cacheStrategy, CacheStats cache, Map<CacheStrategy, CacheStats> cacheByStrategy,
                       List<ItsStats> its, long lpisAcknowledged, int lpisPending, int lpisMapped,
                       long cacheReferences, long cacheDoubleReleases, long wiredAcknowledged, long sgisRaised,
                       long sgisRefused, long unsupportedAccesses) {

    public GicStats {
        cacheByStrategy = Map.copyOf(cacheByStrategy);
        its = List.copyOf(its);
    }

    /** The counters of {@code strategy} over this GIC's life (all zero when it was never used). */
    public CacheStats cache(CacheStrategy strategy) {
        CacheStats s = cacheByStrategy.get(strategy);
        return s != null ? s : CacheStats.empty(strategy);
    }

    /** ITS command errors of {@code error}, over every ITS. */
    public long commandErrors(ItsCommandError error) {
        long n = 0;
        for (ItsStats s : its) {
            n += s.errors(error);
        }
        return n;
    }
}
