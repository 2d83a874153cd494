package dev.jvmm.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A tiny real run of {@code vmm bench seed}: one NIC, one second per cell, the built-in sender at 1 Mbit/s, the
 * worker, per-its and wired cells. It checks that every cell ran and counted (not how fast: that is the benchmark's job).
 */
class SeedRunTest {

    @Test
    void aTinyRunWritesEveryCellIntoSeedJsonAndPlotsThem(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("report");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true),
                "bench", "seed", "--nics", "1", "--seconds", "1", "--warmup", "0", "--repeat", "1",
                "--sender", "builtin", "--rate", "1m", "--cells", "worker,per-its,wired", "--report", report.toString());
        assertThat(status).as("exit status; stderr: %s", err).isZero();
        assertThat(out.toString()).contains("signal -> pending (t1 -> t2)")
                .contains("kernel figures from other hardware, for orientation");

        JsonNode doc = new ObjectMapper().readTree(report.resolve("seed.json").toFile());
        assertThat(doc.at("/machine/cores").asInt()).isPositive();
        assertThat(doc.at("/machine/sender_name").asText()).isEqualTo("builtin");
        List<String> cells = new ArrayList<>();
        for (JsonNode cell : doc.get("cells")) {
            String name = cell.get("cell").asText();
            cells.add(name);
            assertThat(cell.get("nics").asInt()).isEqualTo(1);
            JsonNode rep = cell.at("/repetitions/0");
            assertThat(rep.get("sent").asLong()).as("%s: datagrams sent", name).isPositive();
            assertThat(rep.get("delivered_to_guest").asLong()).as("%s: datagrams delivered", name).isPositive();
            if (name.equals("plain")) {
                continue;
            }
            assertThat(rep.get("received_by_nics").asLong()).as("%s: datagrams the NIC read", name).isPositive();
            assertThat(rep.get("injected").asLong()).as("%s: MSIs injected (wired: SPI edges)", name).isPositive();
            for (String latency : new String[]{"signal_to_pending", "arrival_to_ack", "pending_to_ack"}) {
                JsonNode l = rep.get(latency);
                assertThat(l.get("count").asLong()).as("%s: %s values", name, latency).isPositive();
                assertThat(l.get("p50_ns").asLong()).as("%s: %s p50 <= p99", name, latency)
                        .isLessThanOrEqualTo(l.get("p99_ns").asLong());
                assertThat(l.get("p99_ns").asLong()).as("%s: %s p99 <= max", name, latency)
                        .isLessThanOrEqualTo(l.get("max_ns").asLong());
                assertThat(cell.at("/distributions_over_all_repetitions/" + latency + "/percentile_us").size())
                        .as("%s: %s percentile curve", name, latency).isPositive();
            }
        }
        assertThat(cells).containsExactly("plain", "worker", "per-its", "wired");
        JsonNode wired = doc.get("cells").get(3);
        assertThat(wired.get("interrupt").asText()).isEqualTo("wired");
        assertThat(wired.at("/repetitions/0/msis_signalled").asLong()).as("wired: the NIC signalled its SPI").isPositive();
        assertThat(wired.at("/repetitions/0/cache_hits").asLong()).as("wired: no translation").isZero();
        assertThat(doc.at("/cells/2/median/p50_change_vs_wired").isNumber()).as("per-its priced against wired").isTrue();
        assertThat(out.toString()).contains("vs wired");
        JsonNode perIts = doc.get("cells").get(2);
        assertThat(perIts.at("/repetitions/0/fast_path").asLong()).as("per-its: the cached path delivered").isPositive();
        assertThat(doc.at("/cells/1/repetitions/0/fast_path").asLong()).as("worker: never the cached path").isZero();

        String html = Files.readString(report.resolve("report.html"));
        assertThat(html).contains("<svg").contains("per-its").contains("worker").doesNotContain("<script");
    }

    @Test
    void iperfAskedForButMissingOrAPortProblemEndsWithAMessage() {
        // Only the usage path is checked here: whether iperf is installed differs between machines.
        StringWriter err = new StringWriter();
        int status = Main.execute(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true),
                "bench", "seed", "--sender", "iperf3");
        assertThat(status).isEqualTo(Main.EXIT_USAGE);
        assertThat(err.toString()).contains("--sender").contains("'iperf3' is not iperf, builtin or auto");
    }
}
