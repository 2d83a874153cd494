package dev.jvmm.launcher;

import dev.jvmm.launcher.traffic.UdpSender;

/** {@code --traffic RATE[:LENGTH]}: the built-in sender's bit rate per NIC and payload length (default 64 bytes). */
record Traffic(long bitsPerSecond, int length) {
    static Traffic parse(String option, String text) {
        String[] parts = text.split(":", -1);
        if (parts.length > 2) {
            throw new Main.UsageException(option + ": '" + text + "' is not RATE[:LENGTH], e.g. 40m or 40m:64");
        }
        long rate;
        try {
            rate = UdpSender.parseRate(parts[0]);
        } catch (NumberFormatException e) {
            throw new Main.UsageException(option + ": '" + parts[0] + "' is not a bit rate such as 40m, 800k or 1g");
        }
        int length = 64;
        if (parts.length == 2) {
            try {
                length = Integer.parseInt(parts[1].trim());
            } catch (NumberFormatException e) {
                length = -1;
            }
            if (length < 16 || length > 65507) {
                throw new Main.UsageException(option + ": the datagram length must be between 16 and 65507 bytes, got '"
                        + parts[1] + "'");
            }
        }
        return new Traffic(rate, length);
    }
}
