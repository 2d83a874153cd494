package dev.jvmm.launcher;

import dev.jvmm.launcher.trace.TraceSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Path;

/** {@code vmm trace DIR [--csv]}: summarise a trace journal, or print its rows. */
@Command(name = "trace", mixinStandardHelpOptions = true,
        description = "Summarise a trace recorded with 'vmm run --trace DIR': latency percentiles per stage and per NIC.")
final class TraceCommand extends VmmCommand {

    @Parameters(index = "0", paramLabel = "DIR", description = "The trace directory.")
    Path dir;

    @Option(names = "--csv", description = "Print one CSV row per record instead of the summary.")
    boolean csv;

    @Override
    public Integer call() {
        PrintStream out = outStream();
        try {
            if (csv) {
                TraceSummary.printCsv(dir, out);
            } else {
                TraceSummary.of(dir).print(dir, out);
            }
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        out.flush();
        return Main.EXIT_OK;
    }
}
