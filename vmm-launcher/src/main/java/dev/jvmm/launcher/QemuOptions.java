package dev.jvmm.launcher;

import dev.jvmm.bench.board.QemuProcess;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --qemu PATH} and {@code --no-qemu}: the QEMU a {@code bench} command compares jvmm with. */
final class QemuOptions {
    @Option(names = "--qemu", paramLabel = "PATH",
            description = "qemu-system-aarch64 to compare with (default: the one on the PATH, if any).")
    Path given;

    @Option(names = "--no-qemu", description = "Run jvmm's side alone, no QEMU.")
    boolean none;

    /** The QEMU to compare with (null: none) and, when there is none, why ({@code --no-qemu}, not found). */
    record Qemu(Path program, String note) {
    }

    /** A {@link Main.UsageException} when both are given (checked first, before the guest files are looked for). */
    void checkOne() {
        if (none && given != null) {
            throw new Main.UsageException("--qemu and --no-qemu: give one of them");
        }
    }

    /** The QEMU to compare with, or none and why: a {@link Main.UsageException} for both options or a bad PATH. */
    Qemu resolve() {
        checkOne();
        if (none) {
            return new Qemu(null, "--no-qemu");
        }
        Path q = QemuProcess.find(given);
        if (q == null && given != null) {
            throw new Main.UsageException("--qemu: " + given + " is not an executable file");
        }
        return new Qemu(q, q == null ? QemuProcess.DEFAULT_PROGRAM + " not found on the PATH" : null);
    }
}
