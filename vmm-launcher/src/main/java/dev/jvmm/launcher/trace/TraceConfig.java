package dev.jvmm.launcher.trace;

import dev.jvmm.core.config.ConfigNode;
import dev.jvmm.core.config.ConfigSection;

import java.nio.file.Path;

/**
 * The trace section, owned by the launcher (the trace journal is a tool of its command line):
 *
 * <pre>
 * trace: {dir: /tmp/jvmm-trace}     # record every MSI and datagram into a Chronicle Queue (or pass --trace DIR)
 * </pre>
 *
 * @param dir where to record, or null for no trace
 */
public record TraceConfig(Path dir) {

    /** The {@code trace} section. */
    public static final ConfigSection<TraceConfig> SECTION = ConfigSection.of("trace", TraceConfig::none,
            TraceConfig::parse, (value, config) -> { });

    public static TraceConfig none() {
        return new TraceConfig(null);
    }

    public boolean enabled() {
        return dir != null;
    }

    /** Reads the {@code trace} section. */
    static TraceConfig parse(ConfigNode s) {
        String dir = s.string("dir", null);
        return new TraceConfig(dir == null ? null : Path.of(dir));
    }
}
