package dev.jvmm.launcher;

import picocli.CommandLine.Command;

/** {@code vmm bench ...}: the benchmarks that print figures. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks: lpi-stress (the interrupt controller alone), seed (the seed patch's measurement).",
        subcommands = {LpiStressCommand.class, dev.jvmm.launcher.bench.SeedCommand.class})
final class BenchCommand {
}
