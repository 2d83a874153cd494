package dev.jvmm.launcher;

import dev.jvmm.bench.rx.RxThroughput;
import dev.jvmm.net.NetConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.time.Duration;

/**
 * {@code vmm bench rx-throughput}: vmm-bench's {@link RxThroughput}, datagrams per second into one NIC's guest
 * buffers against a plain Netty receiver on the same transport, and what each receiving thread allocates.
 */
@Command(name = "rx-throughput", mixinStandardHelpOptions = true,
        description = "Receive throughput of one NIC against a plain Netty receiver (docs/BENCHMARKS.md).")
final class RxThroughputCommand extends VmmCommand {

    @Option(names = "--seconds", paramLabel = "D", defaultValue = "3s", converter = Converters.DurationConverter.class,
            description = "Measured time per phase (default ${DEFAULT-VALUE}).")
    Duration seconds;

    @Option(names = "--warmup", paramLabel = "D", defaultValue = "1s", converter = Converters.DurationConverter.class,
            description = "Warm-up before the rounds (default ${DEFAULT-VALUE}).")
    Duration warmup;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "3", description = "Rounds of both receivers (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--transport", paramLabel = "T", defaultValue = "AUTO",
            description = "auto, epoll or nio (default ${DEFAULT-VALUE}).")
    NetConfig.Transport transport;

    @Option(names = "--payload", paramLabel = "BYTES", defaultValue = "64", description = "UDP payload bytes (default ${DEFAULT-VALUE}).")
    int payload;

    @Option(names = "--queue", paramLabel = "N", defaultValue = "256", description = "Receive queue size (default ${DEFAULT-VALUE}).")
    int queue;

    @Override
    public Integer call() throws Exception {
        if (rounds < 1 || payload < 16 || payload > 1472 || queue < 2 || Integer.bitCount(queue) != 1) {
            throw new Main.UsageException("--rounds must be positive, --payload between 16 and 1472, --queue a power"
                    + " of two");
        }
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            // Production setting for both receivers: the sampling leak detector allocates a trace now and then.
            io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        }
        RxThroughput.Options o = new RxThroughput.Options(seconds.toNanos() / 1e9, warmup.toNanos() / 1e9, rounds,
                transport, payload, queue);
        PrintStream out = outStream();
        RxThroughput.Result r = RxThroughput.run(o, out);
        out.println(RxThroughput.summary(r, o));
        out.flush();
        return Main.EXIT_OK;
    }
}
