package dev.jvmm.launcher;

import picocli.CommandLine.Command;

/**
 * {@code vmm bench ...}: the benchmarks that print figures. Each is a harness of vmm-bench; these commands are their
 * command lines (the launcher depends on vmm-bench, never the other way round).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks: seed (the seed patch's measurement), lpi-stress (the interrupt controller alone),"
                + " rx-throughput (one NIC against a plain Netty receiver), cpu (a compute-bound guest on jvmm and"
                + " QEMU TCG), peer (the compiled udp-sink on QEMU and jvmm).",
        subcommands = {SeedCommand.class, LpiStressCommand.class, RxThroughputCommand.class, CpuBenchCommand.class,
            PeerBenchCommand.class})
final class BenchCommand {
}
