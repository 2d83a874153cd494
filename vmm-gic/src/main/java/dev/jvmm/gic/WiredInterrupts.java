package dev.jvmm.gic;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import dev.jvmm.gic.internal.SpinLock;

import java.util.Arrays;

import static dev.jvmm.gic.DistributorRegisterDescriptor.CTLR_ENABLE_GRP0;
import static dev.jvmm.gic.DistributorRegisterDescriptor.CTLR_ENABLE_GRP1;
import static dev.jvmm.gic.DistributorRegisterDescriptor.FIRST_PPI;
import static dev.jvmm.gic.DistributorRegisterDescriptor.FIRST_SPI;
import static dev.jvmm.gic.DistributorRegisterDescriptor.IROUTER_AFFINITY_MASK;
import static dev.jvmm.gic.DistributorRegisterDescriptor.IROUTER_IRM;
import static dev.jvmm.gic.DistributorRegisterDescriptor.IROUTER_WRITABLE;
import static dev.jvmm.gic.DistributorRegisterDescriptor.PRIVATE_COUNT;
import static dev.jvmm.gic.DistributorRegisterDescriptor.SGI_COUNT;
import static dev.jvmm.gic.DistributorRegisterDescriptor.SPI_COUNT;
import static dev.jvmm.gic.DistributorRegisterDescriptor.SPI_LIMIT;

/**
 * The state of every wired interrupt of the machine: each vCPU's SGIs and PPIs (INTIDs 0..31, in its
 * redistributor's SGI_base frame) and the 256 SPIs (in the distributor), with the arbitration that tells each CPU
 * interface its most urgent pending one. LPIs live elsewhere ({@link PendingLpiSet}); {@link Redistributor} makes the
 * final choice between the two.
 *
 * <h2>Layout</h2>
 * Interrupts are kept in banks of 32 INTIDs, one bit each in the state words (QEMU's {@code gicv3_int_pending} and
 * {@code gicr_int_pending} compute on the same words): bank {@code v < vcpus} is vCPU v's SGIs and PPIs, bank
 * {@code vcpus + k} holds SPIs {@code 32 + 32k .. 63 + 32k}. Per interrupt:
 * <pre>
 *  enabled  GICx_ISENABLER         latch   the pending latch: an edge, an SGI, a GICx_ISPENDR write
 *  level    the input line         edge    GICx_ICFGR: 1 edge-triggered, 0 level-sensitive
 *  active   GICx_ISACTIVER         group1  GICx_IGROUPR: 1 Group 1 (IRQ), 0 Group 0 (FIQ)
 *  priority GICx_IPRIORITYR [7:3]  route   GICD_IROUTER (SPIs), resolved to a target vCPU
 *
 *  pending  = latch | (level &amp; ~edge)          (IHI 0069, "Interrupt lifecycle": a level-sensitive interrupt is
 *                                                pending while its line is asserted; an edge latches)
 *  eligible = pending &amp; enabled &amp; ~active &amp; (group enabled in GICD_CTLR)
 * </pre>
 * An active interrupt is not eligible (it is "active and pending" if still pending); once deactivated, a level
 * interrupt whose line is still high is eligible again, which is the rule the issue names.
 *
 * <h2>Arbitration</h2>
 * After a change made under the lock, the vCPUs it may concern are recomputed: their most urgent eligible interrupt
 * per group (lowest priority value, ties to the lowest INTID, QEMU's {@code irqbetter}) is published to the
 * redistributor as one volatile value ({@link Redistributor#publishWired}), and a vCPU whose CPU interface now
 * signals an IRQ is kicked. Readers of the published value (the halted vCPU's wake-up check, a CPU's check between
 * blocks) take no lock.
 *
 * <h2>The lock-free raise</h2>
 * A device raising an SPI or a PPI (an edge, or a level line going high) takes no lock, as an MSI on the cached LPI
 * path takes none ({@link PendingLpiSet}): it sets the latch or level bit with an atomic OR (a bit already set is
 * an edge coalesced into the pending one: nothing else happens), then publishes by itself:
 * <pre>
 *  device thread                                        lock holder (registers, acknowledge, deactivate)
 *   OR latch/level bit                                   write configuration (volatile)
 *   v = target (volatile)                                do { s = seq(v)
 *   seq(v)++                                                  best = scan of the state (volatile reads)
 *   k = key if eligible (enabled, not active, group           publish best
 *       enabled, routed to v; priority; volatile reads)  } while (seq(v) != s)
 *   CAS-min k into v's published best                    kick v if it signals
 *   re-read the same state: changed? recompute v under the lock;  else kick v if it signals
 * </pre>
 * All of these are sequentially consistent, so (the Dekker argument) either the lock holder's scan sees the new bit,
 * or the device thread's reads see the lock holder's configuration; a device's CAS that lands between a lock
 * holder's scan and its publication changed the sequence first, so the lock holder scans again. The published value
 * is therefore never less urgent than the truth. It may briefly be more urgent (a key computed from a configuration
 * the lock holder just changed): the device thread's re-read catches that and recomputes under the lock, and
 * ICC_IAR*_EL1 never trusts the published value: it re-checks the interrupt under the lock ({@link #acknowledge}).
 * Within that window (a few instructions of the raising thread, or its time slice if it is preempted there) a
 * halted vCPU may wake for nothing, and ICC_HPPIR*_EL1, which reads the published value, may name the interrupt the
 * register write has just made ineligible, as if the write had come a moment later.
 * Latch and level bits are cleared, and active bits set, only under the lock, so a lock holder's loop ends (each
 * repeat needs one of the few bits that can change without it).
 * Deactivation is the same publication (a cleared active bit can only make an interrupt eligible). Falling level
 * lines, 1-of-N SPIs, SGIs and acknowledge take the lock as before.
 *
 * <h2>SPI routing</h2>
 * GICD_IROUTER with Interrupt_Routing_Mode = 0 routes an SPI to the vCPU of affinity Aff2.Aff1.Aff0, or to nobody
 * (it stays pending) when none has it. With Interrupt_Routing_Mode = 1 ("1 of N", IHI 0069 "Routing SPIs and
 * SGIs by PE affinity") the distributor picks one participating PE each time the SPI becomes eligible: a PE
 * participates when it is awake (GICR_WAKER.ProcessorSleep = 0, GICD_CTLR.E1NWF = 0), its CPU interface enables
 * the SPI's group, and its GICR_CTLR.DPG bit for the group is 0. The pick (IMPLEMENTATION DEFINED) is the first
 * participating PE, in round-robin order, whose CPU interface could take the SPI now, else the first participating
 * one; a PE that stops participating has its pending 1-of-N SPIs moved.
 *
 * <h2>Lock</h2>
 * One lock guards every change other than the lock-free raise and deactivation (QEMU runs every GIC change under one
 * lock). It is a leaf: nothing else is locked while it is held, and kicking a vCPU only unparks a thread. No LPI path
 * takes it, and no device thread but for a falling level line or a 1-of-N SPI: its takers are the vCPUs' own
 * acknowledges and register writes, so it is a {@link SpinLock} (spin, then yield; never park), whose uncontended
 * cost is one CAS and one release store, for critical sections of bounded length (a few banks of 32 bits).
 * The latch, level and active words are written with atomic bitwise operations, by lock holders too (devices and
 * deactivating vCPUs write them concurrently); every other array is written only under the lock, with volatile
 * stores, and read with volatile loads by the lock-free raise.
 */
