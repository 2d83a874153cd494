package dev.jvmm.bench.board;

import dev.jvmm.bench.BenchFailure;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One {@code qemu-system-aarch64} run of a compiled guest on QEMU's {@code virt} board, the way
 * {@code guests/run-qemu.sh} runs it ({@code -M virt,gic-version=3 -cpu cortex-a57 -accel tcg -nographic}, virtio-mmio
 * version 2): its console read line by line, its CPU time sampled from {@code /proc} while it runs, its wall time
 * from start to exit. Standard input is {@code /dev/null}.
 */
public final class QemuProcess implements AutoCloseable {
    /** QEMU's program name, looked up on the PATH when no path is given. */
    public static final String DEFAULT_PROGRAM = "qemu-system-aarch64";

    private final Process process;
    private final ConsoleLines console;
    private final Thread reader;
    private final Thread sampler;
    private final long startNanos;
    private volatile long endNanos;
    private volatile long cpuNanos = -1;

    private QemuProcess(List<String> command, Consumer<String> listener) throws IOException {
        console = new ConsoleLines(listener);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        startNanos = System.nanoTime();
        process = pb.start();
        reader = new Thread(this::read, "qemu-console");
        reader.setDaemon(true);
        reader.start();
        sampler = new Thread(this::sample, "qemu-cpu-time");
        sampler.setDaemon(true);
        sampler.start();
    }

    /**
     * The command line of a run: the board, {@code smp} CPUs and {@code memory} (QEMU's {@code -m}), the kernel and
     * its bootargs, then {@code extra} (NICs, {@code -icount}, ...).
     */
    public static List<String> command(Path qemu, Path kernel, String append, int smp, String memory,
                                       List<String> extra) {
        List<String> c = new ArrayList<>(List.of(qemu.toString(), "-M", "virt,gic-version=3", "-cpu", "cortex-a57",
                "-accel", "tcg", "-nographic", "-m", memory, "-smp", Integer.toString(smp),
                "-global", "virtio-mmio.force-legacy=false", "-kernel", kernel.toString()));
        if (append != null && !append.isEmpty()) {
            c.add("-append");
            c.add(append);
        }
        c.addAll(extra);
        return c;
    }

    /**
     * Starts QEMU; {@code listener} sees each console line as it comes (null: none). A program that cannot be started
     * is the benchmark's failure, named with its path.
     */
    public static QemuProcess start(List<String> command, Consumer<String> listener) {
        try {
            return new QemuProcess(command, listener);
        } catch (IOException e) {
            throw new BenchFailure("QEMU: cannot start " + command.get(0) + ": " + e.getMessage());
        }
    }

    /**
     * QEMU's program: {@code given} when not null (it must be an executable file), else {@value #DEFAULT_PROGRAM}
     * on the PATH; null when not found.
     */
    public static Path find(Path given) {
        if (given != null) {
            return Files.isRegularFile(given) && Files.isExecutable(given) ? given : null;
        }
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, DEFAULT_PROGRAM);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** QEMU's version line ("QEMU emulator version 7.2.22 ..."), or "unknown version". */
    public static String version(Path qemu) {
        try {
            Process p = new ProcessBuilder(qemu.toString(), "--version").redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            String first;
            try (InputStream in = p.getInputStream()) {
                first = new String(in.readNBytes(4096), java.nio.charset.StandardCharsets.UTF_8).lines().findFirst()
                        .orElse("");
            }
            p.waitFor(10, TimeUnit.SECONDS);
            p.destroy();
            return first.isBlank() ? "unknown version" : first.trim();
        } catch (IOException e) {
            return "unknown version";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown version";
        }
    }

    private void read() {
        byte[] buf = new byte[8192];
        try (InputStream in = process.getInputStream()) {
            int n;
            while ((n = in.read(buf)) > 0) {
                console.write(buf, 0, n);
            }
        } catch (IOException e) {
            // the process ended
        }
    }

    /** utime + stime of the process from /proc/PID/stat every 10 ms while it runs (Linux; elsewhere none). */
    private void sample() {
        Path stat = Path.of("/proc", Long.toString(process.pid()), "stat");
        while (process.isAlive()) {
            long t = cpuFromProc(stat);
            if (t >= 0) {
                cpuNanos = t;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** utime + stime in nanoseconds from a /proc/PID/stat file (clock ticks of 10 ms), -1 when unreadable. */
    static long cpuFromProc(Path stat) {
        try {
            String s = Files.readString(stat);
            // The command name (field 2) may hold spaces: the fields after it follow the last ')'.
            String[] f = s.substring(s.lastIndexOf(')') + 2).trim().split("\\s+");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);   // fields 14 and 15: utime, stime
            return ticks * 10_000_000L;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Waits up to {@code timeoutMillis} for QEMU to exit; true when it did (its console is then complete). */
    public boolean await(long timeoutMillis) throws InterruptedException {
        boolean done = process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS);
        if (done) {
            if (endNanos == 0) {
                endNanos = System.nanoTime();
            }
            reader.join(5_000);
        }
        return done;
    }

    /** The exit status, once exited. */
    public int exitValue() {
        return process.exitValue();
    }

    /** Start to exit (or to now, while running), in nanoseconds. */
    public long wallNanos() {
        long end = endNanos;
        return (end == 0 ? System.nanoTime() : end) - startNanos;
    }

    /** QEMU's CPU time (user + system) at the last sample before it exited, -1 when not measured (not Linux). */
    public long cpuNanos() {
        return cpuNanos;
    }

    /** QEMU's CPU time now (it must be running), -1 when unreadable. */
    public long cpuNanosNow() {
        return cpuFromProc(Path.of("/proc", Long.toString(process.pid()), "stat"));
    }

    public ConsoleLines console() {
        return console;
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** Ends QEMU if it still runs (SIGTERM, then SIGKILL after 5 s) and waits for it. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        }
        if (endNanos == 0) {
            endNanos = System.nanoTime();
        }
        sampler.interrupt();
        reader.join(5_000);
    }
}
