package dev.jvmm.net;

import dev.jvmm.core.event.EventFd;
import io.netty.channel.EventLoop;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * The doorbell of one virtqueue: an ioeventfd, the way KVM hands a guest's QueueNotify write to vhost.
 *
 * <pre>
 *  vCPU thread                         event loop thread
 *  QueueNotify ─▶ ioeventfd.signal()
 *                  └ wake-up callback: scheduled 0→1? ──execute(this)──▶ run(): scheduled = 0
 *                                       (already 1: the pending run        ioeventfd.tryRead()
 *                                        covers this kick)                 device.onKick(queue)
 * </pre>
 *
 * Pre-allocated, so a kick allocates nothing; the coalescing flag keeps at most one run queued per queue, however
 * fast the guest rings. The flag is cleared before the device looks at the ring, so a kick that arrives while the
 * run is under way queues the next run and no buffer is missed.
 */
final class QueueKick implements EventFd.WakeupCallback, Runnable {
    private static final AtomicIntegerFieldUpdater<QueueKick> SCHEDULED =
            AtomicIntegerFieldUpdater.newUpdater(QueueKick.class, "scheduled");

    private final VirtioNet device;
    private final int queue;
    private final EventLoop loop;
    private final EventFd ioeventfd;
    private final EventFd.Registration registration;
    private volatile int scheduled;

    QueueKick(VirtioNet device, int queue, EventLoop loop, String name) {
        this.device = device;
        this.queue = queue;
        this.loop = loop;
        this.ioeventfd = new EventFd(name, false);
        this.registration = ioeventfd.addWakeupCallback(this);
    }

    /** The guest rang the doorbell (a vCPU thread). */
    void kick() {
        ioeventfd.signal();
    }

    @Override
    public void onSignal(EventFd fd) {
        schedule();
    }

    /** Queues one run on the event loop unless one is queued already. Any thread. */
    void schedule() {
        if (SCHEDULED.compareAndSet(this, 0, 1)) {
            try {
                loop.execute(this);
            } catch (RejectedExecutionException e) {
                // The loop is shutting down with the device: there is nobody left to run it.
                scheduled = 0;
            }
        }
    }

    @Override
    public void run() {
        scheduled = 0;
        ioeventfd.tryRead();
        try {
            device.onKick(queue);
        } catch (RuntimeException e) {
            // A bug of the device must not escape into the event loop (Netty would only log it).
            device.internalError("queue " + queue + " task", e);
        }
    }

    void close() {
        registration.close();
    }
}
