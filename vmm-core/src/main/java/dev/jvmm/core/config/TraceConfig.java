package dev.jvmm.core.config;

import java.nio.file.Path;

/** The trace section: where to record MSIs and datagrams (null: no tracing). */
public record TraceConfig(Path dir) {
    public static TraceConfig none() {
        return new TraceConfig(null);
    }

    public boolean enabled() {
        return dir != null;
    }
}
