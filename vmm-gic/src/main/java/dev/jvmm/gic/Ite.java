package dev.jvmm.gic;

import dev.jvmm.core.concurrent.VarHandles;
import dev.jvmm.gic.cache.Cacheable;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * An interrupt translation entry: (DeviceID, EventID) of one ITS to an LPI and a collection. The value the
 * translation caches hold. Entries live in host structures ({@link ItsDevice}), as in KVM; the guest's ITT memory
 * is never read or written.
 *
 * <p>{@link #live} turns false, before the LPI is quiesced, when a command removes the entry (DISCARD, MAPD); a
 * delivery re-checks it inside the LPI's guard (see {@link Lpi}), so a stale cache entry cannot deliver. The ICID
 * changes only under the ITS lock (MOVI).
 */
final class Ite implements Cacheable {
    private static final VarHandle CACHE_REFS = VarHandles.field(MethodHandles.lookup(), "cacheRefs", int.class);

    final ItsDevice device;
    final int eventId;
    final Lpi lpi;
    /** The collection; written under the ITS lock. */
    volatile int icid;
    volatile boolean live = true;

    private final CacheReferences references;
    /** Copies of this entry in translation caches. */
    @SuppressWarnings("unused")
    private volatile int cacheRefs;

    Ite(ItsDevice device, int eventId, Lpi lpi, int icid, CacheReferences references) {
        this.device = device;
        this.eventId = eventId;
        this.lpi = lpi;
        this.icid = icid;
        this.references = references;
    }

    @Override
    public void retainedByCache() {
        CACHE_REFS.getAndAdd(this, 1);
    }

    @Override
    public void releasedByCache() {
        int before = (int) CACHE_REFS.getAndAdd(this, -1);
        if (before <= 0) {
            // Released more often than retained: undo and record the violation for the tests to see.
            CACHE_REFS.getAndAdd(this, 1);
            references.doubleReleases.increment();
        }
    }

    /** Copies of this entry held by caches now. */
    int cacheReferences() {
        return cacheRefs;
    }

    @Override
    public String toString() {
        return "ITE[dev " + device.deviceId + " ev " + eventId + " -> " + lpi.intid + " col " + icid
                + (live ? "" : ", removed") + "]";
    }
}
