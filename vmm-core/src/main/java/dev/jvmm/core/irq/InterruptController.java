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
     * Whether {@code vcpu} has an interrupt that its CPU interface would signal now (pending, enabled, above the
     * priority mask, group enabled). A halted vCPU polls this; it must be cheap (a volatile read).
     */
    boolean hasPendingInterrupt(int vcpu);

    /** A guest read of a CPU-interface system register on {@code vcpu} (ICC_IAR1_EL1 acknowledges). */
    long readSystemRegister(int vcpu, SystemRegister register);

    /** A guest write of a CPU-interface system register on {@code vcpu}. */
    void writeSystemRegister(int vcpu, SystemRegister register, long value);

    /** Releases what the controller holds (its caches). Called once, after every thread that injects has stopped. */
    @Override
    default void close() {
    }
}
