package dev.jvmm.launcher;

import dev.jvmm.bench.cpu.CpuBench;
import dev.jvmm.bench.cpu.CpuBenchOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code vmm bench cpu}: the compute-bound guest ({@code guests/bench-cpu}) on jvmm and on QEMU TCG, alternating,
 * with issue 15's targets: wall time at most 4x QEMU's, 0 bytes allocated per instruction in steady state, under 1%
 * of a core idling in WFI. Missed targets are reported, not failed.
 *
 * <pre>
 *   vmm bench cpu                                     # 5000 iterations, 3 repetitions, QEMU when installed
 *   vmm bench cpu --iterations 200 --repetitions 1 --no-qemu --idle-seconds 0
 * </pre>
 */
@Command(name = "cpu", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"A compute-bound guest (list processing, matrix arithmetic, a state machine, CRCs) on jvmm and on"
                + " qemu-system-aarch64 -accel tcg, side by side: wall time, instructions per second, the ratio,"
                + " bytes allocated per instruction on the vCPU thread, and the CPU a guest idling in WFI costs."})
final class CpuBenchCommand extends VmmCommand {

    @Option(names = "--guest", paramLabel = "FILE",
            description = "The kernel to run (default guests/bench-cpu/bench-cpu.elf); it reads iterations=N and "
                    + "timing=1 from its bootargs.")
    Path guest;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "5000",
            description = "The guest's iterations (default ${DEFAULT-VALUE}: about 1.45e9 instructions).")
    long iterations;

    @Option(names = "--repetitions", paramLabel = "N", defaultValue = "3",
            description = "Runs on each side, alternating; medians and min..max (default ${DEFAULT-VALUE}).")
    int repetitions;

    @Mixin
    QemuOptions qemu;

    @Option(names = "--idle-guest", paramLabel = "FILE",
            description = "The guest that idles in WFI (default guests/udp-sink/udp-sink.elf, one NIC, no traffic).")
    Path idleGuest;

    @Option(names = "--idle-seconds", paramLabel = "S", defaultValue = "10",
            description = "The idle measurement's window (default ${DEFAULT-VALUE}; 0: no idle measurement).")
    double idleSeconds;

    @Option(names = "--timeout", paramLabel = "D", defaultValue = "10m", converter = Converters.DurationConverter.class,
            description = "The longest one run may take (default ${DEFAULT-VALUE}).")
    Duration timeout;

    /** The options as values, checked: a {@link Main.UsageException} naming the option for one it cannot use. */
    CpuBenchOptions options() {
        qemu.checkOne();
        Path g = BenchCommands.guest(guest, "bench-cpu", "--guest", "run from the project's root or give --guest FILE");
        Path idle = !(idleSeconds > 0) ? null : BenchCommands.guest(idleGuest, "udp-sink", "--idle-guest",
                "give --idle-guest FILE or --idle-seconds 0");
        QemuOptions.Qemu q = qemu.resolve();
        return BenchCommands.checked(() -> new CpuBenchOptions(g, iterations, repetitions, q.program(), q.note(), idle,
                idleSeconds, timeout));
    }

    @Override
    public Integer call() throws Exception {
        CpuBenchOptions o = options();
        return BenchCommands.run(() -> CpuBench.run(o, out()));
    }
}
