package dev.jvmm.launcher;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.jvmm.core.irq.DropReason;
import dev.jvmm.gic.cache.CacheStats;
import dev.jvmm.launcher.guest.GuestReport;
import dev.jvmm.net.NicStats;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * {@code vmm run --metrics HOST:PORT}: the run's counters at {@code http://HOST:PORT/metrics} in the Prometheus text
 * exposition format, computed afresh on every scrape. One thread serves it; it binds 127.0.0.1 unless the option
 * names another address.
 */
final class MetricsServer implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor;
    private final VirtualMachine vm;

    private MetricsServer(VirtualMachine vm, InetSocketAddress at) throws IOException {
        this.vm = vm;
        this.server = HttpServer.create(at, 16);
        this.executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "vmm-metrics");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/metrics", this::serve);
    }

    /** Starts serving; a port in use is a {@link Main.RunFailure} naming it. */
    static MetricsServer start(VirtualMachine vm, InetSocketAddress at) {
        try {
            MetricsServer m = new MetricsServer(vm, at);
            m.server.start();
            return m;
        } catch (IOException e) {
            throw new Main.RunFailure("--metrics: cannot listen on " + at.getHostString() + ":" + at.getPort() + ": "
                    + e.getMessage());
        }
    }

    /** Parses {@code HOST:PORT} or a bare {@code PORT} (bound to 127.0.0.1). */
    static InetSocketAddress parse(String text) {
        String host = "127.0.0.1";
        String port = text.trim();
        int colon = port.lastIndexOf(':');
        if (colon >= 0) {
            host = port.substring(0, colon);
            port = port.substring(colon + 1);
        }
        try {
            int p = Integer.parseInt(port);
            if (p < 0 || p > 65535 || host.isEmpty()) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(host, p);
        } catch (NumberFormatException e) {
            throw new Main.UsageException("--metrics: '" + text + "' is not HOST:PORT such as 127.0.0.1:9100");
        }
    }

    InetSocketAddress address() {
        return server.getAddress();
    }

    private void serve(HttpExchange exchange) throws IOException {
        byte[] body;
        int status = 200;
        try {
            body = render().getBytes(StandardCharsets.UTF_8);
        } catch (RuntimeException e) {
            status = 503;
            body = ("machine not available: " + e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8);
        }
        exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    /** The exposition text of one scrape. */
    String render() {
        RunStats s = RunStats.of(vm);
        StringBuilder b = new StringBuilder(4096);
        String[][] nicCounters = {
                {"rx_datagrams", "Datagrams the NIC's host socket received."},
                {"rx_delivered", "Frames placed in the guest's receive buffers."},
                {"rx_dropped", "Frames dropped by the device (no buffer, too big)."},
                {"tx_frames", "Frames the guest transmitted."},
                {"msis_signalled", "MSIs the NIC raised."},
                {"kernel_drops", "Datagrams the kernel dropped at the NIC's socket."},
                {"guest_received", "Datagrams the guest's application counted."},
                {"guest_lost", "Datagrams the guest found missing from iperf sequences."}};
        for (String[] c : nicCounters) {
            header(b, "jvmm_nic_" + c[0] + "_total", c[1], "counter");
            for (int i = 0; i < s.nics.size(); i++) {
                NicStats n = s.nics.get(i);
                long v;
                switch (c[0]) {
                    case "rx_datagrams": v = n.rxDatagrams(); break;
                    case "rx_delivered": v = n.rxDelivered(); break;
                    case "rx_dropped": v = n.rxDropped(); break;
                    case "tx_frames": v = n.txFrames(); break;
                    case "msis_signalled": v = n.msisSignalled(); break;
                    case "kernel_drops": v = Math.max(0, s.kernel.get(i).drops()); break;
                    case "guest_received": v = s.guest[i][GuestReport.Counter.FRAMES.ordinal()]; break;
                    default: v = s.guest[i][GuestReport.Counter.LOST.ordinal()];
                }
                b.append("jvmm_nic_").append(c[0]).append("_total{nic=\"").append(n.nic()).append("\"} ").append(v)
                        .append('\n');
            }
        }
        header(b, "jvmm_msi_injected_total", "MSIs made pending, by path.", "counter");
        b.append("jvmm_msi_injected_total{path=\"fast\"} ").append(s.irq.fastPath()).append('\n');
        b.append("jvmm_msi_injected_total{path=\"slow\"} ").append(s.irq.slowPath()).append('\n');
        header(b, "jvmm_msi_not_delivered_total", "MSIs not made pending, by reason.", "counter");
        for (DropReason r : DropReason.values()) {
            b.append("jvmm_msi_not_delivered_total{reason=\"").append(r.name().toLowerCase(Locale.ROOT)).append("\"} ")
                    .append(s.irq.dropped(r)).append('\n');
        }
        CacheStats c = s.gic.cache();
        header(b, "jvmm_translation_cache_lookups_total", "ITS translation cache lookups, by outcome.", "counter");
        b.append("jvmm_translation_cache_lookups_total{strategy=\"").append(s.cache).append("\",outcome=\"hit\"} ")
                .append(c.hits()).append('\n');
        b.append("jvmm_translation_cache_lookups_total{strategy=\"").append(s.cache).append("\",outcome=\"miss\"} ")
                .append(c.misses()).append('\n');
        Histogram lat = s.irq.latencyNanos();
        header(b, "jvmm_injection_latency_seconds", "Signal to pending latency since the start.", "summary");
        for (double q : new double[]{0.5, 0.9, 0.99, 0.999}) {
            b.append(String.format(Locale.ROOT, "jvmm_injection_latency_seconds{quantile=\"%s\"} %.9f%n", q,
                    lat.getTotalCount() == 0 ? 0.0 : lat.getValueAtPercentile(q * 100) / 1e9));
        }
        b.append(String.format(Locale.ROOT, "jvmm_injection_latency_seconds_sum %.9f%n",
                lat.getMean() * lat.getTotalCount() / 1e9));
        b.append("jvmm_injection_latency_seconds_count ").append(lat.getTotalCount()).append('\n');
        return b.toString();
    }

    private static void header(StringBuilder b, String name, String help, String type) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
