package dev.jvmm.launcher;

import dev.jvmm.bench.BenchFailure;
import dev.jvmm.bench.seed.MachineFactory;
import dev.jvmm.bench.seed.SeedCell;
import dev.jvmm.bench.seed.SeedHarness;
import dev.jvmm.bench.seed.SeedOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code vmm bench seed}: the seed patch's measurement, reproduced on this machine and set beside the paths that
 * came after it. For 1 and 10 NICs receiving iperf2 UDP traffic at once, it measures how long an MSI takes from the
 * NIC's irqfd signal until its LPI is pending (t1 → t2, what the seed measured), and from a datagram's arrival until
 * the guest acknowledges the interrupt that covered it (t0 → t3), for every injection setup:
 *
 * <pre>
 *   vmm bench seed                                   # 1 and 10 NICs, every cell, 3 x 10 s each, iperf if installed
 *   vmm bench seed --nics 1 --seconds 2 --repeat 1 --cells worker,per-its --report /tmp/seed
 *
 *   repetition 1:  1 NIC: plain, worker, none, global-lru, sharded, per-its, wired   10 NICs: plain, worker, ...
 *   repetition 2:  the same, in the same order ...     (each cell a fresh machine, the same traffic)
 * </pre>
 *
 * It prints the seed's table (p50 and p99 per path, changes against {@code worker}, {@code global-lru} and
 * {@code wired}: what translation costs over a plain SPI), the
 * end-to-end latencies, the traffic with the plain Netty receiver as the receive path's limit, the seed's own kernel
 * figures for orientation (marked as such) and the issue's targets with a verdict each. {@code --report DIR} adds
 * {@code seed.json} and {@code report.html}. Missed targets are reported, not failed: the exit status is 0 for a
 * completed run, 2 for bad options, 1 for a run that could not complete (a port, a guest, the sender).
 */
@Command(name = "seed", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The seed patch's measurement: MSI injection latency (signal -> pending) and datagram arrival ->"
                + " guest acknowledge, for 1 and 10 NICs under UDP load, through the worker thread and each cached"
                + " path, with a plain Netty receiver as baseline.",
                "Cells: worker (every MSI through the injector thread), none (inline, the cache forced to miss),"
                        + " global-lru (Linux 5.4), sharded (the seed patch), per-its (Linux 6.10), wired (the NICs'"
                        + " virtio-mmio SPIs through irqfds, no translation at all)."})
final class SeedCommand extends VmmCommand {

    @Option(names = "--nics", paramLabel = "N[,N...]", split = ",", defaultValue = "1,10",
            description = "NIC counts, one table row each (default ${DEFAULT-VALUE}).")
    List<Integer> nics;

    @Mixin
    SeedTrafficOptions traffic;

    @Option(names = "--warmup", paramLabel = "S", defaultValue = "2", converter = Converters.DurationConverter.class,
            description = "Time of the same traffic before each measurement, not measured (default ${DEFAULT-VALUE}).")
    Duration warmup;

    @Option(names = "--sender", paramLabel = "WHO", defaultValue = "auto", converter = SenderConverter.class,
            description = "iperf, builtin or auto: iperf when installed (default ${DEFAULT-VALUE}).")
    SeedOptions.Sender sender;

    @Option(names = "--repeat", paramLabel = "R", defaultValue = "3",
            description = "Runs of every cell, interleaved; medians and min..max are reported (default ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--cells", paramLabel = "CELL[,CELL...]", split = ",", defaultValue = "worker,none,global-lru,sharded,per-its,wired",
            converter = Converters.SeedCellConverter.class,
            description = "A subset of worker, none, global-lru, sharded, per-its, wired (default all; the plain receiver"
                    + " always runs).")
    List<SeedCell> cells;

    @Option(names = "--event-loop-threads", paramLabel = "N", defaultValue = "1",
            description = "Netty event loop threads the NICs share (default ${DEFAULT-VALUE}, as configs/seed-10nics.yaml:"
                    + " one thread signals every NIC's interrupts).")
    int eventLoopThreads;

    @Option(names = "--socket-buffer", paramLabel = "SIZE", defaultValue = "4M", converter = Converters.SizeConverter.class,
            description = "SO_RCVBUF of every receiving socket, the NICs' and the plain receiver's (default ${DEFAULT-VALUE};"
                    + " 0: the kernel's default).")
    long socketBuffer;

    @Option(names = "--report", paramLabel = "DIR", description = "Write seed.json and report.html into DIR.")
    Path report;

    @Option(names = "--guest", paramLabel = "java|arm64", defaultValue = "java",
            description = "The guest of every cell: java (the toy guest, default) or arm64 (the compiled udp-sink on the"
                    + " virt board, t0 -> t3 ending at its ICC_IAR1_EL1 read).")
    String guest;

    @Option(names = "--kernel", paramLabel = "FILE",
            description = "With --guest arm64: the udp-sink kernel (default guests/udp-sink/udp-sink.elf).")
    Path kernel;

    /** The machines of the cells, wired by the launcher. */
    static final MachineFactory MACHINES = (config, name, observer, backends) -> VirtualMachine.builder(config)
            .name(name).observer(observer).backends(backends).build().machine();

    /** The options as values, checked: a {@link Main.UsageException} naming the option for one it cannot use. */
    SeedOptions options() {
        return BenchCommands.checked(() -> new SeedOptions(nics, traffic.seconds(), warmup.toNanos() / 1e9,
                traffic.rate, traffic.length, sender, repeat, report, cells, eventLoopThreads, socketBuffer,
                traffic.senderNice));
    }

    /** The compiled guest's kernel with --guest arm64, null with --guest java. */
    Path kernel() {
        if (guest.equals("java")) {
            if (kernel != null) {
                throw new Main.UsageException("--kernel: only with --guest arm64");
            }
            return null;
        }
        if (!guest.equals("arm64")) {
            throw new Main.UsageException("--guest: must be java or arm64, got '" + guest + "'");
        }
        Path k = BenchCommands.guest(kernel, "udp-sink", "--guest arm64",
                "run from the project's root or give --kernel FILE");
        if (!Files.isRegularFile(k)) {
            throw new Main.UsageException("--kernel: no such file: " + k);
        }
        return k;
    }

    @Override
    public Integer call() throws Exception {
        SeedOptions o = options();
        Path k = kernel();
        try {
            SeedHarness.run(o, MACHINES, k, out(), err());
        } catch (IllegalArgumentException e) {
            // An option this host cannot honour (iperf asked for but not installed).
            throw new Main.UsageException(e.getMessage());
        } catch (BenchFailure e) {
            throw new Main.RunFailure(e.getMessage());
        }
        return Main.EXIT_OK;
    }

    static final class SenderConverter implements ITypeConverter<SeedOptions.Sender> {
        @Override
        public SeedOptions.Sender convert(String text) {
            for (SeedOptions.Sender s : SeedOptions.Sender.values()) {
                if (s.configName().equals(text.trim())) {
                    return s;
                }
            }
            throw new TypeConversionException("'" + text + "' is not iperf, builtin or auto");
        }
    }
}
