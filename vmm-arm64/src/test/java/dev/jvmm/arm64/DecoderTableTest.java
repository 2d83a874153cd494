package dev.jvmm.arm64;

import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The encoding table against binutils' disassembler: for random words (most drawn from the integer encoding
 * classes), this CPU decodes a word as an instruction exactly when objdump decodes it as a base A64 integer
 * instruction (objdump also knows FP/SIMD, SVE and later extensions: those must be UNDEFINED here).
 */
@ExtendWith(SeedExtension.class)
class DecoderTableTest {
    static final String OBJDUMP = "aarch64-linux-gnu-objdump";

    /** Mnemonics objdump knows that a Cortex-A57 without FP/AdvSIMD does not have, or that are UNDEFINED here. */
    static final Set<String> NOT_BASE = Set.of("udf", "hlt", "dcps1", "dcps2", "dcps3", "drps", "sysl",
            "ldapr", "ldaprb", "ldaprh", "ldapur", "ldapurb", "ldapurh", "ldapursb", "ldapursh", "ldapursw",
            "stlur", "stlurb", "stlurh", "stllr", "stllrb", "stllrh", "ldlar", "ldlarb", "ldlarh",
            "rmif", "setf8", "setf16", "cfinv", "xaflag", "axflag", "stg", "stzg", "st2g", "stz2g", "stgp", "ldg",
            "irg", "gmi", "subp", "subps", "addg", "subg", "ldgm", "stgm", "stzgm", "wfet", "wfit", "tstart", "tcommit",
            "tcancel", "ttest", "ld64b", "st64b", "st64bv", "st64bv0", "braa", "brab", "blraa", "blrab", "braaz",
            "brabz", "blraaz", "blrabz", "retaa", "retab", "eretaa", "eretab", "ldraa", "ldrab", "pacia", "pacib",
            "pacda", "pacdb", "autia", "autib", "autda", "autdb", "paciza", "pacizb", "pacdza", "pacdzb", "autiza",
            "autizb", "autdza", "autdzb", "xpaci", "xpacd", "pacga", "sb", "ssbb", "pssbb", "cpyfp", "msr",
            "abs", "cnt", "ctz", "smax", "smin", "umax", "umin", "rprfm", "prfm", "bc", "cpyp", "setp");

    @Test
    void decodesExactlyTheBaseInstructionsObjdumpKnows(SeededRandom random) throws Exception {
        assumeTrue(Assembler.available(), "binutils for aarch64 are not installed");
        int n = 20_000;
        int[] words = new int[n];
        for (int i = 0; i < n; i++) {
            int w = random.nextInt();
            switch (i % 4) {
                case 0: break;                                             // anything
                case 1: w = w & ~(0xF << 25) | (0b1000 | random.nextInt(4)) << 25; break; // DP imm, branches/system
                case 2: w = w & ~(0x5 << 25) & ~(1 << 26) | 0b0100 << 25; break;          // loads/stores, V = 0
                default: w = w & ~(0x7 << 25) | 0b101 << 25; break;                        // DP register
            }
            words[i] = w;
        }
        List<String> lines = objdump(words);
        List<String> mismatches = new ArrayList<>();
        Pattern p = Pattern.compile("^\\s*([0-9a-f]+):\\s+([0-9a-f]{8})\\s+(\\S+)\\s*(.*)$");
        int seen = 0;
        for (String line : lines) {
            Matcher m = p.matcher(line);
            if (!m.matches()) {
                continue;
            }
            int index = Integer.parseInt(m.group(1), 16) / 4;
            int w = (int) Long.parseLong(m.group(2), 16);
            seen++;
            String mnemonic = m.group(3);
            String operands = m.group(4);
            boolean objdumpBase = !line.contains("undefined") && !mnemonic.startsWith(".") && isBase(mnemonic, operands);
            Insn insn = Decoder.decode(w);
            boolean ours = insn.op != Op.UNDEF;
            // MSR/MRS/SYS are decoded for any register; which registers exist is decided when they execute.
            boolean system = insn.op == Op.MSR || insn.op == Op.MRS || insn.op == Op.SYS || insn.op == Op.HINT
                    || insn.op == Op.MSR_IMM || insn.op == Op.PRFM;
            if (system) {
                continue;
            }
            if (ours && !objdumpBase && constrainedUnpredictable(w, insn)) {
                // binutils rejects CONSTRAINED UNPREDICTABLE register combinations; QEMU executes them, and so do we.
                continue;
            }
            if (ours != objdumpBase) {
                mismatches.add(String.format("%08x objdump: %s %s | ours: %s", w, mnemonic, operands, insn));
            }
        }
        assertThat(seen).as("words objdump listed").isEqualTo(n);
        assertThat(mismatches).as("words where this decoder and objdump disagree (of %d)", n).isEmpty();
    }

