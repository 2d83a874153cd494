package dev.jvmm.core.config;

import java.util.Map;

/**
 * Where a configuration came from: its file and the line of every key, so that a problem found after parsing
 * (two NICs on one port, say) can still name its line.
 */
public final class ConfigSource {
    private static final ConfigSource CODE = new ConfigSource(null, Map.of());

    private final String file;
    private final Map<String, Integer> lines;

    ConfigSource(String file, Map<String, Integer> lines) {
        this.file = file;
        this.lines = Map.copyOf(lines);
    }

    /** A configuration built in code: locations name the key only. */
    public static ConfigSource code() {
        return CODE;
    }

    /** The file name, or null. */
    public String file() {
        return file;
    }

    /**
     * The location of {@code key} (a dotted path such as {@code nics[1].listen}); when the key itself was not
     * written, the line of its nearest written parent.
     */
    public ConfigLocation locate(String key) {
        String k = key;
        while (true) {
            Integer line = lines.get(k);
            if (line != null) {
                return new ConfigLocation(file, line, key);
            }
            int cut = Math.max(k.lastIndexOf('.'), k.lastIndexOf('['));
            if (cut <= 0) {
                return new ConfigLocation(file, 0, key);
            }
            k = k.substring(0, cut);
        }
    }

    /** Whether {@code key} was written in the file. */
    public boolean has(String key) {
        return lines.containsKey(key);
    }

    /** A {@link ConfigException} about {@code key}. */
    public ConfigException error(String key, String problem) {
        return new ConfigException(locate(key), problem);
    }
}
