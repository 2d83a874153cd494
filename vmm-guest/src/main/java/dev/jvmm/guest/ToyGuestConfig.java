package dev.jvmm.guest;

import dev.jvmm.core.config.ConfigNode;
import dev.jvmm.core.config.ConfigSection;
import dev.jvmm.core.config.ConfigSource;
import dev.jvmm.core.config.ConfigValues;
import dev.jvmm.core.config.VmConfig;

import java.util.List;

/**
 * The guest section when the guest is the Java toy guest, owned by vmm-guest. {@code program} is its selector key
 * (see {@link ConfigSection}): a board that boots a compiled guest owns the section when the file names
 * {@code guest.kernel} instead.
 *
 * <pre>
 * guest:
 *   program: udp-sink        # udp-sink | udp-echo | idle
 *   options: {sequence: iperf, queue-size: 256, work-per-frame: 0, reset-after: 0}
 * </pre>
 *
 * @param program       {@code udp-sink} (count and check every datagram), {@code udp-echo} (send each back) or
 *                      {@code idle} (bring up the GIC and ITS, no NIC driver)
 * @param iperfSequence whether the application follows iperf2's datagram ids to count loss and reordering
 * @param queueSize     the largest virtqueue the guest's driver sets up (a power of two)
 * @param workPerFrameNanos time the application spends on each datagram (a slow consumer), 0 for none
 * @param resetAfter    reset each NIC once after this many datagrams (a reset under traffic); 0: never
 */
public record ToyGuestConfig(String program, boolean iperfSequence, int queueSize, long workPerFrameNanos,
                             long resetAfter) {

    /** The programs the toy guest can run. */
    public static final List<String> PROGRAMS = List.of("udp-sink", "udp-echo", "idle");

    /** The {@code guest} section of a toy-guest machine; the default owner of {@code guest}. */
    public static final ConfigSection<ToyGuestConfig> SECTION = ConfigSection.selectedBy("guest", "program",
            () -> of("idle"), ToyGuestConfig::parse, ToyGuestConfig::validate);

    /** {@code program} with the default options: iperf sequence checks, queues of 256, no work per frame, no reset. */
    public static ToyGuestConfig of(String program) {
        return new ToyGuestConfig(program, true, 256, 0, 0);
    }

    public ToyGuestConfig withIperfSequence(boolean on) {
        return new ToyGuestConfig(program, on, queueSize, workPerFrameNanos, resetAfter);
    }

    public ToyGuestConfig withQueueSize(int n) {
        return new ToyGuestConfig(program, iperfSequence, n, workPerFrameNanos, resetAfter);
    }

    public ToyGuestConfig withWorkPerFrameNanos(long nanos) {
        return new ToyGuestConfig(program, iperfSequence, queueSize, nanos, resetAfter);
    }

    public ToyGuestConfig withResetAfter(long datagrams) {
        return new ToyGuestConfig(program, iperfSequence, queueSize, workPerFrameNanos, datagrams);
    }

    /** Reads the {@code guest} section. */
    static ToyGuestConfig parse(ConfigNode s) {
        String program = s.string("program", "idle");
        if (!PROGRAMS.contains(program)) {
            throw s.error("program", "unknown guest program '" + program + "'; known programs are "
                    + String.join(", ", PROGRAMS));
        }
        ConfigNode o = s.mapping("options");
        ToyGuestConfig d = of(program);
        String sequence = o.choice("sequence", "iperf", "iperf", "none");
        int queueSize = o.integer("queue-size", d.queueSize());
        long work = o.duration("work-per-frame", d.workPerFrameNanos());
        long reset = o.value("reset-after", d.resetAfter(), v -> {
            try {
                return Long.parseLong(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("must be a number of datagrams (0: never), got '" + v + "'");
            }
        });
        o.rejectUnknown();
        return new ToyGuestConfig(program, sequence.equals("iperf"), queueSize, work, reset);
    }

    /** Checks the {@code guest} section and its relations with the rest of the configuration. */
    static void validate(ToyGuestConfig g, VmConfig config) {
        ConfigSource s = config.source();
        if (!PROGRAMS.contains(g.program())) {
            throw s.error("guest.program", "unknown guest program '" + g.program() + "'; known programs are "
                    + String.join(", ", PROGRAMS));
        }
        int q = g.queueSize();
        if (q < 2 || q > 32768 || Integer.bitCount(q) != 1) {
            throw s.error("guest.options.queue-size", "must be a power of two between 2 and 32768, got " + q);
        }
        if (g.workPerFrameNanos() < 0) {
            throw s.error("guest.options.work-per-frame", "must not be negative, got "
                    + ConfigValues.describeNanos(g.workPerFrameNanos()));
        }
        if (g.resetAfter() < 0) {
            throw s.error("guest.options.reset-after", "must be a number of datagrams (0: never), got "
                    + g.resetAfter());
        }
    }
}
