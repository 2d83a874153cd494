package dev.jvmm.core.irq;

import dev.jvmm.core.config.ConfigValues;

/** How a signalled irqfd reaches the interrupt controller (one choice per machine). */
public enum InjectionMode {
    /**
     * Every signal is handed to the injector thread through a queue, which performs the full translation and
     * injection: KVM's path through {@code schedule_work(&irqfd->inject)} and a kworker.
     */
    WORKER,
    /**
     * The signalling thread first tries the interrupt controller's non-blocking cached path, as KVM's
     * {@code irqfd_wakeup} does with {@code kvm_arch_set_irq_inatomic}; only a miss goes to the injector thread.
     */
    INLINE;

    /** The configuration spelling: {@code worker} or {@code inline}. */
    public String configName() {
        return ConfigValues.configName(this);
    }
}
