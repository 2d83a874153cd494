package dev.jvmm.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The {@code vmm} command line as a user meets it: exit statuses, messages, files. */
class CommandLineTest {

    record Result(int status, String out, String err) {
    }

    static Result vmm(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(status, out.toString(), err.toString());
    }

    private static Path write(Path dir, String name, String yaml) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, yaml);
        return p;
    }

    @Test
    void aBadConfigExitsTwoWithOneMessageNamingFileLineAndKey(@TempDir Path dir) throws Exception {
        Path bad = write(dir, "bad.yaml", "machine:\n  vcpus: 2\n  memroy: 1G\n");
        Result r = vmm("run", bad.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("vmm: " + bad + ":3: machine.memroy: unknown key in 'machine'; known keys"
                + " are vcpus, memory, strict-mmio");
        assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void aMissingConfigAndAnUnknownGuestProgramAreUsageErrors(@TempDir Path dir) throws Exception {
        Result missing = vmm("run", dir.resolve("nope.yaml").toString());
        assertThat(missing.status()).isEqualTo(2);
        assertThat(missing.err()).contains("nope.yaml: no such file");

        Path prog = write(dir, "prog.yaml", "guest:\n  program: udp-snk\n");
        Result unknown = vmm("check", prog.toString());
        assertThat(unknown.status()).isEqualTo(2);
        assertThat(unknown.err().strip()).isEqualTo("vmm: " + prog + ":2: guest.program: unknown guest program 'udp-snk';"
                + " known programs are udp-sink, udp-echo, idle");

        Result badOption = vmm("run", prog.toString(), "--duration", "soon");
        assertThat(badOption.status()).isEqualTo(2);
        assertThat(badOption.err()).contains("--duration: 'soon' is not a duration");

        Result noSuchOption = vmm("run", prog.toString(), "--frobnicate");
        assertThat(noSuchOption.status()).isEqualTo(2);
        assertThat(noSuchOption.err()).contains("Unknown option").contains("vmm run --help");
    }

    @Test
    void aPortInUseFailsWithAMessageAndExitOne(@TempDir Path dir) throws Exception {
        try (DatagramSocket taken = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            Path cfg = write(dir, "busy.yaml", "nics:\n  - listen: 127.0.0.1:" + port + "\nguest:\n  program: udp-sink\n");
            Result r = vmm("run", cfg.toString(), "--duration", "1s");
            assertThat(r.status()).isEqualTo(1);
            assertThat(r.err()).contains("127.0.0.1:" + port).containsIgnoringCase("in use");
            assertThat(r.err()).doesNotContain("\tat ");
        }
    }

    @Test
    void runWithAWiredNicReportsItsSpiEdges(@TempDir Path dir) throws Exception {
        Path cfg = write(dir, "wired.yaml", "nics:\n  - listen: 127.0.0.1:0\n    guest-port: 5001\n    interrupt: wired\n"
                + "guest:\n  program: udp-sink\n");
        Path json = dir.resolve("stats.json");
        Result r = vmm("run", cfg.toString(), "--duration", "2s", "--traffic", "1m", "--stats-json", json.toString());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).as("the status line counts the SPI's edges").containsPattern("\\| msi 0 spi \\d+ ");
        assertThat(r.out()).containsPattern("wired SPIs: [1-9]\\d* edges raised");
        JsonNode doc = new ObjectMapper().readTree(json.toFile());
        assertThat(doc.get("spi_raised").asLong()).isPositive();
        assertThat(doc.get("msi_injected").asLong()).isZero();
        assertThat(doc.get("injection_latency_spi_ns").get("p50").asLong()).isPositive();
        assertThat(doc.get("guest_received").asLong()).isPositive();
    }

    @Test
    void runWithBuiltInTrafficWritesTheStatsJson(@TempDir Path dir) throws Exception {
        Path cfg = write(dir, "run.yaml", "nics:\n  - listen: 127.0.0.1:0\n    guest-port: 5001\nguest:\n  program: udp-sink\n");
        Path json = dir.resolve("stats.json");
        Result r = vmm("run", cfg.toString(), "--duration", "2s", "--traffic", "2m", "--stats-json", json.toString(),
                "--quiet");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("summary after").contains("counters written to");
        assertThat(r.out()).as("the socket's receive buffer, as granted").containsPattern(
                "net0: udp 127\\.0\\.0\\.1:\\d+ -> guest 10\\.0\\.2\\.15:5001, socket receive buffer \\d+[KM]?");
        assertThat(r.out()).as("where datagrams were lost, in one line").containsPattern(
                "(?m)^  loss: (before the socket \\d+, )?kernel \\d+, device \\d+, guest \\d+: .+$");
        JsonNode doc = new ObjectMapper().readTree(json.toFile());
        JsonNode nic = doc.get("nics").get(0);
        for (String key : new String[]{"id", "port", "rx_datagrams", "rx_delivered", "rx_dropped", "tx_frames"}) {
            assertThat(nic.has(key)).as(key).isTrue();
        }
        for (String key : new String[]{"guest_received", "guest_lost", "msi_signalled", "msi_injected", "cache_hits",
                "cache_misses"}) {
            assertThat(doc.has(key)).as(key).isTrue();
        }
        JsonNode lat = doc.get("injection_latency_ns");
        assertThat(lat.get("p50").asLong()).isPositive();
        assertThat(lat.get("p99").asLong()).isGreaterThanOrEqualTo(lat.get("p50").asLong());
        assertThat(lat.get("max").asLong()).isGreaterThanOrEqualTo(lat.get("p99").asLong());
        assertThat(doc.get("guest_received").asLong()).isPositive()
                .as("the guest took every datagram the device delivered (besides the gateway's ARP reply)")
                .isEqualTo(nic.get("rx_delivered").asLong() - nic.get("arp_replies").asLong());
        assertThat(doc.get("guest_bad").asLong()).isZero();
        assertThat(nic.get("guest").get("not_iperf").asLong()).as("the built-in sender's datagrams are iperf2's")
                .isZero();
        assertThat(nic.get("guest").get("iperf").asLong()).isEqualTo(doc.get("guest_received").asLong());
        assertThat(doc.get("msi_injected").asLong()).isPositive();
        assertThat(doc.get("sender_sent").asLong()).isGreaterThanOrEqualTo(nic.get("rx_datagrams").asLong());
    }

    @Test
    void aTracedRunReadsBackAndReplaysTheSameDatagrams(@TempDir Path dir) throws Exception {
        Path cfg = write(dir, "t.yaml", "nics:\n  - listen: 127.0.0.1:0\n    guest-port: 5001\nguest:\n  program: udp-sink\n");
        Path trace = dir.resolve("trace");
        Path json = dir.resolve("run.json");
        Result run = vmm("run", cfg.toString(), "--duration", "2s", "--traffic", "500k", "--trace", trace.toString(),
                "--stats-json", json.toString(), "--quiet");
        assertThat(run.status()).as(run.err()).isZero();
        long delivered = new ObjectMapper().readTree(json.toFile()).get("nics").get(0).get("rx_delivered").asLong();
        assertThat(delivered).isPositive();

        Result summary = vmm("trace", trace.toString());
        assertThat(summary.status()).as(summary.err()).isZero();
        assertThat(summary.out()).contains("signal -> pending").contains("signal -> acknowledge");
        String totalLine = summary.out().lines().filter(l -> l.startsWith("total")).findFirst().orElseThrow();
        assertThat(Long.parseLong(totalLine.trim().split("\\s+")[1])).as("datagrams in the journal").isEqualTo(delivered);

        Result csv = vmm("trace", trace.toString(), "--csv");
        assertThat(csv.status()).isZero();
        assertThat(csv.out().lines().filter(l -> l.startsWith("datagram,")).count()).isEqualTo(delivered);
        assertThat(csv.out().lines().filter(l -> l.startsWith("msi,")).count()).isPositive();
        assertThat(csv.out().lines().filter(l -> l.startsWith("ack,")).count()).isPositive();

        Path replayJson = dir.resolve("replay.json");
        Result replay = vmm("replay", trace.toString(), cfg.toString(), "--speed", "4", "--stats-json",
                replayJson.toString());
        assertThat(replay.status()).as(replay.err()).isZero();
        JsonNode doc = new ObjectMapper().readTree(replayJson.toFile());
        assertThat(doc.get("replayed").asLong()).isEqualTo(delivered);
        // Every replayed datagram reaches the guest unless the kernel dropped it at the socket (a loaded machine).
        long replayKernelDrops = doc.get("nics").get(0).get("kernel_drops").asLong();
        assertThat(doc.get("guest_received").asLong() + Math.max(0, replayKernelDrops))
                .as("guest received + kernel drops (%d) in the replay", replayKernelDrops).isEqualTo(delivered);
    }

    @Test
    void soakReportsEveryIntervalAndWritesItsJson(@TempDir Path dir) throws Exception {
        Path cfg = write(dir, "s.yaml", "nics:\n  - listen: 127.0.0.1:0\n    guest-port: 5001\nguest:\n  program: udp-sink\n");
        Path json = dir.resolve("soak.json");
        Result r = vmm("soak", cfg.toString(), "--duration", "2s", "--interval", "1s", "--traffic", "1m",
                "--stats-json", json.toString());
        assertThat(r.status()).as(r.err()).isZero();
        JsonNode intervals = new ObjectMapper().readTree(json.toFile()).get("intervals");
        assertThat(intervals).hasSize(2);
        for (JsonNode row : intervals) {
            assertThat(row.get("delivered").asLong()).isPositive();
            assertThat(row.get("heap_after_gc").asLong()).isPositive();
        }
        assertThat(r.out()).contains("drift first -> last interval");
    }

    @Test
    void checkDescribesTheMachine() {
        Result r = vmm("check", TestSupport.configs().resolve("seed-10nics.yaml").toString());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("valid").contains("net9").contains("ITS 0 at 0x08080000")
                .contains("net9: udp on 127.0.0.1:5010,").contains("(fixed, yielding)")
                .contains("socket receive buffer 4194304 bytes");
    }

    @Test
    void traceOfAMissingDirectoryIsAUsageError(@TempDir Path dir) {
        Result r = vmm("trace", dir.resolve("none").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("no such trace directory");
    }
}
