package dev.jvmm.launcher.faults;

import dev.jvmm.launcher.Main;
import dev.jvmm.launcher.trace.TraceReader;
import dev.jvmm.launcher.trace.TraceSummary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Signals to a running {@code vmm}: SIGTERM stops it cleanly with its summary and files; {@code kill -9} in the middle
 * of a traced run leaves a journal that reads back every whole record, up to the last one the
 * process completed, and {@code vmm trace} summarises it.
 */
class SignalsTest {

    private static long records(Path dir) {
        try {
            return TraceReader.read(dir, new TraceReader.Visitor() {
            });
        } catch (RuntimeException e) {
            return 0;   // not created yet
        }
    }

    /** {@code vmm ARGS} in a child JVM, as the {@code ./vmm} script starts it. */
    private static Process vmm(Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
                "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
                "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
                "-Dchronicle.analytics.disable=true",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile())
                .start();
    }

    private static Path config(Path dir) throws Exception {
        Path cfg = dir.resolve("k.yaml");
        Files.writeString(cfg, "nics:\n  - listen: 127.0.0.1:0\n    guest-port: 5001\nguest:\n  program: udp-sink\n");
        return cfg;
    }

    @Test
    void sigtermStopsCleanlyPrintsTheSummaryAndWritesTheStats(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("stats.json");
        Process child = vmm(dir, "run", config(dir).toString(), "--traffic", "1m", "--duration", "60s",
                "--stats-json", json.toString());
        Path log = dir.resolve("child.log");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(log).contains("guest udp-sink running")) {
            assertThat(child.isAlive()).as("the run is going; its log: %s", Files.readString(log)).isTrue();
            assertThat(System.nanoTime()).as("the guest booted in time").isLessThan(deadline);
            Thread.sleep(50);
        }
        Thread.sleep(1500);
        child.destroy();     // SIGTERM
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as("terminated by SIGTERM after a clean stop").isEqualTo(143);
        assertThat(Files.readString(log)).contains("summary after").contains("counters written to");
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile()).get("guest_received")
                .asLong()).isPositive();
    }

    @Test
    void aJournalCutShortByKillMinusNineReadsUpToItsLastWholeRecord(@TempDir Path dir) throws Exception {
        Path trace = dir.resolve("trace");
        Process child = vmm(dir, "run", config(dir).toString(), "--trace", trace.toString(), "--traffic", "2m",
                "--duration", "60s", "--quiet");
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (records(trace) < 2000) {
                assertThat(child.isAlive()).as("the traced run is still going; its log: %s",
                        Files.exists(dir.resolve("child.log")) ? Files.readString(dir.resolve("child.log")) : "").isTrue();
                assertThat(System.nanoTime()).as("records in the journal in time").isLessThan(deadline);
                Thread.sleep(50);
            }
        } finally {
            child.destroyForcibly();     // SIGKILL: no shutdown hook, no close
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(child.exitValue()).as("killed by SIGKILL").isEqualTo(137);
        long whole = records(trace);
        assertThat(whole).as("records read back after the kill").isGreaterThanOrEqualTo(2000);
        TraceSummary s = TraceSummary.of(trace);
        assertThat(s.records()).isEqualTo(whole);
        assertThat(s.total().datagrams).isPositive();
        assertThat(s.total().msiFast + s.total().msiSlow).isPositive();
        assertThat(new File(trace.toFile(), ".").list()).isNotEmpty();
    }
}
