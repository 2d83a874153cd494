package dev.jvmm.bench.seed;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * What the report makes of the runs: medians and spreads, the seed-style changes, the targets' verdicts, and the
 * HTML plots. Fed with made-up runs whose figures are chosen so that each verdict is known in advance.
 */
class SeedResultsTest {

    /** A run whose t1 → t2 p50 is {@code p50Nanos} (p99 and max above it) and that delivered {@code delivered}. */
    private static CellRun run(int nics, String cell, int rep, long p50Nanos, long delivered) {
        if (cell.equals(CellRun.PLAIN)) {
            return new CellRun(nics, cell, rep, 0, 1.0, 1.2, delivered, delivered, delivered, 0, 0, -1, 0, 0, 0, 0, 0,
                    0, 0, 0, 0, 1.0, null, null, null, null);
        }
        Histogram h = new Histogram(EndToEndProbe.HIGHEST_NANOS, 3);
        h.recordValueWithCount(p50Nanos, 90);
        h.recordValueWithCount(p50Nanos * 10, 10);
        LatencySummary s = LatencySummary.of(h);
        boolean cached = SeedCell.fromConfigName(cell).cached();
        return new CellRun(nics, cell, rep, SeedOptions.vcpusFor(nics), 1.0, 1.2, delivered + 10, delivered, delivered,
                0, 5, 5, 100, 100, cached ? 100 : 0, 0, cached ? 99 : 0, cached ? 1 : 0, 50, 40, 10, 1.0, s, s, s,
                new Histogram[]{h, h, h});
    }

    private static SeedResults results(List<CellRun> runs) {
        SeedOptions o = new SeedOptions(List.of(1, 10), 1, 0, 40_000_000L, 64, SeedOptions.Sender.BUILTIN, 3, null,
                List.of(SeedCell.WORKER, SeedCell.GLOBAL_LRU, SeedCell.SHARDED, SeedCell.PER_ITS, SeedCell.WIRED), 1,
                4L << 20, 19);
        Map<String, Object> machine = new LinkedHashMap<>();
        machine.put("cores", 2);
        machine.put("jvm", "test");
        machine.put("transport", "nio");
        machine.put("sender", "test sender");
        return new SeedResults(o, machine, runs);
    }

    /** Three repetitions; the p50s (us) per cell at 1 and 10 NICs are chosen so that each target is known. */
    private static List<CellRun> runs() {
        List<CellRun> runs = new ArrayList<>();
        for (int rep = 1; rep <= 3; rep++) {
            long jitter = rep * 10;  // spread over repetitions; the middle one is the median
            runs.add(run(1, CellRun.PLAIN, rep, 0, 100_000));
            runs.add(run(10, CellRun.PLAIN, rep, 0, 100_000));
            runs.add(run(1, "worker", rep, 6_000 + jitter, 99_000));
            runs.add(run(10, "worker", rep, 7_000 + jitter, 95_000));
            runs.add(run(1, "global-lru", rep, 1_700 + jitter, 99_000));   // misses "below 1 us"
            runs.add(run(10, "global-lru", rep, 2_500 + jitter, 80_000));  // misses "90% of plain"
            runs.add(run(1, "sharded", rep, 800 + jitter, 99_000));
            runs.add(run(10, "sharded", rep, 1_000 + jitter, 95_000));     // 1.23x of 1 NIC: misses scaling
            runs.add(run(1, "per-its", rep, 500 + jitter, 99_000));
            runs.add(run(10, "per-its", rep, 520 + jitter, 95_000));       // 1.04x: meets scaling
            runs.add(run(1, "wired", rep, 400 + jitter, 99_000));          // no translation: the base of "vs wired"
            runs.add(run(10, "wired", rep, 400 + jitter, 96_000));
        }
        return runs;
    }

    @Test
    void mediansSpreadsAndChangesAreTakenOverRepetitions() {
        SeedResults r = results(runs());
        assertThat(r.median(1, "worker", SeedResults.Metric.SIGNAL_TO_PENDING_P50_US)).isCloseTo(6.02, within(0.01));
        assertThat(r.spread(1, "worker", SeedResults.Metric.SIGNAL_TO_PENDING_P50_US))
                .containsExactly(new double[]{6.01, 6.03}, within(0.01));
        assertThat(SeedResults.change(1.694, 1.766)).as("the seed's -4.1% for shards against the cache")
                .isCloseTo(-0.041, within(0.001));
        assertThat(r.deliveredVsPlain(10, "global-lru")).isCloseTo(0.8, within(1e-9));
        assertThat(r.median(1, "plain", SeedResults.Metric.SIGNAL_TO_PENDING_P50_US)).as("no latency for plain").isNaN();
        assertThat(r.median(1, "per-its", SeedResults.Metric.CACHE_HIT_RATE)).isEqualTo(0.99);
        assertThat(r.merged(1, "per-its", SeedResults.Distribution.SIGNAL_TO_PENDING).getTotalCount()).isEqualTo(300);
    }