    /** Register combinations the Arm ARM calls CONSTRAINED UNPREDICTABLE (overlapping writeback, SBO fields). */
    static boolean constrainedUnpredictable(int w, Insn in) {
        int rt = w & 31;
        int rn = w >>> 5 & 31;
        int rt2 = w >>> 10 & 31;
        int rs = w >>> 16 & 31;
        switch (in.op) {
            case Op.LDAR: case Op.STLR: case Op.LDXR:
                return rt2 != 31 || (in.op != Op.STLR ? rs != 31 : rs != 31);
            case Op.STXR:
                return rt2 != 31 || rs == rt || rs == rn && rn != 31;
            case Op.LDXP:
                return rs != 31 || rt == rt2;
            case Op.STXP:
                return rs == rt || rs == rt2 || rs == rn && rn != 31;
            case Op.LDP: case Op.LDP_PRE: case Op.LDP_POST:
                return rt == rt2 || in.op != Op.LDP && rn != 31 && (rn == rt || rn == rt2);
            case Op.STP_PRE: case Op.STP_POST:
                return rn != 31 && (rn == rt || rn == rt2);
            case Op.LD_PRE: case Op.LD_POST: case Op.ST_PRE: case Op.ST_POST:
                return rn != 31 && rn == rt;
            default:
                return false;
        }
    }

    static boolean isBase(String mnemonic, String operands) {
        if (mnemonic.startsWith("cpy") || mnemonic.startsWith("set") && operands.contains("!")
                || mnemonic.matches("(dec|inc|sqdec|sqinc|uqdec|uqinc|cnt)[bhwdp]") || mnemonic.equals("rdvl")
                || mnemonic.equals("addvl") || mnemonic.equals("addpl")) {
            return false;
        }
        if ((mnemonic.equals("mrs") || mnemonic.equals("msr")) && operands.matches(".*\\bs[01]_.*")) {
            return false;
        }
        String base = mnemonic.contains(".") ? mnemonic.substring(0, mnemonic.indexOf('.')) : mnemonic;
        if (mnemonic.startsWith("b.")) {
            return true;
        }
        if (NOT_BASE.contains(base)) {
            return false;
        }
        if (base.startsWith("cas") || base.startsWith("swp") || base.startsWith("ld") && base.matches(
                "ld(add|clr|eor|set|smax|smin|umax|umin)(a|al|l)?[bh]?") || base.matches(
                "st(add|clr|eor|set|smax|smin|umax|umin)l?[bh]?")) {
            return false;
        }
        // FP/SIMD/SVE operands: v0, q0, d0, s0, h0, b0 (as registers), z0, p0, za.
        String ops = operands.replaceAll("//.*", "");
        return !ops.matches(".*\\b([vqdshbzp][0-9]+|za)\\b.*");
    }

    static List<String> objdump(int[] words) throws IOException, InterruptedException {
        Path f = Files.createTempFile("words", ".bin");
        try {
            byte[] b = new byte[words.length * 4];
            for (int i = 0; i < words.length; i++) {
                for (int k = 0; k < 4; k++) {
                    b[4 * i + k] = (byte) (words[i] >>> (8 * k));
                }
            }
            Files.write(f, b);
            Process proc = new ProcessBuilder(OBJDUMP, "-D", "-b", "binary", "-m", "aarch64", f.toString())
                    .redirectErrorStream(true).start();
            String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            proc.waitFor(60, TimeUnit.SECONDS);
            return out.lines().toList();
        } finally {
            Files.deleteIfExists(f);
        }
    }
}
