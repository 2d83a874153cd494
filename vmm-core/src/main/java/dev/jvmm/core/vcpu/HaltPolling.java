package dev.jvmm.core.vcpu;

/**
 * How a vCPU waits in WFI before it sleeps (KVM's halt polling).
 *
 * @param windowNanos how long WFI polls before it parks (KVM's {@code halt_poll_ns}); with {@code adaptive}, the
 *                    upper bound of the window; 0 parks at once
 * @param adaptive    whether each vCPU adapts its window as KVM does (see {@link Vcpu})
 * @param yielding    whether each round of the poll gives the CPU to any other runnable thread
 *                    ({@link Thread#yield()}, Linux's {@code sched_yield}) rather than spinning on it. KVM polls
 *                    only while nothing else is runnable on the CPU ({@code single_task_running()} in
 *                    {@code kvm_vcpu_can_poll}); a user-space vCPU cannot ask that, but yielding has the same effect:
 *                    on an idle CPU the yield returns at once and the poll goes on, on a busy one the other thread
 *                    runs. The vCPU stays awake either way, so the interrupt that ends the poll still costs its
 *                    sender a volatile store, not a futex wake.
 */
public record HaltPolling(long windowNanos, boolean adaptive, boolean yielding) {

    public HaltPolling {
        if (windowNanos < 0) {
            throw new IllegalArgumentException("halt-poll window " + windowNanos + " ns is negative");
        }
    }

    /** A fixed window that spins (the plain form of halt polling). */
    public static HaltPolling spinning(long windowNanos) {
        return new HaltPolling(Math.max(0, windowNanos), false, false);
    }
}
