package dev.jvmm.launcher;

import dev.jvmm.bench.seed.SeedCell;
import dev.jvmm.bench.traffic.UdpSender;
import dev.jvmm.core.config.ConfigValues;
import dev.jvmm.gic.cache.CacheStrategy;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The typed options of the command line: each converter turns an option's text into its value with the same parser
 * the configuration files use ({@link ConfigValues}), and a value it cannot use into picocli's usage error (exit
 * status 2, naming the option). Commands receive values, never text to parse.
 */
final class Converters {
    private Converters() {
    }

    /** {@code text} through {@code parser}; its problem becomes picocli's usage error "'text' problem". */
    private static <T> T convert(String text, java.util.function.Function<String, T> parser) {
        return convert(text, parser, null);
    }

    /** As {@link #convert(String, java.util.function.Function)}, saying {@code problem} (when not null) instead. */
    private static <T> T convert(String text, java.util.function.Function<String, T> parser, String problem) {
        try {
            return parser.apply(text);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException("'" + text + "' " + (problem != null ? problem : e.getMessage()));
        }
    }

    /** A converter through {@code parser}, saying {@code problem} (when not null) for text it cannot use. */
    private abstract static class Parsed<T> implements ITypeConverter<T> {
        private final java.util.function.Function<String, T> parser;
        private final String problem;

        Parsed(java.util.function.Function<String, T> parser, String problem) {
            this.parser = parser;
            this.problem = problem;
        }

        @Override
        public T convert(String text) {
            return Converters.convert(text, parser, problem);
        }
    }

    /** A duration: {@code 10s}, {@code 500ms}, {@code 2m}, {@code 1h}, {@code 200us}; a bare number is seconds. */
    static final class DurationConverter extends Parsed<Duration> {
        DurationConverter() {
            super(t -> Duration.ofNanos(ConfigValues.durationNanos(t, TimeUnit.SECONDS)),
                    "is not a duration such as 10s, 500ms, 2m or 1h");
        }
    }

    /** A size in bytes: {@code 4M}, {@code 212992}, {@code 0x1000}. */
    static final class SizeConverter extends Parsed<Long> {
        SizeConverter() {
            super(ConfigValues::sizeBytes, "is not a size such as 4M, 256K or 212992");
        }
    }

    /** A bit rate per second as iperf's {@code -b} takes it: {@code 40m}, {@code 800k}, {@code 1.5g}. */
    static final class RateConverter extends Parsed<Long> {
        RateConverter() {
            super(Converters::rate, null);
        }
    }

    static long rate(String text) {
        try {
            return UdpSender.parseRate(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("is not a bit rate such as 40m, 800k or 1g");
        }
    }

    /** {@code HOST:PORT}, or a bare {@code PORT} on 127.0.0.1. */
    static final class HostPortConverter extends Parsed<InetSocketAddress> {
        HostPortConverter() {
            super(ConfigValues::socketAddress, "is not HOST:PORT such as 127.0.0.1:9100");
        }
    }

    /** {@code RATE[:LENGTH]}: the built-in sender's bit rate per NIC and payload length (default 64 bytes). */
    static final class TrafficConverter extends Parsed<Traffic> {
        TrafficConverter() {
            super(Traffic::parse, null);
        }
    }

    /** A replay speed: a positive factor, or {@code max}. */
    static final class SpeedConverter implements ITypeConverter<Double> {
        @Override
        public Double convert(String text) {
            return Converters.convert(text, t -> {
                if (t.equals("max")) {
                    return Double.POSITIVE_INFINITY;
                }
                double v;
                try {
                    v = Double.parseDouble(t);
                } catch (NumberFormatException e) {
                    v = -1;
                }
                if (!(v > 0) || Double.isInfinite(v)) {
                    throw new IllegalArgumentException("is not a positive number or 'max'");
                }
                return v;
            });
        }
    }

    /** A translation cache strategy, or {@code all}. */
    static final class StrategiesConverter implements ITypeConverter<List<CacheStrategy>> {
        @Override
        public List<CacheStrategy> convert(String text) {
            return Converters.convert(text, t -> {
                if (t.equals("all")) {
                    return List.of(CacheStrategy.values());
                }
                CacheStrategy s = CacheStrategy.fromConfigName(t);
                if (s == null) {
                    throw new IllegalArgumentException("is not none, global-lru, sharded, per-its or all");
                }
                return List.of(s);
            });
        }
    }

    /** A cell of the seed benchmark: {@code worker}, {@code none}, {@code global-lru}, {@code sharded}, {@code per-its}. */
    static final class SeedCellConverter implements ITypeConverter<SeedCell> {
        @Override
        public SeedCell convert(String text) {
            return Converters.convert(text.trim(), t -> {
                SeedCell c = SeedCell.fromConfigName(t);
                if (c == null) {
                    throw new IllegalArgumentException("is not a cell; known cells are worker, none, global-lru,"
                            + " sharded, per-its (the plain receiver always runs)");
                }
                return c;
            });
        }
    }

    /** Every value of a comma-separated list through {@code item}. */
    static <T> List<T> list(String text, ITypeConverter<T> item) throws Exception {
        List<T> out = new ArrayList<>();
        for (String part : text.split(",", -1)) {
            out.add(item.convert(part.trim()));
        }
        return out;
    }
}
