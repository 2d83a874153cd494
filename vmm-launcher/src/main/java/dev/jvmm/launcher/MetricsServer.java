package dev.jvmm.launcher;

import dev.jvmm.core.irq.DropReason;
import dev.jvmm.gic.cache.CacheStats;
import dev.jvmm.guest.GuestReport;
import dev.jvmm.net.NicStats;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Quantile;
import io.prometheus.metrics.model.snapshots.Quantiles;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;

/**
 * {@code vmm run --metrics HOST:PORT}: the run's counters at {@code http://HOST:PORT/metrics}, through the Prometheus
 * Java client ({@code prometheus-metrics-*}): a registry of its own holds one collector that takes a
 * {@link RunStats} snapshot on every scrape and turns it into the client's metric snapshots; the client's HTTP server
 * writes them in the exposition format the scraper asks for. One daemon thread serves; it binds 127.0.0.1 unless the
 * option names another address.
 */
final class MetricsServer implements AutoCloseable {
    private final HTTPServer server;
    private final ExecutorService executor;
    private final InetSocketAddress address;

    private MetricsServer(HTTPServer server, ExecutorService executor, InetSocketAddress address) {
        this.server = server;
        this.executor = executor;
        this.address = address;
    }

    /** Starts serving; a port in use is a {@link Main.RunFailure} naming it. */
    static MetricsServer start(VirtualMachine vm, InetSocketAddress at) {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new RunCollector(vm));
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "vmm-metrics");
            t.setDaemon(true);
            return t;
        });
        try {
            HTTPServer server = HTTPServer.builder().inetAddress(at.getAddress()).port(at.getPort())
                    .registry(registry).executorService(executor).buildAndStart();
            return new MetricsServer(server, executor, new InetSocketAddress(at.getAddress(), server.getPort()));
        } catch (IOException e) {
            executor.shutdownNow();
            throw new Main.RunFailure("--metrics: cannot listen on " + at.getHostString() + ":" + at.getPort() + ": "
                    + e.getMessage());
        }
    }

    InetSocketAddress address() {
        return address;
    }

    @Override
    public void close() {
        server.close();
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Every metric of one scrape, from one {@link RunStats} snapshot. */
    private static final class RunCollector implements MultiCollector {
        private final VirtualMachine vm;

        RunCollector(VirtualMachine vm) {
            this.vm = vm;
        }

        @Override
        public MetricSnapshots collect() {
            RunStats s = RunStats.of(vm);
            MetricSnapshots.Builder out = MetricSnapshots.builder();
            nicCounter(out, s, "jvmm_nic_rx_datagrams", "Datagrams the NIC's host socket received.", NicStats::rxDatagrams);
            nicCounter(out, s, "jvmm_nic_rx_delivered", "Frames placed in the guest's receive buffers.", NicStats::rxDelivered);
            nicCounter(out, s, "jvmm_nic_rx_dropped", "Frames dropped by the device (no buffer, too big).", NicStats::rxDropped);
            nicCounter(out, s, "jvmm_nic_tx_frames", "Frames the guest transmitted.", NicStats::txFrames);
            nicCounter(out, s, "jvmm_nic_tx_datagrams", "Datagrams that left the NIC's host socket.",
                    NicStats::txDatagrams);
            nicCounter(out, s, "jvmm_nic_tx_dropped", "Transmitted frames dropped (malformed, not UDP, unknown peer, "
                    + "refused by the socket, socket closed).", NicStats::txDropped);
            nicCounter(out, s, "jvmm_nic_msis_signalled", "MSIs the NIC raised.", NicStats::msisSignalled);
            nicCounter(out, s, "jvmm_nic_internal_errors", "Exceptions of the device's or backend's own code.",
                    NicStats::internalErrors);
            CounterSnapshot.Builder kernel = counter("jvmm_nic_kernel_drops", "Datagrams the kernel dropped at the NIC's socket.");
            CounterSnapshot.Builder received = counter("jvmm_nic_guest_received", "Datagrams the guest's application counted.");
            CounterSnapshot.Builder lost = counter("jvmm_nic_guest_lost", "Datagrams the guest found missing from iperf sequences.");
            for (int i = 0; i < s.nics.size(); i++) {
                Labels nic = Labels.of("nic", s.nics.get(i).nic());
                kernel.dataPoint(point(nic, Math.max(0, s.kernel.get(i).drops())));
                received.dataPoint(point(nic, s.guest[i][GuestReport.Counter.FRAMES.ordinal()]));
                lost.dataPoint(point(nic, s.guest[i][GuestReport.Counter.LOST.ordinal()]));
            }
            out.metricSnapshot(kernel.build()).metricSnapshot(received.build()).metricSnapshot(lost.build());

            out.metricSnapshot(counter("jvmm_msi_injected", "MSIs made pending, by path.")
                    .dataPoint(point(Labels.of("path", "fast"), s.irq.fastPath()))
                    .dataPoint(point(Labels.of("path", "slow"), s.irq.slowPath())).build());
            CounterSnapshot.Builder dropped = counter("jvmm_msi_not_delivered", "MSIs not made pending, by reason.");
            for (DropReason r : DropReason.values()) {
                dropped.dataPoint(point(Labels.of("reason", r.name().toLowerCase(Locale.ROOT)), s.irq.dropped(r)));
            }
            out.metricSnapshot(dropped.build());
            CacheStats c = s.gic.cache();
            out.metricSnapshot(counter("jvmm_translation_cache_lookups", "ITS translation cache lookups, by outcome.")
                    .dataPoint(point(Labels.of("strategy", s.cache, "outcome", "hit"), c.hits()))
                    .dataPoint(point(Labels.of("strategy", s.cache, "outcome", "miss"), c.misses())).build());
            out.metricSnapshot(counter("jvmm_internal_errors", "Internal errors of the machine's threads and devices"
                    + " (each also reported to the failure listener).")
                    .dataPoint(point(Labels.EMPTY, vm.machine().failures().count())).build());

            Histogram lat = s.irq.latencyNanos();
            Quantiles.Builder q = Quantiles.builder();
            for (double quantile : new double[]{0.5, 0.9, 0.99, 0.999}) {
                q.quantile(new Quantile(quantile, lat.getTotalCount() == 0 ? 0.0
                        : lat.getValueAtPercentile(quantile * 100) / 1e9));
            }
            out.metricSnapshot(SummarySnapshot.builder().name("jvmm_injection_latency_seconds")
                    .help("Signal to pending latency since the start.")
                    .dataPoint(SummarySnapshot.SummaryDataPointSnapshot.builder().quantiles(q.build())
                            .count(lat.getTotalCount()).sum(lat.getMean() * lat.getTotalCount() / 1e9).build())
                    .build());
            return out.build();
        }

        private static void nicCounter(MetricSnapshots.Builder out, RunStats s, String name, String help,
                                       ToLongFunction<NicStats> value) {
            CounterSnapshot.Builder b = counter(name, help);
            for (NicStats n : s.nics) {
                b.dataPoint(point(Labels.of("nic", n.nic()), value.applyAsLong(n)));
            }
            out.metricSnapshot(b.build());
        }

        private static CounterSnapshot.Builder counter(String name, String help) {
            return CounterSnapshot.builder().name(name).help(help);
        }

        private static CounterDataPointSnapshot point(Labels labels, long value) {
            return CounterDataPointSnapshot.builder().labels(labels).value(value).build();
        }
    }
}
