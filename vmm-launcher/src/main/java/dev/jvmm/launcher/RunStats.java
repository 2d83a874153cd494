package dev.jvmm.launcher;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.jvmm.core.irq.DropReason;
import dev.jvmm.core.irq.IrqStats;
import dev.jvmm.core.vcpu.Vcpu;
import dev.jvmm.core.vcpu.VcpuStats;
import dev.jvmm.gic.GicStats;
import dev.jvmm.net.KernelUdpSockets;
import dev.jvmm.gic.cache.CacheStats;
import dev.jvmm.guest.GuestReport;
import dev.jvmm.net.NetConfig;
import dev.jvmm.net.NicStats;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One look at a running {@link VirtualMachine}: the NICs' counters, the interrupt path's counters and latencies,
 * the translation cache, and the guest's own counters. Prints the status line of {@code vmm run}, its summary, and
 * the {@code --stats-json} document.
 */
final class RunStats {
    final long nanos;
    final List<NicStats> nics;
    final List<Integer> ports;
    final IrqStats irq;
    final GicStats gic;
    final List<VcpuStats> vcpus;
    final long[][] guest;
    final String cache;
    /** Per NIC: the kernel's counters of its socket (drops the device never saw). */
    final List<KernelUdpSockets.Counters> kernel;
    /** Per NIC: whether it offers MRG_RXBUF, and the receive buffer its socket got (0: unknown). */
    private final List<Boolean> mrgRxbuf = new ArrayList<>();
    private final List<Integer> socketBuffers = new ArrayList<>();
    /** net.socket-receive-buffer (0: the kernel's default). */
    private final long socketBufferAsked;

    private RunStats(VirtualMachine vm) {
        this.nanos = System.nanoTime();
        this.nics = vm.nicStats();
        this.ports = new ArrayList<>();
        for (int i = 0; i < nics.size(); i++) {
            ports.add(vm.nicPort(i));
        }
        this.irq = vm.irqStats();
        this.gic = vm.gicStats();
        this.vcpus = new ArrayList<>();
        for (Vcpu v : vm.machine().vcpus()) {
            vcpus.add(v.stats());
        }
        GuestReport r = vm.guest();
        GuestReport.Counter[] cs = GuestReport.Counter.values();
        this.guest = new long[nics.size()][cs.length];
        for (int n = 0; n < nics.size(); n++) {
            for (GuestReport.Counter c : cs) {
                guest[n][c.ordinal()] = r.counter(n, c);
            }
        }
        this.cache = vm.gic().cacheStrategy().configName();
        this.kernel = new ArrayList<>();
        for (var d : vm.nics()) {
            kernel.add(KernelUdpSockets.of(d.localAddress()));
            mrgRxbuf.add(d.config().mrgRxbuf());
            socketBuffers.add(d.socketReceiveBuffer());
        }
        this.socketBufferAsked = vm.config().get(NetConfig.SECTION).socketReceiveBuffer();
    }

    /** Datagrams the kernel dropped at every NIC's socket (0 when unknown). */
    long kernelDrops() {
        long t = 0;
        for (KernelUdpSockets.Counters k : kernel) {
            t += Math.max(0, k.drops());
        }
        return t;
    }

    static RunStats of(VirtualMachine vm) {
        return new RunStats(vm);
    }

    long guestTotal(GuestReport.Counter c) {
        long t = 0;
        for (long[] g : guest) {
            t += g[c.ordinal()];
        }
        return t;
    }

    long msiSignalled() {
        long t = 0;
        for (NicStats n : nics) {
            t += n.msisSignalled();
        }
        return t;
    }

