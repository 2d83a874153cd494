package dev.jvmm.launcher.bench;

import dev.jvmm.launcher.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code vmm bench seed}'s options: defaults, accepted spellings, and one clear message for each bad value. */
class SeedOptionsTest {

    private static SeedOptions parse(String nics, String seconds, String warmup, String rate, String length,
                                     String sender, String repeat, String report, String cells) {
        return SeedOptions.parse(nics, seconds, warmup, rate, length, sender, repeat, report, cells, null, null, null);
    }

    @Test
    void theDefaultsAreTheIssues() {
        SeedOptions o = SeedOptions.defaults();
        assertThat(o.nics()).containsExactly(1, 10);
        assertThat(o.seconds()).isEqualTo(10);
        assertThat(o.warmup()).isEqualTo(2);
        assertThat(o.bitsPerSecond()).as("the seed's 40 Mbit/s per NIC").isEqualTo(40_000_000L);
        assertThat(o.length()).as("the seed's 64-byte datagrams").isEqualTo(64);
        assertThat(o.sender()).isEqualTo(SeedOptions.Sender.AUTO);
        assertThat(o.repeat()).isEqualTo(3);
        assertThat(o.report()).isNull();
        assertThat(o.cells()).containsExactly(SeedCell.values());
        assertThat(o.runs()).as("3 repetitions x 2 NIC counts x (5 cells + plain)").isEqualTo(36);
        assertThat(o.eventLoopThreads()).as("as configs/seed-10nics.yaml").isEqualTo(1);
    }

    @Test
    void valuesAreReadAsTheUserWritesThem(@TempDir Path dir) {
        SeedOptions o = parse("10, 1,4", "2.5", "500ms", "1.5m", "1400", "BuiltIn", "5",
                dir.resolve("new/sub").toString(), "per-its,worker");
        assertThat(o.nics()).as("sorted").containsExactly(1, 4, 10);
        assertThat(o.seconds()).isEqualTo(2.5);
        assertThat(o.warmup()).isEqualTo(0.5);
        assertThat(o.bitsPerSecond()).isEqualTo(1_500_000L);
        assertThat(o.length()).isEqualTo(1400);
        assertThat(o.sender()).isEqualTo(SeedOptions.Sender.BUILTIN);
        assertThat(o.repeat()).isEqualTo(5);
        assertThat(o.report()).isEqualTo(dir.resolve("new/sub").toAbsolutePath());
        assertThat(o.cells()).as("table order, whatever the order given").containsExactly(SeedCell.WORKER, SeedCell.PER_ITS);
        assertThat(parse(null, null, "0", null, null, null, null, null, null).warmup()).isZero();
    }

    @Test
    void theEventLoopThreadsAreBounded() {
        assertThat(SeedOptions.parse(null, null, null, null, null, null, null, null, null, "10", null, null).eventLoopThreads())
                .isEqualTo(10);
        assertThatThrownBy(() -> SeedOptions.parse(null, null, null, null, null, null, null, null, null, "0", null, null))
                .isInstanceOf(Main.UsageException.class)
                .hasMessageContaining("--event-loop-threads: a number of threads must be between 1 and 64, got 0");
    }

    @Test
    void theSocketBufferAndTheSendersNiceValueHaveDefaultsAndBounds() {
        SeedOptions d = SeedOptions.defaults();
        assertThat(d.socketBuffer()).isEqualTo(4L << 20);
        assertThat(d.senderNice()).isEqualTo(19);
        SeedOptions o = SeedOptions.parse(null, null, null, null, null, null, null, null, null, null, "256K", "0");
        assertThat(o.socketBuffer()).isEqualTo(256L << 10);
        assertThat(o.senderNice()).isZero();
        assertThat(SeedOptions.parse(null, null, null, null, null, null, null, null, null, null, "0", null).socketBuffer())
                .as("0: the kernel's default").isZero();
        assertThatThrownBy(() -> SeedOptions.parse(null, null, null, null, null, null, null, null, null, null, "4Q", null))
                .isInstanceOf(Main.UsageException.class)
                .hasMessage("--socket-buffer: must be a size such as 256M, 1G, 4096 or 0x1000, got '4Q'");
        assertThatThrownBy(() -> SeedOptions.parse(null, null, null, null, null, null, null, null, null, null, "2G", null))
                .isInstanceOf(Main.UsageException.class).hasMessageContaining("--socket-buffer: must be below 2G");
        assertThatThrownBy(() -> SeedOptions.parse(null, null, null, null, null, null, null, null, null, null, null, "20"))
                .isInstanceOf(Main.UsageException.class)
                .hasMessage("--sender-nice: a nice value must be between 0 and 19, got 20");
    }

