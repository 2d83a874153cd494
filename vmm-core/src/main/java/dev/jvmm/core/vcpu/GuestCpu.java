package dev.jvmm.core.vcpu;

import dev.jvmm.core.memory.GuestMemory;

/**
 * What guest code running on a vCPU can do: exactly what guest code has on real hardware, and nothing more.
 *
 * <ul>
 *   <li>load and store its RAM ({@link #memory()});</li>
 *   <li>load and store device registers: {@link #mmioRead}/{@link #mmioWrite} are trapped accesses that go through
 *       the MMIO bus (a data abort in strict mode when no device answers: {@link dev.jvmm.core.bus.MmioFault});</li>
 *   <li>read and write the GIC CPU-interface system registers ({@link #readSystemRegister});</li>
 *   <li>wait for an interrupt ({@link #waitForInterrupt()}, the WFI instruction);</li>
 *   <li>read a monotonic counter ({@link #counterNanos()}, as the generic timer's CNTVCT).</li>
 * </ul>
 *
 * <p>Guest code holds no reference to a device object. Every trapped operation is also an exit to the VMM, where a
 * pause or stop request takes effect: on stop, the call throws {@link VcpuExit}, which guest code must let
 * propagate (it unwinds the guest program; catching it is a guest bug). Guest code that loops without ever
 * calling one of these methods cannot be paused, exactly as a vCPU that never exits could not; call
 * {@link #checkpoint()} in such loops.
 *
 * <p>A {@code GuestCpu} belongs to its vCPU thread; it must not be used from any other thread.
 */
public interface GuestCpu extends GuestAccess {

    /** This vCPU's index (its processor number, 0-based). */
    int index();

    /** How many vCPUs the machine has. */
    int vcpuCount();

    /** Guest RAM. */
    @Override
    GuestMemory memory();

    /** A trapped load of {@code size} (1, 2, 4, 8) bytes at guest physical address {@code address}: an exit. */
    @Override
    long mmioRead(long address, int size);

    /** A trapped store: an exit. */
    @Override
    void mmioWrite(long address, int size, long value);

    /** MRS: a trapped system-register read. */
    long readSystemRegister(SystemRegister register);

    /** MSR: a trapped system-register write. */
    void writeSystemRegister(SystemRegister register, long value);

    /**
     * WFI: returns when an interrupt is pending for this CPU interface, or spuriously (a kick, a pause and resume),
     * as the architecture allows. Polls for {@code halt-poll} first, then sleeps until kicked.
     */
    void waitForInterrupt();

    /**
     * WFI with a wake-up time: as {@link #waitForInterrupt()}, but also returns once {@link System#nanoTime()}
     * reaches {@code deadlineNanos} (the earliest generic-timer deadline of this CPU), without spinning until then.
     */
    void waitForInterrupt(long deadlineNanos);

    /**
     * Whether this CPU interface signals an IRQ now ({@link dev.jvmm.core.irq.InterruptController#hasPendingInterrupt}):
     * a CPU that executes guest code checks it between blocks and takes the IRQ exception when PSTATE.I is clear.
     * A volatile read; not an exit.
     */
    boolean interruptSignalled();

    /**
     * This vCPU's wired private peripheral interrupt {@code intid} (16..31), for a per-CPU device such as the
     * generic timer (virtual timer INTID 27, non-secure physical timer INTID 30).
     */
    dev.jvmm.core.irq.IrqLine ppiLine(int intid);

    /** A monotonic time in nanoseconds (the guest's view of the generic timer). */
    long counterNanos();

    /** An exit that does nothing but let a pending pause or stop request take effect. */
    void checkpoint();
}
