package dev.jvmm.launcher;

import dev.jvmm.bench.seed.SeedCell;
import dev.jvmm.bench.seed.SeedOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code vmm bench seed}'s options: defaults, accepted spellings, and one clear message for each bad value. The
 * command line converts each option to its type (picocli converters sharing the configuration's spellings); the
 * options record checks ranges and relations.
 */
class SeedCommandTest {

    /** The options the command line makes of {@code args}, without running anything. */
    private static SeedOptions options(String... args) {
        SeedCommand cmd = new SeedCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd.options();
    }

    private static String error(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 2];
        all[0] = "bench";
        all[1] = "seed";
        System.arraycopy(args, 0, all, 2, args.length);
        int status = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), all);
        assertThat(status).as("exit status of %s", String.join(" ", args)).isEqualTo(Main.EXIT_USAGE);
        assertThat(out.toString()).as("nothing ran").isEmpty();
        return err.toString().strip();
    }

    @Test
    void theDefaultsAreTheIssues() {
        SeedOptions o = options();
        assertThat(o).isEqualTo(SeedOptions.defaults());
        assertThat(o.nics()).containsExactly(1, 10);
        assertThat(o.seconds()).isEqualTo(10);
        assertThat(o.warmup()).isEqualTo(2);
        assertThat(o.bitsPerSecond()).as("the seed's 40 Mbit/s per NIC").isEqualTo(40_000_000L);
        assertThat(o.length()).as("the seed's 64-byte datagrams").isEqualTo(64);
        assertThat(o.sender()).isEqualTo(SeedOptions.Sender.AUTO);
        assertThat(o.repeat()).isEqualTo(3);
        assertThat(o.report()).isNull();
        assertThat(o.cells()).containsExactly(SeedCell.values());
        assertThat(o.runs()).as("3 repetitions x 2 NIC counts x (6 cells + plain)").isEqualTo(42);
        assertThat(o.eventLoopThreads()).as("as configs/seed-10nics.yaml").isEqualTo(1);
        assertThat(o.socketBuffer()).isEqualTo(4L << 20);
        assertThat(o.senderNice()).isEqualTo(19);
    }

    @Test
    void valuesAreReadAsTheUserWritesThem(@TempDir Path dir) {
        SeedOptions o = options("--nics", "10,1,4", "--seconds", "2.5", "--warmup", "500ms", "--rate", "1.5m",
                "--length", "1400", "--sender", "builtin", "--repeat", "5", "--report", dir.resolve("new/sub").toString(),
                "--cells", "per-its,worker", "--event-loop-threads", "10", "--socket-buffer", "256K", "--sender-nice", "0");
        assertThat(o.nics()).as("sorted").containsExactly(1, 4, 10);
        assertThat(o.seconds()).isEqualTo(2.5);
        assertThat(o.warmup()).isEqualTo(0.5);
        assertThat(o.bitsPerSecond()).isEqualTo(1_500_000L);
        assertThat(o.length()).isEqualTo(1400);
        assertThat(o.sender()).isEqualTo(SeedOptions.Sender.BUILTIN);
        assertThat(o.repeat()).isEqualTo(5);
        assertThat(o.report()).isEqualTo(dir.resolve("new/sub").toAbsolutePath());
        assertThat(o.cells()).as("table order, whatever the order given").containsExactly(SeedCell.WORKER, SeedCell.PER_ITS);
        assertThat(o.eventLoopThreads()).isEqualTo(10);
        assertThat(o.socketBuffer()).isEqualTo(256L << 10);
        assertThat(o.senderNice()).isZero();
        assertThat(options("--warmup", "0").warmup()).isZero();
        assertThat(options("--socket-buffer", "0").socketBuffer()).as("0: the kernel's default").isZero();
    }

    @Test
    void theVcpuCountFollowsTheNicsUpToFour() {
        assertThat(SeedOptions.vcpusFor(1)).isEqualTo(1);
        assertThat(SeedOptions.vcpusFor(3)).isEqualTo(3);
        assertThat(SeedOptions.vcpusFor(10)).isEqualTo(4);
    }

    @Test
    void eachBadValueIsOneLineNamingTheOptionAndExitStatusTwo(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "x");
        List<String[]> cases = List.of(
                new String[]{"--nics", "0", "--nics: a NIC count must be between 1 and 32, got 0"},
                new String[]{"--nics", "1,x", "--nics"},
                new String[]{"--nics", "1,1", "--nics: 1 is listed twice"},
                new String[]{"--nics", "1,40", "--nics: a NIC count must be between 1 and 32, got 40"},
                new String[]{"--seconds", "0", "--seconds: must be above 0"},
                new String[]{"--seconds", "-1", "--seconds"},
                new String[]{"--seconds", "soon", "'soon' is not a duration"},
                new String[]{"--seconds", "2h", "--seconds: must be above 0 and at most 3600 seconds"},
                new String[]{"--warmup", "-2", "--warmup"},
                new String[]{"--rate", "fast", "'fast' is not a bit rate"},
                new String[]{"--rate", "0", "--rate: must be a bit rate per NIC between 1 and 10g"},
                new String[]{"--length", "8", "--length: a UDP payload length must be between 16 and 65507, got 8"},
                new String[]{"--length", "big", "--length"},
                new String[]{"--sender", "netcat", "'netcat' is not iperf, builtin or auto"},
                new String[]{"--repeat", "0", "--repeat: must be between 1 and 100, got 0"},
                new String[]{"--report", file.toString(), "--report: " + file + " exists and is not a directory"},
                new String[]{"--cells", "worker,fast", "'fast' is not a cell"},
                new String[]{"--cells", "plain", "the plain receiver always runs"},
                new String[]{"--event-loop-threads", "0", "--event-loop-threads: must be between 1 and 64, got 0"},
                new String[]{"--socket-buffer", "4Q", "'4Q' is not a size"},
                new String[]{"--socket-buffer", "2G", "--socket-buffer: must be below 2G"},
                new String[]{"--sender-nice", "20", "--sender-nice: a nice value must be between 0 and 19, got 20"});
        for (String[] c : cases) {
            assertThat(error(c[0], c[1])).as("%s %s", c[0], c[1]).contains(c[2]).doesNotContain("\tat ");
        }
        assertThat(error("--nics", "1,40", "--seconds", "1"))
                .isEqualTo("vmm: --nics: a NIC count must be between 1 and 32, got 40");
        assertThatThrownBy(() -> options("--cells", "worker,worker")).isInstanceOf(Main.UsageException.class)
                .hasMessageContaining("--cells");
    }

    @Test
    void theCommandIsListedUnderBench() {
        StringWriter out = new StringWriter();
        int status = Main.execute(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true), "bench", "--help");
        assertThat(status).isZero();
        assertThat(out.toString()).contains("seed").contains("lpi-stress").contains("rx-throughput");
    }
}
