package dev.jvmm.bench.peer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One counter line of the compiled udp-sink ({@code guests/net/netapp.c}), printed per NIC every second:
 * {@code [T s] nic N: datagrams D (+d) lost L ... irqs I (+i) irq-interval X us}; X is the guest's own average
 * interval between receive interrupts over that second (0 with fewer than two).
 */
record SinkLine(long seconds, int nic, long datagrams, long lost, long irqs, long irqsDelta, long irqIntervalMicros) {
    private static final Pattern LINE = Pattern.compile("^\\[(\\d+) s] nic (\\d+): datagrams (\\d+) \\(\\+\\d+\\) lost"
            + " (\\d+) .* irqs (\\d+) \\(\\+(\\d+)\\) irq-interval (\\d+) us");

    /** The line's figures, or null for any other line (a malformed number too). */
    static SinkLine parse(String line) {
        Matcher m = LINE.matcher(line);
        if (!m.find()) {
            return null;
        }
        try {
            return new SinkLine(Long.parseLong(m.group(1)), Integer.parseInt(m.group(2)), Long.parseLong(m.group(3)),
                    Long.parseLong(m.group(4)), Long.parseLong(m.group(5)), Long.parseLong(m.group(6)),
                    Long.parseLong(m.group(7)));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
