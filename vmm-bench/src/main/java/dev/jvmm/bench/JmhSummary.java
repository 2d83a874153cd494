package dev.jvmm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Turns JMH's JSON results ({@code -rf json -rff FILE}) into the Markdown table the README quotes: per benchmark
 * and parameter set, the median of the measured iterations (over every fork) with the smallest and the largest,
 * rather than JMH's mean and confidence interval, which a few preempted iterations on a shared machine pull
 * around. Several files of the same benchmarks (repeated runs) are merged cell by cell: the median is then over
 * every measured iteration of every run, and a drift of the machine's load between runs affects all cells alike.
 * Optionally, each row's median is divided by the median of a baseline row, so that a ratio is always taken
 * between figures measured in the same runs.
 *
 * <pre>
 *  java -jar vmm-bench/target/benchmarks.jar IrqfdInject -rf json -rff irqfd.json
 *  java -cp vmm-bench/target/benchmarks.jar dev.jvmm.bench.JmhSummary irqfd.json --ratio path=worker
 *  java -cp vmm-bench/target/benchmarks.jar dev.jvmm.bench.JmhSummary round1.json round2.json round3.json
 * </pre>
 *
 * <p>{@code --ratio name=value}: the baseline of a row is the row of the same benchmark method whose parameter
 * {@code name} is {@code value} and whose other parameters are the row's. Columns: median, min, max, the number of
 * measured iterations, and, when the run used {@code -prof gc}, the median of {@code gc.alloc.rate.norm} (B/op).
 */
public final class JmhSummary {

    private JmhSummary() {
    }

    /** One row of the table: every measured iteration of one benchmark method with one parameter set. */
    record Row(String benchmark, Map<String, String> params, String unit, double[] values, double[] allocValues) {
        double median() {
            return Medians.median(values);
        }

        double allocNorm() {
            return Medians.median(allocValues);
        }

        boolean sameCell(Row o) {
            return benchmark.equals(o.benchmark) && params.equals(o.params) && unit.equals(o.unit);
        }

        /** This row with the iterations of {@code o} (the same cell from another run) added. */
        Row merge(Row o) {
            return new Row(benchmark, params, unit, concat(values, o.values), concat(allocValues, o.allocValues));
        }

        /** The parameters but {@code name}, to find a row's baseline. */
        Map<String, String> without(String name) {
            Map<String, String> m = new LinkedHashMap<>(params);
            m.remove(name);
            return m;
        }
    }

    public static void main(String[] args) throws IOException {
        List<String> files = new ArrayList<>();
        String ratioName = null;
        String ratioValue = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--ratio") && i + 1 < args.length) {
                String[] kv = args[++i].split("=", 2);
                if (kv.length != 2) {
                    usage();
                    return;
                }
                ratioName = kv[0];
                ratioValue = kv[1];
            } else if (args[i].startsWith("-")) {
                usage();
                return;
            } else {
                files.add(args[i]);
            }
        }
        if (files.isEmpty()) {
            usage();
            return;
        }
        List<Row> rows = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String f : files) {
            for (JsonNode run : json.readTree(new File(f))) {
                add(rows, row(run));
            }
        }
        System.out.print(table(rows, ratioName, ratioValue));
    }

    private static void usage() {
        System.err.println("usage: JmhSummary RESULT.json... [--ratio PARAM=BASELINE_VALUE]");
        System.exit(2);
    }

    /** Adds a row, or merges it into the row of the same cell from an earlier file (a repeated run). */
    static void add(List<Row> rows, Row r) {
        for (int i = 0; i < rows.size(); i++) {
            if (rows.get(i).sameCell(r)) {
                rows.set(i, rows.get(i).merge(r));
                return;
            }
        }
        rows.add(r);
    }

    private static double[] concat(double[] a, double[] b) {
        double[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    static Row row(JsonNode run) {
        String name = run.path("benchmark").asText();
        String[] parts = name.split("\\.");
        String shortName = parts.length >= 2 ? parts[parts.length - 2] + "." + parts[parts.length - 1] : name;
        Map<String, String> params = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = run.path("params").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            params.put(e.getKey(), e.getValue().asText());
        }
        JsonNode primary = run.path("primaryMetric");
        double[] values = raw(primary);
        if (values.length == 0) {
            // Sample mode keeps a histogram instead of raw iterations: fall back to its median.
            values = new double[]{primary.path("scorePercentiles").path("50.0").asDouble(Double.NaN)};
        }
        double[] alloc = raw(run.path("secondaryMetrics").path("gc.alloc.rate.norm"));
        return new Row(shortName, params, primary.path("scoreUnit").asText(), values, alloc);
    }

    private static double[] raw(JsonNode metric) {
        List<Double> v = new ArrayList<>();
        for (JsonNode fork : metric.path("rawData")) {
            for (JsonNode x : fork) {
                v.add(x.asDouble());
            }
        }
        return v.stream().mapToDouble(Double::doubleValue).toArray();
    }


    static String table(List<Row> rows, String ratioName, String ratioValue) {
        StringBuilder out = new StringBuilder();
        boolean alloc = rows.stream().anyMatch(r -> !Double.isNaN(r.allocNorm()));
        out.append("| benchmark | parameters | median | min | max | n | unit |");
        if (alloc) {
            out.append(" alloc B/op |");
        }
        if (ratioName != null) {
            out.append(" vs ").append(ratioName).append('=').append(ratioValue).append(" |");
        }
        out.append('\n');
        out.append("|---|---|---:|---:|---:|---:|---|");
        if (alloc) {
            out.append("---:|");
        }
        if (ratioName != null) {
            out.append("---:|");
        }
        out.append('\n');
        for (Row r : rows) {
            double[] s = r.values().clone();
            Arrays.sort(s);
            out.append("| ").append(r.benchmark()).append(" | ").append(params(r.params())).append(" | ")
                    .append(format(r.median())).append(" | ").append(format(s[0])).append(" | ")
                    .append(format(s[s.length - 1])).append(" | ").append(s.length).append(" | ").append(r.unit())
                    .append(" |");
            if (alloc) {
                out.append(' ').append(Double.isNaN(r.allocNorm()) ? "" : String.format(Locale.ROOT, "%.3f",
                        r.allocNorm())).append(" |");
            }
            if (ratioName != null) {
                Row base = baseline(rows, r, ratioName, ratioValue);
                out.append(' ').append(base == null ? "" : String.format(Locale.ROOT, "%.3g",
                        r.median() / base.median())).append(" |");
            }
            out.append('\n');
        }
        return out.toString();
    }

    private static Row baseline(List<Row> rows, Row r, String name, String value) {
        if (!r.params().containsKey(name)) {
            return null;
        }
        for (Row b : rows) {
            if (b.benchmark().equals(r.benchmark()) && value.equals(b.params().get(name))
                    && Objects.equals(b.without(name), r.without(name))) {
                return b;
            }
        }
        return null;
    }

    private static String params(Map<String, String> p) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> e : p.entrySet()) {
            if (b.length() > 0) {
                b.append(' ');
            }
            b.append(e.getKey()).append('=').append(e.getValue());
        }
        return b.toString();
    }

    private static String format(double v) {
        if (Double.isNaN(v)) {
            return "";
        }
        if (Math.abs(v) >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
