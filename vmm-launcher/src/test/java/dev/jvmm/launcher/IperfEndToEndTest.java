package dev.jvmm.launcher;

import dev.jvmm.guest.GuestReport;
import dev.jvmm.net.KernelUdpSockets;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The README's traffic command, for real: Debian's iperf2 sends 64-byte UDP datagrams into the toy guest, which
 * follows iperf's sequence numbers. Runs when iperf is installed (CI installs it).
 */
class IperfEndToEndTest {

    private static boolean iperfInstalled() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, "iperf"))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void iperfTrafficReachesTheGuestWithItsSequenceIntact() throws Exception {
        assumeTrue(iperfInstalled(), "iperf (version 2) is not installed");
        try (VirtualMachine vm = VirtualMachine.builder(TestSupport.shipped("toy-guest.yaml")).build()) {
            vm.start();
            vm.awaitGuestRunning(Duration.ofSeconds(30));
            Process iperf = new ProcessBuilder("iperf", "-c", "127.0.0.1", "-p", Integer.toString(vm.nicPort(0)), "-u",
                    "-b", "2m", "-l", "64", "-t", "2").redirectErrorStream(true).start();
            String output = new String(iperf.getInputStream().readAllBytes());
            assertThat(iperf.waitFor(60, TimeUnit.SECONDS)).as("iperf finished: %s", output).isTrue();
            TestSupport.await(() -> vm.guest().counter(0, GuestReport.Counter.IPERF_FIN) > 0, 10_000,
                    "iperf's end-of-test datagram");
            long sent = vm.nicStats().get(0).rxDatagrams();
            GuestReport g = vm.guest();
            assertThat(sent).as("iperf at 2 Mbit/s for 2 s, 64-byte datagrams: %s", output).isGreaterThan(3000);
            assertThat(g.counter(0, GuestReport.Counter.FRAMES)).isEqualTo(sent);
            assertThat(g.counter(0, GuestReport.Counter.BAD)).isZero();
            // What the guest counts as lost must be exactly what the kernel dropped at the NIC's socket before the
            // device could read it (a loaded machine can make the event loop late; nothing may vanish after that).
            KernelUdpSockets.Counters kernel = KernelUdpSockets.of(vm.nics().get(0).localAddress());
            long kernelDrops = kernel.known() ? kernel.drops() : 0;
            assertThat(g.counter(0, GuestReport.Counter.LOST))
                    .as("datagrams lost by the guest's count = kernel socket drops (%d)", kernelDrops)
                    .isEqualTo(kernelDrops);
            assertThat(g.counter(0, GuestReport.Counter.REORDERED)).isZero();
        }
    }
}
