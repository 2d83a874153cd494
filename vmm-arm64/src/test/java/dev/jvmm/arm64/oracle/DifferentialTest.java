package dev.jvmm.arm64.oracle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * jvmm's CPU against QEMU, instruction by instruction (issue 15, "Against QEMU, instruction by instruction"): seeded
 * random cases over every encoding class ({@link EncodingClass}), and directed cases at each class's corners
 * ({@link DirectedCases}), run on {@code qemu-aarch64 -cpu cortex-a57} and on jvmm, comparing X0..X30, SP, NZCV and
 * the scratch memory after each case. A mismatch is bisected to its first differing instruction and reported with
 * its word, disassembly, inputs, both results and the command that replays it; the whole report also goes to
 * {@code target/oracle-report-<seed>.txt}.
 *
 * <p>Replay: {@code mvn -B -o test -pl vmm-arm64 -am -Dtest=DifferentialTest -Dsurefire.failIfNoSpecifiedTests=false
 * -Djvmm.seed=SEED}; more cases: {@code -Djvmm.arm64.scale=10}.
 */
@ExtendWith(SeedExtension.class)
class DifferentialTest {
    /** Instructions under test (set-up excluded) per default run. */
    static final int RANDOM_INSTRUCTIONS = 100_000;
    /** Units per random case: long enough for values to flow between instructions, short enough to bisect fast. */
    static final int UNITS_PER_CASE = 16;
    /** Instructions under test per default run of the translated-blocks test (each case runs 257 times on jvmm). */
    static final int COMPILED_INSTRUCTIONS = 10_000;
    /** Directed cases per default run of the translated-blocks test: an even sample of all of them. */
    static final int COMPILED_DIRECTED = 1000;
    /** Random words per default run of the UNDEFINED test. */
    static final int UNDEFINED_WORDS = 20_000;
    /** Cases of long straight-line code per default run (each run 257 times on jvmm). */
    static final int LONG_BLOCK_CASES = 150;
    /** Cases that end in a fault, per default run. */
    static final int FAULT_CASES = 3000;
    /** Cases per QEMU process (and per jvmm batch). */
    static final int CHUNK = 2000;

    @BeforeEach
    void qemu() {
        OracleTools.assumeQemu();
    }

    @Test
    void randomInstructionsMatchQemu(SeededRandom random) throws Exception {
        InstructionGenerator g = new InstructionGenerator(random);
        List<EncodingClass> classes = List.of(EncodingClass.values());
        List<TestCase> cases = new ArrayList<>();
        long underTest = 0;
        long setup = 0;
        long target = (long) RANDOM_INSTRUCTIONS * OracleTools.scale();
        while (underTest < target) {
            TestCase c = g.randomCase("random case " + cases.size(), UNITS_PER_CASE, classes);
            for (String cls : c.snippet().classes()) {
                if (cls.equals(InstructionGenerator.SETUP)) {
                    setup++;
                } else {
                    underTest++;
                }
            }
            cases.add(c);
        }
        long t0 = System.nanoTime();
        Differential.Result r = new Differential(new QemuHarness(), new JvmmEmulator()).compare(cases, CHUNK);
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("differential: seed %d, %d cases, %d instructions under test + %d set-up, %.1f s "
                        + "(%.0f instructions/s through both sides), %d mismatching cases%n", random.seed(),
                cases.size(), underTest, setup, seconds, (underTest + setup) / seconds, r.mismatching());
        check(r, "random", replay("randomInstructionsMatchQemu", random.seed()));
    }

    /**
     * The same, with every block translated to JVM code first (jvmm translates a block once it has run
     * {@link JvmmEmulator#COMPILE_THRESHOLD} times): each case runs that many times on jvmm and the last run is
     * compared. Fewer cases, since each costs that many runs.
     */
    @Test
    void randomInstructionsMatchQemuInTranslatedBlocks(SeededRandom random) throws Exception {
        InstructionGenerator g = new InstructionGenerator(random);
        List<TestCase> cases = new ArrayList<>();
        long underTest = 0;
        while (underTest < (long) COMPILED_INSTRUCTIONS * OracleTools.scale()) {
            TestCase c = g.randomCase("random case " + cases.size(), UNITS_PER_CASE, List.of(EncodingClass.values()));
            for (String cls : c.snippet().classes()) {
                underTest += cls.equals(InstructionGenerator.SETUP) ? 0 : 1;
            }
            cases.add(c);
        }
        long t0 = System.nanoTime();
        Differential.Result r = new Differential(new QemuHarness(), JvmmEmulator.compiled()).compare(cases, CHUNK);
        System.out.printf("translated: seed %d, %d cases, %d instructions under test, each case run %d times, "
                        + "%.1f s, %d mismatching%n", random.seed(), cases.size(), underTest,
                JvmmEmulator.COMPILE_THRESHOLD + 1,
                (System.nanoTime() - t0) / 1e9, r.mismatching());
        check(r, "translated", replay("randomInstructionsMatchQemuInTranslatedBlocks", random.seed()));
    }

