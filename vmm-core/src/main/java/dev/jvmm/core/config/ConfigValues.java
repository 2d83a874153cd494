package dev.jvmm.core.config;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The spellings of values that configuration files and command-line options share: sizes, durations and socket
 * addresses. One parser each, so that {@code 4M}, {@code 200us} or {@code 127.0.0.1:5001} mean the same in a YAML file
 * and on the command line. Every parser throws {@link IllegalArgumentException} with a message that completes
 * "KEY: ..." (the configuration loader and the command line's converters put the key or option in front).
 */
public final class ConfigValues {

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([KMGT]?)(i?B)?", Pattern.CASE_INSENSITIVE);
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ns|us|µs|ms|s|m|h)?");
    /** Longer than any run: a value beyond it is a typo. */
    private static final double MAX_DURATION_NANOS = 366 * 24 * 3600e9;

    private ConfigValues() {
    }

    /**
     * A size in bytes: a number with an optional binary unit ({@code K}, {@code M}, {@code G}, {@code T}; {@code 4M},
     * {@code 4MiB}), or hexadecimal ({@code 0x1000}).
     */
    public static long sizeBytes(String text) {
        String v = text.trim();
        try {
            if (v.startsWith("0x") || v.startsWith("0X")) {
                return Long.parseUnsignedLong(v.substring(2).replace("_", ""), 16);
            }
            Matcher m = SIZE.matcher(v.replace("_", ""));
            if (m.matches()) {
                long base = Long.parseLong(m.group(1));
                int shift;
                switch (m.group(2).toUpperCase(Locale.ROOT)) {
                    case "K": shift = 10; break;
                    case "M": shift = 20; break;
                    case "G": shift = 30; break;
                    case "T": shift = 40; break;
                    default: shift = 0;
                }
                if (base > (Long.MAX_VALUE >> shift)) {
                    throw new IllegalArgumentException("size " + v + " is too large");
                }
                return base << shift;
            }
        } catch (NumberFormatException e) {
            // fall through to the message below
        }
        throw new IllegalArgumentException("must be a size such as 256M, 1G, 4096 or 0x1000, got '" + v + "'");
    }

    /**
     * A duration in nanoseconds: a number (decimals allowed) with a unit ({@code ns}, {@code us} or {@code µs},
     * {@code ms}, {@code s}, {@code m}, {@code h}), or a bare {@code 0}. A configuration key takes this form.
     */
    public static long durationNanos(String text) {
        return durationNanos(text, null);
    }

    /**
     * As {@link #durationNanos(String)}, but a number without a unit counts in {@code bareUnit} (an option named
     * {@code --seconds} takes {@code 2.5}); with a null {@code bareUnit} a unit is required except for 0.
     */
    public static long durationNanos(String text, TimeUnit bareUnit) {
        String v = text.trim();
        Matcher m = DURATION.matcher(v.replace("_", ""));
        if (!m.matches()) {
            throw new IllegalArgumentException("must be a duration such as 200us, 500ms, 10s or 2m, got '" + v + "'");
        }
        double amount = Double.parseDouble(m.group(1));
        String unit = m.group(2);
        double perUnit;
        if (unit == null) {
            if (bareUnit == null) {
                if (amount == 0) {
                    return 0;
                }
                throw new IllegalArgumentException("a duration needs a unit (ns, us, ms, s, m or h), got '" + v + "'");
            }
            perUnit = bareUnit.toNanos(1);
        } else {
            switch (unit) {
                case "ns": perUnit = 1; break;
                case "us":
                case "µs": perUnit = 1e3; break;
                case "ms": perUnit = 1e6; break;
                case "s": perUnit = 1e9; break;
                case "m": perUnit = 60e9; break;
                default: perUnit = 3600e9;
            }
        }
        double nanos = amount * perUnit;
        if (nanos > MAX_DURATION_NANOS) {
            throw new IllegalArgumentException("duration " + v + " is longer than a year");
        }
        return Math.round(nanos);
    }

    /**
     * A socket address: {@code host:port}, {@code [v6]:port}, or a bare port (on 127.0.0.1). The host is resolved
     * now; port 0 means "any free port".
     */
    public static InetSocketAddress socketAddress(String text) {
        String v = text.trim();
        String host = "127.0.0.1";
        String port = v;
        int colon = v.lastIndexOf(':');
        if (colon >= 0) {
            host = v.substring(0, colon);
            port = v.substring(colon + 1);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("must be host:port such as 127.0.0.1:5001, got '" + v + "'");
        }
        if (p < 0 || p > 65535) {
            throw new IllegalArgumentException("port " + p + " is outside 0..65535");
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("must be host:port such as 127.0.0.1:5001, got '" + v + "'");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), p);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve host '" + host + "'");
        }
    }

    /** {@code host:port} as a user writes it (no leading slash, no resolved name). */
    public static String hostPort(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }

    /** The configuration spelling of an enum constant: lower case, {@code -} for {@code _} (GLOBAL_LRU: global-lru). */
    public static String configName(Enum<?> constant) {
        return constant.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The constant of {@code values} spelled {@code text} in a configuration ({@link #configName}), or null. */
    public static <E extends Enum<E>> E fromConfigName(E[] values, String text) {
        for (E e : values) {
            if (configName(e).equals(text)) {
                return e;
            }
        }
        return null;
    }

    /** A duration for messages in its largest whole unit: {@code 200us}, {@code 3s}, {@code 1500ns}. */
    public static String describeNanos(long nanos) {
        String[] units = {"s", "ms", "us"};
        long[] sizes = {1_000_000_000L, 1_000_000L, 1_000L};
        for (int i = 0; i < units.length; i++) {
            if (nanos % sizes[i] == 0) {
                return nanos / sizes[i] + units[i];
            }
        }
        return nanos + "ns";
    }
}
