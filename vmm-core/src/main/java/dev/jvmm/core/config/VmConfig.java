package dev.jvmm.core.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A whole machine configuration: core's own sections ({@link #machine()}, {@link #irq()}) and the value of every
 * other module's {@link ConfigSection}. Immutable, and valid once {@link #validate()} has returned (the loader and
 * {@link Builder#build()} both call it).
 *
 * <p>From code, with the sections of the modules the machine uses:
 * <pre>{@code
 * VmConfig config = VmConfig.builder()
 *         .vcpus(2).memorySize(256L << 20)
 *         .with(GicConfig.SECTION, GicConfig.defaults().withCache(CacheStrategy.PER_ITS))     // vmm-gic
 *         .with(NicConfig.SECTION, List.of(NicConfig.builder(0).listen(5001).build()))         // vmm-net
 *         .build();
 * GicConfig gic = config.get(GicConfig.SECTION);   // the value, or the section's defaults when it was not given
 * }</pre>
 */
public final class VmConfig {

    private final ConfigSource source;
    private final MachineConfig machine;
    private final IrqConfig irq;
    /** The module sections given (by the file or in code), in the order they were registered. */
    private final Map<ConfigSection<?>, Object> sections;

    VmConfig(ConfigSource source, MachineConfig machine, IrqConfig irq, Map<ConfigSection<?>, Object> sections) {
        this.source = Objects.requireNonNull(source);
        this.machine = Objects.requireNonNull(machine, "machine");
        this.irq = Objects.requireNonNull(irq, "irq");
        this.sections = Collections.unmodifiableMap(new LinkedHashMap<>(sections));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Where the configuration came from: a file's name and the line of every key, or code. */
    public ConfigSource source() {
        return source;
    }

    public MachineConfig machine() {
        return machine;
    }

    public IrqConfig irq() {
        return irq;
    }

    /** The value of {@code section}: the one given, or the section's defaults. */
    @SuppressWarnings("unchecked")
    public <T> T get(ConfigSection<T> section) {
        Object v = sections.get(section);
        return v != null ? (T) v : section.defaults();
    }

    /**
     * The value of {@code section} when it was given (by the file, including the defaults of a section the file
     * left out, or in code); empty otherwise, and for a section whose key another section owns in this
     * configuration (the guest a file did not select).
     */
    @SuppressWarnings("unchecked")
    public <T> Optional<T> find(ConfigSection<T> section) {
        return Optional.ofNullable((T) sections.get(section));
    }

    /** The module sections given, in registration order. */
    public Map<ConfigSection<?>, Object> sections() {
        return sections;
    }

    /** The interrupt controller's section, when one that describes itself to others was given. */
    public Optional<InterruptControllerConfig> interruptController() {
        for (Object v : sections.values()) {
            if (v instanceof InterruptControllerConfig) {
                return Optional.of((InterruptControllerConfig) v);
            }
        }
        return Optional.empty();
    }

    /** A copy with {@code section} set to {@code value} (not validated: call {@link #validate()}). */
    public <T> VmConfig with(ConfigSection<T> section, T value) {
        Map<ConfigSection<?>, Object> next = new LinkedHashMap<>(sections);
        for (ConfigSection<?> other : sections.keySet()) {
            if (other != section && other.key().equals(section.key())) {
                next.remove(other);
            }
        }
        next.put(section, Objects.requireNonNull(value));
        return new VmConfig(source, machine, irq, next);
    }

    public VmConfig withMachine(MachineConfig m) {
        return new VmConfig(source, m, irq, sections);
    }

    public VmConfig withIrq(IrqConfig i) {
        return new VmConfig(source, machine, i, sections);
    }

    /**
     * Checks every value and every relation between values, core's sections first, then each module section in
     * registration order; throws a {@link ConfigException} naming the first problem's key (and, for a file, its line).
     * Returns this configuration.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public VmConfig validate() {
        MachineConfig.SECTION.validate(machine, this);
        IrqConfig.SECTION.validate(irq, this);
        for (Map.Entry<ConfigSection<?>, Object> e : sections.entrySet()) {
            ((ConfigSection) e.getKey()).validate(e.getValue(), this);
        }
        return this;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("VmConfig[machine=").append(machine).append(", irq=").append(irq);
        for (Map.Entry<ConfigSection<?>, Object> e : sections.entrySet()) {
            sb.append(", ").append(e.getKey().key()).append('=').append(e.getValue());
        }
        return sb.append(']').toString();
    }

    /** Builds a configuration in code; {@link #build()} validates it. */
    public static final class Builder {
        private MachineConfig machine = MachineConfig.defaults();
        private IrqConfig irq = IrqConfig.defaults();
        private final Map<ConfigSection<?>, Object> sections = new LinkedHashMap<>();

        public Builder machine(MachineConfig m) {
            machine = m;
            return this;
        }

        public Builder vcpus(int n) {
            machine = machine.withVcpus(n);
            return this;
        }

        public Builder memorySize(long bytes) {
            machine = machine.withMemorySize(bytes);
            return this;
        }

        public Builder irq(IrqConfig i) {
            irq = i;
            return this;
        }

        /** Sets a module's section (replacing any other section of the same key). */
        public <T> Builder with(ConfigSection<T> section, T value) {
            sections.keySet().removeIf(other -> other != section && other.key().equals(section.key()));
            sections.put(section, Objects.requireNonNull(value));
            return this;
        }

        public VmConfig build() {
            return new VmConfig(ConfigSource.code(), machine, irq, sections).validate();
        }
    }
}
