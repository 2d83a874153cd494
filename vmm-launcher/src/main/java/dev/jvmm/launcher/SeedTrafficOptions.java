package dev.jvmm.launcher;

import picocli.CommandLine.Option;

import java.time.Duration;

/**
 * The seed's UDP traffic, as {@code vmm bench seed} and {@code vmm bench peer} send it: iperf2's 64-byte datagrams at
 * 40 Mbit/s into each NIC from senders at nice 19, for a measured time per run.
 */
final class SeedTrafficOptions {
    @Option(names = "--seconds", paramLabel = "S", defaultValue = "10", converter = Converters.DurationConverter.class,
            description = "Measured traffic per run (a cell or a side) and repetition: seconds, or a duration such as "
                    + "500ms (default ${DEFAULT-VALUE}).")
    Duration seconds;

    @Option(names = "--rate", paramLabel = "RATE", defaultValue = "40m", converter = Converters.RateConverter.class,
            description = "Payload bits/s per NIC, as iperf's -b (default ${DEFAULT-VALUE}, the seed's).")
    long rate;

    @Option(names = "--length", paramLabel = "BYTES", defaultValue = "64",
            description = "UDP payload bytes, as iperf's -l (default ${DEFAULT-VALUE}).")
    int length;

    @Option(names = "--sender-nice", paramLabel = "N", defaultValue = "19",
            description = "Nice value of the senders, 0..19 (default ${DEFAULT-VALUE}, as the seed's: they take only "
                    + "the CPU the receiving side leaves).")
    int senderNice;

    /** {@code --seconds} in seconds, as the harnesses' options take it. */
    double seconds() {
        return seconds.toNanos() / 1e9;
    }
}
