package dev.jvmm.launcher;

import dev.jvmm.core.config.VmConfig;
import dev.jvmm.net.NicConfig;
import dev.jvmm.guest.GuestReport;
import dev.jvmm.net.KernelUdpSockets;
import dev.jvmm.launcher.trace.TraceReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code vmm replay DIR CONFIG}: start a machine from CONFIG and send it the datagrams recorded in DIR, NIC by NIC
 * (the trace's NIC n goes to the configuration's NIC n), at the recorded pace or faster, so that a run can be
 * repeated exactly.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = "Replay the datagrams of a trace into a machine built from CONFIG.")
final class ReplayCommand extends VmmCommand {

    @Parameters(index = "0", paramLabel = "DIR", description = "A trace directory (vmm run --trace DIR).")
    Path dir;

    @Parameters(index = "1", paramLabel = "CONFIG", description = "The machine configuration to replay into.")
    Path config;

    @Option(names = "--speed", paramLabel = "X", defaultValue = "1.0", converter = Converters.SpeedConverter.class,
            description = "1.0 keeps the recorded pace, 2 is twice as fast, max sends as fast as possible.")
    double speed;

    @Mixin
    GuestRunOptions guestRun;

    @Override
    public Integer call() throws Exception {
        double factor = speed;
        guestRun.checkStatsJson();
        VmConfig cfg = VirtualMachine.configLoader().load(config);
        int nics = cfg.get(NicConfig.SECTION).size();
        // Read the header first: the trace must fit the configuration.
        TraceReader.Header[] header = new TraceReader.Header[1];
        long[] recorded = new long[1];
        try {
            TraceReader.read(dir, new TraceReader.Visitor() {
                @Override
                public void header(TraceReader.Header h) {
                    if (header[0] == null) {
                        header[0] = h;
                    }
                }

                @Override
                public void datagram(long time, int nic, byte[] payload, int length) {
                    recorded[0]++;
                }
            });
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        if (header[0] != null && header[0].nics().size() > nics) {
            throw new Main.UsageException(dir + " was recorded with " + header[0].nics().size() + " NICs; " + config
                    + " has " + nics);
        }
        PrintWriter out = out();
        try (VirtualMachine vm = VirtualMachine.builder(cfg).name("replay").build()) {
            vm.start();
            vm.awaitGuestRunning(guestRun.bootTimeout);
            out.printf("replaying %d datagrams from %s at %s speed%n", recorded[0], dir,
                    Double.isInfinite(speed) ? "max" : Double.toString(speed));
            out.flush();
            long start = System.nanoTime();
            long sent = send(vm, factor);
            // Wait (bounded) for the guest to have taken what the NICs delivered.
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (System.nanoTime() < deadline) {
                long delivered = 0;
                for (var n : vm.nicStats()) {
                    delivered += n.rxDelivered();
                }
                if (vm.guest().total(GuestReport.Counter.FRAMES) + vm.guest().total(GuestReport.Counter.BAD)
                        + vm.guest().total(GuestReport.Counter.OTHER) >= delivered && delivered + dropped(vm) >= sent) {
                    break;
                }
                Thread.sleep(10);
            }
            RunStats s = RunStats.of(vm);
            out.print(s.summary(start));
            out.printf("  replayed %d of %d recorded datagrams%n", sent, recorded[0]);
            if (guestRun.statsJson != null) {
                var doc = s.json(config.toString(), start);
                doc.put("replayed", sent);
                doc.put("recorded", recorded[0]);
                RunStats.writeJson(guestRun.statsJson, doc);
            }
            return Main.EXIT_OK;
        }
    }

    /** What the device dropped, and what the kernel dropped at the NICs' sockets before the device read it. */
    private static long dropped(VirtualMachine vm) {
        long d = 0;
        for (var n : vm.nicStats()) {
            d += n.rxDropped();
        }
        for (var nic : vm.nics()) {
            KernelUdpSockets.Counters k = KernelUdpSockets.of(nic.localAddress());
            if (k.known()) {
                d += k.drops();
            }
        }
        return d;
    }

    private long send(VirtualMachine vm, double factor) throws IOException {
        List<InetSocketAddress> to = Traffic.targets(vm.nics());
        long[] sent = new long[1];
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress("127.0.0.1", 0));
            ByteBuffer buf = ByteBuffer.allocateDirect(65536);
            long start = System.nanoTime();
            long[] first = {Long.MIN_VALUE};
            IOException[] failure = new IOException[1];
            TraceReader.read(dir, new TraceReader.Visitor() {
                @Override
                public void datagram(long time, int nic, byte[] payload, int length) {
                    if (failure[0] != null || nic < 0 || nic >= to.size()) {
                        return;
                    }
                    if (first[0] == Long.MIN_VALUE) {
                        first[0] = time;
                    }
                    if (factor != Double.POSITIVE_INFINITY) {
                        long due = start + (long) ((time - first[0]) / factor);
                        long wait;
                        while ((wait = due - System.nanoTime()) > 0) {
                            if (wait > 100_000) {
                                LockSupport.parkNanos(wait - 50_000);
                            } else {
                                Thread.onSpinWait();
                            }
                        }
                    }
                    buf.clear();
                    buf.put(payload, 0, length).flip();
                    try {
                        ch.send(buf, to.get(nic));
                        sent[0]++;
                    } catch (IOException e) {
                        failure[0] = e;
                    }
                }
            });
            if (failure[0] != null) {
                throw failure[0];
            }
        }
        return sent[0];
    }
}
