package dev.jvmm.arm64;

import dev.jvmm.core.irq.IrqLine;

/**
 * The generic timer of one PE (Arm ARM D11 "The Generic Timer in AArch64 state"): the system counter at
 * {@link #FREQUENCY} Hz and the EL1 physical and virtual timers, each raising its PPI as a level interrupt while its
 * condition holds (ENABLE = 1, IMASK = 0, counter >= CVAL), as QEMU's and KVM's timers drive the GIC.
 *
 * <p>The counter is the host's monotonic clock ({@code GuestCpu.counterNanos()}) since the system's epoch, divided by
 * 16: 62.5 MHz is exactly one tick per 16 ns. CNTVOFF is 0 (there is no EL2 to set it), so CNTVCT = CNTPCT.
 *
 * <p>Time passing can only make a condition true; a register write can make it either. The CPU calls {@link #update}
 * after every timer register write, at its periodic checks and after WFI, which is what makes a line rise "promptly"
 * (within one check interval) and fall at once.
 */
final class GenericTimer {
    /** CNTFRQ_EL0: 62.5 MHz, as QEMU 7.2's {@code virt} machine. */
    static final long FREQUENCY = 62_500_000L;
    static final int NANOS_PER_TICK = 16;
    /** INTID of the EL1 virtual timer. */
    static final int VIRTUAL_PPI = 27;
    /** INTID of the EL1 (non-secure) physical timer. */
    static final int PHYSICAL_PPI = 30;

    static final int CTL_ENABLE = 1;
    static final int CTL_IMASK = 2;
    static final int CTL_ISTATUS = 4;

    private final Arm64Cpu cpu;
    long physCtl;
    long physCval;
    long virtCtl;
    long virtCval;
    private IrqLine physLine;
    private IrqLine virtLine;
    private boolean physHigh;
    private boolean virtHigh;

    GenericTimer(Arm64Cpu cpu) {
        this.cpu = cpu;
    }

    void attach(IrqLine physical, IrqLine virtual) {
        this.physLine = physical;
        this.virtLine = virtual;
        physHigh = false;
        virtHigh = false;
    }

    void reset() {
        physCtl = 0;
        virtCtl = 0;
        physCval = 0;
        virtCval = 0;
        update();
    }

    long counter() {
        // Before the first run (a board or test setting timer registers) there is no GuestCpu yet: the host clock.
        dev.jvmm.core.vcpu.GuestCpu io = cpu.io();
        long now = io != null ? io.counterNanos() : System.nanoTime();
        return (now - cpu.system().counterEpochNanos()) / NANOS_PER_TICK;
    }

    private static boolean fires(long ctl, long cval, long now) {
        return (ctl & CTL_ENABLE) != 0 && Long.compareUnsigned(now, cval) >= 0;
    }

    long ctl(boolean virtual) {
        long now = counter();
        long ctl = virtual ? virtCtl : physCtl;
        long cval = virtual ? virtCval : physCval;
        return (ctl & (CTL_ENABLE | CTL_IMASK)) | (fires(ctl, cval, now) ? CTL_ISTATUS : 0);
    }

    /** Drives both PPI lines to what the conditions say now. */
    void update() {
        long now = counter();
        boolean p = fires(physCtl, physCval, now) && (physCtl & CTL_IMASK) == 0;
        boolean v = fires(virtCtl, virtCval, now) && (virtCtl & CTL_IMASK) == 0;
        if (p != physHigh) {
            physHigh = p;
            if (physLine != null) {
                physLine.set(p);
            }
        }
        if (v != virtHigh) {
            virtHigh = v;
            if (virtLine != null) {
                virtLine.set(v);
            }
        }
    }

    /** Whether either line is high (for tests and for WFI without a GIC line). */
    boolean asserted() {
        return physHigh || virtHigh;
    }

    /**
     * The host time ({@code counterNanos} domain) at which the next enabled, unmasked timer whose condition does not
     * hold yet will fire, or {@link Long#MAX_VALUE}.
     */
    long nextDeadlineNanos() {
        long now = counter();
        long best = Long.MAX_VALUE;
        if ((physCtl & (CTL_ENABLE | CTL_IMASK)) == CTL_ENABLE && !fires(physCtl, physCval, now)) {
            best = Math.min(best, toNanos(physCval));
        }
        if ((virtCtl & (CTL_ENABLE | CTL_IMASK)) == CTL_ENABLE && !fires(virtCtl, virtCval, now)) {
            best = Math.min(best, toNanos(virtCval));
        }
        return best;
    }

    private long toNanos(long ticks) {
        if (Long.compareUnsigned(ticks, Long.MAX_VALUE / NANOS_PER_TICK / 2) > 0) {
            return Long.MAX_VALUE;
        }
        long n = cpu.system().counterEpochNanos() + ticks * NANOS_PER_TICK;
        return n < cpu.system().counterEpochNanos() ? Long.MAX_VALUE : n;
    }
}
