package dev.jvmm.bench.seed;

import dev.jvmm.bench.seed.SeedResults.Metric;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The benchmark's summary as tables, printed as text by {@code vmm bench seed} and as HTML in {@code report.html}:
 * the seed's table (rows per NIC count, a column per path, p50 and p99), the changes against the worker and against
 * {@code global-lru}, the end-to-end latencies, the traffic, the seed's own kernel figures and the targets.
 */
final class SeedReport {

    /** A titled table of text cells; the first row is the header. */
    record Table(String title, List<List<String>> rows, String note) {
    }

    private SeedReport() {
    }

    /** Everything, as the command prints it. */
    static String text(SeedResults r) {
        StringBuilder sb = new StringBuilder();
        sb.append(headline(r)).append('\n');
        for (Table t : tables(r)) {
            sb.append('\n').append(t.title()).append('\n');
            appendText(sb, t.rows());
            if (t.note() != null) {
                sb.append("  ").append(t.note()).append('\n');
            }
        }
        sb.append('\n').append("targets (issue 6; benchmark figures, not timed tests)").append('\n');
        for (SeedResults.Target t : r.targets()) {
            sb.append(String.format(Locale.ROOT, "  %-7s %-30s %-18s %s%n", verdict(t.met()), t.id(), t.subject(),
                    t.detail()));
        }
        return sb.toString();
    }

    static String verdict(Boolean met) {
        return met == null ? "n/a" : met ? "MET" : "MISSED";
    }

    /** The one line that says what was run, where. */
    static String headline(SeedResults r) {
        SeedOptions o = r.options();
        Map<String, Object> m = r.machine();
        return String.format(Locale.ROOT, "vmm bench seed: NICs %s, %d-byte UDP payloads at %s per NIC from %s; %s s"
                        + " measured per cell after %s s warm-up, %d repetition%s, cells interleaved; %s cores, %s, %s"
                        + " transport; vCPUs = min(4, NICs); %d event loop thread%s; socket receive buffer %s",
                SeedOptions.join(o.nics()), o.length(), bits(o.bitsPerSecond()), m.get("sender"),
                SeedOptions.trim(o.seconds()), SeedOptions.trim(o.warmup()), o.repeat(), o.repeat() == 1 ? "" : "s",
                m.get("cores"), m.get("jvm"), m.get("transport"), o.eventLoopThreads(),
                o.eventLoopThreads() == 1 ? "" : "s", SeedHarness.bufferSize(o.socketBuffer()));
    }

    static List<Table> tables(SeedResults r) {
        List<Table> out = new ArrayList<>();
        List<String> cells = new ArrayList<>(r.columns());
        cells.remove(CellRun.PLAIN);
        String reps = "median over " + r.options().repeat() + " repetition" + (r.options().repeat() == 1 ? "" : "s");
        String wired = SeedCell.WIRED.configName();
        out.add(latencyTable(r, cells, "signal -> pending (t1 -> t2), p50 / p99 in us, " + reps,
                Metric.SIGNAL_TO_PENDING_P50_US, Metric.SIGNAL_TO_PENDING_P99_US,
                "none = inline with the cache forced to miss (every MSI goes to the injector thread); wired = each"
                        + " NIC's slot SPI pulsed in the signalling thread, no translation (pending = the edge latched"
                        + " in the distributor); change: negative is faster, as the seed reports it; vs wired = what"
                        + " translation adds over a plain SPI",
                SeedCell.WORKER.configName(), SeedCell.GLOBAL_LRU.configName(), wired));
        out.add(latencyTable(r, cells, "arrival -> acknowledge (t0 -> t3), p50 / p99 in us, " + reps,
                Metric.ARRIVAL_TO_ACK_P50_US, Metric.ARRIVAL_TO_ACK_P99_US,
                "per NIC: first datagram since the NIC's last acknowledged receive interrupt -> the guest's"
                        + " ICC_IAR1_EL1 read of that NIC's receive LPI (wired: of its SPI)", wired));
        out.add(latencyTable(r, cells, "pending -> acknowledge (t2 -> t3), p50 / p99 in us, " + reps,
                Metric.PENDING_TO_ACK_P50_US, Metric.PENDING_TO_ACK_P99_US, null));
        out.add(trafficTable(r));
        out.add(seedTable());
        return out;
    }

