package dev.jvmm.launcher.faults;

import dev.jvmm.guest.ToyGuestConfig;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.net.KernelUdpSockets;
import dev.jvmm.launcher.TestSupport;
import dev.jvmm.launcher.VirtualMachine;
import dev.jvmm.guest.GuestReport;
import dev.jvmm.bench.traffic.UdpSender;
import dev.jvmm.net.NicStats;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

import static dev.jvmm.launcher.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A sender at the highest rate this machine allows, for a bounded time, into a guest that consumes slowly: every
 * datagram is accounted for (sent = taken by the guest + dropped by the device + dropped by the kernel at the host
 * socket), and the heap and the thread count stay flat.
 */
class OverloadTest {

    private static KernelUdpSockets.Counters kernel(int port) {
        KernelUdpSockets.Counters c = KernelUdpSockets.of(new InetSocketAddress("127.0.0.1", port));
        assertThat(c.known()).as("the socket of 127.0.0.1:" + port + " in /proc/net/udp").isTrue();
        return c;
    }

    private static long heapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    @Test
    void aFloodIntoASlowGuestIsAccountedForAndLeavesHeapAndThreadsFlat() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/net/udp")),
                "the kernel's drop counters are read from /proc/net/udp (Linux)");
        VmConfig base = TestSupport.shipped("toy-guest.yaml");
        // 20 us of work per datagram: the guest takes at most ~50,000 datagrams/s, far below the flood.
        VmConfig config = base.with(ToyGuestConfig.SECTION, ToyGuestConfig.of("udp-sink").withWorkPerFrameNanos(20_000)
                .withQueueSize(64));
        try (VirtualMachine vm = VirtualMachine.builder(config).build()) {
            vm.start();
            vm.awaitGuestRunning(Duration.ofSeconds(30));
            int port = vm.nicPort(0);
            long heapBefore = heapAfterGc();
            int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
            long dropsBefore = kernel(port).drops();

            long peakThreads = 0;
            try (UdpSender flood = new UdpSender(List.of(new InetSocketAddress("127.0.0.1", port)), 0, 64,
                    3_000_000_000L, "flood").start()) {
                for (int i = 0; i < 30; i++) {
                    Thread.sleep(100);
                    peakThreads = Math.max(peakThreads, ManagementFactory.getThreadMXBean().getThreadCount());
                }
                flood.join();
                long sent = flood.totalSent();
                // Drain: the guest works through what the device holds, the socket empties.
                await(() -> kernel(port).rxQueueBytes() == 0 && vm.guest().counter(0, GuestReport.Counter.FRAMES)
                        + vm.guest().counter(0, GuestReport.Counter.OTHER) >= vm.nicStats().get(0).rxDelivered(),
                        60_000, "the guest to drain the backlog");
                Thread.sleep(200);
                NicStats n = vm.nicStats().get(0);
                long kernel = kernel(port).drops() - dropsBefore;
                long guest = vm.guest().counter(0, GuestReport.Counter.FRAMES);
                long device = n.rxDropped();
                System.out.printf(Locale.ROOT, "overload: sent %d = guest %d + device drops %d + kernel drops %d"
                                + " (socket paused %d times, %d datagrams/s offered)%n", sent, guest, device, kernel,
                        n.socketPaused(), sent / 3);
                assertThat(n.rxDatagrams()).as("datagrams the device read").isEqualTo(guest + device);
                assertThat(guest + device + kernel).as("every datagram accounted for").isEqualTo(sent);
                assertThat(kernel).as("a flood this size must overflow the host socket").isPositive();
                assertThat(n.socketPaused()).as("backpressure: the socket was paused").isPositive();
                assertThat(vm.guest().counter(0, GuestReport.Counter.BAD)).isZero();
            }
            long heapAfter = heapAfterGc();
            assertThat(heapAfter - heapBefore).as("heap growth after GC, bytes").isLessThan(32L << 20);
            assertThat(peakThreads - threadsBefore).as("threads started during the flood (the sender only)")
                    .isLessThanOrEqualTo(1);
            assertThat(vm.machine().vcpuFaults()).isEmpty();
        }
    }
}