final class WiredInterrupts {
    /** A published best key when no interrupt is eligible. */
    static final int NONE = Integer.MAX_VALUE;
    static final int NO_TARGET = -1;
    private static final int SPI_BANKS = SPI_COUNT / 32;
    /** GICR_ICFGR0: SGIs are always edge-triggered. */
    private static final int SGI_BITS = (1 << SGI_COUNT) - 1;
    /** In the result of {@link #eligibleKey}: the interrupt is Group 1 (above every key's bits). */
    private static final int GROUP1_KEY = 1 << 30;

    private static final VarHandle INTS = MethodHandles.arrayElementVarHandle(int[].class);
    private static final VarHandle BYTES = MethodHandles.arrayElementVarHandle(byte[].class);

    private final GicV3 gic;
    private final int vcpus;
    private final SpinLock lock = new SpinLock();

    private final int[] enabled;
    private final int[] latch;
    private final int[] level;
    private final int[] edge;
    private final int[] active;
    private final int[] group1;
    private final byte[] priority;
    private final long[] route = new long[SPI_COUNT];
    private final int[] target = new int[SPI_COUNT];
    /** Per vCPU, per SPI bank: the SPIs targeted at it. */
    private final int[][] routedTo;
    /** SPIs with Interrupt_Routing_Mode = 1, per SPI bank. */
    private final int[] oneOfN = new int[SPI_BANKS];
    private volatile int ctlr;
    private int oneOfNCursor;
    private long sgisRaised;
    private long sgisRefused;
    private Redistributor[] redistributors;

