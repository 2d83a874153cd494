package dev.jvmm.core.config;

import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A top-level section of the machine configuration, owned by the module it configures: core owns {@code machine}
 * and {@code irq}, vmm-gic owns {@code gic}, vmm-net owns {@code net} and {@code nics}, the guest's module owns
 * {@code guest}, the launcher owns {@code trace}. Whoever assembles a machine (the launcher, a board, an embedder)
 * hands the sections it uses to {@link ConfigLoader}; a module adds a section, a cache strategy or a backend without
 * touching core.
 *
 * <pre>
 *  file ──▶ ConfigLoader ──┬─ machine, irq (core)
 *                          ├─ gic ──────────▶ GicConfig.SECTION.parse(node)     (vmm-gic)
 *                          ├─ net, nics ────▶ NetConfig.SECTION, NicConfig.SECTION (vmm-net)
 *                          └─ guest ────────▶ the section whose selector key is written (see below)
 *                      ──▶ VmConfig ──▶ every section's validate(value, config) ──▶ Machine.builder(config)
 * </pre>
 *
 * <h2>Parsing and validating</h2>
 * {@link #parse} turns the section's node into the module's value, reading it through {@link ConfigNode}'s typed
 * getters, whose errors already name the file, the line and the key. {@link #validate} checks the value, and its
 * relations with other sections, once the whole configuration is read; it runs for files and for configurations
 * built in code alike, and reports through {@code config.source().error(key, problem)}, which finds the key's line.
 *
 * <h2>One key, several owners: the selector rule</h2>
 * Some keys describe a part that more than one module can provide; the guest is the case in point: a Java program
 * of the toy guest ({@code guest.program}) or a compiled image that a board boots ({@code guest.kernel}). Each such
 * section names a {@link #selector()}: the key whose presence says "this section is mine". The loader hands the
 * section to the one whose selector is written; when none is written, to the first of them the assembler registered
 * (its default); when two are, it is an error. So a file names exactly one guest, and every other key of the
 * section belongs to the module that provides that guest.
 *
 * @param <T> the module's value for the section (a record, or a list of records)
 */
public interface ConfigSection<T> {

    /** The top-level key ({@code gic}). */
    String key();

    /** The value when the file has no such section (or the configuration was built in code without it). */
    T defaults();

    /** Reads the section from its node (a mapping, or a list where the section says so). */
    T parse(ConfigNode node);

    /**
     * Checks {@code value} and its relations with the rest of {@code config} (another section's value through
     * {@link VmConfig#get}), throwing {@code config.source().error(key, problem)} for the first problem.
     */
    default void validate(T value, VmConfig config) {
    }

    /**
     * For a key that several sections may own (see the class documentation), the key inside the section that selects
     * this one ({@code program} for the toy guest); null for a key only one section owns.
     */
    default String selector() {
        return null;
    }

    /**
     * A section from its parts, the way modules declare theirs:
     * {@code ConfigSection.of("gic", GicConfig::defaults, GicConfig::parse, GicConfig::validate)}.
     */
    static <T> ConfigSection<T> of(String key, Supplier<T> defaults, Function<ConfigNode, T> parse,
                                   BiConsumer<T, VmConfig> validate) {
        return new Declared<>(key, null, defaults, parse, validate);
    }

    /** As {@link #of}, for a key several modules may own: this section owns it when {@code selector} is written. */
    static <T> ConfigSection<T> selectedBy(String key, String selector, Supplier<T> defaults,
                                           Function<ConfigNode, T> parse, BiConsumer<T, VmConfig> validate) {
        return new Declared<>(key, selector, defaults, parse, validate);
    }

    /** The section {@link #of} and {@link #selectedBy} declare. */
    record Declared<T>(String key, String selector, Supplier<T> defaultValue, Function<ConfigNode, T> parser,
                       BiConsumer<T, VmConfig> validator) implements ConfigSection<T> {
        @Override
        public T defaults() {
            return defaultValue.get();
        }

        @Override
        public T parse(ConfigNode node) {
            return parser.apply(node);
        }

        @Override
        public void validate(T value, VmConfig config) {
            validator.accept(value, config);
        }

        /** Sections are keys of {@link VmConfig}: each declared one is itself, whatever its parts. */
        @Override
        public boolean equals(Object o) {
            return this == o;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(this);
        }

        @Override
        public String toString() {
            return "ConfigSection[" + key + (selector == null ? "" : ", selected by " + selector) + "]";
        }
    }
}
