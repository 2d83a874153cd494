package dev.jvmm.core.machine;

/**
 * A device the machine owns: created by a {@link DeviceFactory} when the machine is built (it registers its MMIO
 * range then), started before the vCPUs, closed when the machine stops.
 */
public interface MachineDevice extends AutoCloseable {

    String name();

    /**
     * Acquires host resources (binds sockets, starts threads). A failure that the user can fix (a port in use)
     * throws {@link MachineException} with a message naming the device and the resource.
     */
    default void start() {
    }

    /** Stops taking host input until {@link #resume()} (the machine is paused). */
    default void pause() {
    }

    default void resume() {
    }

    /**
     * Releases everything: closes sockets, joins every thread the device started. After it returns, no thread of
     * the device touches guest memory. Idempotent.
     */
    @Override
    void close();
}
