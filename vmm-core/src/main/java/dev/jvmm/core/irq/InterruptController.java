package dev.jvmm.core.irq;

import dev.jvmm.core.vcpu.SystemRegister;

/**
 * What core needs of an interrupt controller (vmm-gic implements it): MSI injection on two paths, the state a
 * halted vCPU waits on, and the CPU-interface system registers guest code reads and writes.
 *
 * <p>Results of the injection methods are packed by {@link InjectResult}.
 */
public interface InterruptController extends AutoCloseable {

    /**
     * The non-blocking cached path, the analogue of KVM's {@code kvm_arch_set_irq_inatomic}: called in the thread
     * that signalled the irqfd (a device's thread, a Netty event loop). Never blocks, never allocates, takes no lock
     * that a slow path can hold for long. Returns {@link InjectResult#MISS_RESULT} when it cannot decide without
     * the slow path (no cached translation); the caller then hands the MSI to {@link #injectSlow}.
     *
     * @param doorbell    the MSI's address (a GITS_TRANSLATER)
     * @param data        the MSI's data (the EventID)
     * @param deviceId    the requester's DeviceID
     * @param signalNanos {@link System#nanoTime()} when the MSI was signalled, kept with the pending interrupt so
     *                    that its acknowledge can report the whole latency
     */
    long tryInjectCached(long doorbell, int data, int deviceId, long signalNanos);

    /**
     * The full translation and injection: may take the controller's locks, walks its tables, fills its
     * translation cache. Called from the injector thread or from a synchronous MSI.
     */
    long injectSlow(long doorbell, int data, int deviceId, long signalNanos);

    /**
     * A synchronous MSI as {@code KVM_SIGNAL_MSI} performs it: the cached path, then, on a miss, the slow path in the
     * calling thread. Returns the packed result of whichever path decided.
     */
    default long inject(long doorbell, int data, int deviceId, long signalNanos) {
        long r = tryInjectCached(doorbell, data, deviceId, signalNanos);
        return InjectResult.isMiss(r) ? injectSlow(doorbell, data, deviceId, signalNanos) : r;
    }

    /**
     * Where a device's MSIs go: the doorbell of MSI controller {@code controller} (an ITS) and the DeviceID the
     * device's writes carry. A device asks once, when the machine builds it, so that no device computes an
     * interrupt controller's address itself.
     *
     * @throws IllegalArgumentException when there is no such controller or the DeviceID does not fit it
     * @throws UnsupportedOperationException when the controller takes no MSIs
     */
    default MsiTarget msiTarget(int controller, int deviceId) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " takes no MSIs");
    }

    /**
     * Whether the CPU interface of {@code vcpu} signals an IRQ now: its highest-priority pending interrupt is
     * enabled, its group is enabled, and its priority beats both the priority mask and the running priority (so
     * that it could preempt what is active). A halted vCPU polls this, and a CPU that executes guest code checks it
     * to take the IRQ exception; it must be cheap (a volatile read).
     */
    boolean hasPendingInterrupt(int vcpu);

    /**
     * The wired line of shared peripheral interrupt {@code intid} (32..1019), for a device to drive.
     *
     * @throws IllegalArgumentException when the controller has no such SPI
     * @throws UnsupportedOperationException when the controller has no wired interrupts
     */
    default IrqLine spiLine(int intid) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no wired interrupts (SPI " + intid + ")");
    }

    /**
     * The wired line of private peripheral interrupt {@code intid} (16..31) of vCPU {@code vcpu}, for a per-CPU
     * device (the generic timer) to drive.
     *
     * @throws IllegalArgumentException when there is no such vCPU or PPI
     * @throws UnsupportedOperationException when the controller has no wired interrupts
     */
    default IrqLine ppiLine(int vcpu, int intid) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no wired interrupts (PPI " + intid + ")");
    }

    /**
     * Whether the controller implements {@code register}. An MRS or MSR of one it does not implement is UNDEFINED
     * in the guest (a CPU checks before trapping here): with five bits of priority, for instance, a GICv3 has no
     * ICC_AP1R1..3_EL1 (IHI 0069, ICC_AP1R&lt;n&gt;_EL1). Every register by default.
     */
    default boolean implementsRegister(SystemRegister register) {
        return true;
    }

    /** A guest read of a CPU-interface system register on {@code vcpu} (ICC_IAR1_EL1 acknowledges). */
    long readSystemRegister(int vcpu, SystemRegister register);

    /** A guest write of a CPU-interface system register on {@code vcpu}. */
    void writeSystemRegister(int vcpu, SystemRegister register, long value);

    /** Releases what the controller holds (its caches). Called once, after every thread that injects has stopped. */
    @Override
    default void close() {
    }
}
