package dev.jvmm.core.machine;

/**
 * Hears about internal errors: an exception that is nobody's fault but jvmm's (or a plug-in's, such as a backend an
 * embedder wrote), never the guest's doing. The machine's threads never let such an exception escape (they count it
 * and carry on, as they must for an untrusted guest); this is how an embedder learns that it happened, with the
 * component and the exception: an ITS command, a device's task on its event loop, a NIC backend, the injector thread.
 * Guest errors (a broken ring, a bad ITS command) and host I/O errors (a socket error) are counted elsewhere and do
 * not come here.
 *
 * <p>Called in the thread that met the error, possibly a hot one (an event loop, the injector), and possibly
 * concurrently: be quick, thread-safe, and do not throw (what a listener throws is dropped).
 *
 * <pre>{@code
 * Machine.builder(config).failureListener((component, e) -> log.error("jvmm: {} failed", component, e)) ...
 * }</pre>
 */
@FunctionalInterface
public interface FailureListener {

    /** A listener that does nothing (the count in {@link Failures} still grows). */
    FailureListener NONE = (component, error) -> {
    };

    /**
     * @param component what failed, for a person: {@code "ITS 0 command MAPTI"}, {@code "nic net0 backend"},
     *                  {@code "irq injector"}
     * @param error     what it threw
     */
    void failed(String component, Throwable error);
}
