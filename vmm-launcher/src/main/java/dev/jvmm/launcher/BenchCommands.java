package dev.jvmm.launcher;

import dev.jvmm.bench.BenchFailure;
import dev.jvmm.bench.board.GuestFiles;

import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * What the {@code bench} commands share (besides {@link QemuOptions}): the guest file they default to, options
 * checked into a usage error and a run whose {@link BenchFailure} is the run's failure (exit status 1).
 */
final class BenchCommands {
    private BenchCommands() {
    }

    /**
     * {@code given}, or guests/NAME/NAME.elf found from the working folder; when neither, a usage error
     * "OPTION: guests/NAME/NAME.elf not found from the working folder; REMEDY".
     */
    static Path guest(Path given, String name, String option, String remedy) {
        Path g = given != null ? given : GuestFiles.find(name);
        if (g == null) {
            throw new Main.UsageException(option + ": guests/" + name + "/" + name + ".elf not found from the working "
                    + "folder; " + remedy);
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
