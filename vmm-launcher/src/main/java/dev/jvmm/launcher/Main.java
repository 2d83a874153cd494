package dev.jvmm.launcher;

import dev.jvmm.bench.BenchFailure;
import dev.jvmm.core.config.ConfigException;
import dev.jvmm.core.machine.MachineException;
import dev.jvmm.guest.GuestFailure;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/**
 * The {@code vmm} command line: {@code run}, {@code boot}, {@code trace}, {@code replay}, {@code check},
 * {@code bench} and {@code soak}.
 *
 * <p>Exit status: 0 when the run ended cleanly, 2 for bad usage or a bad configuration (one message naming the
 * file, the line and the key), 1 for a failure at run time (a port in use, a guest that panicked) with a message.
 * No stack trace reaches the user unless {@code VMM_DEBUG=1} is set.
 */
@Command(name = "vmm", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "A virtual machine monitor component: guest memory, virtio-net over UDP, a GICv3 ITS.",
        subcommands = {RunCommand.class, BootCommand.class, TraceCommand.class, ReplayCommand.class, CheckCommand.class,
                BenchCommand.class, SoakCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    public static final int EXIT_OK = 0;
    public static final int EXIT_FAILURE = 1;
    public static final int EXIT_USAGE = 2;

    /** Set when a signal (Ctrl-C, SIGTERM) started the JVM's shutdown: System.exit would then block forever. */
    static volatile boolean signalled;

    public static void main(String[] args) {
        int code = execute(args);
        if (!signalled) {
            System.exit(code);
        }
    }

    /** Runs the command line and returns its exit status (the tests call this). */
    public static int execute(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    }

    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        // Chronicle Queue phones home unless told not to; say so before any of its classes load.
        System.setProperty("chronicle.analytics.disable", "true");
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("vmm: " + message(ex));
            if ("1".equals(System.getenv("VMM_DEBUG"))) {
                ex.printStackTrace(commandLine.getErr());
            }
            return exitCode(ex);
        });
        cl.setParameterExceptionHandler((ex, args1) -> {
            CommandLine c = ex.getCommandLine();
            // A typed option's converter explains the value; say it as every other message: "OPTION: problem".
            c.getErr().println("vmm: " + ex.getMessage().replaceFirst("^Invalid value for option '([^']+)': ", "$1: "));
            c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for more information.");
            return EXIT_USAGE;
        });
        return cl.execute(args);
    }

    static int exitCode(Throwable ex) {
        if (ex instanceof ConfigException || ex instanceof UsageException) {
            return EXIT_USAGE;
        }
        return EXIT_FAILURE;
    }

    static String message(Throwable ex) {
        if (ex instanceof ConfigException || ex instanceof MachineException || ex instanceof UsageException
                || ex instanceof RunFailure || ex instanceof GuestFailure || ex instanceof BenchFailure) {
            return ex.getMessage();
        }
        String m = ex.getMessage();
        return ex.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    /**
     * A command-line value that cannot be used (exit status 2), with a complete message.
     */
    public static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public UsageException(String message) {
            super(message);
        }
    }

    /** A run that failed at run time (exit status 1), with a complete message; public for the same reason. */
    public static final class RunFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public RunFailure(String message) {
            super(message);
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"vmm " + (v == null ? "development build" : v) + " on Java "
                    + System.getProperty("java.version")};
        }
    }
}
