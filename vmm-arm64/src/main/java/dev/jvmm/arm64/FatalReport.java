package dev.jvmm.arm64;

/**
 * The guest did something no vector can handle: every exception it takes faults again before one instruction of the
 * handler runs (VBAR_EL1 pointing at unmapped or non-RAM memory, a vector table of UNDEFINED words ...), or the CPU
 * met an internal error. The CPU stops executing and reports this once; the board ends the machine.
 *
 * @param cpu     the CPU's index
 * @param pc      the PC where it stopped
 * @param esr     ESR_EL1 of the last exception
 * @param far     FAR_EL1 of the last exception
 * @param message what happened, in the guest's terms
 */
public record FatalReport(int cpu, long pc, long esr, long far, String message) {
    @Override
    public String toString() {
        return String.format("vCPU %d: %s (pc 0x%x, ESR_EL1 0x%x, FAR_EL1 0x%x)", cpu, message, pc, esr, far);
    }
}
