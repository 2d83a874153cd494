package dev.jvmm.launcher;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * What every {@code vmm} command has: the writers picocli gives it (standard output and error, or a test's), and one
 * way to report what stopping a machine met. Its exit status is what {@link #call()} returns.
 */
abstract class VmmCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** {@link #out()} for code that prints to a {@link PrintStream}; it flushes at every line. */
    PrintStream outStream() {
        return new PrintStream(new WriterOutputStream(out()), true);
    }

    /** Each problem that stopping a machine met, as a warning line on {@code err}. */
    static void warn(PrintWriter err, List<String> problems) {
        for (String p : problems) {
            err.println("vmm: warning: " + p);
        }
    }
}