    /** vCPUs to recompute before the lock is released; {@link #dirtyCount} of them in {@link #dirtyList}. */
    private final boolean[] dirty;
    private final int[] dirtyList;
    private int dirtyCount;

    WiredInterrupts(GicV3 gic, int vcpus) {
        this.gic = gic;
        this.vcpus = vcpus;
        int banks = vcpus + SPI_BANKS;
        enabled = new int[banks];
        latch = new int[banks];
        level = new int[banks];
        edge = new int[banks];
        active = new int[banks];
        group1 = new int[banks];
        priority = new byte[banks * 32];
        routedTo = new int[vcpus][SPI_BANKS];
        dirty = new boolean[vcpus];
        dirtyList = new int[vcpus];
        // Out of reset every interrupt is Group 1, as KVM's vGICv3 and QEMU's virt (irq_reset_nonsecure) present
        // them to a kernel started in Non-secure EL1; SGIs are edge-triggered, PPIs level-sensitive.
        Arrays.fill(group1, -1);
        for (int v = 0; v < vcpus; v++) {
            edge[v] = SGI_BITS;
        }
        // GICD_IROUTER resets to 0: affinity 0.0.0.0, vCPU 0 (nobody on a machine without vCPUs).
        if (vcpus > 0) {
            Arrays.fill(target, 0);
            Arrays.fill(routedTo[0], -1);
        } else {
            Arrays.fill(target, NO_TARGET);
        }
    }

    void attach(Redistributor[] rds) {
        this.redistributors = rds;
    }

    // ============================================================================================ banks

    /** The bank that holds {@code intid} (0..287) for vCPU {@code vcpu}. */
    int bank(int vcpu, int intid) {
        return intid < PRIVATE_COUNT ? vcpu : vcpus + ((intid - FIRST_SPI) >>> 5);
    }

    /** The bank of SPIs {@code 32 + 32k ..}, for a distributor register word that covers INTIDs {@code 32n ..}. */
    int spiBank(int word) {
        return vcpus + word - 1;
    }

    private int spiIndex(int bank, int bit) {
        return ((bank - vcpus) << 5) + bit;
    }

    private boolean isSpiBank(int bank) {
        return bank >= vcpus;
    }

    /** Volatile load of word {@code i} of a state array. */
    private static int lv(int[] a, int i) {
        return (int) INTS.getVolatile(a, i);
    }

    /** Volatile store (under the lock) of word {@code i} of a state array other than the latch and level words. */
    private static void sv(int[] a, int i, int value) {
        INTS.setVolatile(a, i, value);
    }

    private int pendingBits(int b) {
        return lv(latch, b) | (lv(level, b) & ~lv(edge, b));
    }

    /** The eligible bits of a bank: pending, enabled, not active, group enabled by GICD_CTLR. */
    private int eligible(int b) {
        int c = ctlr;
        int g1 = lv(group1, b);
        int g = ((c & CTLR_ENABLE_GRP1) != 0 ? g1 : 0) | ((c & CTLR_ENABLE_GRP0) != 0 ? ~g1 : 0);
        return pendingBits(b) & lv(enabled, b) & ~lv(active, b) & g;
    }

    /**
     * The key {@code priority << 16 | intid} (with {@link #GROUP1_KEY} for a Group 1 interrupt) of {@code intid}
     * (bit {@code bit} of bank {@code b}) if it is eligible at vCPU {@code v} now, else {@link #NONE}. Volatile
     * loads only: the lock-free raise calls it, before and after it publishes.
     */
    private int eligibleKey(int b, int intid, int bit, int v) {
        if ((eligible(b) & bit) == 0) {
            return NONE;
        }
        if (isSpiBank(b) && lv(target, spiIndex(b, intid & 31)) != v) {
            return NONE;
        }
        int prio = (byte) BYTES.getVolatile(priority, (b << 5) + (intid & 31)) & 0xFF;
        return ((lv(group1, b) & bit) != 0 ? GROUP1_KEY : 0) | (prio << 16) | intid;
    }

    // ============================================================================================ registers
    // Word accessors for GICD_* (bank vcpus + n - 1 for word n) and GICR_*0 (bank v), 32 INTIDs each.

    /**
     * The one-bit-per-INTID state a register word shows: GICx_IGROUPR, GICx_IS/ICENABLER, GICx_IS/ICPENDR (which read
     * the pending state and write the latch, as KVM's and QEMU's write_spending / write_cpending do for either
     * trigger mode, so a level-sensitive interrupt whose line is high stays pending), GICx_IS/ICACTIVER.
     */
    enum Field { GROUP, ENABLED, PENDING, ACTIVE }

