package dev.jvmm.gic;

import static dev.jvmm.gic.LpiTableDescriptor.PRIORITY_BITS;
import static dev.jvmm.gic.LpiTableDescriptor.PRIORITY_LEVEL_SHIFT;
import static dev.jvmm.gic.LpiTableDescriptor.priorityOfLevel;

/**
 * One vCPU's GICv3 CPU interface, group 1 only (the system registers of the GICv3 architecture, "CPU interface"):
 * the priority mask, the group enable, and the active priorities that make the running priority.
 *
 * <ul>
 *   <li>ICC_PMR_EL1: an interrupt is signalled only if its priority value is below the mask. Five bits are
 *       implemented ([7:3], as KVM's vGIC), so a write keeps {@code value & 0xF8}. Resets to 0 (all masked):
 *       guest code must open it, as real guests do.</li>
 *   <li>ICC_IGRPEN1_EL1 bit 0: group 1 enabled. Resets to 0.</li>
 *   <li>Acknowledging an interrupt marks its priority active (ICC_AP1R0_EL1, one bit per level); ICC_EOIR1_EL1
 *       drops the highest active priority (priority drop; LPIs have no active state to deactivate).</li>
 *   <li>ICC_CTLR_EL1: PRIbits = 4 (five priority bits), IDbits = 0 (16-bit INTIDs), A3V = 0; EOImode and CBPR
 *       are stored.</li>
 * </ul>
 *
 * <p>The registers belong to the vCPU's own thread, which is the only writer. {@link #threshold()} is what other
 * threads need (a halted vCPU's wake-up check): a volatile int recomputed on every change.
 */
final class CpuInterface {
    static final int PMR_MASK = ((1 << PRIORITY_BITS) - 1) << PRIORITY_LEVEL_SHIFT;
    /** The running priority when nothing is active: below every implemented priority. */
    static final int IDLE_PRIORITY = 0x100;
    static final long CTLR_CBPR = 1L;
    static final long CTLR_EOIMODE = 1L << 1;
    static final long CTLR_PRI_BITS = (long) (PRIORITY_BITS - 1) << 8;
    static final long CTLR_ID_BITS_16 = 0L << 11;
    static final long CTLR_WRITABLE = CTLR_CBPR | CTLR_EOIMODE;

    private int pmr;
    private boolean groupEnabled;
    private int activeLevels;
    private long ctlr;
    /** Priority values strictly below this are signalled; 0 masks everything. */
    private volatile int threshold;

    int threshold() {
        return threshold;
    }

    boolean groupEnabled() {
        return groupEnabled;
    }

    long readPmr() {
        return pmr;
    }

    void writePmr(long value) {
        pmr = (int) value & PMR_MASK;
        recompute();
    }

    long readIgrpen1() {
        return groupEnabled ? 1 : 0;
    }

    void writeIgrpen1(long value) {
        groupEnabled = (value & 1) != 0;
        recompute();
    }

    long readCtlr() {
        return CTLR_PRI_BITS | CTLR_ID_BITS_16 | ctlr;
    }

    void writeCtlr(long value) {
        ctlr = value & CTLR_WRITABLE;
    }

    /** An interrupt of {@code level} was acknowledged: its priority becomes active. */
    void activate(int level) {
        activeLevels |= 1 << level;
        recompute();
    }

    /** ICC_EOIR1_EL1: drops the highest active priority, if any. */
    void dropPriority() {
        if (activeLevels != 0) {
            activeLevels &= activeLevels - 1;
            recompute();
        }
    }

    /** ICC_RPR_EL1's value: the highest active priority, or the idle priority. */
    int runningPriority() {
        return activeLevels == 0 ? IDLE_PRIORITY : priorityOfLevel(Integer.numberOfTrailingZeros(activeLevels));
    }

    private void recompute() {
        threshold = groupEnabled ? Math.min(pmr, runningPriority()) : 0;
    }
}