    /**
     * Long straight-line code (no branch classes: data processing, loads and stores, 40 units a case), run until
     * translated: blocks longer than the translator's limit, registers cached in JVM locals across many
     * instructions, flags written and read far apart and dead flags elided.
     */
    @Test
    void longBlocksMatchQemuInTranslatedBlocks(SeededRandom random) throws Exception {
        InstructionGenerator g = new InstructionGenerator(random);
        List<EncodingClass> straight = new ArrayList<>();
        for (EncodingClass c : EncodingClass.values()) {
            if (!c.name.contains("branch") && !c.name.contains("loop") && c != EncodingClass.BARRIERS
                    && c != EncodingClass.SYSTEM_REGISTER && c != EncodingClass.CACHE_MAINTENANCE
                    && c != EncodingClass.HINTS) {
                straight.add(c);
            }
        }
        List<TestCase> cases = new ArrayList<>();
        for (int i = 0; i < LONG_BLOCK_CASES * OracleTools.scale(); i++) {
            cases.add(g.randomCase("long case " + i, 40, straight));
        }
        long t0 = System.nanoTime();
        Differential.Result r = new Differential(new QemuHarness(), JvmmEmulator.compiled()).compare(cases, CHUNK);
        System.out.printf("long blocks, translated: seed %d, %d cases of %d classes, %.1f s, %d mismatching%n",
                random.seed(), cases.size(), straight.size(), (System.nanoTime() - t0) / 1e9, r.mismatching());
        check(r, "long-blocks", replay("longBlocksMatchQemuInTranslatedBlocks", random.seed()));
    }

    @Test
    void directedCornerCasesMatchQemu() throws Exception {
        List<TestCase> cases = DirectedCases.all();
        long t0 = System.nanoTime();
        Differential.Result r = new Differential(new QemuHarness(), new JvmmEmulator()).compare(cases, CHUNK * 4);
        System.out.printf("directed: %d cases, %.1f s, %d mismatching%n", cases.size(),
                (System.nanoTime() - t0) / 1e9, r.mismatching());
        check(r, "directed", replay("directedCornerCasesMatchQemu", 0));
    }

    /**
     * Random words from the encoding space whose outcome does not depend on memory or control flow (data processing,
     * the SVE/SME and unallocated spaces, hints, barriers, PSTATE and other system words of CRn 2..4), one per case:
     * where QEMU's Cortex-A57 raises SIGILL, jvmm must take the UNDEFINED exception (EC 0), and where QEMU executes
     * the word jvmm must too, with the same result. This checks jvmm's decoder against QEMU's on what is allocated.
     */
    @Test
    void randomWordsAreUndefinedExactlyWhereQemuSaysSo(SeededRandom random) throws Exception {
        InstructionGenerator g = new InstructionGenerator(random);
        List<TestCase> cases = new ArrayList<>();
        int undefinedOnQemu = 0;
        for (int i = 0; i < UNDEFINED_WORDS * OracleTools.scale(); i++) {
            int w = EncodingSpace.randomRegisterOnlyWord(random);
            cases.add(new TestCase("word " + i, new Snippet(new int[] {w}, new String[] {EncodingSpace.describe(w)}),
                    g.randomState()));
        }
        long t0 = System.nanoTime();
        List<ArchState> q = new QemuHarness().run(cases);
        for (ArchState a : q) {
            undefinedOnQemu += a.fault() != null && a.fault().startsWith("SIGILL") ? 1 : 0;
        }
        Differential.Result r = new Differential(new QemuHarness(), new JvmmEmulator()).compare(cases, CHUNK * 4);
        System.out.printf("undefined: seed %d, %d words, %d UNDEFINED on QEMU, %.1f s, %d mismatching%n",
                random.seed(), cases.size(), undefinedOnQemu, (System.nanoTime() - t0) / 1e9, r.mismatching());
        check(r, "undefined", replay("randomWordsAreUndefinedExactlyWhereQemuSaysSo", random.seed()));
    }

