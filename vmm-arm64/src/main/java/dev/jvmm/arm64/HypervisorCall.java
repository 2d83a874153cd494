package dev.jvmm.arm64;

/**
 * What the board installs to serve HVC and SMC from EL1 (jvmm plays EL2 and EL3, as KVM does for PSCI and SMCCC):
 * the handler reads the function id and arguments from X0..X17 of {@code cpu} and writes results there. It runs on
 * the calling vCPU's thread, between two instructions; the CPU continues at the instruction after the HVC/SMC.
 *
 * <p>The default ({@link #NOT_SUPPORTED}) answers every function as KVM answers an unknown one: SMCCC's
 * NOT_SUPPORTED, -1, in X0.
 */
@FunctionalInterface
public interface HypervisorCall {
    /** The SMCCC return value for an unknown function (SMC Calling Convention, section 2.6: NOT_SUPPORTED). */
    long SMCCC_NOT_SUPPORTED = -1;

    HypervisorCall NOT_SUPPORTED = (cpu, conduit, imm16) -> cpu.setX(0, SMCCC_NOT_SUPPORTED);

    /** Which instruction called. */
    enum Conduit { HVC, SMC }

    /**
     * @param cpu     the calling CPU (its registers, {@link Arm64Cpu#powerOff()} for PSCI CPU_OFF ...)
     * @param conduit HVC or SMC
     * @param imm16   the instruction's immediate
     */
    void call(Arm64Cpu cpu, Conduit conduit, int imm16);
}
