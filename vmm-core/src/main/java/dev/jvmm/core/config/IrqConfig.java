package dev.jvmm.core.config;

import dev.jvmm.core.irq.InjectionMode;

/**
 * The irq section.
 *
 * @param mode              how irqfd signals reach the interrupt controller ({@code inline} or {@code worker})
 * @param haltPollNanos     how long a vCPU in WFI spins before it sleeps (KVM's halt_poll_ns)
 * @param injectorSpinNanos how long the idle injector thread spins before it parks
 */
public record IrqConfig(InjectionMode mode, long haltPollNanos, long injectorSpinNanos) {
    public static IrqConfig defaults() {
        return new IrqConfig(InjectionMode.INLINE, 200_000, 0);
    }

    public IrqConfig withMode(InjectionMode m) {
        return new IrqConfig(m, haltPollNanos, injectorSpinNanos);
    }
}
