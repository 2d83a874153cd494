package dev.jvmm.launcher;

import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What {@code vmm run} and {@code vmm replay} share: how long the guest may take to boot, and where the final counters
 * go.
 */
final class GuestRunOptions {
    @Option(names = "--stats-json", paramLabel = "FILE", description = "Write the final counters as JSON to FILE.")
    Path statsJson;

    @Option(names = "--boot-timeout", paramLabel = "D", defaultValue = "20s", converter = Converters.DurationConverter.class,
            description = "How long the guest may take to boot (default: ${DEFAULT-VALUE}).")
    Duration bootTimeout;

    /** A {@code --stats-json FILE} that cannot be written fails now (a usage error), not after the run. */
    void checkStatsJson() {
        if (statsJson != null) {
            checkWritable(statsJson);
        }
    }

    /** A --stats-json FILE whose directory does not exist or cannot be written fails now, not after the run. */
    static void checkWritable(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            throw new Main.UsageException("--stats-json: directory " + dir + " does not exist");
        }
        if (dir != null && !Files.isWritable(dir)) {
            throw new Main.UsageException("--stats-json: directory " + dir + " is not writable");
        }
        if (Files.isDirectory(file)) {
            throw new Main.UsageException("--stats-json: " + file + " is a directory");
        }
    }
}
