package dev.jvmm.arm64;

/**
 * The outcome of a bounded run: why it stopped, where, and how many instructions it retired.
 *
 * @param reason       why the run stopped
 * @param pc           the PC when it stopped (see {@link StopReason} for what it points at)
 * @param instructions instructions retired by this run
 */
public record Stop(StopReason reason, long pc, long instructions) {
}
