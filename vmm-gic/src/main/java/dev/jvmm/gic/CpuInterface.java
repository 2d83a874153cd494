package dev.jvmm.gic;

import static dev.jvmm.gic.CpuInterfaceRegisterDescriptor.BPR_MASK;
import static dev.jvmm.gic.CpuInterfaceRegisterDescriptor.CTLR_CBPR;
import static dev.jvmm.gic.CpuInterfaceRegisterDescriptor.CTLR_EOIMODE;
import static dev.jvmm.gic.CpuInterfaceRegisterDescriptor.CTLR_ID_BITS_SHIFT;
import static dev.jvmm.gic.CpuInterfaceRegisterDescriptor.CTLR_PRI_BITS_SHIFT;
import static dev.jvmm.gic.CpuInterfaceRegisterDescriptor.CTLR_WRITABLE;
import static dev.jvmm.gic.CpuInterfaceRegisterDescriptor.IDLE_PRIORITY;
import static dev.jvmm.gic.CpuInterfaceRegisterDescriptor.MIN_BPR0;
import static dev.jvmm.gic.CpuInterfaceRegisterDescriptor.MIN_BPR1;
import static dev.jvmm.gic.CpuInterfaceRegisterDescriptor.PRIORITY_BITS;
import static dev.jvmm.gic.CpuInterfaceRegisterDescriptor.PRIORITY_MASK;

/**
 * One vCPU's GICv3 CPU interface state for both groups (IHI 0069, "CPU interface" and "Interrupt prioritization";
 * QEMU's {@code arm_gicv3_cpuif.c} for the same single-security-state view): the priority mask, the binary points,
 * the active priorities and the group enables, from which the running priority and the preemption thresholds follow.
 *
 * <ul>
 *   <li>ICC_PMR_EL1: an interrupt is signalled only if its priority value is below the mask. Five bits are
 *       implemented ([7:3], as KVM's vGIC and QEMU's Cortex-A57), so a write keeps {@code value & 0xF8}. Resets to
 *       0 (all masked): guest code opens it, as real guests do.</li>
 *   <li>ICC_BPR0_EL1 / ICC_BPR1_EL1 split a priority into the group priority, which alone decides preemption, and
 *       the subpriority ("Priority grouping"): Group 0 uses bits [7:BPR0+1], Group 1 bits [7:BPR1] (or BPR0's split
 *       when ICC_CTLR_EL1.CBPR is 1, and then BPR1 reads BPR0 + 1 and ignores writes). A write below the minimum
 *       (2 and 3 with five preemption bits) sets the minimum (QEMU's icc_bpr_write).</li>
 *   <li>Acknowledging an interrupt sets the bit of its group priority in ICC_AP0R0_EL1 or ICC_AP1R0_EL1; the
 *       running priority (ICC_RPR_EL1) is the lowest set bit of both, or 0xFF (idle). A priority drop (ICC_EOIR*)
 *       clears the lowest set bit of the highest active group, and only if that group is the EOIR's own
 *       (QEMU's icc_eoir_write: otherwise the write is ignored).</li>
 *   <li>A pending interrupt of group g preempts when its priority is below PMR and its group priority below the
 *       running priority's: with a mask of the form {@code ~0 << k} that is exactly {@code priority <
 *       min(PMR, RPR & mask(g))}, which {@link #threshold(boolean)} holds ready for other threads (a halted vCPU's
 *       wake-up check) as one volatile int per group; 0 when the group is disabled (ICC_IGRPEN0/1).</li>
 *   <li>ICC_CTLR_EL1: PRIbits = 4 (five priority bits), IDbits = 0 (16-bit INTIDs), A3V = 0, SEIS = 0; CBPR and
 *       EOImode are stored (EOImode 1 splits priority drop, ICC_EOIR*, from deactivation, ICC_DIR_EL1).</li>
 * </ul>
 *
 * <p>The vCPU's own thread is the only writer. Other threads read the thresholds and the group enables (volatile),
 * the latter for 1-of-N SPI distribution.
 */
final class CpuInterface {
    /** The running priority when nothing is active, as used in threshold arithmetic: below every priority. */
    static final int IDLE = 0x100;

    private int pmr;
    private int bpr0 = MIN_BPR0;
    private int bpr1 = MIN_BPR1;
    private long ctlr;
    private volatile boolean group0Enabled;
    private volatile boolean group1Enabled;
    /** ICC_AP0R0_EL1 and ICC_AP1R0_EL1: bit n, group priority n &lt;&lt; 3 active. */
    private int ap0;
    private int ap1;
    private volatile int threshold0;
    private volatile int threshold1;

    /** Priority values strictly below this are signalled for the group; 0 when the group is disabled. */
    int threshold(boolean group1) {
        return group1 ? threshold1 : threshold0;
    }

    /** ICC_IGRPEN1_EL1.Enable (true) or ICC_IGRPEN0_EL1.Enable. */
    boolean groupEnabled(boolean group1) {
        return group1 ? group1Enabled : group0Enabled;
    }

