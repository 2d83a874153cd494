package dev.jvmm.core.machine;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.IrqObserver;
import dev.jvmm.core.irq.IrqRouter;
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

    int vcpuCount();

    /** Wakes vCPU {@code index} if it waits for an interrupt; cheap when it runs. Any thread may call it. */
    void kick(int index);

    /** The observer of MSIs and acknowledges (for tracing); never null. */
    IrqObserver observer();
}
