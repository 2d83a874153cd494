package dev.jvmm.core.event;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An event counter with the semantics of Linux {@code eventfd(2)}, in-process.
 *
 * <ul>
 *   <li>{@link #signal(long) signal(n)} adds {@code n} to an unsigned 64-bit counter. Linux blocks a writer whose
 *       add would pass {@link #MAX_VALUE}; here the counter saturates at {@link #MAX_VALUE} instead (a signaller
 *       never blocks and the counter never wraps).</li>
 *   <li>{@link #tryRead()} returns the counter and resets it to zero; in semaphore mode
 *       ({@code EFD_SEMAPHORE}) it returns 1 and decrements by one. It returns {@link #WOULD_BLOCK} (0) when the
 *       counter is zero: a successful read never returns 0, so the value is unambiguous.</li>
 *   <li>{@link #read(long, TimeUnit)} waits, with a timeout, until the counter is non-zero.</li>
 *   <li>Wake-up callbacks ({@link #addWakeupCallback}) run in the signalling thread after the counter was
 *       updated, as a kernel wait-queue entry's callback does: this is how an irqfd learns of a signal without a
 *       thread of its own ({@code irqfd_wakeup}).</li>
 * </ul>
 *
 * <p>All methods are safe under any number of concurrent signallers and readers: the counter is one atomic word.
 * Signalling allocates nothing and takes no lock unless a thread is blocked in {@link #read(long, TimeUnit)}.
 */
public final class EventFd {

    /** The largest counter value, {@code 0xffff_ffff_ffff_fffe} (as in Linux). */
    public static final long MAX_VALUE = 0xFFFF_FFFF_FFFF_FFFEL;
    /** What a non-blocking read returns when the counter is zero. */
    public static final long WOULD_BLOCK = 0;

    /** Runs in the thread that called {@link #signal}, after the counter was updated. Must not block. */
    @FunctionalInterface
    public interface WakeupCallback {
        void onSignal(EventFd eventFd);
    }

    /** Removes a wake-up callback. */
    public interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    private static final WakeupCallback[] NO_CALLBACKS = new WakeupCallback[0];

    private final boolean semaphore;
    private final String name;
    private final AtomicLong counter = new AtomicLong();
    private volatile WakeupCallback[] callbacks = NO_CALLBACKS;
    /** Threads blocked (or about to block) in read; signallers take the lock only when this is non-zero. */
    private volatile int waiters;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition nonZero = lock.newCondition();
    private final LongAdder callbackFailures = new LongAdder();

    public EventFd() {
        this("eventfd", false);
    }

    /**
     * @param name      for messages
     * @param semaphore {@code EFD_SEMAPHORE}: each read takes one unit
     */
    public EventFd(String name, boolean semaphore) {
        this.name = name;
        this.semaphore = semaphore;
    }

    public String name() {
        return name;
    }

    public boolean isSemaphore() {
        return semaphore;
    }

    /** {@code signal(1)}. */
    public void signal() {
        signal(1);
    }

    /**
     * Adds {@code n} (unsigned) to the counter, saturating at {@link #MAX_VALUE}, then wakes blocked readers and
     * runs the wake-up callbacks in this thread. {@code n == 0} changes nothing and wakes nobody.
     *
     * @throws IllegalArgumentException for {@code n == 0xffff_ffff_ffff_ffff}, which Linux rejects with EINVAL
     */
    public void signal(long n) {
        if (n == -1L) {
            throw new IllegalArgumentException("eventfd " + name + ": 0xffffffffffffffff cannot be added");
        }
        if (n == 0) {
            return;
        }
        long cur;
        long next;
        do {
            cur = counter.get();
            // Unsigned saturating add: MAX_VALUE - cur is the room left.
            next = Long.compareUnsigned(n, MAX_VALUE - cur) > 0 ? MAX_VALUE : cur + n;
        } while (!counter.compareAndSet(cur, next));
        // The volatile read of waiters after the volatile counter write pairs with read()'s write of waiters
        // before its counter check: one of the two sides always sees the other.
        if (waiters != 0) {
            lock.lock();
            try {
                nonZero.signalAll();
            } finally {
                lock.unlock();
            }
        }
        WakeupCallback[] cbs = callbacks;
        for (WakeupCallback cb : cbs) {
            try {
                cb.onSignal(this);
            } catch (RuntimeException e) {
                // A callback runs in someone else's thread (a Netty event loop): it must not take that thread down.
                callbackFailures.increment();
            }
        }
    }

    /** Non-blocking read: the counter (reset to zero), 1 in semaphore mode, or {@link #WOULD_BLOCK}. */
    public long tryRead() {
        while (true) {
            long cur = counter.get();
            if (cur == 0) {
                return WOULD_BLOCK;
            }
            long next = semaphore ? cur - 1 : 0;
            if (counter.compareAndSet(cur, next)) {
                return semaphore ? 1 : cur;
            }
        }
    }

    /**
     * Blocking read: waits until the counter is non-zero or the timeout passes.
     *
     * @return as {@link #tryRead()}; {@link #WOULD_BLOCK} if the timeout passed first
     * @throws InterruptedException if the thread is interrupted while waiting
     */
    public long read(long timeout, TimeUnit unit) throws InterruptedException {
        long v = tryRead();
        if (v != WOULD_BLOCK) {
            return v;
        }
        long nanos = unit.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            waiters++;
            try {
                while (true) {
                    v = tryRead();
                    if (v != WOULD_BLOCK || nanos <= 0) {
                        return v;
                    }
                    nanos = nonZero.awaitNanos(nanos);
                }
            } finally {
                waiters--;
            }
        } finally {
            lock.unlock();
        }
    }

    /** The counter's value without changing it (as {@code /proc/PID/fdinfo} shows it). */
    public long peek() {
        return counter.get();
    }

    /** Adds a callback to run in every signalling thread after each signal. */
    public synchronized Registration addWakeupCallback(WakeupCallback callback) {
        WakeupCallback[] cur = callbacks;
        WakeupCallback[] next = Arrays.copyOf(cur, cur.length + 1);
        next[cur.length] = callback;
        callbacks = next;
        return () -> removeWakeupCallback(callback);
    }

    private synchronized void removeWakeupCallback(WakeupCallback callback) {
        WakeupCallback[] cur = callbacks;
        for (int i = 0; i < cur.length; i++) {
            if (cur[i] == callback) {
                WakeupCallback[] next = new WakeupCallback[cur.length - 1];
                System.arraycopy(cur, 0, next, 0, i);
                System.arraycopy(cur, i + 1, next, i, cur.length - i - 1);
                callbacks = next.length == 0 ? NO_CALLBACKS : next;
                return;
            }
        }
    }

    /** Callbacks that threw (each was caught so the signalling thread survived). */
    public long callbackFailures() {
        return callbackFailures.sum();
    }

    @Override
    public String toString() {
        return "EventFd[" + name + ", count=" + Long.toUnsignedString(counter.get()) + "]";
    }
}
