package dev.jvmm.arm64;

/**
 * Unwinds the execution of one instruction when it raises a synchronous exception deep inside (a translation fault in
 * the middle of a load, an UNDEFINED system-register access). The syndrome is already recorded in the CPU
 * ({@link Arm64Cpu#raise}); the block executor catches this, computes the faulting instruction's address and takes
 * the exception. One preallocated instance per CPU: no stack trace, no allocation.
 */
final class GuestTrap extends RuntimeException {
    private static final long serialVersionUID = 1L;

    GuestTrap() {
        super("guest synchronous exception", null, false, false);
    }
}
