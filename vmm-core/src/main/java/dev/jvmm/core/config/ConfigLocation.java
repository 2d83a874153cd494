package dev.jvmm.core.config;

/** Where a configuration value came from: file (null when built in code), 1-based line (0 unknown) and key path. */
public record ConfigLocation(String file, int line, String key) {
    /** A location for a value built in code. */
    public static ConfigLocation code(String key) {
        return new ConfigLocation(null, 0, key);
    }

    @Override
    public String toString() {
        return (file == null ? "<config>" : file) + (line > 0 ? ":" + line : "") + ": " + key;
    }
}
