package dev.jvmm.core.config;

/**
 * A configuration the machine cannot run: the message names the file, the line and the key, e.g.
 * {@code configs/toy-guest.yaml:7: machine.vcpus: must be between 1 and 64, got 0}. The launcher prints the message
 * alone (no stack trace) and exits with status 2.
 */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final int line;
    private final String key;

    public ConfigException(String file, int line, String key, String problem) {
        super(format(file, line, key, problem));
        this.file = file;
        this.line = line;
        this.key = key;
    }

    public ConfigException(ConfigLocation where, String problem) {
        this(where.file(), where.line(), where.key(), problem);
    }

    private static String format(String file, int line, String key, String problem) {
        StringBuilder sb = new StringBuilder();
        sb.append(file == null ? "<config>" : file);
        if (line > 0) {
            sb.append(':').append(line);
        }
        sb.append(": ");
        if (key != null && !key.isEmpty()) {
            sb.append(key).append(": ");
        }
        return sb.append(problem).toString();
    }

    /** The file, or null when the configuration was built in code. */
    public String file() {
        return file;
    }

    /** The 1-based line, or 0 when unknown. */
    public int line() {
        return line;
    }

    /** The dotted key path, e.g. {@code nics[1].listen}. */
    public String key() {
        return key;
    }
}
