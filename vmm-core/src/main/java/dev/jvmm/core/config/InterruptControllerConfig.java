package dev.jvmm.core.config;

/**
 * What the interrupt controller's section tells the other sections, so that a device's section can check its
 * relation to the controller without depending on the module that provides it: vmm-net checks a NIC's MSI parent
 * ({@code nics[i].its}) against it, and vmm-gic's {@code GicConfig} implements it. {@link VmConfig#interruptController()}
 * finds it among the sections.
 */
public interface InterruptControllerConfig {

    /** How many MSI controllers (ITSes) the machine has; a device's MSI parent is one of 0 .. count - 1. */
    int msiControllerCount();
}