    boolean eoiMode() {
        return (ctlr & CTLR_EOIMODE) != 0;
    }

    // ------------------------------------------------------------------------------------------ registers

    long readPmr() {
        return pmr;
    }

    void writePmr(long value) {
        pmr = (int) value & PRIORITY_MASK;
        recompute();
    }

    long readIgrpen(boolean group1) {
        return groupEnabled(group1) ? CpuInterfaceRegisterDescriptor.IGRPEN_ENABLE : 0;
    }

    /** Returns whether the enable changed (1-of-N participation depends on it). */
    boolean writeIgrpen(boolean group1, long value) {
        boolean on = (value & CpuInterfaceRegisterDescriptor.IGRPEN_ENABLE) != 0;
        boolean was = groupEnabled(group1);
        if (group1) {
            group1Enabled = on;
        } else {
            group0Enabled = on;
        }
        recompute();
        return on != was;
    }

    long readCtlr() {
        return ((long) (PRIORITY_BITS - 1) << CTLR_PRI_BITS_SHIFT) | (0L << CTLR_ID_BITS_SHIFT) | ctlr;
    }

    void writeCtlr(long value) {
        ctlr = value & CTLR_WRITABLE;
        recompute();
    }

    long readBpr(boolean group1) {
        if (!group1) {
            return bpr0;
        }
        return (ctlr & CTLR_CBPR) != 0 ? Math.min(bpr0 + 1, BPR_MASK) : bpr1;
    }

    void writeBpr(boolean group1, long value) {
        int v = (int) (value & BPR_MASK);
        if (!group1) {
            bpr0 = Math.max(v, MIN_BPR0);
        } else if ((ctlr & CTLR_CBPR) == 0) {
            bpr1 = Math.max(v, MIN_BPR1);
        } else {
            return; // CBPR: BPR1 writes are ignored
        }
        recompute();
    }

    /** ICC_AP0R0_EL1 / ICC_AP1R0_EL1 (the only active priorities registers with five preemption bits). */
    long readActivePriorities(boolean group1) {
        return (group1 ? ap1 : ap0) & 0xFFFF_FFFFL;
    }

    void writeActivePriorities(boolean group1, long value) {
        if (group1) {
            ap1 = (int) value;
        } else {
            ap0 = (int) value;
        }
        recompute();
    }

    /** ICC_RPR_EL1: the group priority of the highest active priority, or 0xFF. */
    int runningPriority() {
        int ap = ap0 | ap1;
        return ap == 0 ? IDLE_PRIORITY : Integer.numberOfTrailingZeros(ap) << (8 - PRIORITY_BITS);
    }

    // ------------------------------------------------------------------------------------------ acknowledge / EOI

    /** An interrupt of priority {@code priority} in group {@code group1} was acknowledged: its group priority is active. */
    void activate(boolean group1, int priority) {
        int bit = 1 << ((priority & groupPriorityMask(group1)) >>> (8 - PRIORITY_BITS));
        if (group1) {
            ap1 |= bit;
        } else {
            ap0 |= bit;
        }
        recompute();
    }

    /**
     * The priority drop of an ICC_EOIR{@code group1 ? 1 : 0}_EL1 write: clears the highest active priority if it
     * belongs to that group (a tie goes to Group 0, QEMU's icc_highest_active_group). Returns whether it dropped.
     */
    boolean dropPriority(boolean group1) {
        if (ap0 == 0 && ap1 == 0) {
            return false;
        }
        boolean highestIsGroup1 = Integer.numberOfTrailingZeros(ap1) < Integer.numberOfTrailingZeros(ap0);
        if (highestIsGroup1 != group1) {
            return false;
        }
        if (group1) {
            ap1 &= ap1 - 1;
        } else {
            ap0 &= ap0 - 1;
        }
        recompute();
        return true;
    }

    /** The group priority mask of group {@code group1} (QEMU's icc_gprio_mask, the GroupBits() pseudocode). */
    int groupPriorityMask(boolean group1) {
        int shift = !group1 || (ctlr & CTLR_CBPR) != 0 ? bpr0 + 1 : bpr1;
        return (0xFF << shift) & 0xFF;
    }

    /** Recomputes both thresholds; a volatile write only for one that changed (the LPI acknowledge/EOI path). */
    private void recompute() {
        int ap = ap0 | ap1;
        int running = ap == 0 ? IDLE : Integer.numberOfTrailingZeros(ap) << (8 - PRIORITY_BITS);
        int t0 = group0Enabled ? Math.min(pmr, running == IDLE ? IDLE : running & groupPriorityMask(false)) : 0;
        int t1 = group1Enabled ? Math.min(pmr, running == IDLE ? IDLE : running & groupPriorityMask(true)) : 0;
        if (t0 != threshold0) {
            threshold0 = t0;
        }
        if (t1 != threshold1) {
            threshold1 = t1;
        }
    }
}
