package dev.jvmm.gic;

import dev.jvmm.core.irq.IrqLine;

/**
 * The input line of one SPI, or of one vCPU's PPI, as a device drives it ({@link GicV3#spiLine},
 * {@link GicV3#ppiLine}). Driving a line to the level it already has is a volatile read and nothing else, so a
 * timer that re-asserts its output at every check costs no lock; a change takes the wired interrupts' lock.
 */
final class WiredLine implements IrqLine {
    private final WiredInterrupts wired;
    private final int bank;
    private final int intid;
    /** The line's level as last driven; written under the wired lock. */
    volatile boolean high;

    WiredLine(WiredInterrupts wired, int bank, int intid) {
        this.wired = wired;
        this.bank = bank;
        this.intid = intid;
    }

    @Override
    public int intid() {
        return intid;
    }

    @Override
    public void set(boolean level) {
        if (high != level) {
            wired.setLine(bank, intid, level, this);
        }
    }

    @Override
    public void pulse() {
        wired.pulse(bank, intid, this);
    }

    @Override
    public String toString() {
        return "IrqLine[INTID " + intid + (high ? ", high" : ", low") + "]";
    }
}
