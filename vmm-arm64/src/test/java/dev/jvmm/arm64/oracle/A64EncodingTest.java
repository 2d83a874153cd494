package dev.jvmm.arm64.oracle;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * The oracle's own encoders and generator, checked before they are trusted to judge a CPU: known encodings (as GNU
 * as assembles them), the count of logical immediates, and GNU objdump's verdict that every generated word is an
 * allocated instruction of the class it claims.
 */
class A64EncodingTest {

    @Test
    void encodersGiveTheWordsGnuAsGives() {
        // Each pair: our encoder, and the word aarch64-linux-gnu-as gives for the instruction in the comment.
        int[][] known = {
            {A64.addSubShiftedRegister(1, 0, 1, 0, 2, 0, 1, 0), 0xab020020},          // adds x0, x1, x2
            {A64.addSubImmediate(1, 0, 0, 0, 0, 1, 31), 0x9100003f},                  // mov sp, x1
            {A64.logicalShiftedRegister(1, 0b01, 0, 0, 3, 0, 31, 30), 0xaa0303fe},    // mov x30, x3
            {A64.loadStorePair(0b10, A64.PAIR_POST_INDEXED, 1, 2, 8, 5, 7), 0xa8c120a7}, // ldp x7, x8, [x5], #16
            {A64.loadStoreUnsignedImmediate(3, 1, 33, 3, 1), 0xf9408461},            // ldr x1, [x3, #264]
            {A64.nzcv(A64.MSR, 1), 0xd51b4201},                                       // msr nzcv, x1
            {A64.tpidrEl0(A64.MRS, 1), 0xd53bd041},                                   // mrs x1, tpidr_el0
            {A64.conditionalBranch(-3, 1), 0x54ffffa1},                               // b.ne .-12
            {A64.compareAndBranch(1, 0, 9, 2), 0xb4000122},                           // cbz x2, .+36
            {A64.unconditionalBranchRegister(0b0010, 30), 0xd65f03c0},                // ret
            {A64.exceptionGeneration(0, 0, 0b01), 0xd4000001},                        // svc #0
            {A64.moveWide(1, 0b10, 0, 528, 9), 0xd2804209},                           // mov x9, #0x210
            {A64.barrier(0b1111, 0b010), 0xd5033f5f},                                 // clrex (#15)
            {A64.loadLiteral(0b01, -2, 30), 0x58ffffde},                              // ldr x30, .-8
        };
        for (int[] k : known) {
            assertThat(String.format("%08x", k[0])).as("encoder output").isEqualTo(String.format("%08x", k[1]));
        }
    }

    @Test
    void thereAre5334LogicalImmediatesOf64BitsAnd1302Of32() {
        Set<Long> x = new HashSet<>();
        Set<Long> w = new HashSet<>();
        for (int esize = 2; esize <= 64; esize *= 2) {
            for (int ones = 1; ones < esize; ones++) {
                for (int rot = 0; rot < esize; rot++) {
                    int f = A64.bitmaskFields(esize, ones, rot);
                    x.add(A64.decodeBitMask(f >> 12, f >> 6 & 0x3F, f & 0x3F, 64));
                    if (esize <= 32) {
                        w.add(A64.decodeBitMask(f >> 12, f >> 6 & 0x3F, f & 0x3F, 32));
                    }
                }
            }
        }
        // Arm ARM C3.4.2: 5334 distinct 64-bit and 1302 distinct 32-bit values.
        assertThat(x).hasSize(5334);
        assertThat(w).hasSize(1302);
        assertThat(A64.decodeBitMask(1, 0, 0, 64)).isEqualTo(1L);
        assertThat(A64.decodeBitMask(0, 1, 0b111100, 64)).isEqualTo(0xAAAA_AAAA_AAAA_AAAAL);
    }

    @Test
    void everyGeneratedWordIsAnAllocatedInstruction() {
        OracleTools.assumeObjdump();
        InstructionGenerator g = new InstructionGenerator(new Random(1));
        List<TestCase> cases = new ArrayList<>();
        for (EncodingClass c : EncodingClass.values()) {
            for (int i = 0; i < 20; i++) {
                cases.add(g.randomCase(c.name() + " " + i, 10, List.of(c)));
            }
        }
        cases.addAll(DirectedCases.all());
        int[] words = cases.stream().flatMapToInt(c -> Arrays.stream(c.snippet().body())).toArray();
        String[] classes = cases.stream().flatMap(c -> Arrays.stream(c.snippet().classes())).toArray(String[]::new);
        List<String> dis = Objdump.disassemble(words, 0);
        assertThat(dis).as("objdump's disassembly").isNotNull();
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < words.length; i++) {
            if (dis.get(i).contains("undefined") || dis.get(i).startsWith(".inst")) {
                bad.add(String.format("%08x %s [%s]", words[i], dis.get(i), classes[i]));
            }
        }
        assertThat(bad).as("generated words that objdump calls unallocated").isEmpty();
    }
}
