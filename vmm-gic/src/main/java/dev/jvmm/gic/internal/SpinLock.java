package dev.jvmm.gic.internal;

import dev.jvmm.core.concurrent.VarHandles;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A test-and-test-and-set spin lock for critical sections of a few dozen instructions on the MSI hot path, the
 * analogue of the raw spinlocks that Linux 5.4 ({@code lpi_list_lock}) and the seed patch (one per shard) take in
 * {@code vgic_its_check_cache}. It never parks: a waiter spins, then yields (see {@link Spin}), so the cached path
 * stays non-blocking in the sense of "no sleep, no allocation".
 *
 * <p>Not reentrant. Hold it only around bounded work that takes no other lock and does not wait.
 */
public final class SpinLock {
    private static final VarHandle LOCKED = VarHandles.field(MethodHandles.lookup(), "locked", int.class);

    // Padding keeps the lock word off the cache lines of the fields it guards in the owning object's neighbours.
    @SuppressWarnings("unused")
    private long p0, p1, p2, p3, p4, p5, p6;
    private volatile int locked;
    @SuppressWarnings("unused")
    private long q0, q1, q2, q3, q4, q5, q6;

    public void lock() {
        if (LOCKED.compareAndSet(this, 0, 1)) {
            return;
        }
        int round = 0;
        do {
            // Spin on a plain read first: only try the CAS once the lock looks free (TTAS).
            while (locked != 0) {
                Spin.pause(round++);
            }
        } while (!LOCKED.compareAndSet(this, 0, 1));
    }

    public boolean tryLock() {
        return locked == 0 && LOCKED.compareAndSet(this, 0, 1);
    }

    public void unlock() {
        LOCKED.setRelease(this, 0);
    }

    public boolean isLocked() {
        return locked != 0;
    }
}