    /** How a one-bit-per-INTID register array's write acts: the value is the state, or a mask of bits to set or clear. */
    enum Write {
        ASSIGN, SET, CLEAR;

        /** Writes {@code value} to {@code f} of bank {@code b} as this kind of register does. */
        void apply(WiredInterrupts wired, Field f, int b, int value) {
            switch (this) {
                case ASSIGN: wired.write(f, b, value, ~value); break;
                case SET: wired.write(f, b, value, 0); break;
                default: wired.write(f, b, 0, value); break;
            }
        }
    }

    private int[] array(Field f) {
        switch (f) {
            case GROUP: return group1;
            case ENABLED: return enabled;
            case PENDING: return latch;
            default: return active;
        }
    }

    /** The word of bank {@code b} a read of {@code f}'s registers returns. */
    int read(Field f, int b) {
        lock.lock();
        try {
            return f == Field.PENDING ? pendingBits(b) : array(f)[b];
        } finally {
            lock.unlock();
        }
    }

    /** Sets the bits {@code set}, then clears the bits {@code clear}, of {@code f} in bank {@code b}. */
    void write(Field f, int b, int set, int clear) {
        lock.lock();
        try {
            int before = eligible(b);
            int changedBits;
            if (f == Field.PENDING || f == Field.ACTIVE) {
                // Devices set latch bits, and deactivation clears active bits, without the lock: atomic operations,
                // and every bit written counts as changed.
                int[] a = array(f);
                INTS.getAndBitwiseOr(a, b, set);
                INTS.getAndBitwiseAnd(a, b, ~clear);
                changedBits = set | clear;
            } else {
                int[] a = array(f);
                int old = a[b];
                sv(a, b, (old | set) & ~clear);
                changedBits = old ^ a[b];
            }
            changed(b, changedBits, eligible(b) & ~before);
        } finally {
            unlockAfterFlush();
        }
    }

    /** {@code count} priority bytes of bank {@code b} from byte {@code first}, little-endian. */
    long readPriority(int b, int first, int count) {
        lock.lock();
        try {
            long v = 0;
            for (int i = count - 1; i >= 0; i--) {
                v = (v << 8) | (priority[(b << 5) + first + i] & 0xFF);
            }
            return v;
        } finally {
            lock.unlock();
        }
    }

    /** Priority bytes; only the implemented bits [7:3] are kept (the rest are RAZ/WI, as in KVM and QEMU). */
    void writePriority(int b, int first, int count, long value) {
        lock.lock();
        try {
            int changed = 0;
            for (int i = 0; i < count; i++) {
                byte p = (byte) ((value >>> (8 * i)) & CpuInterfaceRegisterDescriptor.PRIORITY_MASK);
                int at = (b << 5) + first + i;
                if (priority[at] != p) {
                    BYTES.setVolatile(priority, at, p);
                    changed |= 1 << (first + i);
                }
            }
            changed(b, changed, 0);
        } finally {
            unlockAfterFlush();
        }
    }

