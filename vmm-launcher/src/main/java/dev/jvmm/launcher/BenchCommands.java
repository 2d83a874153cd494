package dev.jvmm.launcher;

import dev.jvmm.bench.BenchFailure;
import dev.jvmm.bench.board.GuestFiles;
import dev.jvmm.bench.board.QemuProcess;

import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * What the {@code bench} commands share: the guest file they default to, the QEMU they compare with, options checked
 * into a usage error and a run whose {@link BenchFailure} is the run's failure (exit status 1).
 */
final class BenchCommands {
    private BenchCommands() {
    }

    /** The QEMU to compare with (null: none) and, when there is none, why ({@code --no-qemu}, not found). */
    record Qemu(Path program, String note) {
    }

    /** A {@link Main.UsageException} when both {@code --qemu PATH} and {@code --no-qemu} are given. */
    static void oneQemu(Path given, boolean none) {
        if (none && given != null) {
            throw new Main.UsageException("--qemu and --no-qemu: give one of them");
        }
    }

    /** {@code --qemu PATH} and {@code --no-qemu}, checked: a {@link Main.UsageException} for both or a bad PATH. */
    static Qemu qemu(Path given, boolean none) {
        oneQemu(given, none);
        if (none) {
            return new Qemu(null, "--no-qemu");
        }
        Path q = QemuProcess.find(given);
        if (q == null && given != null) {
            throw new Main.UsageException("--qemu: " + given + " is not an executable file");
        }
        return new Qemu(q, q == null ? QemuProcess.DEFAULT_PROGRAM + " not found on the PATH" : null);
    }

    /** {@code given}, or guests/NAME/NAME.elf found from the working folder; {@code notFound} when neither. */
    static Path guest(Path given, String name, String notFound) {
        Path g = given != null ? given : GuestFiles.find(name);
        if (g == null) {
            throw new Main.UsageException(notFound);
        }
        return g;
    }

    /** The options record {@code make} builds; its {@link IllegalArgumentException} becomes a usage error. */
    static <T> T checked(Supplier<T> make) {
        try {
            return make.get();
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
    }

    /** A benchmark's run. */
    interface Run {
        void run() throws InterruptedException;
    }

    /** Runs {@code run}: {@link Main#EXIT_OK}, or a {@link Main.RunFailure} saying what its failure said. */
    static int run(Run run) throws InterruptedException {
        try {
            run.run();
        } catch (BenchFailure e) {
            throw new Main.RunFailure(e.getMessage());
        }
        return Main.EXIT_OK;
    }
}
