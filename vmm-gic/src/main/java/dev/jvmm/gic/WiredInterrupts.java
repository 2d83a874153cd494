package dev.jvmm.gic;

import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

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
 * After every change, the vCPUs it may concern are recomputed under the lock: their most urgent eligible interrupt
 * per group (lowest priority value, ties to the lowest INTID, QEMU's {@code irqbetter}) is published to the
 * redistributor as one volatile value ({@link Redistributor#publishWired}), and a vCPU whose CPU interface now
 * signals an IRQ is kicked. Readers of the published value (the halted vCPU's wake-up check, a CPU's check between
 * blocks) take no lock.
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
 * One lock guards all of it (QEMU runs every GIC change under one lock too). It is a leaf: nothing else is locked
 * while it is held, and kicking a vCPU only unparks a thread. No LPI path takes it, so the MSI fast path is as before.
 */
final class WiredInterrupts {
    /** A published best key when no interrupt is eligible. */
    static final int NONE = Integer.MAX_VALUE;
    static final int NO_TARGET = -1;
    private static final int SPI_BANKS = SPI_COUNT / 32;
    /** GICR_ICFGR0: SGIs are always edge-triggered. */
    private static final int SGI_BITS = (1 << SGI_COUNT) - 1;

    private final GicV3 gic;
    private final int vcpus;
    private final ReentrantLock lock = new ReentrantLock();

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
    private int ctlr;
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

    /** The eligible bits of a bank: pending, enabled, not active, group enabled by GICD_CTLR. */
    private int eligible(int b) {
        int g = ((ctlr & CTLR_ENABLE_GRP1) != 0 ? group1[b] : 0) | ((ctlr & CTLR_ENABLE_GRP0) != 0 ? ~group1[b] : 0);
        return (latch[b] | (level[b] & ~edge[b])) & enabled[b] & ~active[b] & g;
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
            return f == Field.PENDING ? latch[b] | (level[b] & ~edge[b]) : array(f)[b];
        } finally {
            lock.unlock();
        }
    }

    /** Sets the bits {@code set}, then clears the bits {@code clear}, of {@code f} in bank {@code b}. */
    void write(Field f, int b, int set, int clear) {
        lock.lock();
        try {
            int before = eligible(b);
            int[] a = array(f);
            int old = a[b];
            a[b] = (old | set) & ~clear;
            changed(b, old ^ a[b], eligible(b) & ~before);
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
                    priority[at] = p;
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
            edge[b] = (old & ~mask) | ((e << (16 * half)) & mask);
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
                oneOfN[word] |= bit;
                if (target[s] == NO_TARGET) {
                    retarget(s, choose(s, spiGroup1(s)));
                }
            } else {
                oneOfN[word] &= ~bit;
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
     * latches pending on a rising edge; a level-sensitive one is pending while the line is high.
     */
    void setLine(int b, int intid, boolean high, WiredLine line) {
        int bit = 1 << (intid & 31);
        lock.lock();
        try {
            line.high = high;
            int old = level[b];
            if (((old & bit) != 0) == high) {
                return;
            }
            int before = eligible(b);
            if (high) {
                level[b] = old | bit;
                if ((edge[b] & bit) != 0) {
                    latch[b] |= bit;
                }
            } else {
                level[b] = old & ~bit;
            }
            changed(b, bit, eligible(b) & ~before);
        } finally {
            unlockAfterFlush();
        }
    }

    /** A rising then a falling edge, under one lock: an edge-triggered interrupt latches; a level one drops again. */
    void pulse(int b, int intid, WiredLine line) {
        int bit = 1 << (intid & 31);
        lock.lock();
        try {
            line.high = false;
            int before = eligible(b);
            if ((edge[b] & bit) != 0 && (level[b] & bit) == 0) {
                latch[b] |= bit;
            }
            level[b] &= ~bit;
            changed(b, bit, eligible(b) & ~before);
        } finally {
            unlockAfterFlush();
        }
    }

    /** Whether the line of {@code intid} at bank {@code b} is high (for tests and the line's view). */
    boolean lineHigh(int b, int intid) {
        lock.lock();
        try {
            return (level[b] & (1 << (intid & 31))) != 0;
        } finally {
            lock.unlock();
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
            latch[v] |= bit;
            markDirty(v);
        } else {
            sgisRefused++;
        }
    }

    // ============================================================================================ CPU interface

    /**
     * ICC_IAR*_EL1 chose a wired interrupt for vCPU {@code v}: under the lock, takes the vCPU's most urgent eligible
     * interrupt of group {@code group1} if its priority is below {@code threshold}, makes it active and clears its
     * latch (a level-sensitive one whose line is still high stays pending: active and pending). Returns its key
     * ({@code priority << 16 | intid}), or {@link #NONE}.
     */
    int acknowledge(int v, boolean group1Wanted, int threshold) {
        lock.lock();
        try {
            long best = redistributors[v].wiredBest();
            int key = group1Wanted ? (int) (best >>> 32) : (int) best;
            if (key == NONE || (key >>> 16) >= threshold) {
                return NONE;
            }
            int intid = key & 0xFFFF;
            int b = bank(v, intid);
            int bit = 1 << (intid & 31);
            active[b] |= bit;
            latch[b] &= ~bit;
            changed(b, bit, 0);
            return key;
        } finally {
            unlockAfterFlush();
        }
    }

    /** Deactivation (ICC_EOIR with EOImode 0, ICC_DIR with EOImode 1) of {@code intid} by vCPU {@code v}. */
    void deactivate(int v, int intid) {
        if (intid < 0 || intid >= SPI_LIMIT) {
            return;
        }
        int b = bank(v, intid);
        int bit = 1 << (intid & 31);
        lock.lock();
        try {
            if ((active[b] & bit) == 0) {
                return; // not active: UNPREDICTABLE in the architecture, ignored (QEMU)
            }
            int before = eligible(b);
            active[b] &= ~bit;
            changed(b, bit, eligible(b) & ~before);
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
        target[s] = to;
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

    private void recompute(int v) {
        int best0 = NONE;
        int best1 = NONE;
        for (int b = v, k = -1; k < SPI_BANKS; k++, b = vcpus + k) {
            int bits = eligible(b);
            if (k >= 0) {
                bits &= routedTo[v][k];
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
        Redistributor rd = redistributors[v];
        rd.publishWired(best0, best1);
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
