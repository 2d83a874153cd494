package dev.jvmm.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jvmm.bench.board.QemuProcess;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tiny real runs of the benchmarks with compiled guests: {@code vmm bench cpu}, {@code vmm bench peer} and
 * {@code vmm bench seed --guest arm64}. They check that each side ran and its figures were measured and parsed (not
 * how fast: that is the benchmarks' job). QEMU's sides run when qemu-system-aarch64 is installed; their checks are
 * skipped otherwise.
 */
class BoardBenchRunTest {
    private static final boolean QEMU = QemuProcess.find(null) != null;

    private static String run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        assertThat(status).as("exit status of %s; stdout %s; stderr %s", String.join(" ", args), out, err).isZero();
        return out.toString();
    }

    private static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(text);
        assertThat(m.find()).as("'%s' in:%n%s", regex, text).isTrue();
        return Double.parseDouble(m.group(1).replace(",", ""));
    }

    @Test
    void cpuRunsTheGuestOnBothSidesAndGivesEveryFigure() {
        List<String> args = new ArrayList<>(List.of("bench", "cpu", "--iterations", "40", "--repetitions", "1",
                "--idle-seconds", "1"));
        if (!QEMU) {
            args.add("--no-qemu");
        }
        String out = run(args.toArray(String[]::new));
        assertThat(number(out, "wall time, boot to power-off\\s+([0-9.]+) s")).as("jvmm wall").isPositive();
        assertThat(number(out, "guest instructions\\s+([0-9,]+) retired")).as("jvmm retired").isPositive();
        assertThat(number(out, "instructions per second\\s+([0-9.e+]+) \\(retired")).as("jvmm insn/s").isPositive();
        assertThat(out).containsPattern("checksum 0x[0-9a-f]{8}");
        assertThat(number(out, "idle \\(udp-sink, 1 NIC, no traffic\\) jvmm: vCPU thread ([0-9.]+)%"))
                .as("idle vCPU share").isGreaterThanOrEqualTo(0);
        assertThat(out).containsPattern("(?m)^  wall time <= 4x QEMU TCG's: .*$")
                .containsPattern("(?m)^  0 bytes allocated per instruction in steady state: .*$")
                .containsPattern("(?m)^  idle in WFI under 1% of a core: whole JVM [0-9.]+%: (met|NOT met).*$");
        Assumptions.assumeTrue(QEMU, "qemu-system-aarch64 is not installed: QEMU's side not checked");
        assertThat(out).contains("on both");
        assertThat(number(out, "wall time, boot to power-off\\s+\\S+ s \\(\\S+\\)\\s+([0-9.]+) s")).as("QEMU wall")
                .isPositive();
        assertThat(number(out, "guest instructions\\s+\\S+ retired\\s+([0-9,]+) \\(-icount")).as("QEMU count")
                .isPositive();
        assertThat(out).containsPattern("(?m)^  wall time <= 4x QEMU TCG's: [0-9.]+x: (met|NOT met)$");
    }

    @Test
    void peerFeedsEachSideAndReadsTheGuestsCounters() {
        List<String> args = new ArrayList<>(List.of("bench", "peer", "--seconds", "1", "--rate", "2m"));
        if (!QEMU) {
            args.add("--no-qemu");
        }
        String out = run(args.toArray(String[]::new));
        List<String> sides = new ArrayList<>(List.of("jvmm, wired", "jvmm, MSI \\(ITS\\)"));
        if (QEMU) {
            sides.add("QEMU TCG, wired");
        }
        for (String side : sides) {
            assertThat(number(out, "^  " + side + "\\s+([0-9]+)\\s")).as("%s sent/s", side).isPositive();
            assertThat(number(out, "^  " + side + "\\s+[0-9]+\\s+([0-9]+)\\s")).as("%s delivered/s", side).isPositive();
            assertThat(number(out, "^  " + side + "\\s+[0-9]+\\s+[0-9]+\\s+[0-9.]+%\\s+[0-9]+\\s+([0-9.]+)"))
                    .as("%s datagrams per interrupt", side).isPositive();
        }
        if (!QEMU) {
            assertThat(out).contains("not run (--no-qemu)");
        }
    }

    @Test
    void seedRunsItsCellsWithTheCompiledGuest(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("report");
        String out = run("bench", "seed", "--guest", "arm64", "--nics", "1", "--seconds", "1", "--warmup", "0",
                "--repeat", "1", "--sender", "builtin", "--rate", "1m", "--cells", "per-its,wired", "--report",
                report.toString());
        assertThat(out).contains("guest: the compiled udp-sink").contains("ICC_IAR1_EL1");
        JsonNode doc = new ObjectMapper().readTree(report.resolve("seed.json").toFile());
        assertThat(doc.at("/machine/guest").asText()).startsWith("compiled udp-sink");
        List<String> cells = new ArrayList<>();
        for (JsonNode cell : doc.get("cells")) {
            String name = cell.get("cell").asText();
            cells.add(name);
            JsonNode rep = cell.at("/repetitions/0");
            assertThat(rep.get("delivered_to_guest").asLong()).as("%s: datagrams delivered", name).isPositive();
            if (name.equals("plain")) {
                continue;
            }
            assertThat(rep.get("injected").asLong()).as("%s: injections", name).isPositive();
            assertThat(rep.get("guest_interrupts").asLong()).as("%s: receive interrupts acknowledged", name)
                    .isPositive();
            assertThat(rep.at("/arrival_to_ack/count").asLong()).as("%s: t0 -> t3 values", name).isPositive();
            assertThat(rep.at("/signal_to_pending/count").asLong()).as("%s: t1 -> t2 values", name).isPositive();
        }
        assertThat(cells).containsExactly("plain", "per-its", "wired");
    }
}
