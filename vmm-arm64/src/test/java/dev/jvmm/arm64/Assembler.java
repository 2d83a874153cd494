package dev.jvmm.arm64;

import dev.jvmm.core.testing.HostTools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Assembles A64 source with binutils ({@code aarch64-linux-gnu-as}, {@code objcopy}), for tests: the bytes of the
 * {@code .text} section, position-independent unless the source says otherwise. Tests that need it are disabled
 * ({@link NeedsAssembler}) on a machine without the cross binutils.
 */
public final class Assembler {
    public static final String AS = "aarch64-linux-gnu-as";
    public static final String OBJCOPY = "aarch64-linux-gnu-objcopy";

    private Assembler() {
    }

    /** Whether the cross assembler is installed. */
    public static boolean available() {
        return HostTools.installed(AS);
    }

    /** The machine code of {@code source} (A64 assembly, one instruction or directive per line). */
    public static byte[] assemble(String source) {
        try {
            Path dir = Files.createTempDirectory("jvmm-as");
            try {
                Path src = dir.resolve("a.s");
                Path obj = dir.resolve("a.o");
                Path bin = dir.resolve("a.bin");
                Files.writeString(src, ".text\n" + source + "\n", StandardCharsets.UTF_8);
                run(List.of(AS, "-march=armv8-a+crc", "-o", obj.toString(), src.toString()));
                run(List.of(OBJCOPY, "-O", "binary", "-j", ".text", obj.toString(), bin.toString()));
                return Files.readAllBytes(bin);
            } finally {
                try (var files = Files.list(dir)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        Files.deleteIfExists(f);
                    }
                }
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot assemble: " + e.getMessage(), e);
        }
    }

    /** The instruction words of {@code source}. */
    public static int[] words(String source) {
        byte[] b = assemble(source);
        int[] w = new int[b.length / 4];
        for (int i = 0; i < w.length; i++) {
            w[i] = (b[4 * i] & 0xFF) | (b[4 * i + 1] & 0xFF) << 8 | (b[4 * i + 2] & 0xFF) << 16 | (b[4 * i + 3] & 0xFF) << 24;
        }
        return w;
    }

    private static void run(List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(new ArrayList<>(cmd)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
