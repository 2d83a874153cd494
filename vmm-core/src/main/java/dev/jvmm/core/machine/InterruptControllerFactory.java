package dev.jvmm.core.machine;

import dev.jvmm.core.irq.InterruptController;

/** Builds the machine's interrupt controller; it registers its MMIO frames on the context's bus. */
@FunctionalInterface
public interface InterruptControllerFactory {
    InterruptController create(MachineContext context);
}