    @Test
    void theVcpuCountFollowsTheNicsUpToFour() {
        assertThat(SeedOptions.vcpusFor(1)).isEqualTo(1);
        assertThat(SeedOptions.vcpusFor(3)).isEqualTo(3);
        assertThat(SeedOptions.vcpusFor(10)).isEqualTo(4);
    }

    @Test
    void eachBadValueIsRejectedWithAMessageNamingTheOption(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "x");
        List<Object[]> cases = List.of(
                new Object[]{new String[]{"0", null, null, null, null, null, null, null, null}, "--nics: a NIC count must be between 1 and 32, got 0"},
                new Object[]{new String[]{"1,x", null, null, null, null, null, null, null, null}, "--nics: 'x' is not a NIC count"},
                new Object[]{new String[]{"1,1", null, null, null, null, null, null, null, null}, "--nics: 1 is listed twice"},
                new Object[]{new String[]{"33", null, null, null, null, null, null, null, null}, "between 1 and 32"},
                new Object[]{new String[]{null, "0", null, null, null, null, null, null, null}, "--seconds: '0' is not a number of seconds above 0"},
                new Object[]{new String[]{null, "-1", null, null, null, null, null, null, null}, "--seconds: '-1'"},
                new Object[]{new String[]{null, "soon", null, null, null, null, null, null, null}, "--seconds: 'soon'"},
                new Object[]{new String[]{null, "1e9", null, null, null, null, null, null, null}, "--seconds: '1e9'"},
                new Object[]{new String[]{null, null, "-2", null, null, null, null, null, null}, "--warmup: '-2'"},
                new Object[]{new String[]{null, null, null, "fast", null, null, null, null, null}, "--rate: 'fast' is not a bit rate"},
                new Object[]{new String[]{null, null, null, "0", null, null, null, null, null}, "--rate: '0'"},
                new Object[]{new String[]{null, null, null, null, "8", null, null, null, null}, "--length: a UDP payload length must be between 16 and 65507, got 8"},
                new Object[]{new String[]{null, null, null, null, "big", null, null, null, null}, "--length: 'big'"},
                new Object[]{new String[]{null, null, null, null, null, "netcat", null, null, null}, "--sender: must be iperf, builtin or auto, got 'netcat'"},
                new Object[]{new String[]{null, null, null, null, null, null, "0", null, null}, "--repeat: a number of repetitions must be between 1 and 100, got 0"},
                new Object[]{new String[]{null, null, null, null, null, null, null, file.toString(), null}, "--report: " + file + " exists and is not a directory"},
                new Object[]{new String[]{null, null, null, null, null, null, null, null, "worker,fast"}, "--cells: unknown cell 'fast'"},
                new Object[]{new String[]{null, null, null, null, null, null, null, null, "plain"}, "the plain receiver always runs"},
                new Object[]{new String[]{null, null, null, null, null, null, null, null, "worker,worker"}, "--cells: worker is listed twice"});
        for (Object[] c : cases) {
            String[] a = (String[]) c[0];
            assertThatThrownBy(() -> parse(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]))
                    .as("options %s", String.join(" ", java.util.Arrays.stream(a).map(String::valueOf).toList()))
                    .isInstanceOf(Main.UsageException.class)
                    .hasMessageContaining((String) c[1]);
        }
    }

    @Test
    void onTheCommandLineABadOptionIsOneLineAndExitStatusTwo() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true),
                "bench", "seed", "--nics", "1,40", "--seconds", "1");
        assertThat(status).isEqualTo(Main.EXIT_USAGE);
        assertThat(err.toString().strip()).isEqualTo("vmm: --nics: a NIC count must be between 1 and 32, got 40");
        assertThat(out.toString()).as("nothing ran").isEmpty();
    }

    @Test
    void theCommandIsListedUnderBench() {
        StringWriter out = new StringWriter();
        int status = Main.execute(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true), "bench", "--help");
        assertThat(status).isZero();
        assertThat(out.toString()).contains("seed").contains("lpi-stress");
    }
}
