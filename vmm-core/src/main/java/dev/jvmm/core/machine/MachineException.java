package dev.jvmm.core.machine;

/**
 * A machine could not be built or started for a reason its user can act on (a port already in use, not enough
 * memory). The message is complete on its own: the launcher prints it without a stack trace.
 */
public final class MachineException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MachineException(String message) {
        super(message);
    }

    public MachineException(String message, Throwable cause) {
        super(message, cause);
    }
}
