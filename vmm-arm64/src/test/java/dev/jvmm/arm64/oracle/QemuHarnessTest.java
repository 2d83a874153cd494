package dev.jvmm.arm64.oracle;

import static dev.jvmm.arm64.oracle.HarnessDescriptor.SCRATCH;
import static dev.jvmm.arm64.oracle.HarnessDescriptor.SCRATCH_SIZE;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The oracle, checked before it judges a CPU: the harness hands QEMU the state it was given and returns the state QEMU
 * ends in (an empty case comes back unchanged), it is deterministic, results agree with the architecture where they
 * are easy to compute by hand, and the comparison finds and localizes a planted difference.
 */
class QemuHarnessTest {

    @BeforeEach
    void qemu() {
        OracleTools.assumeQemu();
    }

    @Test
    void anEmptyCaseComesBackUnchanged() throws Exception {
        InstructionGenerator g = new InstructionGenerator(new Random(7));
        List<TestCase> cases = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            cases.add(new TestCase("empty " + i, new Snippet(new int[0], new String[0]), g.randomState()));
        }
        List<ArchState> out = new QemuHarness(16).run(cases);
        for (int i = 0; i < cases.size(); i++) {
            ArchState in = cases.get(i).initial();
            assertThat(out.get(i).differences(in, "after", "before")).as(cases.get(i).name()).isEmpty();
        }
    }

    @Test
    void resultsMatchTheArchitecture() throws Exception {
        long[] x = new long[31];
        Arrays.fill(x, 0xDEAD_BEEF_DEAD_BEEFL);
        x[1] = 0xFFFF_FFFF_0000_0001L;
        x[2] = 0x0000_0000_FFFF_FFFFL;
        x[3] = SCRATCH + 32;
        x[4] = 0x1122_3344_5566_7788L;
        ArchState in = new ArchState(x, SCRATCH, 0, new byte[SCRATCH_SIZE]);
        int addW = A64.addSubShiftedRegister(0, 0, 1, 0, 2, 0, 1, 0);                 // adds w0, w1, w2
        int ldxr = A64.loadStoreExclusive(3, 0, 1, 0, 31, 0, 31, 3, 5);                // ldxr x5, [x3]
        int stxr = A64.loadStoreExclusive(3, 0, 0, 0, 6, 0, 31, 3, 4);                 // stxr w6, x4, [x3]
        int movz = A64.moveWide(1, 0b10, 0, 7, 9);                                      // movz x9, #7
        List<TestCase> cases = List.of(
                new TestCase("adds w", new Snippet(new int[] {addW}, new String[] {"t"}), in),
                new TestCase("ldxr stxr", new Snippet(new int[] {ldxr, stxr}, new String[] {"t", "t"}), in),
                new TestCase("stxr alone", new Snippet(new int[] {stxr}, new String[] {"t"}), in),
                new TestCase("udf", new Snippet(new int[] {movz, 0, movz}, new String[] {"t", "t", "t"}), in));
        List<ArchState> out = new QemuHarness().run(cases);
        long udfAt = QemuHarness.layout(cases)[3] + Snippet.BODY_OFFSET + 4;
        assertThat(out.get(0).x()[0]).as("w1 + w2 = 2^32, truncated to 0 and zero-extended").isZero();
        assertThat(ArchState.flags(out.get(0).nzcv())).as("ADDS w: Z and C set").isEqualTo("nZCv");
        assertThat(out.get(1).x()[6]).as("STXR after LDXR to the same address succeeds").isZero();
        assertThat(out.get(1).scratch()[32]).isEqualTo((byte) 0x88);
        assertThat(out.get(2).x()[6]).as("STXR with an open monitor fails").isEqualTo(1);
        assertThat(out.get(2).scratch()[32]).isZero();
        assertThat(out.get(3).fault()).as("UDF #0 raises SIGILL at its address").isEqualTo("SIGILL at pc "
                + Long.toHexString(udfAt));
        assertThat(out.get(3).x()[9]).as("registers are those at the UDF").isEqualTo(7);
    }

    @Test
    void theOracleIsDeterministic() throws Exception {
        List<TestCase> cases = randomCases(11, 300);
        List<ArchState> a = new QemuHarness().run(cases);
        List<ArchState> b = new QemuHarness(7).run(cases);
        for (int i = 0; i < cases.size(); i++) {
            assertThat(a.get(i).differences(b.get(i), "first", "second")).as(cases.get(i).name()).isEmpty();
        }
    }

    @Test
    void aPlantedDifferenceIsFoundAndLocalized() throws Exception {
        // The "CPU under test" is QEMU running each case with every 64-bit ADD (shifted register) turned into SUB.
        int addMask = 0xFF20_0000;
        int addX = 0x8B00_0000;
        Emulator mutant = new Emulator() {
            final QemuHarness q = new QemuHarness();

            @Override
            public List<ArchState> run(List<TestCase> cases) throws Exception {
                List<TestCase> m = new ArrayList<>();
                for (TestCase c : cases) {
                    int[] body = c.snippet().body().clone();
                    for (int i = 0; i < body.length; i++) {
                        if ((body[i] & addMask) == addX) {
                            body[i] |= 1 << 30;
                        }
                    }
                    m.add(new TestCase(c.name(), new Snippet(body, c.snippet().classes()), c.initial()));
                }
                return q.run(m);
            }

            @Override
            public String name() {
                return "mutant";
            }
        };
        List<TestCase> cases = randomCases(5, 200);
        Differential.Result r = new Differential(new QemuHarness(), mutant, 4).compare(cases, 64);
        assertThat(r.mismatching()).as("cases the planted bug changes").isPositive();
        assertThat(r.explained()).as("mismatches explained").isNotEmpty();
        for (Differential.Mismatch m : r.explained()) {
            assertThat(m.word() & addMask).as(Differential.report(m, "-")).isEqualTo(addX);
        }
        if (Boolean.getBoolean("jvmm.oracle.showReport")) {
            System.out.println(Differential.report(r.explained().get(0), "(replay command)"));
        }
    }

    static List<TestCase> randomCases(long seed, int n) {
        InstructionGenerator g = new InstructionGenerator(new Random(seed));
        List<TestCase> cases = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            cases.add(g.randomCase("random " + i, 16, List.of(EncodingClass.values())));
        }
        return cases;
    }
}
