package dev.jvmm.core.machine;

/** The machine's lifecycle: CREATED -> RUNNING <-> PAUSED -> STOPPED (stop is allowed from every state). */
public enum MachineState {
    CREATED, RUNNING, PAUSED, STOPPED
}
