package dev.jvmm.bench.rx;

import dev.jvmm.bench.traffic.PlainReceiver;
import dev.jvmm.core.config.IrqConfig;
import dev.jvmm.net.testing.CountingInterruptController;
import dev.jvmm.net.NetConfig;
import dev.jvmm.net.NicConfig;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.InjectionMode;
import dev.jvmm.core.machine.Machine;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.net.IoTransport;
import dev.jvmm.net.NicCounter;
import dev.jvmm.net.VirtioNetDevice;
import dev.jvmm.net.VirtioNetDevices;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The receive benchmark: datagrams per second delivered into guest buffers through one virtio-net NIC, against a
 * plain Netty UDP receiver fed by the same sender in the same run, and the bytes each receiver's event loop thread
 * allocates per datagram.
 *
 * <pre>
 *  sender thread ── 64-byte UDP payloads over loopback, as fast as it can ──┬─▶ plain Netty receiver (counts, releases)
 *                                                                          └─▶ NIC (udp backend) ─▶ guest RX ring
 *                                                       vCPU 0 runs {@link BenchGuest}: WFI, reap, re-post, doorbell
 * </pre>
 *
 * Phases alternate (plain, device, plain, device, ...) so that both see the same machine state; each phase warms up,
 * then counts over a window. Both receivers use the same transport (the plain one with Netty's own datagram channel,
 * the NIC with the backends' channel: {@code NioUdpChannel} for NIO), the same 64 KiB receive buffers and 16
 * datagrams per read. Allocation is {@code com.sun.management.ThreadMXBean#getThreadAllocatedBytes} of the receiving
 * event loop thread over the window, divided by the datagrams it received.
 *
 * <p>Run: {@code vmm bench rx-throughput [--seconds 3s] [--rounds 3] [--transport auto|epoll|nio] [--payload 64]
 * [--queue 256]}
 */
public final class RxThroughput {

    /** What to run. */
    public record Options(double seconds, double warmupSeconds, int rounds, NetConfig.Transport transport,
                          int payload, int queueSize) {
        /** Three rounds of 3 s (after 1 s of warm-up), the configured transport, 64-byte payloads, 256 entries. */
        public static Options defaults() {
            return new Options(3, 1, 3, NetConfig.Transport.AUTO, 64, 256);
        }
    }

    /** One phase's figures. */
    public record Phase(String receiver, long datagrams, double seconds, long allocatedBytes) {
        /** Datagrams per second. */
        public double rate() {
            return datagrams / seconds;
        }

        /** Bytes the receiving event loop thread allocated per datagram received. */
        public double bytesPerDatagram() {
            return datagrams == 0 ? Double.NaN : (double) allocatedBytes / datagrams;
        }
    }

    /** The run's figures: every phase and the medians. */
    public record Result(IoTransport transport, List<Phase> plain, List<Phase> device, long guestInterrupts,
                         long guestDoorbells, long socketPaused) {
        /** The plain receiver's median rate. */
        public double plainRate() {
            return median(plain.stream().mapToDouble(Phase::rate).toArray());
        }

        /** The NIC's median rate into guest buffers. */
        public double deviceRate() {
            return median(device.stream().mapToDouble(Phase::rate).toArray());
        }

        /**
         * Device rate over plain rate: the median over rounds of each round's ratio, so that both sides of a ratio
         * were measured seconds apart under the same load (on a shared machine, the load drifts between rounds).
         */
        public double ratio() {
            double[] r = new double[Math.min(plain.size(), device.size())];
            for (int i = 0; i < r.length; i++) {
                r[i] = device.get(i).rate() / plain.get(i).rate();
            }
            return median(r);
        }

        public double plainBytesPerDatagram() {
            return median(plain.stream().mapToDouble(Phase::bytesPerDatagram).toArray());
        }

        public double deviceBytesPerDatagram() {
            return median(device.stream().mapToDouble(Phase::bytesPerDatagram).toArray());
        }

        private static double median(double[] v) {
            double[] s = v.clone();
            Arrays.sort(s);
            return s.length == 0 ? Double.NaN : s[s.length / 2];
        }
    }

    private RxThroughput() {
    }

    /** The figures as the report quotes them. */
    public static String summary(Result r, Options o) {
        return String.format(Locale.ROOT, "%s, %d-byte payloads: device %.0f datagrams/s, plain Netty %.0f datagrams/s"
                        + " (medians), ratio %.1f%% (median of paired rounds); event-loop allocation: device %.1f"
                        + " B/datagram, plain %.1f B/datagram"
                        + " (guest interrupts %d, doorbells %d, socket pauses %d)",
                r.transport().configName(), o.payload(), r.deviceRate(), r.plainRate(), 100 * r.ratio(),
                r.deviceBytesPerDatagram(), r.plainBytesPerDatagram(), r.guestInterrupts(), r.guestDoorbells(),
                r.socketPaused());
    }

    /** Runs the benchmark; progress lines go to {@code out} (null: quiet). */
    public static Result run(Options o, java.io.PrintStream out) throws Exception {
        IoTransport transport = IoTransport.select(o.transport());
        List<Phase> plain = new ArrayList<>();
        List<Phase> device = new ArrayList<>();
        long[] guestCounts = new long[3];
        for (int round = 0; round < o.rounds(); round++) {
            Phase p = plainPhase(o);
            plain.add(p);
            print(out, round, p);
            Phase d = devicePhase(o, guestCounts);
            device.add(d);
            print(out, round, d);
            if (out != null) {
                out.printf(Locale.ROOT, "round %d ratio  %.1f%%%n", round, 100 * d.rate() / p.rate());
            }
        }
        return new Result(transport, plain, device, guestCounts[0], guestCounts[1], guestCounts[2]);
    }

    private static void print(java.io.PrintStream out, int round, Phase p) {
        if (out != null) {
            out.printf(Locale.ROOT, "round %d %-6s %,12.0f datagrams/s  %6.1f B/datagram on the event loop%n",
                    round, p.receiver(), p.rate(), p.bytesPerDatagram());
        }
    }

    // -------------------------------------------------------------------------------------------- plain receiver

    private static Phase plainPhase(Options o) throws Exception {
        try (PlainReceiver r = new PlainReceiver(1, o.transport(), 1, 0)) {
            return measure("plain", o, r.addresses().get(0).getPort(), r.eventLoopThreadId(0), r::received);
        }
    }

    // -------------------------------------------------------------------------------------------- device

    private static Phase devicePhase(Options o, long[] guestCounts) throws Exception {
        NicConfig nic = NicConfig.builder(0).listen(0).guestPort(7000).queueSize(o.queueSize()).mrgRxbuf(false).build();
        VmConfig config = VmConfig.builder().vcpus(1).memorySize(64L << 20)
                .irq(new IrqConfig(InjectionMode.INLINE, 0, 0))
                .with(NetConfig.SECTION, new NetConfig(o.transport(), 1))
                .with(NicConfig.SECTION, List.of(nic)).build();
        BenchGuest guest = new BenchGuest(MemoryMap.virtioSlot(0), o.queueSize(), 1526, Math.max(1, o.queueSize() / 4));
        Machine m = Machine.builder(config)
                .name("bench")
                .interruptController(CountingInterruptController::new)
                .devices(VirtioNetDevices.factory())
                .guest(i -> guest)
                .build();
        try {
            m.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!guest.isReady() && guest.failure() == null && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            if (!guest.isReady()) {
                throw new IllegalStateException("the guest driver did not come up: " + guest.failure()
                        + " " + m.vcpuFaults());
            }
            VirtioNetDevice d = m.device(VirtioNetDevice.class);
            long tid = d.eventLoop().submit(() -> Thread.currentThread().getId()).get();
            Phase p = measure("device", o, d.boundPort(), tid, () -> d.counters().get(NicCounter.RX_DELIVERED));
            guest.stop();
            guestCounts[0] += guest.interrupts();
            guestCounts[1] += guest.doorbells();
            guestCounts[2] += d.stats().socketPaused();
            return p;
        } finally {
            guest.stop();
            m.stop();
        }
    }

    // -------------------------------------------------------------------------------------------- measurement

    private static Phase measure(String name, Options o, int port, long loopThread, LongSupplier received)
            throws Exception {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Sender sender = new Sender(new InetSocketAddress("127.0.0.1", port), o.payload());
        Thread t = new Thread(sender, "bench-sender");
        t.setDaemon(true);
        t.start();
        try {
            Thread.sleep((long) (o.warmupSeconds() * 1000));
            long n0 = received.getAsLong();
            long a0 = threads.getThreadAllocatedBytes(loopThread);
            long t0 = System.nanoTime();
            Thread.sleep((long) (o.seconds() * 1000));
            long n1 = received.getAsLong();
            long a1 = threads.getThreadAllocatedBytes(loopThread);
            long t1 = System.nanoTime();
            return new Phase(name, n1 - n0, (t1 - t0) / 1e9, a1 - a0);
        } finally {
            sender.stop = true;
            t.join(5000);
        }
    }

    /** Sends fixed-size datagrams from one connected socket as fast as the kernel takes them. */
    private static final class Sender implements Runnable {
        private final InetSocketAddress target;
        private final int payload;
        volatile boolean stop;

        Sender(InetSocketAddress target, int payload) {
            this.target = target;
            this.payload = payload;
        }

        @Override
        public void run() {
            try (DatagramChannel ch = DatagramChannel.open()) {
                ch.bind(new InetSocketAddress("127.0.0.1", 0));
                ch.connect(target);
                ByteBuffer b = ByteBuffer.allocateDirect(payload);
                long seq = 0;
                while (!stop) {
                    b.clear();
                    if (payload >= 8) {
                        b.putLong(0, seq++);
                    }
                    try {
                        ch.write(b);
                    } catch (java.io.IOException e) {
                        // ECONNREFUSED from an earlier ICMP error on loopback: keep sending.
                    }
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
