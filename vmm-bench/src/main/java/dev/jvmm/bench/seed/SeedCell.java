package dev.jvmm.bench.seed;

import dev.jvmm.core.config.ConfigValues;
import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.irq.InjectionMode;
import dev.jvmm.net.NicConfig.NicInterrupt;


/**
 * One injection setup the seed benchmark compares: a cell of its table. Every cell runs on a fresh machine with the
 * same traffic; they differ only in {@code irq.mode}, {@code gic.cache} and the NICs' {@code interrupt}.
 *
 * <pre>
 *  cell         irq.mode  gic.cache    NICs   what it stands for
 *  worker       worker    (unused)     msi    every MSI through the injector thread: KVM before Linux 5.4, the seed's
 *                                             "worker"
 *  none         inline    none         msi    the cached path is tried and always misses, so every MSI still goes to
 *                                             the injector thread: the "cache forced to miss" baseline
 *  global-lru   inline    global-lru   msi    Linux 5.4: one LRU under one machine-wide lock (the seed's "cache")
 *  sharded      inline    sharded      msi    the seed patch: 8 LRU shards chosen by the injecting thread (the seed's
 *                                             "shards")
 *  per-its      inline    per-its      msi    Linux 6.10: one lock-free map per ITS
 *  wired        inline    (unused)     wired  no translation at all: each NIC's irqfd pulses its slot's SPI in the
 *                                             signalling thread (an irqchip route, as Firecracker's virtio-mmio); what
 *                                             translation costs is the difference to the cached cells
 * </pre>
 */
public enum SeedCell {
    WORKER(InjectionMode.WORKER, CacheStrategy.PER_ITS, NicInterrupt.MSI),
    NONE(InjectionMode.INLINE, CacheStrategy.NONE, NicInterrupt.MSI),
    GLOBAL_LRU(InjectionMode.INLINE, CacheStrategy.GLOBAL_LRU, NicInterrupt.MSI),
    SHARDED(InjectionMode.INLINE, CacheStrategy.SHARDED, NicInterrupt.MSI),
    PER_ITS(InjectionMode.INLINE, CacheStrategy.PER_ITS, NicInterrupt.MSI),
    WIRED(InjectionMode.INLINE, CacheStrategy.PER_ITS, NicInterrupt.WIRED);

    private final InjectionMode mode;
    private final CacheStrategy cache;
    private final NicInterrupt interrupt;

    SeedCell(InjectionMode mode, CacheStrategy cache, NicInterrupt interrupt) {
        this.mode = mode;
        this.cache = cache;
        this.interrupt = interrupt;
    }

    /** How the machine of this cell hands a signalled irqfd to the interrupt controller. */
    public InjectionMode mode() {
        return mode;
    }

    /**
     * The translation cache the machine is built with. The worker cell never looks it up (its injector thread fills
     * it, unused), and the wired cell raises no MSI, so any strategy gives the same path; they keep the default.
     */
    public CacheStrategy cache() {
        return cache;
    }

    /** Whether the cell's machine looks its cache up: inline MSIs. */
    public boolean usesCache() {
        return mode == InjectionMode.INLINE && interrupt == NicInterrupt.MSI;
    }

    /** How the cell's NICs interrupt the guest: MSIs through the ITS, or their slots' wired SPIs. */
    public NicInterrupt interrupt() {
        return interrupt;
    }

    /** Whether MSIs can take the cached fast path in this cell ({@code inline} MSIs with a real cache). */
    public boolean cached() {
        return usesCache() && cache != CacheStrategy.NONE;
    }

    /** The command-line and report spelling: {@code worker}, {@code none}, {@code global-lru}, ... */
    public String configName() {
        return ConfigValues.configName(this);
    }

    /** Parses a {@link #configName()}; null when there is no such constant. */
    public static SeedCell fromConfigName(String s) {
        return ConfigValues.fromConfigName(values(), s);
    }
}
