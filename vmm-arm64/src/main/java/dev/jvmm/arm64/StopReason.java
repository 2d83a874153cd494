package dev.jvmm.arm64;

/** Why {@link Arm64Cpu#run(dev.jvmm.core.vcpu.GuestCpu, RunOptions)} returned. */
public enum StopReason {
    /** The instruction budget of {@link RunOptions#maxInstructions} is spent. */
    INSTRUCTION_LIMIT,
    /** The PC reached {@link RunOptions#stopAt}; the instruction there has not executed. */
    ADDRESS,
    /** A BRK that {@link RunOptions} stops at is about to execute; the PC is the BRK's address, nothing was taken. */
    BREAKPOINT,
    /** An exception was taken to EL1 and {@link RunOptions#stopOnException} asked to stop: the PC is the vector. */
    EXCEPTION,
    /** A WFI was executed and {@link RunOptions#stopOnWfi} asked to stop (the PC is the next instruction). */
    WFI,
    /** The CPU is powered off (PSCI CPU_OFF from the hypervisor-call handler, or it never was powered on). */
    POWERED_OFF,
    /** The guest did something no vector can handle; see {@link Arm64Cpu#fatal()}. */
    FATAL
}
