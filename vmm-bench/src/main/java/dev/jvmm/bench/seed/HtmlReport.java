package dev.jvmm.bench.seed;

import dev.jvmm.bench.seed.SeedResults.Distribution;
import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code report.html}: one self-contained page (inline CSS and SVG; no script, font or image from elsewhere) with
 * the summary tables, the targets, and percentile plots in HdrHistogram's style:
 *
 * <pre>
 *  latency (us, log)
 *    │                                    ╭──  the tail: each step right is ten times rarer
 *    │                 ╭──────────────────╯
 *    │─────────────────╯
 *    └──────┬────────┬────────┬────────┬──▶ percentile, x = log10(1 / (1 - p))
 *           0%      90%      99%     99.9%
 * </pre>
 *
 * Each plot draws a distribution merged over every repetition of its cell.
 */
final class HtmlReport {
    private static final String[] CELL_COLORS = {"#d62728", "#ff7f0e", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b"};
    private static final String[] DIST_COLORS = {"#1f77b4", "#d62728", "#2ca02c"};
    private static final int W = 560;
    private static final int H = 300;
    private static final int LEFT = 62;
    private static final int RIGHT = 150;
    private static final int TOP = 28;
    private static final int BOTTOM = 42;

    private HtmlReport() {
    }

    /** One line of a plot. */
    record Series(String name, String color, List<double[]> points, long count) {
    }

    static String render(SeedResults r) {
        StringBuilder h = new StringBuilder(64 * 1024);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>vmm bench seed</title>\n<style>\n")
                .append("body{font-family:sans-serif;margin:1.5em;max-width:1250px;color:#222}")
                .append("table{border-collapse:collapse;margin:.4em 0 1.2em}td,th{border:1px solid #ccc;padding:2px 7px;")
                .append("text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}")
                .append("td.l,th.l{text-align:left}.met{color:#1a7f37;font-weight:bold}.missed{color:#c62828;")
                .append("font-weight:bold}.na{color:#777}.note{color:#555;font-size:90%}.kernel{background:#fff8e1}")
                .append("svg{border:1px solid #ddd;margin:4px;background:#fff}h2{margin-top:1.6em}\n</style></head><body>\n");
        h.append("<h1>vmm bench seed</h1>\n<p>").append(esc(SeedReport.headline(r))).append("</p>\n");
        machine(h, r.machine());
        h.append("<h2>Summary</h2>\n");
        for (SeedReport.Table t : SeedReport.tables(r)) {
            boolean kernel = t.title().startsWith("kernel figures");
            h.append("<h3").append(kernel ? " class=\"kernel\"" : "").append('>').append(esc(t.title())).append("</h3>\n");
            table(h, t.rows(), kernel);
            if (t.note() != null) {
                h.append("<p class=\"note\">").append(esc(t.note())).append("</p>\n");
            }
        }
        h.append("<h2>Targets</h2>\n<table><tr><th class=\"l\">verdict</th><th class=\"l\">target</th>")
                .append("<th class=\"l\">subject</th><th class=\"l\">figures</th></tr>\n");
        for (SeedResults.Target t : r.targets()) {
            String cls = t.met() == null ? "na" : t.met() ? "met" : "missed";
            h.append("<tr><td class=\"l ").append(cls).append("\">").append(SeedReport.verdict(t.met()))
                    .append("</td><td class=\"l\">").append(esc(t.id())).append("</td><td class=\"l\">")
                    .append(esc(t.subject())).append("</td><td class=\"l\">").append(esc(t.detail())).append("</td></tr>\n");
        }
        h.append("</table>\n");

        h.append("<h2>Distributions</h2>\n<p class=\"note\">Percentile plots (x: percentile on a log scale of"
                + " 1/(1&minus;p); y: latency in microseconds, log scale), each over every repetition of its cell"
                + " merged. t1&rarr;t2 is what the seed measured; t0&rarr;t3 adds the device, the vCPU's wake-up and"
                + " the guest's dispatch.</p>\n");
        List<String> cells = new ArrayList<>(r.columns());
        cells.remove(CellRun.PLAIN);
        for (int n : r.options().nics()) {
            h.append("<h3>").append(n).append(" NIC").append(n == 1 ? "" : "s").append(", ")
                    .append(SeedOptions.vcpusFor(n)).append(" vCPU").append(SeedOptions.vcpusFor(n) == 1 ? "" : "s")
                    .append("</h3>\n<div>");
            for (Distribution d : new Distribution[]{Distribution.SIGNAL_TO_PENDING, Distribution.ARRIVAL_TO_ACK}) {
                List<Series> series = new ArrayList<>();
                for (String c : cells) {
                    Histogram m = r.merged(n, c, d);
                    series.add(new Series(c, CELL_COLORS[colorIndex(c)], SeedResults.percentileCurve(m), m.getTotalCount()));
                }
                h.append(svg(d.label + ", every cell", series));
            }
            h.append("</div>\n<div>");
            for (String c : cells) {
                List<Series> series = new ArrayList<>();
                for (Distribution d : Distribution.values()) {
                    Histogram m = r.merged(n, c, d);
                    series.add(new Series(d.label.substring(0, 7), DIST_COLORS[d.ordinal()],
                            SeedResults.percentileCurve(m), m.getTotalCount()));
                }
                h.append(svg(c + " (" + n + " NIC" + (n == 1 ? "" : "s") + ")", series));
            }
            h.append("</div>\n");
        }
        h.append("<h2>Definitions</h2>\n<ul class=\"note\">\n");
        for (Map.Entry<String, Object> e : definitions(r).entrySet()) {
            h.append("<li><b>").append(esc(e.getKey())).append("</b>: ").append(esc(String.valueOf(e.getValue())))
                    .append("</li>\n");
        }
        h.append("</ul>\n<p class=\"note\">Every figure on this page is measured by this run; the only exception is"
                + " the table marked as kernel figures from other hardware. seed.json beside this file holds every"
                + " figure per repetition and the merged histograms (HdrHistogram, compressed, base64).</p>\n");
        h.append("</body></html>\n");
        return h.toString();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> definitions(SeedResults r) {
        return (Map<String, Object>) r.json().get("definitions");
    }

    private static int colorIndex(String cell) {
        SeedCell c = SeedCell.fromConfigName(cell);
        return c == null ? CELL_COLORS.length - 1 : c.ordinal();
    }

    private static void machine(StringBuilder h, Map<String, Object> m) {
        h.append("<table>");
        for (Map.Entry<String, Object> e : m.entrySet()) {
            h.append("<tr><th class=\"l\">").append(esc(e.getKey())).append("</th><td class=\"l\">")
                    .append(esc(String.valueOf(e.getValue()))).append("</td></tr>");
        }
        h.append("</table>\n");
    }

    private static void table(StringBuilder h, List<List<String>> rows, boolean kernel) {
        h.append("<table").append(kernel ? " class=\"kernel\"" : "").append(">\n");
        for (int i = 0; i < rows.size(); i++) {
            h.append("<tr>");
            for (String cell : rows.get(i)) {
                String tag = i == 0 ? "th" : "td";
                h.append('<').append(tag).append('>').append(esc(cell)).append("</").append(tag).append('>');
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    // -------------------------------------------------------------------------------------------- the plot

    /** A percentile plot of {@code series} as an inline SVG element. */
    static String svg(String title, List<Series> series) {
        double xMax = 2;
        double yMin = Double.POSITIVE_INFINITY;
        double yMax = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (double[] p : s.points()) {
                xMax = Math.max(xMax, x(p[0], s.count()));
                if (p[1] > 0) {
                    yMin = Math.min(yMin, p[1]);
                    yMax = Math.max(yMax, p[1]);
                }
            }
        }
        xMax = Math.ceil(xMax);
        StringBuilder g = new StringBuilder();
        int pw = W - LEFT - RIGHT;
        int ph = H - TOP - BOTTOM;
        g.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                + " viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">", W, H, W, H));
        g.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"16\" font-size=\"13\" font-weight=\"bold\">%s</text>",
                LEFT, esc(title)));
        if (Double.isInfinite(yMin)) {
            g.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">no data</text></svg>", LEFT + 10, TOP + ph / 2));
            return g.toString();
        }
        double lo = Math.floor(Math.log10(yMin));
        double hi = Math.max(lo + 1, Math.ceil(Math.log10(yMax)));
        g.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>",
                LEFT, TOP, pw, ph));
        for (int k = 0; k <= (int) xMax; k++) {
            double px = LEFT + pw * k / xMax;
            g.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>",
                    px, TOP, px, TOP + ph));
            g.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>", px,
                    TOP + ph + 14, percentileLabel(k)));
        }
        g.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">percentile</text>",
                LEFT + pw / 2, H - 8));
        for (int k = (int) lo; k <= (int) hi; k++) {
            double py = TOP + ph - ph * (k - lo) / (hi - lo);
            g.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>",
                    LEFT, py, LEFT + pw, py));
            g.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>", LEFT - 4,
                    py + 4, latencyLabel(k)));
        }
        g.append(String.format(Locale.ROOT, "<text transform=\"translate(12,%d) rotate(-90)\" text-anchor=\"middle\">"
                + "latency</text>", TOP + ph / 2));
        int legend = 0;
        for (Series s : series) {
            StringBuilder pts = new StringBuilder();
            for (double[] p : s.points()) {
                if (p[1] <= 0) {
                    continue;
                }
                double px = LEFT + pw * Math.min(x(p[0], s.count()), xMax) / xMax;
                double py = TOP + ph - ph * (Math.log10(p[1]) - lo) / (hi - lo);
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
            }
            if (pts.length() > 0) {
                g.append("<polyline fill=\"none\" stroke-width=\"1.6\" stroke=\"").append(s.color())
                        .append("\" points=\"").append(pts.toString().trim()).append("\"/>");
            }
            int ly = TOP + 10 + 16 * legend++;
            g.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\""
                    + " stroke-width=\"3\"/>", LEFT + pw + 8, ly - 4, LEFT + pw + 24, ly - 4, s.color()));
            g.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s (%s)</text>", LEFT + pw + 28, ly,
                    esc(s.name()), SeedReport.count(s.count())));
        }
        g.append("</svg>");
        return g.toString();
    }

    /** x of percentile {@code p} (0..100): log10(1 / (1 - p)); 100 is drawn where the last of {@code count} sits. */
    static double x(double percentile, long count) {
        double q = Math.min(percentile / 100, 1 - 1.0 / Math.max(2, count));
        return Math.log10(1 / (1 - q));
    }

    /** 100 * (1 - 10^-k) as a label: 0%, 90%, 99%, 99.9%, 99.99%, ... */
    static String percentileLabel(int k) {
        if (k == 0) {
            return "0%";
        }
        if (k == 1) {
            return "90%";
        }
        return k == 2 ? "99%" : "99." + "9".repeat(k - 2) + "%";
    }

    /** A decade of microseconds as a label: 0.01 us, 0.1 us, 1 us, 10 us, 100 us, 1 ms, 10 ms, 100 ms, 1 s, ... */
    static String latencyLabel(int decade) {
        if (decade < 0) {
            return "0." + "0".repeat(-decade - 1) + "1 us";
        }
        String[] units = {"us", "ms", "s"};
        int unit = Math.min(decade / 3, units.length - 1);
        return "1" + "0".repeat(decade - 3 * unit) + " " + units[unit];
    }

    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
