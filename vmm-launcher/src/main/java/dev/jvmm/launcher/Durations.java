package dev.jvmm.launcher;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Command-line durations: {@code 10s}, {@code 500ms}, {@code 2m}, {@code 1h}, or a number of seconds. */
final class Durations {
    private static final Pattern P = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)?");

    private Durations() {
    }

    static Duration parse(String option, String text) {
        Matcher m = P.matcher(text.trim());
        if (!m.matches()) {
            throw new Main.UsageException(option + ": '" + text + "' is not a duration such as 10s, 500ms, 2m or 1h");
        }
        double v = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        double nanos = v * switch (unit) {
            case "ms" -> 1e6;
            case "m" -> 60e9;
            case "h" -> 3600e9;
            default -> 1e9;
        };
        if (nanos > 366 * 24 * 3600e9) {
            throw new Main.UsageException(option + ": '" + text + "' is longer than a year");
        }
        return Duration.ofNanos((long) nanos);
    }
}
