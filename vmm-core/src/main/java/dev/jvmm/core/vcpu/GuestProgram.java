package dev.jvmm.core.vcpu;

/**
 * Guest code: what a vCPU runs. Each vCPU runs its own instance. Returning ends the vCPU's run (like a PSCI
 * CPU_OFF); throwing any exception other than {@link VcpuExit} stops the vCPU with a fault that the machine reports.
 */
@FunctionalInterface
public interface GuestProgram {
    void run(GuestCpu cpu);
}
