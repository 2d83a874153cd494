package dev.jvmm.bench.seed;

import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.IrqObserver;
import dev.jvmm.core.machine.Machine;
import dev.jvmm.net.NetBackend;

/**
 * Builds the toy-guest machine a seed cell measures: the GICv3, the configuration's NICs with the backends given,
 * and the toy guest on its vCPUs, not started. The benchmark does not wire machines itself; whoever runs it (the
 * launcher, with its {@code VirtualMachine}) hands it this, so that one place wires machines and vmm-bench depends on
 * nothing above the modules it measures.
 */
@FunctionalInterface
public interface MachineFactory {

    /**
     * @param observer sees every MSI and acknowledge (the benchmark's end-to-end probe)
     * @param backends makes each NIC's backend (the built-in ones decorated by the probe)
     */
    Machine build(VmConfig config, String name, IrqObserver observer, NetBackend.Factory backends);
}
