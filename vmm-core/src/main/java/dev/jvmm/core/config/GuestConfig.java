package dev.jvmm.core.config;

import java.util.Map;

/**
 * The guest section: which guest program the vCPUs run, and its options (program-specific, as strings).
 *
 * @param program  the program's name (the launcher knows {@code udp-sink}, {@code udp-echo}, {@code idle})
 * @param options  program options
 */
public record GuestConfig(String program, Map<String, String> options) {
    public GuestConfig {
        options = Map.copyOf(options);
    }

    public static GuestConfig of(String program) {
        return new GuestConfig(program, Map.of());
    }

    /** The option {@code key}, or {@code fallback}. */
    public String option(String key, String fallback) {
        return options.getOrDefault(key, fallback);
    }
}
