package dev.jvmm.launcher.trace;

import org.HdrHistogram.Histogram;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code vmm trace DIR} prints: counts per NIC and latency percentiles per stage (signal -> pending,
 * pending -> acknowledge, signal -> acknowledge), for the whole machine and per NIC; or, with {@code --csv}, one row
 * per record.
 */
public final class TraceSummary implements TraceReader.Visitor {
    private static final long MAX = 60_000_000_000L;

    /** Counters and distributions of one NIC (index -1 collects what no NIC raised). */
    public static final class NicStats {
        public long datagrams;
        public long bytes;
        public long msiFast;
        public long msiSlow;
        public long msiDropped;
        public long acks;
        public final Histogram signalToPending = new Histogram(MAX, 3);
        public final Histogram pendingToAck = new Histogram(MAX, 3);
        public final Histogram signalToAck = new Histogram(MAX, 3);
    }

    private TraceReader.Header header;
    private final Map<Integer, NicStats> nics = new HashMap<>();
    /** Which NIC raised each INTID (learned from MSI records, used to attribute acknowledges). */
    private final Map<Integer, Integer> nicOfIntid = new HashMap<>();
    private final NicStats total = new NicStats();
    private long records;
    private long first = Long.MAX_VALUE;
    private long last = Long.MIN_VALUE;

    public static TraceSummary of(Path dir) {
        TraceSummary s = new TraceSummary();
        s.records = TraceReader.read(dir, s);
        return s;
    }

    private NicStats nic(int index) {
        return nics.computeIfAbsent(index, k -> new NicStats());
    }

    private void seen(long t) {
        first = Math.min(first, t);
        last = Math.max(last, t);
    }

    @Override
    public void header(TraceReader.Header h) {
        if (header == null) {
            header = h;
        }
    }

    @Override
    public void msi(long signal, long pending, int deviceId, int eventId, int intid, int vcpu, boolean fast, int status,
                    int nic) {
        seen(signal);
        NicStats n = nic(nic);
        if (status == 1) {
            long d = clamp(pending - signal);
            for (NicStats s : new NicStats[]{n, total}) {
                if (fast) {
                    s.msiFast++;
                } else {
                    s.msiSlow++;
                }
                s.signalToPending.recordValue(d);
            }
            nicOfIntid.put(intid, nic);
        } else {
            n.msiDropped++;
            total.msiDropped++;
        }
    }

    @Override
    public void ack(long signal, long pending, long ack, int intid, int vcpu) {
        seen(ack);
        NicStats n = nic(nicOfIntid.getOrDefault(intid, -1));
        for (NicStats s : new NicStats[]{n, total}) {
            s.acks++;
            if (pending != 0) {
                s.pendingToAck.recordValue(clamp(ack - pending));
            }
            if (signal != 0) {
                s.signalToAck.recordValue(clamp(ack - signal));
            }
        }
    }

    @Override
    public void datagram(long time, int nic, byte[] payload, int length) {
        seen(time);
        NicStats n = nic(nic);
        n.datagrams++;
        n.bytes += length;
        total.datagrams++;
        total.bytes += length;
    }

    private static long clamp(long v) {
        return Math.max(0, Math.min(MAX, v));
    }

    public long records() {
        return records;
    }

    public NicStats total() {
        return total;
    }

    public NicStats nicStats(int index) {
        return nics.get(index);
    }

    public TraceReader.Header header() {
        return header;
    }

