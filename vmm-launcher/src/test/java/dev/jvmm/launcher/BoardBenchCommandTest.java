package dev.jvmm.launcher;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bad options of {@code vmm bench cpu}, {@code vmm bench peer} and {@code vmm bench seed --guest}: exit status 2,
 * one line naming the option, nothing run.
 */
class BoardBenchCommandTest {

    private static String error(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        assertThat(status).as("exit status of %s; stderr %s", String.join(" ", args), err).isEqualTo(Main.EXIT_USAGE);
        assertThat(out.toString()).as("nothing ran").isEmpty();
        // One message; picocli's own parse errors add its usual "Try 'vmm ... --help'" line.
        String e = err.toString().strip().lines().filter(l -> !l.startsWith("Try 'vmm ")).reduce("", (a, b) -> a + b + "\n")
                .strip();
        assertThat(e.lines().count()).as("one message: %s", err).isEqualTo(1);
        assertThat(e).doesNotContain("Exception").doesNotContain("\tat ");
        return e;
    }

    @Test
    void cpuRefusesBadOptions(@TempDir Path dir) throws Exception {
        assertThat(error("bench", "cpu", "--repetitions", "0")).contains("--repetitions");
        assertThat(error("bench", "cpu", "--iterations", "-1")).contains("--iterations");
        assertThat(error("bench", "cpu", "--iterations", "many")).contains("--iterations");
        assertThat(error("bench", "cpu", "--guest", dir.resolve("missing.elf").toString())).contains("--guest")
                .contains("missing.elf");
        assertThat(error("bench", "cpu", "--qemu", dir.resolve("no-qemu").toString())).contains("--qemu");
        Path notExecutable = Files.writeString(dir.resolve("qemu"), "");
        assertThat(error("bench", "cpu", "--qemu", notExecutable.toString())).contains("--qemu")
                .contains("not an executable");
        assertThat(error("bench", "cpu", "--qemu", notExecutable.toString(), "--no-qemu")).contains("--no-qemu");
        assertThat(error("bench", "cpu", "--idle-seconds", "-1")).contains("--idle-seconds");
        assertThat(error("bench", "cpu", "--idle-guest", dir.resolve("idle.elf").toString())).contains("--idle-guest");
        assertThat(error("bench", "cpu", "--timeout", "0s")).contains("--timeout");
        assertThat(error("bench", "cpu", "--frobnicate")).contains("--frobnicate");
    }

    @Test
    void peerRefusesBadOptions(@TempDir Path dir) {
        assertThat(error("bench", "peer", "--seconds", "0")).contains("--seconds");
        assertThat(error("bench", "peer", "--length", "8")).contains("--length");
        assertThat(error("bench", "peer", "--rate", "fast")).contains("--rate");
        assertThat(error("bench", "peer", "--repetitions", "0")).contains("--repetitions");
        assertThat(error("bench", "peer", "--sender-nice", "20")).contains("--sender-nice");
        assertThat(error("bench", "peer", "--guest", dir.resolve("sink.elf").toString())).contains("--guest");
        assertThat(error("bench", "peer", "--qemu", dir.resolve("q").toString())).contains("--qemu");
    }

    @Test
    void seedRefusesABadGuest(@TempDir Path dir) {
        assertThat(error("bench", "seed", "--guest", "x86")).contains("--guest").contains("java or arm64");
        assertThat(error("bench", "seed", "--kernel", "guests/udp-sink/udp-sink.elf")).contains("--kernel")
                .contains("--guest arm64");
        assertThat(error("bench", "seed", "--guest", "arm64", "--kernel", dir.resolve("k.elf").toString()))
                .contains("--kernel").contains("k.elf");
    }
}
