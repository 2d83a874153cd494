package dev.jvmm.gic;

import dev.jvmm.gic.internal.LongObjectMap;

import java.util.ArrayList;
import java.util.List;

/**
 * Every mapped LPI of the machine, by INTID (KVM's {@code lpi_xa}). Entries are reference-counted by the interrupt
 * translation entries that map them, across every ITS: two entries mapping one INTID share its {@link Lpi}.
 *
 * <p>Lookups ({@link #get}) are lock-free (the CPU interface reads the timestamps of an acknowledged LPI). Changes
 * take this object's monitor; callers hold an ITS lock first. Lock order: ITS lock, then this monitor.
 */
final class LpiRegistry {
    private final LongObjectMap<Lpi> lpis = new LongObjectMap<>(256);

    /** Called when the last entry of an LPI goes, with the LPI quiesced: drops its pending state. */
    interface Reaper {
        void dropPending(Lpi lpi);
    }

    private final Reaper reaper;

    LpiRegistry(Reaper reaper) {
        this.reaper = reaper;
    }

    Lpi get(int intid) {
        return lpis.get(intid);
    }

    /**
     * The LPI for {@code intid}, with one more reference: the existing one (its target and configuration
     * unchanged, as KVM's {@code vgic_add_lpi}), or a new one with {@code target} and {@code config}.
     */
    synchronized Lpi acquire(int intid, int target, int config) {
        Lpi lpi = lpis.get(intid);
        if (lpi == null) {
            lpi = new Lpi(intid, target, config);
            lpis.put(intid, lpi);
        }
        lpi.references++;
        return lpi;
    }

    /**
     * Drops one reference; the last one retires the LPI and removes its pending state, under this monitor so that a
     * new LPI for the same INTID cannot appear (and become pending) before the old one's state is gone.
     */
    synchronized void release(Lpi lpi) {
        if (--lpi.references > 0) {
            return;
        }
        if (lpi.retire()) {
            reaper.dropPending(lpi);
        }
        lpis.remove(lpi.intid);
    }

    /** A snapshot of the mapped LPIs, for commands that walk them (INVALL, MOVALL, EnableLPIs). */
    synchronized List<Lpi> snapshot() {
        List<Lpi> out = new ArrayList<>(lpis.size());
        lpis.values(out);
        return out;
    }

    int size() {
        return lpis.size();
    }
}
