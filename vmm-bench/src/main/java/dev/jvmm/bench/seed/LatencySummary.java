package dev.jvmm.bench.seed;

import org.HdrHistogram.Histogram;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The percentiles the report quotes from one latency distribution, in nanoseconds (HdrHistogram, 3 significant
 * digits: each value is within 0.1% of the one measured).
 */
record LatencySummary(long count, long p50, long p90, long p99, long p999, long max) {

    static final LatencySummary EMPTY = new LatencySummary(0, 0, 0, 0, 0, 0);

    static LatencySummary of(Histogram h) {
        if (h == null || h.getTotalCount() == 0) {
            return EMPTY;
        }
        return new LatencySummary(h.getTotalCount(), h.getValueAtPercentile(50), h.getValueAtPercentile(90),
                h.getValueAtPercentile(99), h.getValueAtPercentile(99.9), h.getMaxValue());
    }

    /** For {@code seed.json}: the count and each percentile in nanoseconds. */
    Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", count);
        m.put("p50_ns", p50);
        m.put("p90_ns", p90);
        m.put("p99_ns", p99);
        m.put("p999_ns", p999);
        m.put("max_ns", max);
        return m;
    }
}
