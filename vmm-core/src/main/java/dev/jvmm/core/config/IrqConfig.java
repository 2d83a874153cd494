package dev.jvmm.core.config;

import dev.jvmm.core.irq.InjectionMode;

/**
 * The irq section.
 *
 * @param mode              how irqfd signals reach the interrupt controller ({@code inline} or {@code worker})
 * @param haltPollNanos     how long a vCPU in WFI spins before it sleeps (KVM's halt_poll_ns): the window itself, or
 *                          with {@code haltPollAdaptive} its upper bound
 * @param injectorSpinNanos how long the idle injector thread spins before it parks
 * @param haltPollAdaptive  whether each vCPU adapts its window as KVM does (grow on a short sleep that polling just
 *                          missed, shrink to zero on a long one), rather than always spinning the whole window
 */
public record IrqConfig(InjectionMode mode, long haltPollNanos, long injectorSpinNanos, boolean haltPollAdaptive) {

    /** A fixed halt-polling window (every WFI spins up to {@code haltPollNanos}). */
    public IrqConfig(InjectionMode mode, long haltPollNanos, long injectorSpinNanos) {
        this(mode, haltPollNanos, injectorSpinNanos, false);
    }

    /**
     * Inline injection, a fixed 200 us halt-polling window, no injector spinning. KVM adapts the window by default;
     * here a fixed one is the default because on a machine with fewer cores than busy threads the adaptive window
     * closes and every wake-up becomes a futex call in the injecting thread (docs/BENCHMARKS.md has the figures).
     */
    public static IrqConfig defaults() {
        return new IrqConfig(InjectionMode.INLINE, 200_000, 0, false);
    }

    public IrqConfig withMode(InjectionMode m) {
        return new IrqConfig(m, haltPollNanos, injectorSpinNanos, haltPollAdaptive);
    }
}
