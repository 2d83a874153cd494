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
    public static final ConfigSection<TraceConfig> SECTION = new ConfigSection<>() {
        @Override
        public String key() {
            return "trace";
        }

        @Override
        public TraceConfig defaults() {
            return none();
        }

        @Override
        public TraceConfig parse(ConfigNode s) {
            String dir = s.string("dir", null);
            return new TraceConfig(dir == null ? null : Path.of(dir));
        }
    };

    public static TraceConfig none() {
        return new TraceConfig(null);
    }

    public boolean enabled() {
        return dir != null;
    }
}
