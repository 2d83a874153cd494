package dev.jvmm.gic;

/**
 * The affinity of each vCPU, as QEMU's {@code virt} machine with GICv3 and KVM lay out MPIDR_EL1: Aff0 = the
 * processor number modulo 16 (an SGI target list has 16 bits), Aff1 = the cluster of 16, Aff2 = Aff3 = 0 for
 * every machine this GIC builds (fewer than 4096 vCPUs). GICR_TYPER[63:32], GICD_IROUTER and ICC_SGI*R_EL1 name PEs
 * by these values.
 */
final class Affinity {
    /** PEs per cluster: the width of an SGI target list. */
    static final int CLUSTER = 16;
    static final int NONE = -1;

    private Affinity() {
    }

    /** Aff2.Aff1.Aff0 of {@code vcpu}, packed as GICD_IROUTER[23:0] and GICR_TYPER[55:32] hold it. */
    static long of(int vcpu) {
        return (vcpu % CLUSTER) | ((long) ((vcpu / CLUSTER) & 0xFF) << 8) | ((long) ((vcpu >>> 12) & 0xFF) << 16);
    }

    /** The vCPU whose affinity is {@code aff2.aff1.aff0} ([23:0]), or {@link #NONE}. */
    static int vcpuOf(long affinity, int vcpus) {
        int aff0 = (int) (affinity & 0xFF);
        int aff1 = (int) ((affinity >>> 8) & 0xFF);
        int aff2 = (int) ((affinity >>> 16) & 0xFF);
        if (aff0 >= CLUSTER) {
            return NONE;
        }
        long n = ((long) aff2 << 12) + (long) aff1 * CLUSTER + aff0;
        return n < vcpus && of((int) n) == (affinity & 0xFF_FFFFL) ? (int) n : NONE;
    }
}
