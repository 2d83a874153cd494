package dev.jvmm.bench.cpu;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What {@code vmm bench cpu} runs.
 *
 * @param guest        the compute-bound kernel (default {@code guests/bench-cpu/bench-cpu.elf}); it takes
 *                     {@code iterations=N timing=1} as bootargs
 * @param iterations   the guest's {@code iterations=} bootarg
 * @param repetitions  runs on each side, alternating jvmm and QEMU
 * @param qemu         QEMU's program, or null to run jvmm alone
 * @param qemuNote     why QEMU does not run (when {@code qemu} is null), for the report
 * @param idleGuest    the guest idling in WFI for the idle figure (udp-sink with one NIC and no traffic), or null
 *                     to skip it
 * @param idleSeconds  the idle measurement's window
 * @param timeout      the longest one run may take
 */
public record CpuBenchOptions(Path guest, long iterations, int repetitions, Path qemu, String qemuNote, Path idleGuest,
                              double idleSeconds, Duration timeout) {

    public CpuBenchOptions {
        if (guest == null || !Files.isRegularFile(guest)) {
            throw new IllegalArgumentException("--guest: no such file: " + guest);
        }
        if (iterations < 0) {
            throw new IllegalArgumentException("--iterations: must be 0 or more, got " + iterations);
        }
        if (repetitions < 1 || repetitions > 1000) {
            throw new IllegalArgumentException("--repetitions: must be between 1 and 1000, got " + repetitions);
        }
        if (idleGuest != null && !Files.isRegularFile(idleGuest)) {
            throw new IllegalArgumentException("--idle-guest: no such file: " + idleGuest);
        }
        if (!(idleSeconds >= 0) || idleSeconds > 3600) {
            throw new IllegalArgumentException("--idle-seconds: must be between 0 and 3600, got " + idleSeconds);
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("--timeout: must be positive");
        }
    }

    /** The bootargs every run gets. */
    public String append() {
        return "iterations=" + iterations + " timing=1";
    }
}