    @Test
    void theWiredCellIsTheBaseThatPricesTranslation() {
        SeedResults r = results(runs());
        String text = SeedReport.text(r);
        assertThat(text).contains("vs wired").as("per-its 0.52 us over wired 0.42 us at 1 NIC, 0.54 over 0.42 at 10")
                .contains("+23.8%").contains("+28.6%");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> cells = (List<Map<String, Object>>) r.json().get("cells");
        Map<String, Object> wired = cells.stream().filter(c -> c.get("cell").equals("wired") && c.get("nics").equals(1))
                .findFirst().orElseThrow();
        assertThat(wired).containsEntry("interrupt", "wired").containsEntry("cache", "unused")
                .containsEntry("irq_mode", "inline");
        Map<String, Object> perIts = cells.stream().filter(c -> c.get("cell").equals("per-its") && c.get("nics").equals(1))
                .findFirst().orElseThrow();
        assertThat(perIts).containsEntry("interrupt", "msi").containsEntry("cache", "per-its");
        @SuppressWarnings("unchecked")
        Map<String, Object> median = (Map<String, Object>) perIts.get("median");
        assertThat((Double) median.get("p50_change_vs_wired")).isCloseTo(0.238, within(0.001));
    }

    @Test
    void eachTargetGetsTheVerdictItsFiguresCallFor() {
        Map<String, Boolean> verdicts = new LinkedHashMap<>();
        for (SeedResults.Target t : results(runs()).targets()) {
            verdicts.put(t.id() + " " + t.subject(), t.met());
        }
        assertThat(verdicts).containsEntry("cached_p50_below_1us 1 NIC, global-lru", false)
                .containsEntry("cached_p50_third_of_worker 1 NIC, global-lru", true)
                .containsEntry("cached_p50_below_1us 1 NIC, sharded", true)
                .containsEntry("cached_p50_below_1us 10 NICs, sharded", false)
                .containsEntry("cached_p50_below_1us 10 NICs, per-its", true)
                .containsEntry("ten_vs_one_nic_p50 sharded", false)
                .containsEntry("ten_vs_one_nic_p50 per-its", true)
                .containsEntry("delivered_vs_plain_at_10_nics global-lru", false)
                .containsEntry("delivered_vs_plain_at_10_nics per-its", true)
                .containsEntry("delivered_vs_plain_at_10_nics wired", true)
                .doesNotContainKey("cached_p50_below_1us 1 NIC, worker")
                .as("the wired cell translates nothing: no cache target").doesNotContainKey("cached_p50_below_1us 1 NIC, wired");
    }

    @Test
    void theTextReportHasTheSeedTableAndMarksTheKernelFigures() {
        String text = SeedReport.text(results(runs()));
        assertThat(text).contains("signal -> pending (t1 -> t2), p50 / p99 in us, median over 3 repetitions")
                .contains("vs worker").contains("vs global-lru").contains("vs wired")
                .contains("kernel figures from other hardware, for orientation")
                .contains("6.692").contains("1.848")
                .contains("MISSED").contains("MET");
    }

    @Test
    void theHtmlReportIsSelfContainedWithAPlotPerCell() {
        String html = HtmlReport.render(results(runs()));
        assertThat(html).startsWith("<!DOCTYPE html>").contains("<svg").doesNotContain("<script")
                .doesNotContain("http://cdn").doesNotContain("<link");
        int plots = html.split("<svg", -1).length - 1;
        assertThat(plots).as("per NIC count: two overlays and one plot per cell").isEqualTo(2 * (2 + 5));
    }

    @Test
    void plotAxesAreLabelledInPercentilesAndDecades() {
        assertThat(HtmlReport.percentileLabel(0)).isEqualTo("0%");
        assertThat(HtmlReport.percentileLabel(1)).isEqualTo("90%");
        assertThat(HtmlReport.percentileLabel(3)).isEqualTo("99.9%");
        assertThat(HtmlReport.percentileLabel(5)).isEqualTo("99.999%");
        assertThat(HtmlReport.latencyLabel(-2)).isEqualTo("0.01 us");
        assertThat(HtmlReport.latencyLabel(0)).isEqualTo("1 us");
        assertThat(HtmlReport.latencyLabel(2)).isEqualTo("100 us");
        assertThat(HtmlReport.latencyLabel(4)).isEqualTo("10 ms");
        assertThat(HtmlReport.x(99, 1000)).isCloseTo(2, within(1e-9));
        assertThat(HtmlReport.x(100, 1000)).as("the last value sits at 1 - 1/count").isCloseTo(3, within(1e-9));
    }
}
