package dev.jvmm.arm64.oracle;

import dev.jvmm.core.testing.HostTools;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Disassembly for reports, by GNU objdump ({@code aarch64-linux-gnu-objdump}) when it is installed. Without it,
 * reports show the instruction words alone.
 */
final class Objdump {
    static final String OBJDUMP = System.getProperty("jvmm.objdump", "aarch64-linux-gnu-objdump");
    private static final Pattern LINE = Pattern.compile("^\\s*([0-9a-f]+):\\s+([0-9a-f]{8})\\s+(.*)$");
    private static volatile Boolean available;

    private Objdump() {
    }

    static boolean available() {
        Boolean a = available;
        if (a == null) {
            a = HostTools.installed(OBJDUMP);
            available = a;
        }
        return a;
    }

    /** One line per word ("add x0, x1, x2"), or null when objdump is not installed. */
    static List<String> disassemble(int[] words, long address) {
        if (!available() || words.length == 0) {
            return null;
        }
        try {
            Path f = Files.createTempFile("jvmm-words", ".bin");
            try {
                ByteBuffer b = ByteBuffer.allocate(4 * words.length).order(ByteOrder.LITTLE_ENDIAN);
                for (int w : words) {
                    b.putInt(w);
                }
                Files.write(f, b.array());
                Process p = new ProcessBuilder(OBJDUMP, "-D", "-b", "binary", "-m", "aarch64",
                        "--adjust-vma=0x" + Long.toHexString(address), f.toString()).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes());
                p.waitFor(60, TimeUnit.SECONDS);
                List<String> lines = new ArrayList<>(words.length);
                for (String line : out.split("\n")) {
                    Matcher m = LINE.matcher(line);
                    if (m.matches()) {
                        lines.add(m.group(3).replace('\t', ' ').trim());
                    }
                }
                return lines.size() == words.length ? lines : null;
            } finally {
                Files.deleteIfExists(f);
            }
        } catch (IOException | InterruptedException e) {
            return null;
        }
    }

    /** "d2800000  mov x0, #0x0", or the word alone. */
    static String describe(int word, long address) {
        List<String> d = disassemble(new int[] {word}, address);
        return String.format("%08x", word) + (d == null ? "" : "  " + d.get(0));
    }
}