    /** A latency table: p50 / p99 per cell, the p50 spread, and the p50 change of each cell against each base. */
    private static Table latencyTable(SeedResults r, List<String> cells, String title, Metric p50, Metric p99,
                                      String note, String... bases) {
        List<List<String>> rows = new ArrayList<>();
        List<String> head = new ArrayList<>(List.of("NICs", "vCPUs"));
        head.addAll(cells);
        rows.add(head);
        for (int n : r.options().nics()) {
            List<String> row = new ArrayList<>(List.of(Integer.toString(n), Integer.toString(SeedOptions.vcpusFor(n))));
            for (String c : cells) {
                row.add(num(r.median(n, c, p50)) + " / " + num(r.median(n, c, p99)));
            }
            rows.add(row);
        }
        for (int n : r.options().nics()) {
            List<String> row = new ArrayList<>(List.of(Integer.toString(n), "p50 min..max"));
            for (String c : cells) {
                double[] s = r.spread(n, c, p50);
                row.add(num(s[0]) + ".." + num(s[1]));
            }
            rows.add(row);
        }
        for (String base : bases) {
            if (!cells.contains(base)) {
                continue; // a change against a cell that did not run is no figure
            }
            for (int n : r.options().nics()) {
                List<String> row = new ArrayList<>(List.of(Integer.toString(n), "vs " + base));
                double b = r.median(n, base, p50);
                for (String c : cells) {
                    row.add(c.equals(base) ? "" : signed(SeedResults.change(r.median(n, c, p50), b)));
                }
                rows.add(row);
            }
        }
        return new Table(title, rows, note);
    }

