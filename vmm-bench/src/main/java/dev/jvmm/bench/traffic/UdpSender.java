package dev.jvmm.bench.traffic;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A UDP traffic generator with iperf2's datagram format and pacing: datagrams of a fixed payload length at a fixed
 * bit rate per target, for a fixed time. What {@code iperf -c HOST -p PORT -u -b RATE -l LEN -t SECONDS} sends, for
 * machines where iperf is not installed and for benchmarks that need the same traffic in every cell.
 *
 * <pre>
 *  payload: i32 id (big-endian, from 0)  u32 tv_sec  u32 tv_usec  i32 id2 (0)  then zero bytes up to the length;
 *           after the last datagram, iperf's end marker: id = -(last id + 1)
 * </pre>
 *
 * <p>One thread sends to every target in turn, each on its own schedule. The rate counts payload bytes, as
 * iperf2's {@code -b} does. The thread never spins: it wakes once per {@value #BURST_MICROS} us, sends every
 * datagram that is due, and sleeps again, so the rate holds on average over a millisecond (78 datagrams a burst at
 * the seed's 40 Mbit/s of 64 bytes). On a small machine that matters twice. A sender that spun between datagrams
 * 12.8 us apart held a core of a 2-core machine, and the kernel dropped what the starved event loop and vCPU could
 * not read in time (6-9% of the seed's traffic). And every wake-up costs the receiving side too: datagrams that
 * arrive in bursts are read in batches, with one epoll wake-up of the event loop and one interrupt of the guest
 * per batch, where datagrams that trickle in one by one cost one each. Measured at that rate on 2 cores (one
 * sample each, other work on the machine), event loop, vCPU and sender took 75%, 15% and 65% of a core with a
 * spinning sender, 45%, 35% and 50% with one that slept until each next datagram was due (a wake-up every 60 us or
 * so, the timer's slack), 30%, 40% and 39% with a burst per millisecond. A burst of a millisecond is nothing to a
 * socket buffer of 4M (60 ms of it). When the sender
 * falls behind by more than {@value #MAX_LAG_MILLIS} ms (the machine gave its CPU away), it carries on at the rate
 * from then rather than bursting to catch up, and the figures say how many it sent. With {@link #rampUp} it reaches
 * its rate linearly, for a receiver that has just started.
 */
public final class UdpSender implements AutoCloseable {

    /** What was sent to one target. */
    public static final class Target {
        final InetSocketAddress address;
        final AtomicLong sent = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        int nextId;

        Target(InetSocketAddress address) {
            this.address = address;
        }

        public InetSocketAddress address() {
            return address;
        }

        /** Datagrams sent, iperf's end markers included. */
        public long sent() {
            return sent.get();
        }

        /** Datagrams the host's socket refused to send. */
        public long failed() {
            return failed.get();
        }
    }

    /** How far behind its schedule the sender may fall before it gives up catching up (a burst at most this long). */
    static final long MAX_LAG_MILLIS = 5;
    private static final long MAX_LAG_NANOS = MAX_LAG_MILLIS * 1_000_000L;
    /** The sender wakes at most once per this long and sends what is due. */
    static final long BURST_MICROS = 1000;
    private static final long BURST_NANOS = BURST_MICROS * 1000;

    private final List<Target> targets;
    private final int length;
    private final long intervalNanos;
    private final long durationNanos;
    private final Thread thread;
    private volatile boolean stop;
    private volatile int nice;
    private volatile long rampNanos;
    private volatile IOException failure;

    /**
     * @param bitsPerSecond payload bit rate per target (iperf's -b); 0 sends as fast as possible
     * @param length        payload bytes per datagram (iperf's -l), at least 16
     */
    public UdpSender(List<InetSocketAddress> to, long bitsPerSecond, int length, long durationNanos, String name) {
        if (length < 16 || length > 65507) {
            throw new IllegalArgumentException("datagram length must be between 16 and 65507 bytes, got " + length);
        }
        this.targets = to.stream().map(Target::new).toList();
        this.length = length;
        this.intervalNanos = bitsPerSecond <= 0 ? 0 : Math.max(1, (long) (length * 8 * 1e9 / bitsPerSecond));
        this.durationNanos = durationNanos;
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
    }

    /** Parses an iperf-style rate: {@code 40m}, {@code 1.5g}, {@code 800k}, {@code 1000000} (bits per second). */
    public static long parseRate(String s) {
        String t = s.trim().toLowerCase(java.util.Locale.ROOT);
        double mult = 1;
        if (t.endsWith("k")) {
            mult = 1e3;
        } else if (t.endsWith("m")) {
            mult = 1e6;
        } else if (t.endsWith("g")) {
            mult = 1e9;
        }
        if (mult != 1) {
            t = t.substring(0, t.length() - 1);
        }
        double v = Double.parseDouble(t);
        if (v < 0 || Double.isNaN(v) || Double.isInfinite(v)) {
            throw new NumberFormatException(s);
        }
        return (long) (v * mult);
    }

    /**
     * Runs the sending thread at nice value {@code n} (1..19; 0 leaves it as it is) where the host allows it (see
     * {@link Niceness}). Call before {@link #start()}.
     */
    public UdpSender nice(int n) {
        this.nice = n;
        return this;
    }

    /**
     * Starts at no rate and reaches the full rate linearly over {@code nanos} (then keeps it), so that a receiver
     * whose data path is still cold (a JVM interpreting it and compiling it at the same time) is not handed the full
     * rate before it can take it. 0 (the default) starts at the full rate. Call before {@link #start()}.
     */
    public UdpSender rampUp(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("ramp-up must not be negative, got " + nanos);
        }
        this.rampNanos = nanos;
        return this;
    }

    /**
     * Where the schedule stands {@code elapsed} after the start: datagrams due so far are those due at this point of
     * the full-rate schedule. Linear ramp: the rate at {@code t} is {@code t / ramp} of the full rate, so the schedule
     * has advanced {@code t^2 / (2 ramp)} by then, and {@code t - ramp / 2} once at full rate.
     */
    static long scheduled(long elapsed, long ramp) {
        if (elapsed >= ramp) {
            return elapsed - ramp / 2;
        }
        return (long) ((double) elapsed * elapsed / (2.0 * ramp));
    }

    public UdpSender start() {
        thread.start();
        return this;
    }

    public List<Target> targets() {
        return targets;
    }

    public long totalSent() {
        long t = 0;
        for (Target x : targets) {
            t += x.sent();
        }
        return t;
    }

    private void run() {
        Niceness.lowerCurrentThread(nice);
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress("127.0.0.1", 0));
            ByteBuffer buf = ByteBuffer.allocateDirect(length);
            long start = System.nanoTime();
            long[] due = new long[targets.size()];
            for (int i = 0; i < due.length; i++) {
                due[i] = start + (intervalNanos * i) / Math.max(1, due.length);
            }
            while (!stop) {
                long now = System.nanoTime();
                if (now - start >= durationNanos) {
                    break;
                }
                if (intervalNanos == 0) {
                    // As fast as possible: one datagram to each target in turn.
                    for (Target t : targets) {
                        send(ch, buf, t, t.nextId);
                    }
                    continue;
                }
                // Every datagram that is due, then sleep until the next one is.
                long woke = now;
                long ramp = rampNanos;
                long at = start + scheduled(now - start, ramp);
                long next = Long.MAX_VALUE;
                for (int i = 0; i < due.length && !stop; i++) {
                    Target t = targets.get(i);
                    if (at - due[i] > MAX_LAG_NANOS) {
                        due[i] = at;
                    }
                    while (due[i] - at <= 0 && !stop) {
                        send(ch, buf, t, t.nextId);
                        due[i] += intervalNanos;
                    }
                    next = Math.min(next, due[i]);
                }
                // During the ramp the schedule runs slower than the clock: wake at the burst period until it is over.
                long nextReal = now - start < ramp ? woke + BURST_NANOS : next + ramp / 2;
                long wait = Math.max(nextReal, woke + BURST_NANOS) - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
            }
            for (Target t : targets) {
                // iperf2's end of test: the negated id, sent a few times as iperf does.
                for (int k = 0; k < 3; k++) {
                    fill(buf, -(t.nextId + 1));
                    if (ch.send(buf, t.address) == length) {
                        t.sent.incrementAndGet();
                    }
                }
            }
        } catch (IOException e) {
            failure = e;
        }
    }

    private void send(DatagramChannel ch, ByteBuffer buf, Target t, int id) throws IOException {
        fill(buf, id);
        if (ch.send(buf, t.address) == length) {
            t.sent.incrementAndGet();
            t.nextId++;
        } else {
            t.failed.incrementAndGet();
        }
    }

    private void fill(ByteBuffer buf, int id) {
        buf.clear();
        long micros = System.currentTimeMillis() * 1000;
        buf.putInt(0, id);
        buf.putInt(4, (int) (micros / 1_000_000));
        buf.putInt(8, (int) (micros % 1_000_000));
        buf.putInt(12, 0);
        buf.limit(length);
    }

    /** Waits for the sender to finish its duration (or be stopped). */
    public void join() throws InterruptedException {
        thread.join();
    }

    /** The I/O error that ended the sender, or null. */
    public IOException failure() {
        return failure;
    }

    @Override
    public void close() {
        stop = true;
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
