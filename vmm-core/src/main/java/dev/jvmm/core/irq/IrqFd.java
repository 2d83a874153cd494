package dev.jvmm.core.irq;

import dev.jvmm.core.event.EventFd;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * An {@link EventFd} bound to an MSI route, as {@code KVM_IRQFD} binds an eventfd to a GSI: a signal of the eventfd
 * raises the route's MSI. Created by {@link IrqRouter#bind}; {@link #close()} unbinds it.
 *
 * <p>The binding is a wake-up callback on the eventfd, so the MSI is raised in the signalling thread
 * ({@code irqfd_wakeup}): the callback consumes the eventfd's counter (several signals before an injection
 * coalesce into one interrupt, as they do in KVM), then either injects on the cached path or queues this irqfd for
 * the injector thread. An irqfd is in the injector's queue at most once (like a {@code work_struct}); the signal
 * time it carries is that of the first signal since it was last taken off the queue.
 */
public final class IrqFd implements AutoCloseable {

    private static final AtomicIntegerFieldUpdater<IrqFd> QUEUED =
            AtomicIntegerFieldUpdater.newUpdater(IrqFd.class, "queued");

    private final IrqRouter router;
    private final EventFd eventFd;
    private final int gsi;
    private final EventFd.Registration registration;

    /** 1 while this irqfd sits in the injector's queue. */
    private volatile int queued;
    /** The signal time of the queued injection; written before the queue's release, read after its acquire. */
    private long queuedSignalNanos;
    private volatile boolean closed;

    IrqFd(IrqRouter router, EventFd eventFd, int gsi) {
        this.router = router;
        this.eventFd = eventFd;
        this.gsi = gsi;
        this.registration = eventFd.addWakeupCallback(this::onSignal);
    }

    public EventFd eventFd() {
        return eventFd;
    }

    /** The route number this irqfd raises. */
    public int gsi() {
        return gsi;
    }

    private void onSignal(EventFd fd) {
        long signalNanos = System.nanoTime();
        if (closed || fd.tryRead() == EventFd.WOULD_BLOCK) {
            // Another signaller's wake-up already consumed the count; its injection covers this signal.
            return;
        }
        router.onSignal(this, signalNanos);
    }

    /** Marks this irqfd queued; false if it already was (the pending injection covers the new signal). */
    boolean markQueued(long signalNanos) {
        if (!QUEUED.compareAndSet(this, 0, 1)) {
            return false;
        }
        queuedSignalNanos = signalNanos;
        return true;
    }

    /** Called by the injector when it takes this irqfd off the queue; returns the signal time it carried. */
    long takeQueued() {
        long t = queuedSignalNanos;
        queued = 0;
        return t;
    }

    boolean isClosed() {
        return closed;
    }

    /** Unbinds the eventfd from the route ({@code KVM_IRQFD} with {@code KVM_IRQFD_FLAG_DEASSIGN}). */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            registration.close();
            router.unbind(this);
        }
    }

    @Override
    public String toString() {
        return "IrqFd[" + eventFd.name() + " -> gsi " + gsi + "]";
    }
}