    private static Table trafficTable(SeedResults r) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("NICs", "cell", "sent/s", "NICs read/s", "delivered/s", "vs plain", "dropped dev",
                "dropped kernel", "guest lost", "injections/s", "fast path", "cache hits", "dgrams/irq", "vCPU slept", "load"));
        for (int n : r.options().nics()) {
            for (String c : r.columns()) {
                if (!r.has(n, c)) {
                    continue;
                }
                boolean plain = c.equals(CellRun.PLAIN);
                rows.add(List.of(Integer.toString(n), c,
                        count(r.median(n, c, Metric.SENT_PER_S)),
                        count(r.median(n, c, Metric.RECEIVED_PER_S)),
                        count(r.median(n, c, Metric.DELIVERED_PER_S)),
                        plain ? "" : percent(r.deliveredVsPlain(n, c)),
                        count(r.median(n, c, Metric.DEVICE_DROPPED)),
                        count(r.median(n, c, Metric.KERNEL_DROPPED)),
                        plain ? "" : count(r.median(n, c, Metric.GUEST_LOST)),
                        plain ? "" : count(r.median(n, c, Metric.INJECTIONS_PER_S)),
                        plain ? "" : percent(r.median(n, c, Metric.FAST_PATH_SHARE)),
                        plain ? "" : percent(r.median(n, c, Metric.CACHE_HIT_RATE)),
                        plain ? "" : num(r.median(n, c, Metric.DATAGRAMS_PER_INTERRUPT)),
                        plain ? "" : percent(r.median(n, c, Metric.VCPU_HALT_SHARE)),
                        num(r.median(n, c, Metric.LOAD_AVERAGE))));
            }
        }
        return new Table("traffic, medians (rates per second of sending; drops and losses per measured window)", rows,
                "plain = a bare Netty UDP receiver (same transport and event loop threads) fed by the same sender:"
                        + " the receive path's limit; vs plain = delivered over plain, paired per repetition (where both"
                        + " deliver all that was sent, it compares how much CPU each left the senders); vCPU slept ="
                        + " share of the vCPUs' waits that ended asleep (kicked by a futex wake) rather than polling;"
                        + " load = the host's 1-minute load average (2 cores, shared)");
    }

    private static Table seedTable() {
        List<List<String>> rows = new ArrayList<>();
        List<String> head = new ArrayList<>(List.of("NICs"));
        head.addAll(Arrays.asList(SeedResults.SEED_KERNEL_COLUMNS));
        rows.add(head);
        String[] names = {"1", "10"};
        for (int i = 0; i < names.length; i++) {
            List<String> row = new ArrayList<>(List.of(names[i]));
            for (double v : SeedResults.SEED_KERNEL_US[i]) {
                row.add(String.format(Locale.ROOT, "%.3f", v));
            }
            rows.add(row);
        }
        return new Table("kernel figures from other hardware, for orientation: the seed patch's own injection latency"
                + " (signal -> pending, us), NOT measured here", rows,
                "the seed's worker = our worker, its cache = our global-lru, its 8 shards = our sharded");
    }

    // -------------------------------------------------------------------------------------------- text layout

    private static void appendText(StringBuilder sb, List<List<String>> rows) {
        int cols = rows.get(0).size();
        int[] w = new int[cols];
        for (List<String> row : rows) {
            for (int i = 0; i < cols; i++) {
                w[i] = Math.max(w[i], row.get(i).length());
            }
        }
        for (List<String> row : rows) {
            sb.append(' ');
            for (int i = 0; i < cols; i++) {
                String cell = row.get(i);
                sb.append(' ');
                // Numbers right-aligned, names left-aligned.
                sb.append(i < 2 && !cell.isEmpty() && Character.isDigit(cell.charAt(0))
                        ? pad(cell, w[i], true) : pad(cell, w[i], false));
                sb.append(i == 1 ? " |" : "");
            }
            sb.append('\n');
        }
    }

    private static String pad(String s, int width, boolean right) {
        String fill = " ".repeat(Math.max(0, width - s.length()));
        return right ? fill + s : s + fill;
    }

    // -------------------------------------------------------------------------------------------- formats

    /** Nanoseconds as microseconds ("1.23us"), or "-" for an empty distribution. */
    static String us(long nanos) {
        return nanos <= 0 ? "-" : num(nanos / 1e3) + "us";
    }

    /** Three significant digits, at most three decimals; "-" for NaN. */
    static String num(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        double a = Math.abs(v);
        String f = a >= 100 ? "%.0f" : a >= 10 ? "%.1f" : a >= 1 ? "%.2f" : "%.3f";
        return String.format(Locale.ROOT, f, v);
    }

    static String percent(double fraction) {
        return Double.isNaN(fraction) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * fraction);
    }

    static String signed(double fraction) {
        return Double.isNaN(fraction) ? "-" : String.format(Locale.ROOT, "%+.1f%%", 100 * fraction);
    }

    /** A count or a rate: 950, 12.3k, 1.25M; "-" for NaN. */
    static String count(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        double a = Math.abs(v);
        if (a >= 1e6) {
            return String.format(Locale.ROOT, "%.2fM", v / 1e6);
        }
        if (a >= 1e4) {
            return String.format(Locale.ROOT, "%.1fk", v / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f", v);
    }

    /** A bit rate as iperf writes it: 40 Mbit/s. */
    static String bits(long bps) {
        if (bps % 1_000_000_000L == 0) {
            return bps / 1_000_000_000L + " Gbit/s";
        }
        if (bps % 1_000_000L == 0) {
            return bps / 1_000_000L + " Mbit/s";
        }
        if (bps % 1_000L == 0) {
            return bps / 1_000L + " kbit/s";
        }
        return bps + " bit/s";
    }
}
