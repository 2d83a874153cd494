package dev.jvmm.launcher;

import dev.jvmm.bench.peer.PeerBench;
import dev.jvmm.bench.peer.PeerBenchOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code vmm bench peer}: the compiled udp-sink on QEMU TCG (user networking, wired) and on jvmm (wired and MSI),
 * fed by the same sender at the seed's rate, side by side: datagrams per second delivered to the guest, loss, and the
 * guest-measured interval between receive interrupts.
 */
@Command(name = "peer", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The compiled udp-sink on qemu-system-aarch64 (TCG, user networking with hostfwd=udp, wired)"
                + " and on jvmm (wired, and MSIs through the ITS), the same UDP traffic to each in turn: datagrams/s"
                + " delivered to the guest, loss, and the guest-measured interval between receive interrupts."})
final class PeerBenchCommand extends VmmCommand {

    @Option(names = "--guest", paramLabel = "FILE", description = "The udp-sink kernel (default guests/udp-sink/udp-sink.elf).")
    Path guest;

    @Mixin
    SeedTrafficOptions traffic;

    @Option(names = "--repetitions", paramLabel = "N", defaultValue = "1",
            description = "Runs of every side, alternating; medians and min..max (default ${DEFAULT-VALUE}).")
    int repetitions;

    @Mixin
    QemuOptions qemu;

    @Option(names = "--boot-timeout", paramLabel = "D", defaultValue = "60s", converter = Converters.DurationConverter.class,
            description = "The longest a guest may take to print its first counter line (default ${DEFAULT-VALUE}).")
    Duration bootTimeout;

    PeerBenchOptions options() {
        qemu.checkOne();
        Path g = BenchCommands.guest(guest, "udp-sink", "--guest", "run from the project's root or give --guest FILE");
        QemuOptions.Qemu q = qemu.resolve();
        return BenchCommands.checked(() -> new PeerBenchOptions(g, traffic.seconds(), traffic.rate, traffic.length,
                repetitions, q.program(), q.note(), traffic.senderNice, bootTimeout));
    }

    @Override
    public Integer call() throws Exception {
        PeerBenchOptions o = options();
        return BenchCommands.run(() -> PeerBench.run(o, out()));
    }
}