    /** GICx_ICFGR{@code half}: the 16 two-bit fields of INTIDs {@code 16 half ..} of the bank. */
    int readConfig(int b, int half) {
        lock.lock();
        try {
            int e = edge[b] >>> (16 * half);
            int v = 0;
            for (int i = 0; i < 16; i++) {
                if ((e & (1 << i)) != 0) {
                    v |= DistributorRegisterDescriptor.ICFGR_EDGE << (2 * i);
                }
            }
            return v;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Writes GICx_ICFGR{@code half}. SGIs are always edge-triggered (their fields are read-only); PPIs and SPIs
     * take the guest's choice (KVM freezes PPIs as level, QEMU lets the guest choose; the architecture leaves it
     * IMPLEMENTATION DEFINED, and this GIC follows QEMU).
     */
    void writeConfig(int b, int half, int value) {
        lock.lock();
        try {
            int e = 0;
            for (int i = 0; i < 16; i++) {
                if ((value & (DistributorRegisterDescriptor.ICFGR_EDGE << (2 * i))) != 0) {
                    e |= 1 << i;
                }
            }
            int mask = 0xFFFF << (16 * half);
            if (!isSpiBank(b)) {
                mask &= ~SGI_BITS;
            }
            int before = eligible(b);
            int old = edge[b];
            sv(edge, b, (old & ~mask) | ((e << (16 * half)) & mask));
            int changed = old ^ edge[b];
            changed(b, changed, eligible(b) & ~before);
        } finally {
            unlockAfterFlush();
        }
    }

    long readRoute(int intid) {
        lock.lock();
        try {
            return route[intid - FIRST_SPI];
        } finally {
            lock.unlock();
        }
    }

    /** GICD_IROUTER: Aff2.Aff1.Aff0 and Interrupt_Routing_Mode are kept; Aff3 is RAZ/WI (A3V = 0, as KVM). */
    void writeRoute(int intid, long value) {
        lock.lock();
        try {
            int s = intid - FIRST_SPI;
            long r = value & IROUTER_WRITABLE;
            route[s] = r;
            int word = s >>> 5;
            int bit = 1 << (s & 31);
            if ((r & IROUTER_IRM) != 0) {
                sv(oneOfN, word, oneOfN[word] | bit);
                if (target[s] == NO_TARGET) {
                    retarget(s, choose(s, spiGroup1(s)));
                }
            } else {
                sv(oneOfN, word, oneOfN[word] & ~bit);
                retarget(s, Affinity.vcpuOf(r & IROUTER_AFFINITY_MASK, vcpus));
            }
            changed(vcpus + word, bit, bit);
        } finally {
            unlockAfterFlush();
        }
    }

    int readCtlr() {
        return ctlr;
    }

    /** GICD_CTLR's group enables gate SGIs, PPIs and SPIs alike (QEMU's gicd_int_pending and gicr_int_pending). */
    void writeCtlr(int enables) {
        lock.lock();
        try {
            if (enables == ctlr) {
                return;
            }
            ctlr = enables;
            for (int v = 0; v < vcpus; v++) {
                markDirty(v);
            }
            settleOneOfN(-1);
        } finally {
            unlockAfterFlush();
        }
    }

    // ============================================================================================ lines

    /**
     * The input line of {@code intid} at bank {@code b} goes {@code high} or low. An edge-triggered interrupt
     * latches pending on a rising edge; a level-sensitive one is pending while the line is high. A rising line takes
     * the lock-free raise (see the class comment); a falling one the lock, as it may withdraw a published interrupt.
     */
    void setLine(int b, int intid, boolean high) {
        int bit = 1 << (intid & 31);
        if (!high) {
            lowerLine(b, bit);
            return;
        }
        if (((int) INTS.getAndBitwiseOr(level, b, bit) & bit) != 0) {
            return; // already high
        }
        // GICD_ICFGR may change meanwhile: either reading is the order of some serialisation with that write.
        if ((lv(edge, b) & bit) != 0 && ((int) INTS.getAndBitwiseOr(latch, b, bit) & bit) != 0) {
            return; // an edge coalesced into the pending latch
        }
        raised(b, intid, bit);
    }

    private void lowerLine(int b, int bit) {
        lock.lock();
        try {
            if (((int) INTS.getAndBitwiseAnd(level, b, ~bit) & bit) != 0) {
                changed(b, bit, 0);
            }
        } finally {
            unlockAfterFlush();
        }
    }

    /**
     * A rising then a falling edge: an edge-triggered interrupt latches; a level one is left as it was (low, or
     * dropped under the lock if it was high). The common case, an edge-triggered line that is low, is the lock-free
     * raise, and an edge that finds the latch already set is coalesced with a volatile load and nothing else.
     */
    void pulse(int b, int intid) {
        int bit = 1 << (intid & 31);
        if ((lv(level, b) & bit) != 0) {
            lowerLine(b, bit); // high: the rise is no edge, the fall drops the line
            return;
        }
        if ((lv(edge, b) & bit) == 0) {
            return; // level-sensitive and low: up and down again leaves nothing pending
        }
        if ((lv(latch, b) & bit) != 0 || ((int) INTS.getAndBitwiseOr(latch, b, bit) & bit) != 0) {
            return; // coalesced into the pending latch
        }
        raised(b, intid, bit);
    }

    /** Whether the line of {@code intid} at bank {@code b} is high (a volatile load). */
    boolean lineHigh(int b, int intid) {
        return (lv(level, b) & (1 << (intid & 31))) != 0;
    }

    /**
     * The lock-free raise's publication: bit {@code bit} of bank {@code b} (INTID {@code intid}) was just set in the
     * latch or level word, or cleared in the active word. See the class comment for why no lock holder can miss it.
     */
    private void raised(int b, int intid, int bit) {
        int v;
        if (isSpiBank(b)) {
            if ((lv(oneOfN, b - vcpus) & bit) != 0) {
                raisedOneOfN(b, bit);
                return;
            }
            v = lv(target, spiIndex(b, intid & 31));
            if (v == NO_TARGET) {
                return; // pending with nowhere to go: a lock holder that routes it will see the latch
            }
        } else {
            v = b;
        }
        Redistributor rd = redistributors[v];
        rd.bumpWiredSequence();
        int key = eligibleKey(b, intid, bit, v);
        if (key == NONE) {
            return; // disabled, active, group off: pending only, a lock holder that enables it will see the bit
        }
        if (!rd.lowerWired((key & GROUP1_KEY) != 0, key & ~GROUP1_KEY)) {
            return; // something as urgent is published already: nothing changes for this vCPU
        }
        if (eligibleKey(b, intid, bit, v) != key) {
            refresh(v); // a lock holder changed the interrupt meanwhile: what was published may be too urgent
        } else if (rd.hasPendingInterrupt()) {
            gic.kick(v);
        }
    }

    /** A raise of a 1-of-N SPI: it picks its target each time it becomes eligible, under the lock. */
    private void raisedOneOfN(int b, int bit) {
        lock.lock();
        try {
            changed(b, bit, eligible(b) & bit);
        } finally {
            unlockAfterFlush();
        }
    }

    /** Recomputes vCPU {@code v}'s published interrupts under the lock. */
    private void refresh(int v) {
        lock.lock();
        try {
            markDirty(v);
        } finally {
            unlockAfterFlush();
        }
    }

    // ============================================================================================ SGIs

    /**
     * An ICC_SGI*R_EL1 write by vCPU {@code from}: SGI {@code sgi} becomes pending at each target whose SGI is in
     * the group the register may generate ({@code group1}: ICC_SGI1R_EL1; otherwise ICC_SGI0R_EL1 and, with one
     * security state, ICC_ASGI1R_EL1), as QEMU's {@code gicv3_redist_send_sgi} checks it.
     *
     * @param affinityPath Aff3.Aff2.Aff1 of the targets, as GICD_IROUTER packs affinity with Aff0 = 0; negative for
     *                     IRM = 1 (every vCPU but {@code from})
     * @param targetList   the Aff0 values of the targets, one bit each
     */
    void sendSgi(int from, int sgi, boolean group1Register, long affinityPath, int targetList) {
        int bit = 1 << sgi;
        lock.lock();
        try {
            if (affinityPath < 0) {
                for (int v = 0; v < vcpus; v++) {
                    if (v != from) {
                        raiseSgi(v, bit, group1Register);
                    }
                }
            } else {
                for (int list = targetList & 0xFFFF; list != 0; list &= list - 1) {
                    int v = Affinity.vcpuOf(affinityPath | Integer.numberOfTrailingZeros(list), vcpus);
                    if (v != Affinity.NONE) {
                        raiseSgi(v, bit, group1Register);
                    }
                }
            }
        } finally {
            unlockAfterFlush();
        }
    }

    private void raiseSgi(int v, int bit, boolean group1Register) {
        if (((group1[v] & bit) != 0) == group1Register) {
            sgisRaised++;
            INTS.getAndBitwiseOr(latch, v, bit);
            markDirty(v);
        } else {
            sgisRefused++;
        }
    }

    // ============================================================================================ CPU interface

    /**
     * ICC_IAR*_EL1 chose a wired interrupt for vCPU {@code v} from the published value {@code seen}: under the lock,
     * takes its most urgent interrupt of group {@code group1Wanted} if it is still eligible here, with the priority
     * and group the key says, and below {@code threshold}; makes it active and clears its latch (a level-sensitive
     * one whose line is still high stays pending: active and pending). Returns its key
     * ({@code priority << 16 | intid}), or {@link #NONE} when the published value was stale (a lock-free raise had
     * not re-checked it yet): the vCPU's published value is then recomputed, and the caller looks again.
     */
    int acknowledge(int v, boolean group1Wanted, int threshold, long seen) {
        lock.lock();
        try {
            int key = group1Wanted ? (int) (seen >>> 32) : (int) seen;
            if (key == NONE || (key >>> 16) >= threshold) {
                return NONE;
            }
            int intid = key & 0xFFFF;
            int b = bank(v, intid);
            int bit = 1 << (intid & 31);
            if (eligibleKey(b, intid, bit, v) != (key | (group1Wanted ? GROUP1_KEY : 0))) {
                markDirty(v);
                return NONE;
            }
            INTS.getAndBitwiseOr(active, b, bit);
            INTS.getAndBitwiseAnd(latch, b, ~bit);
            changed(b, bit, 0);
            return key;
        } finally {
            unlockAfterFlush();
        }
    }

    /**
     * Deactivation (ICC_EOIR with EOImode 0, ICC_DIR with EOImode 1) of {@code intid} by vCPU {@code v}. Lock-free
     * but for a 1-of-N SPI: clearing the active bit can only make the interrupt eligible, which is what the
     * lock-free raise publishes (an interrupt that is not pending has nothing to publish: a raise that sets its
     * latch meanwhile reads the active bit after it and publishes itself).
     */
    void deactivate(int v, int intid) {
        if (intid < 0 || intid >= SPI_LIMIT) {
            return;
        }
        int b = bank(v, intid);
        int bit = 1 << (intid & 31);
        if (isSpiBank(b) && (lv(oneOfN, b - vcpus) & bit) != 0) {
            deactivateOneOfN(b, bit);
            return;
        }
        if (((int) INTS.getAndBitwiseAnd(active, b, ~bit) & bit) == 0) {
            return; // not active: UNPREDICTABLE in the architecture, ignored (QEMU)
        }
        if ((pendingBits(b) & bit) != 0) {
            raised(b, intid, bit);
        }
    }

    private void deactivateOneOfN(int b, int bit) {
        lock.lock();
        try {
            int before = eligible(b);
            if (((int) INTS.getAndBitwiseAnd(active, b, ~bit) & bit) != 0) {
                changed(b, bit, eligible(b) & ~before);
            }
        } finally {
            unlockAfterFlush();
        }
    }

    /** The group of {@code intid} at vCPU {@code v} (true: Group 1). */
    boolean isGroup1(int v, int intid) {
        lock.lock();
        try {
            return (group1[bank(v, intid)] & (1 << (intid & 31))) != 0;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether vCPU {@code v} may take part in 1-of-N distribution changed (its group enables, GICR_WAKER, its DPG
     * bits): 1-of-N SPIs are moved off it, or onto it, and its arbitration is recomputed.
     */
    void participationChanged(int v) {
        lock.lock();
        try {
            markDirty(v);
            settleOneOfN(v);
        } finally {
            unlockAfterFlush();
        }
    }

    /** Runs {@code change} under the lock (redistributor state that participation reads), then settles. */
    void withLock(Runnable change, int v) {
        lock.lock();
        try {
            change.run();
            markDirty(v);
            settleOneOfN(v);
        } finally {
            unlockAfterFlush();
        }
    }

    // ============================================================================================ arbitration

    /**
     * Bits {@code bits} of bank {@code b} changed; {@code newlyEligible} of them became eligible. Picks 1-of-N
     * targets that need one and marks the vCPUs concerned for recomputation.
     */
    private void changed(int b, int bits, int newlyEligible) {
        if (!isSpiBank(b)) {
            markDirty(b);
            return;
        }
        int word = b - vcpus;
        int irm = oneOfN[word] & bits;
        if (irm != 0) {
            int elig = eligible(b);
            for (int m = irm & elig; m != 0; m &= m - 1) {
                int bit = Integer.numberOfTrailingZeros(m);
                int s = (word << 5) + bit;
                int t = target[s];
                if ((newlyEligible & (1 << bit)) != 0 || t == NO_TARGET || !participates(t, spiGroup1(s))) {
                    retarget(s, choose(s, spiGroup1(s)));
                }
            }
        }
        for (int m = bits; m != 0; m &= m - 1) {
            int t = target[(word << 5) + Integer.numberOfTrailingZeros(m)];
            if (t != NO_TARGET) {
                markDirty(t);
            }
        }
    }

    /**
     * Moves eligible 1-of-N SPIs whose target does not participate (or have none) to one that does; with
     * {@code onlyFrom} >= 0, only those targeting that vCPU or nobody.
     */
    private void settleOneOfN(int onlyFrom) {
        for (int word = 0; word < SPI_BANKS; word++) {
            int irm = oneOfN[word];
            if (irm == 0) {
                continue;
            }
            for (int m = irm & eligible(vcpus + word); m != 0; m &= m - 1) {
                int s = (word << 5) + Integer.numberOfTrailingZeros(m);
                int t = target[s];
                if (onlyFrom >= 0 && t != onlyFrom && t != NO_TARGET) {
                    continue;
                }
                if (t == NO_TARGET || !participates(t, spiGroup1(s))) {
                    retarget(s, choose(s, spiGroup1(s)));
                }
            }
        }
    }

    private boolean spiGroup1(int s) {
        return (group1[vcpus + (s >>> 5)] & (1 << (s & 31))) != 0;
    }

    /** Whether vCPU {@code v} takes part in 1-of-N distribution of a Group {@code group1 ? 1 : 0} SPI. */
    private boolean participates(int v, boolean group1Spi) {
        Redistributor rd = redistributors[v];
        return rd.awake() && rd.cpu.groupEnabled(group1Spi) && !rd.disabledForOneOfN(group1Spi);
    }

    /** The 1-of-N pick for SPI {@code s}: see the class comment. */
    private int choose(int s, boolean group1Spi) {
        int prio = priority[((vcpus + (s >>> 5)) << 5) + (s & 31)] & 0xFF;
        int fallback = NO_TARGET;
        for (int i = 0; i < vcpus; i++) {
            int v = (oneOfNCursor + i) % vcpus;
            if (!participates(v, group1Spi)) {
                continue;
            }
            if (prio < redistributors[v].cpu.threshold(group1Spi)) {
                oneOfNCursor = (v + 1) % vcpus;
                return v;
            }
            if (fallback == NO_TARGET) {
                fallback = v;
            }
        }
        if (fallback != NO_TARGET) {
            oneOfNCursor = (fallback + 1) % vcpus;
        }
        return fallback;
    }

    private void retarget(int s, int to) {
        int old = target[s];
        if (old == to) {
            return;
        }
        int word = s >>> 5;
        int bit = 1 << (s & 31);
        if (old != NO_TARGET) {
            routedTo[old][word] &= ~bit;
            markDirty(old);
        }
        if (to != NO_TARGET) {
            routedTo[to][word] |= bit;
            markDirty(to);
        }
        sv(target, s, to);
    }

    /** The target vCPU of SPI {@code intid} now, or {@link #NO_TARGET} (tests). */
    int targetOf(int intid) {
        lock.lock();
        try {
            return target[intid - FIRST_SPI];
        } finally {
            lock.unlock();
        }
    }

    private void markDirty(int v) {
        if (!dirty[v]) {
            dirty[v] = true;
            dirtyList[dirtyCount++] = v;
        }
    }

    /** Recomputes every marked vCPU, publishes its best keys, kicks it if it now signals an IRQ; then unlocks. */
    private void unlockAfterFlush() {
        try {
            for (int i = 0; i < dirtyCount; i++) {
                int v = dirtyList[i];
                dirty[v] = false;
                recompute(v);
            }
            dirtyCount = 0;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Scans vCPU {@code v}'s eligible interrupts and publishes the most urgent per group, again while a lock-free
     * raise for {@code v} ran meanwhile (its sequence moved: its CAS may have landed before this publication).
     */
    private void recompute(int v) {
        Redistributor rd = redistributors[v];
        int[] routed = routedTo[v];
        int sequence;
        do {
            sequence = rd.wiredSequence();
            int best0 = NONE;
            int best1 = NONE;
            for (int b = v, k = -1; k < SPI_BANKS; k++, b = vcpus + k) {
                int bits;
                if (k < 0) {
                    bits = eligible(b);
                } else if (routed[k] == 0) {
                    continue;
                } else {
                    bits = eligible(b) & routed[k];
                }
                while (bits != 0) {
                    int i = Integer.numberOfTrailingZeros(bits);
                    bits &= bits - 1;
                    int intid = (k < 0 ? 0 : FIRST_SPI + (k << 5)) + i;
                    int key = ((priority[(b << 5) + i] & 0xFF) << 16) | intid;
                    if ((group1[b] & (1 << i)) != 0) {
                        best1 = Math.min(best1, key);
                    } else {
                        best0 = Math.min(best0, key);
                    }
                }
            }
            rd.publishWired(best0, best1);
        } while (rd.wiredSequence() != sequence);
        if (rd.hasPendingInterrupt()) {
            gic.kick(v);
        }
    }

    // ============================================================================================ statistics

    long sgisRaised() {
        lock.lock();
        try {
            return sgisRaised;
        } finally {
            lock.unlock();
        }
    }

    long sgisRefused() {
        lock.lock();
        try {
            return sgisRefused;
        } finally {
            lock.unlock();
        }
    }

    /** Whether {@code intid} is a PPI a device may drive. */
    static boolean isPpi(int intid) {
        return intid >= FIRST_PPI && intid < PRIVATE_COUNT;
    }
}
