package dev.jvmm.bench.seed;

import dev.jvmm.net.NicConfig;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.core.irq.IrqObserver;
import dev.jvmm.core.irq.IrqchipRoute;
import dev.jvmm.core.irq.MsiRoute;
import dev.jvmm.core.irq.MsiTarget;
import dev.jvmm.net.VirtioNetDevice;
import dev.jvmm.net.ForwardingNetBackend;
import dev.jvmm.net.NetBackend;
import dev.jvmm.net.RxStatus;
import io.netty.buffer.ByteBuf;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Measures t0 → t3 of the data path (see DESIGN.md): from a datagram's arrival at a NIC's backend to the guest's
 * acknowledge (ICC_IAR1_EL1 read) of the receive interrupt that covered it. It is two probes in one object:
 *
 * <pre>
 *  event loop:  backend ── Guest.receive(...) ──▶ device        {@link #backends}: a decorator of every NIC's backend
 *                 t0 = nanoTime(), before the frame is copied; if the NIC has no arrival pending, it becomes t0
 *  any thread:  IrqRouter ── injected(route, result, ...)       learns INTID → NIC from (doorbell, DeviceID, EventID)
 *               IrqRouter ── injected(irqchip route, ...)       a wired NIC's SPI raised: t2, if none is remembered
 *  vCPU:        guest reads ICC_IAR1_EL1 ── acknowledged(intid, ..., t3)
 *                 INTID is NIC n's receive LPI, or its SPI (wired mode, INTID 48 + slot from the configuration):
 *                 record t3 - arrival[n], clear arrival[n]
 * </pre>
 *
 * <p>A wired NIC's one SPI stands for all its queues (the guest walks every ring on it, as Linux's
 * {@code vm_interrupt} does), so each acknowledge of it is one of its receive interrupts here. The GIC keeps no
 * timestamps for SPIs, so the probe keeps t2 itself: the first raise since the SPI's last acknowledge, which is
 * the raise that made it pending, as an LPI's t2 is the delivery that made it pending.
 *
 * <h2>The definition, precisely</h2>
 * For each NIC, the probe remembers the arrival time of the <em>first datagram since that NIC's last acknowledged
 * receive interrupt</em>. When the guest acknowledges the NIC's receive LPI, the probe records acknowledge minus that
 * arrival and forgets it; an acknowledge with no arrival remembered records nothing. So every value is the wait of
 * the oldest datagram that was waiting for an interrupt; datagrams that arrive while one is already waiting are
 * covered by the same interrupt (the device signals once per batch, with EVENT_IDX suppression) and do not add
 * values. One value per acknowledged receive interrupt, at most. A datagram that the guest had no buffer for
 * ({@link RxStatus#RETRY_LATER}) keeps its first arrival time when the backend offers it again.
 *
 * <p>The arrival is stored before the frame is handed to the device, so the acknowledge of an interrupt raised for
 * this frame always finds it. The two threads meet only through {@code compareAndSet(0, t0)} on the event loop and
 * {@code getAndSet(0)} on the vCPU: if an acknowledge clears the slot between the loop's check and its own
 * compare-and-set, the datagram arrived before that acknowledge and is, by the definition, not the first one since it.
 *
 * <h2>Also recorded</h2>
 * t2 → t3 (pending to acknowledge, the vCPU's wake-up and the guest's dispatch) for every MSI-raised LPI and every
 * wired NIC's SPI, which together with the router's t1 → t2 splits the end-to-end figure.
 *
 * <h2>Cost</h2>
 * Nothing is allocated per datagram or per interrupt: per-NIC state lives in padded atomic arrays, latencies go into
 * HdrHistogram {@link Recorder}s (wait-free writers), and the INTID map is filled once per LPI. The GIC looks up the
 * LPI's timestamps on every acknowledge once any observer is installed; every cell of the benchmark carries that
 * same small cost.
 */
public final class EndToEndProbe implements IrqObserver {
    /** LPIs start at INTID 8192 (GICv3 §1.2); the toy guest allocates upwards from there, 16 INTID bits at most. */
    static final int FIRST_LPI = 8192;
    static final int MAX_LPIS = (1 << 16) - FIRST_LPI;
    /** Longer than any plausible wait; a value beyond it is clamped, never dropped. */
    static final long HIGHEST_NANOS = 60_000_000_000L;
    /** One cache line (8 longs) per NIC, so that NICs served by different vCPUs do not share a line. */
    private static final int STRIDE = 8;

    private static final int UNKNOWN = 0;
    private static final int NOT_RECEIVE = -1;

    private final int nics;
    private final long[] doorbells;
    private final int[] deviceIds;
    private final int[] queuePairs;
    /** INTID - 8192 → 0 unknown, -1 not a receive interrupt of a NIC, n + 1 receive interrupt of NIC n. */
    private final AtomicIntegerArray lpiToNic = new AtomicIntegerArray(MAX_LPIS);
    /** SPIs: INTIDs 32..1019. */
    static final int FIRST_SPI = 32;
    static final int SPI_LIMIT = 1020;
    /** INTID - 32 → n + 1 for the SPI of NIC n in wired mode, 0 for any other; fixed by the configuration. */
    private final int[] spiToNic = new int[SPI_LIMIT - FIRST_SPI];
    /**
     * NIC n's first arrival since its last acknowledge at [n * STRIDE], 0 when none; for a wired NIC, its SPI's first
     * raise since its last acknowledge at [n * STRIDE + 1]; the acknowledges of its receive interrupt at
     * [n * STRIDE + 2] (written by the vCPU that took it; a NIC's interrupts go to one vCPU).
     */
    private final AtomicLongArray arrival;
    private final Recorder arrivalToAck = new Recorder(HIGHEST_NANOS, 3);
    private final Recorder pendingToAck = new Recorder(HIGHEST_NANOS, 3);

    /**
     * A probe for the NICs {@code list}. Injections are attributed to NICs once {@link #attach} has told the probe
     * where each NIC's MSIs go.
     */
    public EndToEndProbe(List<NicConfig> list) {
        this.nics = list.size();
        this.doorbells = new long[nics];
        this.deviceIds = new int[nics];
        this.queuePairs = new int[nics];
        for (int i = 0; i < nics; i++) {
            NicConfig n = list.get(i);
            deviceIds[i] = n.deviceId();
            queuePairs[i] = n.queuePairs();
            doorbells[i] = -1;
            if (n.wired()) {
                spiToNic[n.wiredIntid() - FIRST_SPI] = i + 1;
            }
        }
        this.arrival = new AtomicLongArray(Math.max(1, nics) * STRIDE);
    }

    /**
     * Learns each NIC's MSI doorbell (the GITS_TRANSLATER address of its ITS, as the interrupt controller handed it
     * to the NIC), so that a route's (doorbell, DeviceID) names the NIC; a wired NIC has none (its SPI is known from
     * the configuration). Call after building the machine and before starting it: starting the machine's threads
     * publishes these writes to them.
     */
    public void attach(List<VirtioNetDevice> devices) {
        long[] d = new long[nics];
        for (int i = 0; i < nics; i++) {
            MsiTarget t = devices.get(i).msiTarget();
            d[i] = t == null ? -1 : t.doorbell();
        }
        doorbells(d);
    }

    /** NIC n's MSIs go to doorbell {@code perNic[n]}. */
    void doorbells(long[] perNic) {
        System.arraycopy(perNic, 0, doorbells, 0, nics);
    }

    /** A backend factory that decorates each NIC's backend from {@code inner} with the arrival probe. */
    public NetBackend.Factory backends(NetBackend.Factory inner, List<NicConfig> list) {
        return nic -> new ProbedBackend(inner.create(nic), list.indexOf(nic));
    }

    /** Forgets everything recorded so far (the end of a warm-up); arrivals in flight are kept. */
    public void reset() {
        arrivalToAck.reset();
        pendingToAck.reset();
    }

    /** Datagram arrival → acknowledge since the last reset (a new histogram; the recorder keeps counting). */
    public Histogram arrivalToAck() {
        return arrivalToAck.getIntervalHistogram();
    }

    /** Pending → acknowledge since the last reset (a new histogram). */
    public Histogram pendingToAck() {
        return pendingToAck.getIntervalHistogram();
    }

    /** Acknowledged receive interrupts of every NIC so far (never reset: take differences). */
    public long receiveAcknowledges() {
        long n = 0;
        for (int i = 0; i < nics; i++) {
            n += arrival.get(i * STRIDE + 2);
        }
        return n;
    }

    /** The NIC whose receive interrupt INTID {@code intid} is, or -1 (not seen yet, or another interrupt). */
    public int nicOf(int intid) {
        if (intid >= FIRST_SPI && intid < SPI_LIMIT) {
            return spiToNic[intid - FIRST_SPI] - 1;
        }
        int idx = intid - FIRST_LPI;
        if (idx < 0 || idx >= MAX_LPIS) {
            return -1;
        }
        int m = lpiToNic.get(idx);
        return m > 0 ? m - 1 : -1;
    }

    // -------------------------------------------------------------------------------------------- IrqObserver

    @Override
    public void injected(MsiRoute route, long result, boolean fastPath, long signalNanos, long pendingNanos) {
        if (route == null || !InjectResult.isDelivered(result)) {
            return;
        }
        int idx = InjectResult.intid(result) - FIRST_LPI;
        if (idx < 0 || idx >= MAX_LPIS || lpiToNic.get(idx) != UNKNOWN) {
            return; // the common case: one volatile read per injection
        }
        int value = NOT_RECEIVE;
        for (int n = 0; n < nics; n++) {
            if (deviceIds[n] == route.deviceId() && doorbells[n] == route.address()) {
                // virtio-net: receiveq k is queue 2k, and the device raises queue q's interrupt with EventID q.
                int event = route.data();
                if (event >= 0 && event % 2 == 0 && event < 2 * queuePairs[n]) {
                    value = n + 1;
                }
                break;
            }
        }
        lpiToNic.compareAndSet(idx, UNKNOWN, value);
    }

    @Override
    public void injected(IrqchipRoute route, long result, boolean inline, long signalNanos, long raisedNanos) {
        int intid = route.intid();
        if (!InjectResult.isDelivered(result) || intid >= SPI_LIMIT) {
            return;
        }
        int nic = spiToNic[intid - FIRST_SPI] - 1;
        if (nic >= 0) {
            int slot = nic * STRIDE + 1;
            if (arrival.get(slot) == 0) {
                arrival.compareAndSet(slot, 0, raisedNanos);
            }
        }
    }

    @Override
    public void acknowledged(int vcpu, int intid, long signalNanos, long pendingNanos, long ackNanos) {
        int nic = nicOf(intid);
        if (pendingNanos == 0 && nic >= 0 && intid < SPI_LIMIT) {
            pendingNanos = arrival.getAndSet(nic * STRIDE + 1, 0);   // a wired NIC's SPI: the probe's own t2
        }
        if (pendingNanos != 0) {
            pendingToAck.recordValue(clamp(ackNanos - pendingNanos));
        }
        if (nic < 0) {
            return;
        }
        arrival.getAndIncrement(nic * STRIDE + 2);
        int slot = nic * STRIDE;
        if (arrival.get(slot) == 0) {
            return;
        }
        long t0 = arrival.getAndSet(slot, 0);
        if (t0 != 0) {
            arrivalToAck.recordValue(clamp(ackNanos - t0));
        }
    }

    private static long clamp(long nanos) {
        return Math.min(Math.max(0, nanos), HIGHEST_NANOS);
    }

    /** The event loop's half: NIC {@code nic} has a datagram that arrived at {@code t0}. */
    void arrived(int nic, long t0) {
        int slot = nic * STRIDE;
        if (arrival.get(slot) == 0) {
            arrival.compareAndSet(slot, 0, t0);
        }
    }

    // -------------------------------------------------------------------------------------------- the decorator

    /**
     * Passes every call through to the NIC's backend; only the datagrams it hands to the guest are timed. Like every
     * backend call, these run on the NIC's event loop, which alone owns {@link #held}.
     */
    private final class ProbedBackend extends ForwardingNetBackend {
        private final int nic;
        /** Arrival of the datagram the backend holds back after RETRY_LATER (it offers it again later), or 0. */
        private long held;

        ProbedBackend(NetBackend inner, int nic) {
            super(inner);
            this.nic = nic;
        }

        @Override
        public void deviceReset() {
            // The backend drops a held datagram on reset: its arrival must not pass to the next one.
            held = 0;
            super.deviceReset();
        }

        private long arrival() {
            long now = System.nanoTime();
            long t0 = held != 0 ? held : now;
            arrived(nic, t0);
            return t0;
        }

        private void offered(RxStatus s, long t0) {
            held = s == RxStatus.RETRY_LATER ? t0 : 0;
        }

        @Override
        protected Guest wrap(Guest guest) {
            return new ForwardingGuest(guest) {
                @Override
                public RxStatus receive(ByteBuf frame, int index, int length, int flowHash) {
                    long t0 = arrival();
                    RxStatus s = guest.receive(frame, index, length, flowHash);
                    offered(s, t0);
                    return s;
                }

                @Override
                public RxStatus receive(byte[] head, int headOffset, int headLength, ByteBuf body, int bodyIndex,
                                        int bodyLength, int flowHash) {
                    long t0 = arrival();
                    RxStatus s = guest.receive(head, headOffset, headLength, body, bodyIndex, bodyLength, flowHash);
                    offered(s, t0);
                    return s;
                }
            };
        }
    }
}