    /**
     * Cases that end in a fault ({@link FaultClass}): SIGSEGV, SIGBUS, SIGTRAP, SIGILL on QEMU, the exception on jvmm,
     * at the same instruction, with the same registers (no writeback, no partial store) and the same fault address.
     */
    @Test
    void faultsMatchQemu(SeededRandom random) throws Exception {
        InstructionGenerator g = new InstructionGenerator(random);
        List<TestCase> cases = new ArrayList<>();
        List<FaultClass> faults = FaultClass.ALL;
        for (int i = 0; i < FAULT_CASES * OracleTools.scale(); i++) {
            int units = 1 + random.nextInt(10);
            cases.add(g.faultCase("fault case " + i, units, random.nextInt(units), List.of(EncodingClass.values()),
                    faults.get(i % faults.size())));
        }
        long t0 = System.nanoTime();
        java.util.Map<String, Integer> signals = new java.util.TreeMap<>();
        for (ArchState a : new QemuHarness().run(cases)) {
            signals.merge(a.fault() == null ? "none" : a.fault().split(" ")[0], 1, Integer::sum);
        }
        Differential.Result r = new Differential(new QemuHarness(), new JvmmEmulator()).compare(cases, CHUNK);
        System.out.printf("faults: seed %d, %d cases (on QEMU: %s), %.1f s, %d mismatching%n", random.seed(),
                cases.size(), signals, (System.nanoTime() - t0) / 1e9, r.mismatching());
        assertThat(signals.getOrDefault("none", 0)).as("cases that did not fault on QEMU").isLessThan(cases.size() / 4);
        check(r, "faults", replay("faultsMatchQemu", random.seed()));
    }

    /**
     * An even sample of the directed cases, and the self-modifying ones that put their code back, each run until its
     * blocks are translated (a store to code must drop translated blocks too).
     */
    @Test
    void directedCornerCasesMatchQemuInTranslatedBlocks() throws Exception {
        List<TestCase> all = DirectedCases.all();
        List<TestCase> cases = new ArrayList<>();
        int step = Math.max(1, all.size() / (COMPILED_DIRECTED * OracleTools.scale()));
        for (int i = 0; i < all.size(); i++) {
            String name = all.get(i).name();
            // Self-modifying cases only in the form that restores its code (each case runs many times here).
            if (name.contains("self-modifying") ? name.contains("restored") : i % step == 0) {
                cases.add(all.get(i));
            }
        }
        long t0 = System.nanoTime();
        Differential.Result r = new Differential(new QemuHarness(), JvmmEmulator.compiled()).compare(cases, CHUNK);
        System.out.printf("directed, translated: %d of %d cases, %.1f s, %d mismatching%n", cases.size(), all.size(),
                (System.nanoTime() - t0) / 1e9, r.mismatching());
        check(r, "directed-translated", replay("directedCornerCasesMatchQemuInTranslatedBlocks", 0));
    }

    static String replay(String method, long seed) {
        return "mvn -B -o test -pl vmm-arm64 -am -Dtest=DifferentialTest#" + method
                + " -Dsurefire.failIfNoSpecifiedTests=false" + (seed != 0 ? " -Djvmm.seed=" + seed : "");
    }

    private static void check(Differential.Result r, String what, String replay) throws IOException {
        if (r.mismatching() == 0) {
            return;
        }
        StringBuilder all = new StringBuilder();
        StringBuilder summary = new StringBuilder();
        summary.append(r.mismatching()).append(" of ").append(r.cases()).append(' ').append(what)
                .append(" cases differ from QEMU; first differing instruction by class:\n");
        for (Map.Entry<String, List<Differential.Mismatch>> e : r.byClass().entrySet()) {
            summary.append("  ").append(e.getKey()).append(": ").append(e.getValue().size()).append(" case(s)\n");
        }
        for (Map.Entry<String, List<Differential.Mismatch>> e : r.byClass().entrySet()) {
            all.append("== ").append(e.getKey()).append('\n');
            for (Differential.Mismatch m : e.getValue()) {
                all.append(Differential.report(m, replay)).append('\n');
            }
        }
        Path out = Path.of("target", "oracle-report-" + what + ".txt");
        Files.createDirectories(out.getParent());
        Files.writeString(out, summary + "\n" + all);
        String first = r.byClass().values().stream().map(l -> Differential.report(l.get(0), replay))
                .reduce("", (a, b) -> a + "\n" + b);
        assertThat(r.mismatching()).as(summary + "(full report: " + out.toAbsolutePath() + ")\n" + first).isZero();
    }
}