    /** Prints the summary. */
    public void print(Path dir, PrintStream out) {
        out.printf(Locale.ROOT, "trace %s: %d records", dir, records);
        if (header != null && first != Long.MAX_VALUE) {
            out.printf(Locale.ROOT, ", %s + %.3f s", java.time.Instant.ofEpochSecond(0, header.wallClock(first)),
                    (last - first) / 1e9);
        }
        out.println();
        out.printf(Locale.ROOT, "%-10s %6s %12s %12s %10s %10s %9s %10s%n", "nic", "port", "datagrams", "bytes",
                "msi fast", "msi slow", "dropped", "acks");
        List<Integer> keys = new ArrayList<>(nics.keySet());
        keys.sort(Integer::compare);
        for (int k : keys) {
            NicStats n = nics.get(k);
            out.printf(Locale.ROOT, "%-10s %6s %12d %12d %10d %10d %9d %10d%n", nicName(k), nicPort(k), n.datagrams,
                    n.bytes, n.msiFast, n.msiSlow, n.msiDropped, n.acks);
        }
        out.printf(Locale.ROOT, "%-10s %6s %12d %12d %10d %10d %9d %10d%n", "total", "", total.datagrams, total.bytes,
                total.msiFast, total.msiSlow, total.msiDropped, total.acks);
        out.println();
        out.printf(Locale.ROOT, "%-24s %10s %9s %9s %9s %9s %9s  (microseconds)%n", "latency", "count", "p50", "p90", "p99",
                "p99.9", "max");
        printStage(out, "signal -> pending", total.signalToPending);
        printStage(out, "pending -> acknowledge", total.pendingToAck);
        printStage(out, "signal -> acknowledge", total.signalToAck);
        for (int k : keys) {
            NicStats n = nics.get(k);
            if (k < 0) {
                continue;
            }
            printStage(out, nicName(k) + " signal -> pending", n.signalToPending);
            printStage(out, nicName(k) + " signal -> ack", n.signalToAck);
        }
    }

    private String nicName(int k) {
        if (k < 0) {
            return "(none)";
        }
        if (header != null && k < header.nics().size()) {
            return header.nics().get(k).id();
        }
        return "nic" + k;
    }

    private String nicPort(int k) {
        if (header != null && k >= 0 && k < header.nics().size()) {
            return Integer.toString(header.nics().get(k).port());
        }
        return "";
    }

    private static void printStage(PrintStream out, String name, Histogram h) {
        if (h.getTotalCount() == 0) {
            out.printf(Locale.ROOT, "%-24s %10d %9s %9s %9s %9s %9s%n", name, 0, "-", "-", "-", "-", "-");
            return;
        }
        out.printf(Locale.ROOT, "%-24s %10d %9.3f %9.3f %9.3f %9.3f %9.3f%n", name, h.getTotalCount(),
                h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(90) / 1e3, h.getValueAtPercentile(99) / 1e3,
                h.getValueAtPercentile(99.9) / 1e3, h.getMaxValue() / 1e3);
    }

    /** Prints every record as a CSV row. */
    public static long printCsv(Path dir, PrintStream out) {
        out.println("type,time_epoch_ns,nic,device_id,event_id,intid,vcpu,path,signal_to_pending_ns,"
                + "pending_to_ack_ns,signal_to_ack_ns,length");
        TraceReader.Header[] h = new TraceReader.Header[1];
        return TraceReader.read(dir, new TraceReader.Visitor() {
            private long wall(long t) {
                return h[0] == null ? t : h[0].wallClock(t);
            }

            @Override
            public void header(TraceReader.Header header) {
                if (h[0] == null) {
                    h[0] = header;
                }
            }

            @Override
            public void msi(long signal, long pending, int deviceId, int eventId, int intid, int vcpu, boolean fast,
                            int status, int nic) {
                out.printf(Locale.ROOT, "%s,%d,%d,%d,%d,%s,%s,%s,%d,,,%n", status == 1 ? "msi" : "msi-dropped",
                        wall(signal), nic, deviceId, eventId, status == 1 ? Integer.toString(intid) : "",
                        status == 1 ? Integer.toString(vcpu) : "", fast ? "fast" : "slow", pending - signal);
            }

            @Override
            public void ack(long signal, long pending, long ack, int intid, int vcpu) {
                out.printf(Locale.ROOT, "ack,%d,,,,%d,%d,,,%s,%s,%n", wall(ack), intid, vcpu,
                        pending == 0 ? "" : Long.toString(ack - pending), signal == 0 ? "" : Long.toString(ack - signal));
            }

            @Override
            public void datagram(long time, int nic, byte[] payload, int length) {
                out.printf(Locale.ROOT, "datagram,%d,%d,,,,,,,,,%d%n", wall(time), nic, length);
            }
        });
    }
}