    /** The one-second status line: per NIC in / delivered / dropped, then MSIs, cache and latency since {@code prev}. */
    String statusLine(RunStats prev, long startNanos) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%5.1fs ", (nanos - startNanos) / 1e9));
        for (int i = 0; i < nics.size(); i++) {
            NicStats n = nics.get(i);
            NicStats p = prev == null ? null : prev.nics.get(i);
            long kd = kernel.get(i).drops() - (prev == null ? 0 : prev.kernel.get(i).drops());
            sb.append(String.format(Locale.ROOT, "| %s in %d deliv %d drop %d kernel drop %s ", n.nic(),
                    n.rxDatagrams() - (p == null ? 0 : p.rxDatagrams()),
                    n.rxDelivered() - (p == null ? 0 : p.rxDelivered()),
                    n.rxDropped() - (p == null ? 0 : p.rxDropped()),
                    kernel.get(i).known() ? Long.toString(kd) : "?"));
            if (nics.size() > 4 && i == 2) {
                sb.append("| ... ");
                i = nics.size() - 2;
            }
        }
        Histogram lat = signalToPending(irq);
        if (prev != null) {
            lat.subtract(signalToPending(prev.irq));
        }
        long msis = irq.injected() - (prev == null ? 0 : prev.irq.injected());
        long spis = irq.irqchipRaised() - (prev == null ? 0 : prev.irq.irqchipRaised());
        CacheStats c = gic.cache();
        long hits = c.hits() - (prev == null ? 0 : prev.gic.cache().hits());
        long lookups = c.lookups() - (prev == null ? 0 : prev.gic.cache().lookups());
        sb.append(String.format(Locale.ROOT, "| msi %d%s cache %s %s | signal->pending p50 %s p99 %s | guest %d lost %d",
                msis, spis == 0 ? "" : " spi " + spis, cache, lookups == 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100.0 * hits / lookups),
                micros(lat, 50), micros(lat, 99), guestTotal(GuestReport.Counter.FRAMES),
                guestTotal(GuestReport.Counter.LOST)));
        return sb.toString();
    }

    /** Signal to pending of every interrupt the irqfds raised: MSIs on both paths, and wired NICs' SPI edges. */
    private static Histogram signalToPending(IrqStats s) {
        Histogram h = s.latencyNanos();
        h.add(s.irqchipLatencyNanos());
        return h;
    }

    private static String micros(Histogram h, double p) {
        return h.getTotalCount() == 0 ? "-" : String.format(Locale.ROOT, "%.2fus", h.getValueAtPercentile(p) / 1e3);
    }

    /** The summary printed when a run ends. */
    String summary(long startNanos) {
        StringBuilder sb = new StringBuilder();
        double secs = (nanos - startNanos) / 1e9;
        sb.append(String.format(Locale.ROOT, "summary after %.1f s%n", secs));
        sb.append(String.format(Locale.ROOT, "  %-8s %6s %12s %12s %10s %11s %10s %12s %10s %10s %10s%n", "nic",
                "port", "rx dgrams", "delivered", "dropped", "kernel drop", "tx frames", "guest rcvd", "not iperf",
                "guest lost", "guest bad"));
        for (int i = 0; i < nics.size(); i++) {
            NicStats n = nics.get(i);
            long kd = kernel.get(i).drops();
            sb.append(String.format(Locale.ROOT, "  %-8s %6d %12d %12d %10d %11s %10d %12d %10d %10d %10d%n", n.nic(),
                    ports.get(i), n.rxDatagrams(), n.rxDelivered(), n.rxDropped(), kd < 0 ? "?" : Long.toString(kd),
                    n.txFrames(), guest[i][GuestReport.Counter.FRAMES.ordinal()],
                    guest[i][GuestReport.Counter.NOT_IPERF.ordinal()], guest[i][GuestReport.Counter.LOST.ordinal()],
                    guest[i][GuestReport.Counter.BAD.ordinal()]));
        }
        Histogram lat = signalToPending(irq);
        CacheStats c = gic.cache();
        sb.append(String.format(Locale.ROOT, "  MSIs: signalled %d, injected %d (fast path %d, slow path %d), not delivered %d%n",
                msiSignalled(), irq.injected(), irq.fastPath(), irq.slowPath(), irq.droppedTotal()));
        if (irq.irqchipRaised() > 0) {
            // NICs with 'interrupt: wired' signal their slots' SPIs; NicStats counts those signals with the MSIs.
            sb.append(String.format(Locale.ROOT, "  wired SPIs: %d edges raised (no translation)%n",
                    irq.irqchipRaised()));
        }
        sb.append(String.format(Locale.ROOT, "  translation cache %s: %d hits, %d misses (%.1f%%), %d flushes, %d evictions%n",
                cache, c.hits(), c.misses(), 100 * c.hitRate(), c.flushes(), c.evictions()));
        sb.append(String.format(Locale.ROOT, "  signal -> pending: p50 %s p90 %s p99 %s max %s (%d injections)%n",
                micros(lat, 50), micros(lat, 90), micros(lat, 99),
                lat.getTotalCount() == 0 ? "-" : String.format(Locale.ROOT, "%.2fus", lat.getMaxValue() / 1e3),
                lat.getTotalCount()));
        return sb.toString();
    }

    /**
     * Where received datagrams were lost and what would have kept them ({@link LossLine}); {@code sent} has, per NIC,
     * what the built-in sender sent it, or is null without one; {@code senderNice} is its nice value (-1: none).
     */
    String lossLine(long[] sent, int senderNice) {
        List<LossLine.Nic> l = new ArrayList<>();
        for (int i = 0; i < nics.size(); i++) {
            NicStats n = nics.get(i);
            l.add(new LossLine.Nic(n.nic(), mrgRxbuf.get(i), sent == null ? -1 : sent[i], n.rxDatagrams(),
                    kernel.get(i).drops(), n.rxDroppedNoBuffer(), n.rxDroppedTooBig(), n.rxDroppedUnsupported(),
                    guest[i][GuestReport.Counter.DISCARDED.ordinal()], socketBuffers.get(i), socketBufferAsked));
        }
        return LossLine.of(l, KernelUdpSockets.rmemMax(), senderNice);
    }

    /** The {@code --stats-json} document. */
    Map<String, Object> json(String configPath, long startNanos) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("config", configPath);
        root.put("duration_s", (nanos - startNanos) / 1e9);
        List<Map<String, Object>> nicList = new ArrayList<>();
        for (int i = 0; i < nics.size(); i++) {
            NicStats n = nics.get(i);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", n.nic());
            m.put("port", ports.get(i));
            m.put("rx_datagrams", n.rxDatagrams());
            m.put("rx_bytes", n.rxBytes());
            m.put("rx_delivered", n.rxDelivered());
            m.put("rx_dropped", n.rxDropped());
            m.put("rx_dropped_no_buffer", n.rxDroppedNoBuffer());
            m.put("rx_dropped_too_big", n.rxDroppedTooBig());
            m.put("rx_dropped_unsupported", n.rxDroppedUnsupported());
            m.put("socket_paused", n.socketPaused());
            m.put("arp_replies", n.arpReplies());
            m.put("kernel_drops", kernel.get(i).drops());
            m.put("tx_frames", n.txFrames());
            m.put("tx_bytes", n.txBytes());
            m.put("tx_datagrams", n.txDatagrams());
            m.put("tx_malformed", n.txMalformed());
            m.put("tx_dropped_non_udp", n.txDroppedNonUdp());
            m.put("tx_dropped_unknown_peer", n.txDroppedUnknownPeer());
            m.put("tx_dropped_socket_error", n.txDroppedSocketError());
            m.put("tx_dropped_closed", n.txDroppedClosed());
            m.put("tx_dropped", n.txDropped());
            m.put("tx_in_flight", n.txInFlight());
            m.put("guest_errors", n.guestErrors());
            m.put("notifications_sent", n.notificationsSent());
            m.put("notifications_suppressed", n.notificationsSuppressed());
            m.put("msi_signalled", n.msisSignalled());
            m.put("needs_reset", n.needsReset());
            Map<String, Object> g = new LinkedHashMap<>();
            for (GuestReport.Counter c : GuestReport.Counter.values()) {
                g.put(c.name().toLowerCase(Locale.ROOT), guest[i][c.ordinal()]);
            }
            m.put("guest", g);
            nicList.add(m);
        }
        root.put("nics", nicList);
        root.put("kernel_drops", kernelDrops());
        root.put("guest_received", guestTotal(GuestReport.Counter.FRAMES));
        root.put("guest_bytes", guestTotal(GuestReport.Counter.BYTES));
        root.put("guest_lost", guestTotal(GuestReport.Counter.LOST));
        root.put("guest_reordered", guestTotal(GuestReport.Counter.REORDERED));
        root.put("guest_bad", guestTotal(GuestReport.Counter.BAD));
        root.put("guest_echoed", guestTotal(GuestReport.Counter.ECHOED));
        root.put("msi_signalled", msiSignalled());
        root.put("msi_injected", irq.injected());
        root.put("msi_fast_path", irq.fastPath());
        root.put("msi_slow_path", irq.slowPath());
        root.put("msi_coalesced", irq.coalesced());
        Map<String, Object> drops = new LinkedHashMap<>();
        for (DropReason r : DropReason.values()) {
            drops.put(r.name().toLowerCase(Locale.ROOT), irq.dropped(r));
        }
        root.put("msi_not_delivered", drops);
        CacheStats c = gic.cache();
        root.put("cache", cache);
        root.put("cache_hits", c.hits());
        root.put("cache_misses", c.misses());
        root.put("cache_flushes", c.flushes());
        root.put("cache_evictions", c.evictions());
        root.put("injection_latency_ns", latency(irq.latencyNanos()));
        root.put("injection_latency_fast_ns", latency(irq.fastLatencyNanos()));
        root.put("injection_latency_slow_ns", latency(irq.slowLatencyNanos()));
        root.put("spi_raised", irq.irqchipRaised());
        root.put("injection_latency_spi_ns", latency(irq.irqchipLatencyNanos()));
        List<Map<String, Object>> vs = new ArrayList<>();
        for (VcpuStats v : vcpus) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", v.index());
            m.put("state", v.state().name().toLowerCase(Locale.ROOT));
            m.put("mmio_exits", v.mmioExits());
            m.put("sysreg_exits", v.sysregExits());
            m.put("wfi", v.wfiExits());
            m.put("halt_poll_successes", v.haltPollSuccesses());
            m.put("halts", v.halts());
            m.put("halt_poll_window_ns", v.haltPollWindow());
            vs.add(m);
        }
        root.put("vcpus", vs);
        return root;
    }

    static Map<String, Object> latency(Histogram h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", h.getTotalCount());
        m.put("p50", h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(50));
        m.put("p90", h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(90));
        m.put("p99", h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(99));
        m.put("p999", h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(99.9));
        m.put("max", h.getMaxValue());
        return m;
    }

    /** Writes {@code doc} as indented JSON, through a temporary file so that a reader never sees half of it. */
    static void writeJson(Path file, Object doc) {
        try {
            Path abs = file.toAbsolutePath();
            Path dir = abs.getParent();
            if (dir != null) {
                Files.createDirectories(dir);
            }
            Path tmp = Files.createTempFile(dir, ".stats", ".json");
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.toFile(), doc);
            try {
                // A temporary file is private to its owner; the result is an ordinary file.
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException notPosix) {
                // keep the platform's default
            }
            Files.move(tmp, abs, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new Main.RunFailure("cannot write " + file + ": " + e.getMessage());
        }
    }
}
