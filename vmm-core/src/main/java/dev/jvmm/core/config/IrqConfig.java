package dev.jvmm.core.config;

import dev.jvmm.core.irq.InjectionMode;
import dev.jvmm.core.vcpu.HaltPolling;

/**
 * The irq section.
 *
 * <pre>
 * irq: {mode: inline, halt-poll: 200us, halt-poll-adaptive: false, halt-poll-yield: true, injector-spin: 0}
 * </pre>
 *
 * @param mode              how irqfd signals reach the interrupt controller ({@code inline} or {@code worker})
 * @param haltPollNanos     how long a vCPU in WFI polls before it sleeps (KVM's halt_poll_ns): the window itself, or
 *                          with {@code haltPollAdaptive} its upper bound
 * @param injectorSpinNanos how long the idle injector thread spins before it parks
 * @param haltPollAdaptive  whether each vCPU adapts its window as KVM does (grow on a short sleep that polling just
 *                          missed, shrink to zero on a long one), rather than always polling the whole window
 * @param haltPollYield     whether a polling vCPU yields its CPU to any other runnable thread on every round
 *                          ({@link HaltPolling#yielding()}), as KVM polls only while nothing else is runnable
 */
public record IrqConfig(InjectionMode mode, long haltPollNanos, long injectorSpinNanos, boolean haltPollAdaptive,
                        boolean haltPollYield) {

    /** The {@code irq} section. */
    public static final ConfigSection<IrqConfig> SECTION = ConfigSection.of("irq", IrqConfig::defaults,
            IrqConfig::parse, IrqConfig::validate);

    /** A fixed halt-polling window that spins (every WFI polls up to {@code haltPollNanos} without yielding). */
    public IrqConfig(InjectionMode mode, long haltPollNanos, long injectorSpinNanos) {
        this(mode, haltPollNanos, injectorSpinNanos, false, false);
    }

    /**
     * Inline injection, a fixed 200 us halt-polling window that yields, no injector spinning. KVM adapts the window
     * by default; here a fixed one is the default because on a machine with fewer cores than busy threads the
     * adaptive window closes and every wake-up becomes a futex call in the injecting thread; yielding keeps the
     * polling vCPUs from taking the CPU the NICs' event loop and the traffic's senders need (docs/BENCHMARKS.md has
     * the figures for both).
     */
    public static IrqConfig defaults() {
        return new IrqConfig(InjectionMode.INLINE, 200_000, 0, false, true);
    }

    public IrqConfig withMode(InjectionMode m) {
        return new IrqConfig(m, haltPollNanos, injectorSpinNanos, haltPollAdaptive, haltPollYield);
    }

    /** The vCPUs' WFI policy this section describes. */
    public HaltPolling haltPolling() {
        return new HaltPolling(haltPollNanos, haltPollAdaptive, haltPollYield);
    }

    /** Reads the {@code irq} section. */
    static IrqConfig parse(ConfigNode s) {
        IrqConfig d = defaults();
        String mode = s.choice("mode", d.mode().configName(), "inline", "worker");
        long haltPoll = s.duration("halt-poll", d.haltPollNanos());
        long spin = s.duration("injector-spin", d.injectorSpinNanos());
        boolean adaptive = s.bool("halt-poll-adaptive", d.haltPollAdaptive());
        boolean yield = s.bool("halt-poll-yield", d.haltPollYield());
        return new IrqConfig(InjectionMode.valueOf(mode.toUpperCase(java.util.Locale.ROOT)), haltPoll, spin,
                adaptive, yield);
    }

    /** Checks the {@code irq} section and its relations with the rest of the configuration. */
    static void validate(IrqConfig irq, VmConfig config) {
        ConfigSource s = config.source();
        if (irq.mode() == null) {
            throw s.error("irq.mode", "must be inline or worker");
        }
        if (irq.haltPollNanos() < 0 || irq.haltPollNanos() > 1_000_000_000L) {
            throw s.error("irq.halt-poll", "must be between 0 and 1s");
        }
        if (irq.injectorSpinNanos() < 0 || irq.injectorSpinNanos() > 1_000_000_000L) {
            throw s.error("irq.injector-spin", "must be between 0 and 1s");
        }
    }
}
