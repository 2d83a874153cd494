package dev.jvmm.core.vcpu;

/** The life of a vCPU thread. */
public enum VcpuState {
    /** Created, thread not started. */
    CREATED,
    /** Executing guest code (or in a trap). */
    RUNNING,
    /** In WFI: polling, then sleeping until kicked. */
    HALTED,
    /** Parked by a pause request until resumed. */
    PAUSED,
    /** The guest program returned. */
    FINISHED,
    /** The guest program threw: see {@link Vcpu#fault()}. */
    FAULTED,
    /** Stopped by the VMM. */
    STOPPED
}
