package dev.jvmm.launcher;

import dev.jvmm.bench.lpi.LpiStress;
import dev.jvmm.gic.cache.CacheStrategy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code vmm bench lpi-stress}: Linux's vgic_lpi_stress for this GIC (vmm-bench's {@link LpiStress}): V vCPUs, D devices
 * with E events each, one injecting thread per device, every strategy on one machine; prints LPIs/s and bytes
 * allocated per injection.
 */
@Command(name = "lpi-stress", mixinStandardHelpOptions = true,
        description = "LPI injection rate per translation cache strategy (modelled on Linux's vgic_lpi_stress).")
final class LpiStressCommand extends VmmCommand {

    @Option(names = "-v", paramLabel = "V", defaultValue = "1", description = "vCPUs, one collection each (default ${DEFAULT-VALUE}).")
    int vcpus;

    @Option(names = "-d", paramLabel = "D", defaultValue = "1", description = "Devices, one injecting thread each (default ${DEFAULT-VALUE}).")
    int devices;

    @Option(names = "-e", paramLabel = "E", defaultValue = "1", description = "Events per device (default ${DEFAULT-VALUE}).")
    int events;

    @Option(names = "-i", paramLabel = "I", defaultValue = "100000",
            description = "Iterations: each thread signals each of its events I times (default ${DEFAULT-VALUE}).")
    long iterations;

    @Option(names = "--warmup", paramLabel = "W",
            description = "Iterations of the same loop before measuring (default: a tenth of -i, at least 1000).")
    Long warmup;

    @Option(names = "--halt-poll", paramLabel = "D", defaultValue = "50us", converter = Converters.DurationConverter.class,
            description = "How long an idle vCPU spins in WFI before it sleeps (default ${DEFAULT-VALUE}).")
    Duration haltPoll;

    @Option(names = "--cache", paramLabel = "STRATEGY", defaultValue = "all", converter = Converters.StrategiesConverter.class,
            description = "none, global-lru, sharded, per-its or all (default ${DEFAULT-VALUE}).")
    List<CacheStrategy> strategies;

    @Option(names = "--upstream", description = "Run the five shapes the upstream Linux change reported.")
    boolean upstream;

    @Override
    public Integer call() {
        List<LpiStress.Options> shapes = new ArrayList<>();
        try {
            List<LpiStress.Options> base = upstream ? LpiStress.upstreamShapes(iterations, strategies.get(0))
                    : List.of(new LpiStress.Options(vcpus, devices, events, iterations, strategies.get(0)));
            for (LpiStress.Options o : base) {
                shapes.add(new LpiStress.Options(o.vcpus(), o.devices(), o.eventsPerDevice(), o.iterations(), o.cache(),
                        warmup != null ? warmup : o.warmupIterations(), haltPoll.toNanos()));
            }
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        PrintWriter out = out();
        long undelivered = 0;
        for (LpiStress.Options o : shapes) {
            for (LpiStress.Result r : LpiStress.runStrategies(o, strategies)) {
                out.println(r.summary());
                out.flush();
                undelivered += r.undelivered();
            }
        }
        if (undelivered != 0) {
            throw new Main.RunFailure(undelivered + " injections were not delivered");
        }
        return Main.EXIT_OK;
    }
}
