package dev.jvmm.core.vcpu;

/**
 * Thrown out of a trapped operation when the VMM stops the vCPU; it unwinds the guest program. Guest code must not
 * catch it (it is an {@link Error} so that {@code catch (Exception e)} in guest code does not swallow it).
 */
public final class VcpuExit extends Error {
    private static final long serialVersionUID = 1L;

    static final VcpuExit INSTANCE = new VcpuExit();

    private VcpuExit() {
        super("vCPU stopped", null, false, false);
    }
}
