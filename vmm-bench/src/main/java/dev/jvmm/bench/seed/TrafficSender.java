package dev.jvmm.bench.seed;

import dev.jvmm.bench.BenchFailure;
import dev.jvmm.bench.traffic.UdpSender;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Who sends the benchmark's datagrams: the same sender, rate and length feed every cell and the plain receiver.
 * A {@link Flow} is one burst of traffic to every target for a fixed time.
 */
sealed interface TrafficSender permits TrafficSender.Builtin, TrafficSender.Iperf {

    /** What the report says about the sender (name and version). */
    String describe();

    /** Short name for the report: {@code iperf} or {@code builtin}. */
    String name();

    /** Starts sending {@code length}-byte payloads at {@code bitsPerSecond} to every target for {@code seconds}. */
    Flow start(List<InetSocketAddress> targets, long bitsPerSecond, int length, double seconds);

    /** One burst of traffic. */
    interface Flow extends AutoCloseable {
        /**
         * Waits (at most {@code timeoutMillis}) until the flow has sent everything and its count is known; returns
         * the datagrams sent, or -1 when the sender did not say.
         */
        long awaitSent(long timeoutMillis) throws InterruptedException;

        /** Stops the flow now, whatever it was doing. */
        @Override
        void close();
    }

    /**
     * The sender {@code choice} asks for; {@code auto} picks iperf when it runs here. Its processes or thread run at
     * nice value {@code nice} (0: the benchmark's own priority).
     */
    static TrafficSender choose(SeedOptions.Sender choice, int nice) {
        switch (choice) {
            case BUILTIN:
                return new Builtin(nice);
            case IPERF: {
                String version = Iperf.version();
                if (version == null) {
                    throw new IllegalArgumentException("--sender iperf: iperf (iperf2) is not installed or does not run;"
                            + " install it (apt-get install iperf) or use --sender builtin");
                }
                return new Iperf(version, nice);
            }
            default: {
                String version = Iperf.version();
                return version == null ? new Builtin(nice) : new Iperf(version, nice);
            }
        }
    }

    /** {@link UdpSender}: one thread of this JVM, iperf2's datagram format and pacing. */
    final class Builtin implements TrafficSender {
        private final int nice;

        Builtin(int nice) {
            this.nice = nice;
        }

        @Override
        public String describe() {
            return "built-in sender (one thread, iperf2 datagram format and pacing" + niceness(nice) + ")";
        }

        @Override
        public String name() {
            return "builtin";
        }

        @Override
        public Flow start(List<InetSocketAddress> targets, long bitsPerSecond, int length, double seconds) {
            UdpSender s = new UdpSender(targets, bitsPerSecond, length, (long) (seconds * 1e9), "seed-sender").nice(nice)
                    .start();
            return new Flow() {
                @Override
                public long awaitSent(long timeoutMillis) {
                    // Called when the flow's time is up: the thread is finishing (its end markers) or done. close()
                    // joins it with a bound; UdpSender has no bounded join of its own.
                    s.close();
                    if (s.failure() != null) {
                        throw new BenchFailure("the built-in sender failed: " + s.failure().getMessage());
                    }
                    return s.totalSent();
                }

                @Override
                public void close() {
                    s.close();
                }
            };
        }
    }

    /**
     * iperf2, one client process per target, as the seed ran it: {@code iperf -c 127.0.0.1 -p PORT -u -b RATE -l LEN
     * -t SECONDS}. The count comes from each client's "Sent N datagrams" line, which iperf2 prints as soon as it has
     * sent for its time; the client then waits seconds for a server report that no iperf server sends here, so the
     * flow ends the processes once the line is in.
     */
    final class Iperf implements TrafficSender {
        private static final Pattern SENT = Pattern.compile("Sent (\\d+) datagrams");
        private final String version;
        private final int nice;

        Iperf(String version, int nice) {
            this.version = version;
            this.nice = nice;
        }

        /** iperf's version line, or null when it is not installed (or is not iperf2). */
        static String version() {
            try {
                Process p = new ProcessBuilder("iperf", "-v").redirectErrorStream(true).start();
                byte[] out = p.getInputStream().readAllBytes();
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return null;
                }
                String text = new String(out, StandardCharsets.UTF_8).strip();
                return text.startsWith("iperf version 2") ? text : null;
            } catch (IOException e) {
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }

        @Override
        public String describe() {
            return version + " (one client process per NIC" + niceness(nice) + ")";
        }

        @Override
        public String name() {
            return "iperf";
        }

        @Override
        public Flow start(List<InetSocketAddress> targets, long bitsPerSecond, int length, double seconds) {
            List<Process> procs = new ArrayList<>();
            List<Path> outputs = new ArrayList<>();
            try {
                for (InetSocketAddress t : targets) {
                    Path out = Files.createTempFile("vmm-seed-iperf", ".txt");
                    outputs.add(out);
                    List<String> command = new ArrayList<>();
                    if (nice > 0) {
                        command.addAll(List.of("nice", "-n", Integer.toString(nice)));
                    }
                    command.addAll(List.of("iperf", "-c", t.getAddress().getHostAddress(),
                            "-p", Integer.toString(t.getPort()), "-u", "-b", Long.toString(bitsPerSecond),
                            "-l", Integer.toString(length), "-t", String.format(java.util.Locale.ROOT, "%.3f", seconds)));
                    procs.add(new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start());
                }
            } catch (IOException e) {
                procs.forEach(Process::destroyForcibly);
                deleteAll(outputs);
                throw new BenchFailure("cannot start iperf: " + e.getMessage());
            }
            return new Flow() {
                @Override
                public long awaitSent(long timeoutMillis) throws InterruptedException {
                    long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
                    long total = 0;
                    for (int i = 0; i < procs.size(); i++) {
                        long sent = -1;
                        while (true) {
                            sent = sentIn(outputs.get(i));
                            if (sent >= 0 || !procs.get(i).isAlive() || System.nanoTime() > deadline) {
                                break;
                            }
                            Thread.sleep(5);
                        }
                        if (sent < 0) {
                            return -1;
                        }
                        total += sent;
                    }
                    return total;
                }

                @Override
                public void close() {
                    // The count is in (or will never come): what is left of an iperf client is its wait for a server
                    // report, seconds long. SIGKILL, not SIGTERM: iperf2 finishes that wait before it honours TERM.
                    for (Process p : procs) {
                        p.destroyForcibly();
                    }
                    long deadline = System.nanoTime() + 2_000_000_000L;
                    for (Process p : procs) {
                        try {
                            p.waitFor(Math.max(1, (deadline - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            break;
                        }
                    }
                    deleteAll(outputs);
                }
            };
        }

        private static long sentIn(Path output) {
            try {
                Matcher m = SENT.matcher(Files.readString(output, StandardCharsets.UTF_8));
                return m.find() ? Long.parseLong(m.group(1)) : -1;
            } catch (IOException | RuntimeException e) {
                return -1;
            }
        }

        private static void deleteAll(List<Path> files) {
            for (Path f : files) {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException ignored) {
                    // a temporary file left in /tmp is not worth failing a benchmark over
                }
            }
        }
    }

    /** How {@link #describe()} mentions a sender's nice value. */
    private static String niceness(int nice) {
        return nice > 0 ? ", at nice " + nice : "";
    }
}
