package dev.jvmm.core.testing;

import dev.jvmm.core.irq.DropReason;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.core.irq.InterruptController;
import dev.jvmm.core.irq.IrqLine;
import dev.jvmm.core.irq.MsiTarget;
import dev.jvmm.core.vcpu.SystemRegister;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * A small interrupt controller for tests of core and of devices: a translation table (DeviceID, EventID) ->
 * (INTID, vCPU) set by the test, a "cache" that holds a translation once the slow path has used it, a FIFO of
 * pending INTIDs per vCPU that ICC_IAR1_EL1 pops, and counters. It is deliberately simple; the real GIC is vmm-gic.
 */
public class TestInterruptController implements InterruptController {
    private final long doorbell;
    private final Map<Long, Long> translations = new ConcurrentHashMap<>();
    private final Map<Long, Boolean> cached = new ConcurrentHashMap<>();
    private final ArrayDeque<Integer>[] pending;
    private final IntConsumer kicker;
    public final AtomicLong cachedInjections = new AtomicLong();
    public final AtomicLong slowInjections = new AtomicLong();
    public final AtomicLong misses = new AtomicLong();
    public final AtomicLong acknowledged = new AtomicLong();
    /** Rising edges seen on SPI lines (an SPI is pending at vCPU 0 after each). */
    public final AtomicLong spiEdges = new AtomicLong();
    private final Map<Integer, IrqLine> spiLines = new ConcurrentHashMap<>();
    private volatile boolean cacheEnabled = true;

    @SuppressWarnings("unchecked")
    public TestInterruptController(long doorbell, int vcpus, IntConsumer kicker) {
        this.doorbell = doorbell;
        this.kicker = kicker;
        this.pending = new ArrayDeque[vcpus];
        for (int i = 0; i < vcpus; i++) {
            pending[i] = new ArrayDeque<>();
        }
    }

    private static long key(int deviceId, int eventId) {
        return ((long) deviceId << 32) | (eventId & 0xFFFF_FFFFL);
    }

    /** Maps (deviceId, eventId) to intid at vcpu. */
    public void map(int deviceId, int eventId, int intid, int vcpu) {
        translations.put(key(deviceId, eventId), ((long) intid << 32) | vcpu);
    }

    public void unmap(int deviceId, int eventId) {
        translations.remove(key(deviceId, eventId));
        cached.remove(key(deviceId, eventId));
    }

    /** Whether the cached path may hit (false: every injection misses). */
    public void setCacheEnabled(boolean on) {
        cacheEnabled = on;
        if (!on) {
            cached.clear();
        }
    }

    @Override
    public long tryInjectCached(long address, int data, int deviceId, long signalNanos) {
        if (!cacheEnabled || address != doorbell || !cached.containsKey(key(deviceId, data))) {
            misses.incrementAndGet();
            return InjectResult.MISS_RESULT;
        }
        long r = inject(deviceId, data);
        if (InjectResult.isDelivered(r)) {
            cachedInjections.incrementAndGet();
        }
        return r;
    }

    @Override
    public long injectSlow(long address, int data, int deviceId, long signalNanos) {
        if (address != doorbell) {
            return InjectResult.dropped(DropReason.NO_DOORBELL);
        }
        long r = inject(deviceId, data);
        if (InjectResult.isDelivered(r)) {
            slowInjections.incrementAndGet();
            if (cacheEnabled) {
                cached.put(key(deviceId, data), Boolean.TRUE);
            }
        }
        return r;
    }

    private long inject(int deviceId, int eventId) {
        Long t = translations.get(key(deviceId, eventId));
        if (t == null) {
            return InjectResult.dropped(DropReason.EVENT_UNMAPPED);
        }
        int intid = (int) (t >>> 32);
        int vcpu = (int) (long) t;
        synchronized (pending[vcpu]) {
            if (!pending[vcpu].contains(intid)) {
                pending[vcpu].add(intid);
            }
        }
        kicker.accept(vcpu);
        return InjectResult.delivered(intid, vcpu);
    }

    /** SPIs 32..287, each edge-triggered and routed to vCPU 0, where ICC_IAR1_EL1 pops them like the rest. */
    @Override
    public IrqLine spiLine(int intid) {
        if (intid < 32 || intid >= 288) {
            throw new IllegalArgumentException("no SPI " + intid);
        }
        return spiLines.computeIfAbsent(intid, id -> new IrqLine() {
            private boolean high;

            @Override
            public int intid() {
                return id;
            }

            @Override
            public synchronized void set(boolean level) {
                if (level && !high) {
                    edge(id);
                }
                high = level;
            }

            @Override
            public synchronized void pulse() {
                if (!high) {
                    edge(id);
                }
            }
        });
    }

    private void edge(int intid) {
        spiEdges.incrementAndGet();
        synchronized (pending[0]) {
            if (!pending[0].contains(intid)) {
                pending[0].add(intid);
            }
        }
        kicker.accept(0);
    }

    /** One MSI controller (0), whose doorbell is the one this controller was made with. */
    @Override
    public MsiTarget msiTarget(int controller, int deviceId) {
        return MsiTarget.single(doorbell, controller, deviceId);
    }

    @Override
    public boolean hasPendingInterrupt(int vcpu) {
        synchronized (pending[vcpu]) {
            return !pending[vcpu].isEmpty();
        }
    }

    @Override
    public long readSystemRegister(int vcpu, SystemRegister register) {
        if (register == SystemRegister.ICC_IAR1_EL1) {
            synchronized (pending[vcpu]) {
                Integer i = pending[vcpu].poll();
                if (i == null) {
                    return SystemRegister.SPURIOUS_INTID;
                }
                acknowledged.incrementAndGet();
                return i;
            }
        }
        return 0;
    }

    @Override
    public void writeSystemRegister(int vcpu, SystemRegister register, long value) {
        // EOIR1, PMR, IGRPEN1 and CTLR need no state in this controller.
    }
}
