package dev.jvmm.bench.traffic;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Lowers the scheduling priority of the calling thread (Linux: a thread is a task with its own nice value, and
 * {@code renice -p} accepts a thread id). Lowering needs no privilege. A benchmark's sender uses it so that, on a
 * machine with fewer cores than busy threads, the sender takes only the CPU the receiving side leaves, as a sender on
 * a core of its own would.
 */
public final class Niceness {
    private Niceness() {
    }

    /**
     * Sets the calling thread's nice value to {@code nice} (1..19); returns false, changing nothing, where that is
     * not possible (not Linux, no {@code renice}).
     */
    public static boolean lowerCurrentThread(int nice) {
        if (nice <= 0) {
            return false;
        }
        try {
            // /proc/thread-self -> "<pid>/task/<tid>"
            String tid = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
            Process p = new ProcessBuilder("renice", "-n", Integer.toString(Math.min(19, nice)), "-p", tid)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
