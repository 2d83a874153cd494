package dev.jvmm.arm64;

import dev.jvmm.core.irq.IrqLine;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.vcpu.GuestCpu;

/**
 * What the {@link GuestCpu} doubles of the CPU's tests share: the vCPU's index and count, guest RAM, and PPI lines
 * that report their level to {@link #ppiLevel} (a double without an interrupt controller ignores it).
 */
public abstract class AbstractTestGuestCpu implements GuestCpu {
    private final GuestMemory memory;
    private final int index;
    private final int count;

    protected AbstractTestGuestCpu(GuestMemory memory, int index, int count) {
        this.memory = memory;
        this.index = index;
        this.count = count;
    }

    @Override
    public int index() {
        return index;
    }

    @Override
    public int vcpuCount() {
        return count;
    }

    @Override
    public GuestMemory memory() {
        return memory;
    }

    @Override
    public IrqLine ppiLine(int intid) {
        return new IrqLine() {
            @Override
            public int intid() {
                return intid;
            }

            @Override
            public void set(boolean high) {
                ppiLevel(intid, high);
            }

            @Override
            public void pulse() {
            }
        };
    }

    /** PPI {@code intid}'s line was driven to {@code high}. */
    protected void ppiLevel(int intid, boolean high) {
    }
}
