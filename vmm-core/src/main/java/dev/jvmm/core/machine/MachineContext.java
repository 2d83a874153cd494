package dev.jvmm.core.machine;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.IrqObserver;
import dev.jvmm.core.irq.IrqRouter;
import dev.jvmm.core.irq.MsiTarget;
import dev.jvmm.core.memory.GuestMemory;

/**
 * What a machine gives the interrupt controller and the devices it builds: the shared pieces, and a way to kick
 * a vCPU. It gives no access to other devices: devices talk to each other only through the bus and MSIs.
 */
public interface MachineContext {

    /** The machine's name (a prefix of its threads' names). */
    String name();

    VmConfig config();

    GuestMemory memory();

    MmioBus bus();

    /**
     * MSI routing and irqfds. Available to devices; the interrupt controller is built before the router exists and
     * must not call this while it is being created.
     */
    IrqRouter irqRouter();

    /** How many vCPUs the machine has (0 for a device-only machine). */
    int vcpuCount();

    /** Wakes vCPU {@code index} if it waits for an interrupt; cheap when it runs. Any thread may call it. */
    void kick(int index);

    /** The observer of MSIs and acknowledges (for tracing); never null. */
    IrqObserver observer();

    /**
     * Where a device's MSIs go, as the interrupt controller hands it out
     * ({@link dev.jvmm.core.irq.InterruptController#msiTarget}): a device asks with the MSI controller its
     * configuration names and its DeviceID, and never computes a controller's address itself. Available to devices.
     *
     * @throws IllegalArgumentException when the controller has no such MSI controller or DeviceID
     */
    MsiTarget msiTarget(int msiController, int deviceId);

    /** Where a device reports its internal errors (see {@link FailureListener}). */
    Failures failures();
}
