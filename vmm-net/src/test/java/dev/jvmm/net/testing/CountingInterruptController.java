package dev.jvmm.net.testing;

import dev.jvmm.core.irq.DropReason;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.core.irq.InterruptController;
import dev.jvmm.core.irq.IrqLine;
import dev.jvmm.core.irq.MsiTarget;
import dev.jvmm.core.machine.MachineContext;
import dev.jvmm.core.vcpu.SystemRegister;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A minimal interrupt controller for benchmarks and tests of devices, with no dependency on vmm-gic: every MSI to
 * the doorbell is delivered to vCPU 0 as INTID {@code LPI_BASE + EventID} and counted per (DeviceID, EventID); every
 * rising edge of an SPI's line is counted per INTID and makes it pending at vCPU 0 (the lines are edge-triggered).
 *
 * <pre>
 *  MSI (doorbell, EventID, DeviceID) ──▶ count[DeviceID][EventID]++ ──▶ pending |= 1 &lt;&lt; EventID ──▶ kick vCPU 0
 *  spiLine(intid).pulse()            ──▶ edges[intid]++              ──▶ spis |= 1 &lt;&lt; (intid - 32) ──▶ kick
 *  ICC_IAR1_EL1 ──▶ lowest pending SPI, else lowest pending EventID as LPI_BASE + EventID (cleared); 1023 when none
 * </pre>
 *
 * Both injection paths take the same allocation-free, lock-free route, so an MSI raised on a NIC's event loop
 * costs that thread nothing but two atomics and a kick (a benchmark measures the event loop's allocations).
 */
public final class CountingInterruptController implements InterruptController {
    /** The INTID of EventID 0. */
    public static final int LPI_BASE = 8192;
    /** EventIDs 0..63 are tracked per device. */
    public static final int MAX_EVENTS = 64;
    /** DeviceIDs 0..63 are counted. */
    public static final int MAX_DEVICES = 64;

    /** The doorbell this controller answers: any address, handed to devices through {@link #msiTarget}. */
    public static final long DOORBELL = 0x0C00_0040L;

    private final long doorbell;
    private final MachineContext context;
    private final AtomicLongArray counts = new AtomicLongArray(MAX_DEVICES * MAX_EVENTS);
    private final AtomicLong pending = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong acknowledged = new AtomicLong();
    /** The first SPI's INTID. */
    public static final int FIRST_SPI = 32;
    /** INTIDs 32..95: the SPIs of the 32 virtio-mmio slots (48..79) and their neighbours. */
    public static final int SPIS = 64;
    private final AtomicLongArray edges = new AtomicLongArray(SPIS);
    private final AtomicLong pendingSpis = new AtomicLong();
    private final Line[] lines = new Line[SPIS];
    private final boolean wired;

    /** A controller whose one MSI doorbell is {@link #DOORBELL} (MSIs to any other address are dropped). */
    public CountingInterruptController(MachineContext context) {
        this(context, true);
    }

    private CountingInterruptController(MachineContext context, boolean wired) {
        this.doorbell = DOORBELL;
        this.context = context;
        this.wired = wired;
    }

    /** A controller that takes MSIs only: it has no wired lines ({@link #spiLine} is the interface's default). */
    public static CountingInterruptController msiOnly(MachineContext context) {
        return new CountingInterruptController(context, false);
    }

    /** One MSI controller (0): every device's MSIs go to {@link #DOORBELL}. */
    @Override
    public MsiTarget msiTarget(int controller, int deviceId) {
        return MsiTarget.single(doorbell, controller, deviceId);
    }

    @Override
    public long tryInjectCached(long address, int data, int deviceId, long signalNanos) {
        return inject(address, data, deviceId);
    }

    @Override
    public long injectSlow(long address, int data, int deviceId, long signalNanos) {
        return inject(address, data, deviceId);
    }

    private long inject(long address, int eventId, int deviceId) {
        if (address != doorbell) {
            dropped.incrementAndGet();
            return InjectResult.dropped(DropReason.NO_DOORBELL);
        }
        if (eventId < 0 || eventId >= MAX_EVENTS || deviceId < 0 || deviceId >= MAX_DEVICES) {
            dropped.incrementAndGet();
            return InjectResult.dropped(DropReason.EVENT_UNMAPPED);
        }
        counts.incrementAndGet(deviceId * MAX_EVENTS + eventId);
        long bit = 1L << eventId;
        if ((pending.get() & bit) == 0) {
            orPending(bit);
        }
        context.kick(0);
        return InjectResult.delivered(LPI_BASE + eventId, 0);
    }

    private void orPending(long bit) {
        orBits(pending, bit);
    }

    private static void orBits(AtomicLong word, long bit) {
        long p;
        do {
            p = word.get();
        } while ((p & bit) == 0 && !word.compareAndSet(p, p | bit));
    }

    /** An edge-triggered SPI input: a rising edge counts and makes the SPI pending at vCPU 0. */
    private final class Line implements IrqLine {
        private final int intid;
        private final AtomicBoolean high = new AtomicBoolean();

        Line(int intid) {
            this.intid = intid;
        }

        @Override
        public int intid() {
            return intid;
        }

        @Override
        public void set(boolean level) {
            if (high.getAndSet(level) != level && level) {
                edge(intid);
            }
        }

        @Override
        public void pulse() {
            if (!high.get()) {
                edge(intid);
            }
        }
    }

    private void edge(int intid) {
        // Pending first: whoever sees the edge counted finds the SPI pending (or already taken).
        orBits(pendingSpis, 1L << (intid - FIRST_SPI));
        edges.incrementAndGet(intid - FIRST_SPI);
        context.kick(0);
    }

    @Override
    public synchronized IrqLine spiLine(int intid) {
        if (!wired) {
            return InterruptController.super.spiLine(intid);
        }
        if (intid < FIRST_SPI || intid >= FIRST_SPI + SPIS) {
            throw new IllegalArgumentException("no SPI " + intid + " (this controller has INTIDs " + FIRST_SPI + ".."
                    + (FIRST_SPI + SPIS - 1) + ")");
        }
        Line l = lines[intid - FIRST_SPI];
        if (l == null) {
            l = lines[intid - FIRST_SPI] = new Line(intid);
        }
        return l;
    }

    /** Rising edges seen on SPI {@code intid}'s line. */
    public long edges(int intid) {
        return edges.get(intid - FIRST_SPI);
    }

    /** MSIs delivered for (deviceId, eventId). */
    public long count(int deviceId, int eventId) {
        return counts.get(deviceId * MAX_EVENTS + eventId);
    }

    /** MSIs delivered for every EventID of {@code deviceId}. */
    public long count(int deviceId) {
        long t = 0;
        for (int e = 0; e < MAX_EVENTS; e++) {
            t += counts.get(deviceId * MAX_EVENTS + e);
        }
        return t;
    }

    /** MSIs refused: a wrong doorbell, or an EventID or DeviceID beyond what is counted. */
    public long dropped() {
        return dropped.get();
    }

    /** Interrupts acknowledged through ICC_IAR1_EL1. */
    public long acknowledged() {
        return acknowledged.get();
    }

    @Override
    public boolean hasPendingInterrupt(int vcpu) {
        return vcpu == 0 && (pending.get() != 0 || pendingSpis.get() != 0);
    }

    @Override
    public long readSystemRegister(int vcpu, SystemRegister register) {
        if (register != SystemRegister.ICC_IAR1_EL1 || vcpu != 0) {
            return 0;
        }
        while (true) {
            long s = pendingSpis.get();
            if (s != 0) {
                long lowest = Long.lowestOneBit(s);
                if (pendingSpis.compareAndSet(s, s & ~lowest)) {
                    acknowledged.incrementAndGet();
                    return FIRST_SPI + Long.numberOfTrailingZeros(lowest);
                }
                continue;
            }
            long p = pending.get();
            if (p == 0) {
                return SystemRegister.SPURIOUS_INTID;
            }
            long lowest = Long.lowestOneBit(p);
            if (pending.compareAndSet(p, p & ~lowest)) {
                acknowledged.incrementAndGet();
                return LPI_BASE + Long.numberOfTrailingZeros(lowest);
            }
        }
    }

    @Override
    public void writeSystemRegister(int vcpu, SystemRegister register, long value) {
        // EOI, priority mask and group enables need no state here.
    }
}
