package dev.jvmm.bench.peer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What {@code vmm bench peer} runs.
 *
 * @param guest         the compiled udp-sink (default {@code guests/udp-sink/udp-sink.elf})
 * @param seconds       traffic per side and repetition
 * @param bitsPerSecond the sender's payload rate (the seed's 40 Mbit/s by default)
 * @param length        UDP payload bytes (the seed's 64)
 * @param repetitions   runs of every side, alternating
 * @param qemu          QEMU's program, or null to run jvmm's sides alone
 * @param qemuNote      why QEMU does not run, for the report
 * @param senderNice    the sender thread's nice value (as the seed's)
 * @param bootTimeout   the longest a guest may take to print its first counter line
 */
public record PeerBenchOptions(Path guest, double seconds, long bitsPerSecond, int length, int repetitions, Path qemu,
                               String qemuNote, int senderNice, Duration bootTimeout) {
    public PeerBenchOptions {
        if (guest == null || !Files.isRegularFile(guest)) {
            throw new IllegalArgumentException("--guest: no such file: " + guest);
        }
        if (!(seconds > 0) || seconds > 3600) {
            throw new IllegalArgumentException("--seconds: must be more than 0 and at most 3600, got " + seconds);
        }
        if (bitsPerSecond <= 0) {
            throw new IllegalArgumentException("--rate: must be positive, got " + bitsPerSecond);
        }
        if (length < 16 || length > 1472) {
            throw new IllegalArgumentException("--length: must be between 16 and 1472 bytes, got " + length);
        }
        if (repetitions < 1 || repetitions > 100) {
            throw new IllegalArgumentException("--repetitions: must be between 1 and 100, got " + repetitions);
        }
        if (senderNice < 0 || senderNice > 19) {
            throw new IllegalArgumentException("--sender-nice: must be between 0 and 19, got " + senderNice);
        }
    }
}
