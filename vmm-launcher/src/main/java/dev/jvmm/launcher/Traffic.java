package dev.jvmm.launcher;

import dev.jvmm.net.VirtioNetDevice;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code --traffic RATE[:LENGTH]}: the built-in sender's bit rate per NIC and payload length (default 64 bytes). */
record Traffic(long bitsPerSecond, int length) {

    /** Where traffic for {@code nics} goes: each NIC's listening address with the port it is bound to. */
    static List<InetSocketAddress> targets(List<VirtioNetDevice> nics) {
        List<InetSocketAddress> to = new ArrayList<>(nics.size());
        for (VirtioNetDevice d : nics) {
            to.add(new InetSocketAddress(d.config().listen().getAddress(), d.boundPort()));
        }
        return to;
    }

    /** {@code 40m}, {@code 40m:64}. */
    static Traffic parse(String text) {
        String[] parts = text.split(":", -1);
        if (parts.length > 2) {
            throw new IllegalArgumentException("is not RATE[:LENGTH], e.g. 40m or 40m:64");
        }
        long rate = Converters.rate(parts[0]);
        int length = 64;
        if (parts.length == 2) {
            try {
                length = Integer.parseInt(parts[1].trim());
            } catch (NumberFormatException e) {
                length = -1;
            }
            if (length < 16 || length > 65507) {
                throw new IllegalArgumentException("has a datagram length outside 16..65507 bytes");
            }
        }
        return new Traffic(rate, length);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%d:%d", bitsPerSecond, length);
    }
}
