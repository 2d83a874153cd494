package dev.jvmm.core.testing;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/** Runs one body on several threads that start together, for tests of what threads do to shared state. */
public final class Race {
    private Race() {
    }

    /** What thread {@code index} (0 ..) does. */
    @FunctionalInterface
    public interface Body {
        void run(int index) throws Exception;
    }

    /** One step of reader {@code index}: its {@code n}th (0 ..). */
    @FunctionalInterface
    public interface Step {
        void run(int index, long n) throws Exception;
    }

    /**
     * Starts {@code readers} threads that repeat {@code step} until {@code writer}, run on this thread, returns, then
     * waits for them; returns the first thing a reader threw (null: none). For a lock-free structure read while one
     * thread changes it.
     */
    public static Throwable readersDuring(int readers, Step step, Runnable writer) throws InterruptedException {
        AtomicBoolean done = new AtomicBoolean();
        return run(readers, index -> {
            for (long n = 0; !done.get(); n++) {
                step.run(index, n);
            }
        }, () -> {
            try {
                writer.run();
            } finally {
                done.set(true);
            }
        });
    }

    /**
     * Starts {@code threads} threads running {@code body}, lets them go at once, runs {@code meanwhile} on this
     * thread and waits for them all; returns the first thing a thread threw (null: none).
     */
    public static Throwable run(int threads, Body body, Runnable meanwhile) throws InterruptedException {
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int me = t;
            ts[t] = new Thread(() -> {
                try {
                    go.await();
                    body.run(me);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            ts[t].start();
        }
        go.countDown();
        meanwhile.run();
        for (Thread t : ts) {
            t.join();
        }
        return failure.get();
    }
}
