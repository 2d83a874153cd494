package dev.jvmm.core.irq;

import dev.jvmm.core.event.EventFd;
import dev.jvmm.core.machine.Failures;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.jctools.queues.MpscArrayQueue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * GSI routing and irqfds, the machine's analogue of KVM's {@code KVM_SET_GSI_ROUTING}, {@code KVM_IRQFD} and
 * {@code KVM_SIGNAL_MSI}, with the injector thread that plays KVM's kworker. A route is an MSI ({@link MsiRoute}) or
 * an SPI of the interrupt controller ({@link IrqchipRoute}, KVM's irqchip route type); both take the same inline
 * and worker modes. An irqchip route needs no translation: inline, the signalling thread pulses the SPI's line
 * (as KVM's {@code kvm_arch_set_irq_inatomic} injects irqchip routes in atomic context); in worker mode the
 * injector thread does.
 *
 * <pre>
 *  device ── EventFd.signal() ──▶ IrqFd wake-up (signalling thread, t1)
 *                                   │ route = routes[gsi]
 *            INLINE ────────────────┼──▶ controller.tryInjectCached ── hit ──▶ pending, kick (t2, fast path)
 *                                   │                                 └ miss ─┐
 *            WORKER ────────────────┴──────────────────────────────────────────┴▶ MPSC queue ─▶ injector thread
 *                                                                        controller.injectSlow ─▶ pending (t2)
 * </pre>
 *
 * <p>The routing table is replaced as a whole ({@link #setRoutes}); readers see either the old or the new table,
 * never a mix, through one volatile read (KVM uses RCU for the same). The controller line of each irqchip route is
 * looked up when the route is set, so raising it costs no lookup.
 *
 * <p>The hot path (signal to injection) allocates nothing: the routing table is an array, the queue is a bounded
 * JCTools array queue that holds irqfd objects (each at most once, so it never overflows), results are packed
 * {@code long}s and latencies go into HdrHistogram recorders.
 */
public final class IrqRouter implements AutoCloseable {

    /** Route numbers are indices into the table: 0 .. MAX_ROUTES - 1. */
    public static final int MAX_ROUTES = 4096;
    /** How many irqfds may be bound at once (the injector queue's capacity). */
    public static final int MAX_IRQFDS = 4096;

    private static final long HIGHEST_TRACKED_NANOS = 60_000_000_000L;

    private final InterruptController controller;
    private final InjectionMode mode;
    private final long injectorSpinNanos;
    private final IrqObserver observer;
    private final Failures failures;
    private final MpscArrayQueue<IrqFd> queue = new MpscArrayQueue<>(MAX_IRQFDS);
    private final Thread injector;
    private final List<IrqFd> irqfds = new ArrayList<>();

    /** The routing table: routes by number, with the controller line of each irqchip route resolved once. */
    private static final class Table {
        static final Table EMPTY = new Table(new IrqRoute[0], new IrqLine[0]);
        final IrqRoute[] routes;
        final IrqLine[] lines;

        Table(IrqRoute[] routes, IrqLine[] lines) {
            this.routes = routes;
            this.lines = lines;
        }

        IrqRoute route(int gsi) {
            return gsi >= 0 && gsi < routes.length ? routes[gsi] : null;
        }
    }

    private volatile Table table = Table.EMPTY;
    private volatile boolean injectorParked;
    private volatile boolean stopping;
    private volatile boolean started;

    private final LongAdder signals = new LongAdder();
    private final LongAdder coalesced = new LongAdder();
    private final LongAdder fastPath = new LongAdder();
    private final LongAdder slowPath = new LongAdder();
    private final LongAdder cacheMisses = new LongAdder();
    private final LongAdder directMsis = new LongAdder();
    private final LongAdder irqchipRaised = new LongAdder();
    private final LongAdder[] dropped = new LongAdder[DropReason.values().length];

    private final Recorder fastLatency = new Recorder(HIGHEST_TRACKED_NANOS, 3);
    private final Recorder slowLatency = new Recorder(HIGHEST_TRACKED_NANOS, 3);
    private final Histogram fastTotal = new Histogram(HIGHEST_TRACKED_NANOS, 3);
    private final Histogram slowTotal = new Histogram(HIGHEST_TRACKED_NANOS, 3);
    private final Recorder irqchipLatency = new Recorder(HIGHEST_TRACKED_NANOS, 3);
    private final Histogram irqchipTotal = new Histogram(HIGHEST_TRACKED_NANOS, 3);

    /**
     * @param injectorSpinNanos how long the idle injector thread spins before it parks (0: park at once). Spinning
     *                          trades a core for a shorter hand-off, as KVM's kworker does not.
     */
    public IrqRouter(InterruptController controller, InjectionMode mode, long injectorSpinNanos, IrqObserver observer,
                     String machineName) {
        this(controller, mode, injectorSpinNanos, observer, Failures.counting(), machineName);
    }

    /**
     * @param failures where an exception of the controller's injection (an internal error) is reported; the MSI is
     *                 then counted as dropped ({@link DropReason#STOPPED}) and the thread carries on
     */
    public IrqRouter(InterruptController controller, InjectionMode mode, long injectorSpinNanos, IrqObserver observer,
                     Failures failures, String machineName) {
        this.failures = failures == null ? Failures.counting() : failures;
        this.controller = controller;
        this.mode = mode;
        this.injectorSpinNanos = Math.max(0, injectorSpinNanos);
        this.observer = observer == null ? IrqObserver.NONE : observer;
        for (int i = 0; i < dropped.length; i++) {
            dropped[i] = new LongAdder();
        }
        this.injector = new Thread(this::runInjector, machineName + "-irq-injector");
        this.injector.setDaemon(true);
    }

    public InjectionMode mode() {
        return mode;
    }

    public InterruptController controller() {
        return controller;
    }

    /** Starts the injector thread. */
    public synchronized void start() {
        if (!started) {
            started = true;
            injector.start();
        }
    }

    public Thread injectorThread() {
        return injector;
    }

    // -------------------------------------------------------------------------------------------- routing table

    /**
     * Replaces the whole routing table ({@code KVM_SET_GSI_ROUTING}). Route numbers must be unique; an irqchip route
     * must name an SPI the controller has.
     *
     * @throws IllegalArgumentException when a route number repeats or is too large, or an SPI does not exist
     */
    public synchronized void setRoutes(Collection<? extends IrqRoute> routes) {
        int max = -1;
        for (IrqRoute r : routes) {
            checkNumber(r);
            max = Math.max(max, r.gsi());
        }
        IrqRoute[] next = new IrqRoute[max + 1];
        for (IrqRoute r : routes) {
            if (next[r.gsi()] != null) {
                throw new IllegalArgumentException("route number " + r.gsi() + " appears twice");
            }
            next[r.gsi()] = r;
        }
        table = resolve(next);
    }

    /** Adds or replaces one route, keeping the others. */
    public synchronized void setRoute(IrqRoute route) {
        checkNumber(route);
        IrqRoute[] cur = table.routes;
        IrqRoute[] next = Arrays.copyOf(cur, Math.max(cur.length, route.gsi() + 1));
        next[route.gsi()] = route;
        table = resolve(next);
    }

    private static void checkNumber(IrqRoute r) {
        if (r.gsi() >= MAX_ROUTES) {
            throw new IllegalArgumentException("route number " + r.gsi() + " exceeds " + (MAX_ROUTES - 1));
        }
    }

    /** The table for {@code routes}, with each irqchip route's SPI line obtained from the controller. */
    private Table resolve(IrqRoute[] routes) {
        IrqLine[] lines = new IrqLine[routes.length];
        for (int gsi = 0; gsi < routes.length; gsi++) {
            if (routes[gsi] instanceof IrqchipRoute chip) {
                try {
                    lines[gsi] = controller.spiLine(chip.intid());
                } catch (UnsupportedOperationException e) {
                    throw new IllegalArgumentException(chip + ": " + e.getMessage(), e);
                }
            }
        }
        return new Table(routes, lines);
    }

    /** Adds a route for {@code msi} under the lowest free route number and returns it. */
    public synchronized MsiRoute addRoute(long address, int data, int deviceId) {
        MsiRoute route = new MsiRoute(freeNumber(), address, data, deviceId);
        setRoute(route);
        return route;
    }

    /** Adds a route to SPI {@code intid} (32..1019) under the lowest free route number and returns it. */
    public synchronized IrqchipRoute addIrqchipRoute(int intid) {
        IrqchipRoute route = IrqchipRoute.forSpi(freeNumber(), intid);
        setRoute(route);
        return route;
    }

    private int freeNumber() {
        IrqRoute[] cur = table.routes;
        int gsi = 0;
        while (gsi < cur.length && cur[gsi] != null) {
            gsi++;
        }
        return gsi;
    }

    /** Adds a route that raises EventID {@code data} at {@code target}, under the lowest free route number. */
    public MsiRoute addRoute(MsiTarget target, int data) {
        return addRoute(target.doorbell(), data, target.deviceId());
    }

    /** Removes a route; an irqfd bound to it then drops its signals as {@link DropReason#NO_ROUTE}. */
    public synchronized void removeRoute(int gsi) {
        IrqRoute[] cur = table.routes;
        if (gsi >= 0 && gsi < cur.length && cur[gsi] != null) {
            IrqRoute[] next = cur.clone();
            next[gsi] = null;
            table = resolve(next);
        }
    }

    /** The route with number {@code gsi}, or null. */
    public IrqRoute route(int gsi) {
        return table.route(gsi);
    }

    /** The current routing table, in route-number order. */
    public List<IrqRoute> routes() {
        List<IrqRoute> out = new ArrayList<>();
        for (IrqRoute r : table.routes) {
            if (r != null) {
                out.add(r);
            }
        }
        return out;
    }

    // -------------------------------------------------------------------------------------------- irqfds

    /** Binds {@code eventFd} to route {@code gsi} ({@code KVM_IRQFD}). The route may be set before or after. */
    public synchronized IrqFd bind(EventFd eventFd, int gsi) {
        if (gsi < 0 || gsi >= MAX_ROUTES) {
            throw new IllegalArgumentException("route number " + gsi + " outside 0.." + (MAX_ROUTES - 1));
        }
        if (irqfds.size() >= MAX_IRQFDS) {
            throw new IllegalStateException("at most " + MAX_IRQFDS + " irqfds can be bound");
        }
        for (IrqFd f : irqfds) {
            if (f.eventFd() == eventFd) {
                throw new IllegalArgumentException(eventFd + " is already bound to route " + f.gsi());
            }
        }
        IrqFd irqfd = new IrqFd(this, eventFd, gsi);
        irqfds.add(irqfd);
        return irqfd;
    }

    synchronized void unbind(IrqFd irqfd) {
        irqfds.remove(irqfd);
    }

    /** The bound irqfds. */
    public synchronized List<IrqFd> irqfds() {
        return List.copyOf(irqfds);
    }

    // -------------------------------------------------------------------------------------------- injection

    /** An irqfd's wake-up, in the signalling thread. */
    void onSignal(IrqFd irqfd, long signalNanos) {
        signals.increment();
        if (stopping) {
            dropped[DropReason.STOPPED.ordinal()].increment();
            return;
        }
        if (mode == InjectionMode.INLINE) {
            MsiRoute route = msiRoute(irqfd, true, signalNanos);
            if (route == null) {
                return;
            }
            long result = inject(route, true, signalNanos);
            if (!InjectResult.isMiss(result)) {
                complete(route, result, true, signalNanos);
                return;
            }
            cacheMisses.increment();
        }
        enqueue(irqfd, signalNanos);
    }

    /**
     * The MSI route of {@code irqfd}'s GSI, or null when there is no MSI to inject: no route (the signal is counted
     * as dropped) or a wired route (whose line this pulses, {@code inline} in the signalling thread).
     */
    private MsiRoute msiRoute(IrqFd irqfd, boolean inline, long signalNanos) {
        Table t = table;
        IrqRoute r = t.route(irqfd.gsi());
        if (r == null) {
            complete(null, InjectResult.dropped(DropReason.NO_ROUTE), false, signalNanos);
            return null;
        }
        if (r instanceof MsiRoute route) {
            return route;
        }
        raise((IrqchipRoute) r, t.lines[r.gsi()], inline, signalNanos);
        return null;
    }

    /** {@code route}'s MSI through the controller's cached path (in the signalling thread) or its slow path. */
    private long inject(MsiRoute route, boolean cached, long signalNanos) {
        try {
            return cached
                    ? controller.tryInjectCached(route.address(), route.data(), route.deviceId(), signalNanos)
                    : controller.injectSlow(route.address(), route.data(), route.deviceId(), signalNanos);
        } catch (RuntimeException e) {
            return controllerFailed(cached ? "irq cached injection" : "irq injector", e);
        }
    }

    /**
     * The result of an injection whose controller call threw {@code e}: a controller bug must not escape into a
     * device's thread or kill the injector, so it is reported to the failure listener (as {@code where}) and the
     * interrupt counts as dropped ({@link DropReason#STOPPED}).
     */
    private long controllerFailed(String where, RuntimeException e) {
        failures.report(where, e);
        return InjectResult.dropped(DropReason.STOPPED);
    }

    private void enqueue(IrqFd irqfd, long signalNanos) {
        if (!irqfd.markQueued(signalNanos)) {
            coalesced.increment();
            return;
        }
        // Cannot fail: each irqfd is queued at most once and the queue holds MAX_IRQFDS.
        queue.offer(irqfd);
        if (injectorParked) {
            LockSupport.unpark(injector);
        }
    }

    private void complete(MsiRoute route, long result, boolean fast, long signalNanos) {
        long pendingNanos = System.nanoTime();
        if (InjectResult.isDelivered(result)) {
            long latency = Math.min(Math.max(0, pendingNanos - signalNanos), HIGHEST_TRACKED_NANOS);
            if (fast) {
                fastPath.increment();
                fastLatency.recordValue(latency);
            } else {
                slowPath.increment();
                slowLatency.recordValue(latency);
            }
        } else {
            dropped[InjectResult.reason(result).ordinal()].increment();
        }
        observer.injected(route, result, fast, signalNanos, pendingNanos);
    }

    /**
     * An irqchip route's signal: an edge on the SPI's line (KVM's irqfd_inject: level 1, then 0), in the signalling
     * thread ({@code inline}) or the injector. Allocation-free; the line takes the controller's lock briefly.
     */
    private void raise(IrqchipRoute route, IrqLine line, boolean inline, long signalNanos) {
        long result;
        try {
            line.pulse();
            result = InjectResult.raised(route.intid());
        } catch (RuntimeException e) {
            result = controllerFailed("irq irqchip route", e);
        }
        long pendingNanos = System.nanoTime();
        if (InjectResult.isDelivered(result)) {
            irqchipRaised.increment();
            irqchipLatency.recordValue(Math.min(Math.max(0, pendingNanos - signalNanos), HIGHEST_TRACKED_NANOS));
        } else {
            dropped[InjectResult.reason(result).ordinal()].increment();
        }
        observer.injected(route, result, inline, signalNanos, pendingNanos);
    }

    /**
     * Raises an MSI directly and synchronously, as {@code KVM_SIGNAL_MSI} does from the calling thread: the
     * controller's cached path, and on a miss its slow path, both in this thread. Returns whether the interrupt is
     * now pending (or already was), KVM's positive return; false when it was dropped (the reason is counted in
     * {@link #stats()}, and {@link #injectMsi} returns it).
     */
    public boolean signalMsi(long address, int data, int deviceId) {
        return InjectResult.isDelivered(injectMsi(address, data, deviceId));
    }

    /** As {@link #signalMsi}, returning the packed {@link InjectResult} (the INTID and vCPU, or why it dropped). */
    public long injectMsi(long address, int data, int deviceId) {
        long t = System.nanoTime();
        directMsis.increment();
        long result;
        boolean fast;
        try {
            result = controller.tryInjectCached(address, data, deviceId, t);
            fast = !InjectResult.isMiss(result);
            if (!fast) {
                result = controller.injectSlow(address, data, deviceId, t);
            }
        } catch (RuntimeException e) {
            result = controllerFailed("irq direct MSI", e);
            fast = false;
        }
        complete(null, result, fast, t);
        return result;
    }

    private void runInjector() {
        while (!stopping) {
            IrqFd irqfd = queue.poll();
            if (irqfd == null) {
                idle();
                continue;
            }
            long signalNanos = irqfd.takeQueued();
            if (irqfd.isClosed()) {
                continue;
            }
            MsiRoute route = msiRoute(irqfd, false, signalNanos);
            if (route == null) {
                continue;
            }
            complete(route, inject(route, false, signalNanos), false, signalNanos);
        }
    }

    private void idle() {
        if (injectorSpinNanos > 0) {
            long start = System.nanoTime();
            while (queue.isEmpty() && !stopping) {
                if (System.nanoTime() - start >= injectorSpinNanos) {
                    break;
                }
                Thread.onSpinWait();
            }
            if (!queue.isEmpty()) {
                return;
            }
        }
        injectorParked = true;
        // Re-check after publishing the flag: a producer that offered before reading the flag is seen here.
        if (queue.isEmpty() && !stopping) {
            // Every offer and close unparks a parked injector: the timeout is a guard, once a second so that an idle
            // machine's injector costs nothing.
            LockSupport.parkNanos(this, 1_000_000_000L);
        }
        injectorParked = false;
    }

    // -------------------------------------------------------------------------------------------- statistics

    /** A snapshot of the counters and the latency distributions recorded since the start. */
    public synchronized IrqStats stats() {
        fastTotal.add(fastLatency.getIntervalHistogram());
        slowTotal.add(slowLatency.getIntervalHistogram());
        irqchipTotal.add(irqchipLatency.getIntervalHistogram());
        long[] drops = new long[dropped.length];
        for (int i = 0; i < drops.length; i++) {
            drops[i] = dropped[i].sum();
        }
        return new IrqStats(signals.sum(), coalesced.sum(), fastPath.sum(), slowPath.sum(), cacheMisses.sum(),
                directMsis.sum(), drops, fastTotal.copy(), slowTotal.copy(), irqchipRaised.sum(), irqchipTotal.copy());
    }

    /** Clears every counter and both latency distributions (between benchmark phases). */
    public synchronized void resetStats() {
        for (LongAdder a : new LongAdder[]{signals, coalesced, fastPath, slowPath, cacheMisses, directMsis,
                irqchipRaised}) {
            a.reset();
        }
        for (LongAdder a : dropped) {
            a.reset();
        }
        fastLatency.reset();
        slowLatency.reset();
        fastTotal.reset();
        slowTotal.reset();
        irqchipLatency.reset();
        irqchipTotal.reset();
    }

    /**
     * Stops the injector thread and waits for it. Signals that arrive afterwards are counted as dropped
     * ({@link DropReason#STOPPED}). Idempotent.
     */
    @Override
    public void close() {
        stop(Duration.ofSeconds(5));
    }

    /** As {@link #close()}, with a bound on the wait; returns whether the injector thread ended. */
    public boolean stop(Duration timeout) {
        stopping = true;
        LockSupport.unpark(injector);
        if (!started) {
            return true;
        }
        try {
            injector.join(Math.max(1, timeout.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (IrqFd f : irqfds()) {
            f.close();
        }
        return !injector.isAlive();
    }
}
