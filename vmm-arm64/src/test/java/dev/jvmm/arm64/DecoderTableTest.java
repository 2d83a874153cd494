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
                    || insn.op == Op.NOP
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

    /** The base A64 integer mnemonics (and the aliases objdump prints for them). */
    static final Set<String> BASE = Set.of(("add adds sub subs cmp cmn neg negs ngc ngcs adc adcs sbc sbcs and ands orr "
            + "orn eor eon bic bics tst mov movn movz movk mvn lsl lsr asr ror sbfm bfm ubfm sbfx sbfiz ubfx ubfiz bfi "
            + "bfxil bfc sxtb sxth sxtw uxtb uxth extr adr adrp b bl br blr ret eret cbz cbnz tbz tbnz csel csinc "
            + "csinv csneg cset csetm cinc cinv cneg ccmp ccmn madd msub mul mneg smaddl smsubl smull smnegl smulh "
            + "umaddl umsubl umull umnegl umulh udiv sdiv lslv lsrv asrv rorv crc32b crc32h crc32w crc32x crc32cb "
            + "crc32ch crc32cw crc32cx rbit rev16 rev32 rev rev64 clz cls svc hvc smc brk ldr ldrb ldrh ldrsb ldrsh "
            + "ldrsw str strb strh ldur ldurb ldurh ldursb ldursh ldursw stur sturb sturh ldtr ldtrb ldtrh ldtrsb "
            + "ldtrsh ldtrsw sttr sttrb sttrh ldp stp ldnp stnp ldpsw ldxr ldxrb ldxrh ldaxr ldaxrb ldaxrh stxr "
            + "stxrb stxrh stlxr stlxrb stlxrh ldxp ldaxp stxp stlxp ldar ldarb ldarh stlr stlrb stlrh").split(" "));

    static boolean isBase(String mnemonic, String operands) {
        if (!mnemonic.startsWith("b.") && !BASE.contains(mnemonic)) {
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
