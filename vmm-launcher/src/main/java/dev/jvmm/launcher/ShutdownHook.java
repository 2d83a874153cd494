package dev.jvmm.launcher;

import dev.jvmm.core.config.ConfigValues;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C and SIGTERM during a run: the JVM's shutdown hook asks the run to stop, then holds the JVM (up to 30 s) until
 * the main thread has stopped the machine and written its files, which {@link #close()} says.
 *
 * <pre>{@code
 * ShutdownHook hook = ShutdownHook.install(vm::requestStop);
 * try {
 *     ... run until the end or until asked to stop ...
 * } finally {
 *     ... stop the machine, flush the output ...
 *     hook.close();
 * }
 * }</pre>
 */
final class ShutdownHook implements AutoCloseable {
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Thread thread;
    private volatile boolean fired;

    private ShutdownHook(Runnable stop) {
        thread = new Thread(() -> {
            Main.signalled = true;
            fired = true;
            stop.run();
            try {
                stopped.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "vmm-shutdown");
    }

    /** Installs a hook that runs {@code stop} on a signal; {@code stop} must only ask (the main thread stops). */
    static ShutdownHook install(Runnable stop) {
        ShutdownHook h = new ShutdownHook(stop);
        Runtime.getRuntime().addShutdownHook(h.thread);
        return h;
    }

    /** How a run with {@code limit} (null: none) ends, for its first line: "; Ctrl-C stops", "; stopping after 10s". */
    static String howItStops(Duration limit) {
        return limit == null ? "; Ctrl-C stops" : "; stopping after " + ConfigValues.describeNanos(limit.toNanos());
    }

    /** Whether a signal started the JVM's shutdown during the run. */
    boolean fired() {
        return fired;
    }

    /** The run has stopped and flushed: the JVM may go; the hook is removed unless it is running. */
    @Override
    public void close() {
        stopped.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(thread);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running: it waits for 'stopped', counted down above
        }
    }
}
