package dev.jvmm.launcher;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The one line of a run's summary that says where received datagrams were lost, and what setting would have kept
 * them. Each place has its own counters, so the line adds nothing up twice:
 *
 * <pre>
 *  sender ──▶ [before the socket] ──▶ kernel socket buffer ──▶ device (virtio-net) ──▶ guest
 *             sent - read - kernel      /proc/net/udp drops     no buffer, too big,     frames a NIC reset
 *             (built-in sender only)                            unsupported sender      threw away
 * </pre>
 *
 * For example {@code loss: kernel 70414, device 0, guest 0: net0's socket dropped 70414 with its 208K receive buffer
 * full; set net.socket-receive-buffer: 4M}.
 */
final class LossLine {
    private LossLine() {
    }

    /**
     * One NIC's figures.
     *
     * @param kernelDrops         datagrams the kernel dropped at the socket, -1 when unknown (not Linux)
     * @param socketBufferGranted the socket's receive buffer as the kernel holds it (twice a request after the
     *                            rmem_max cap), 0 when unknown
     * @param socketBufferAsked   {@code net.socket-receive-buffer}, 0 for the kernel's default
     * @param sent                datagrams the built-in sender sent to this NIC, -1 without it
     */
    record Nic(String id, boolean mrgRxbuf, long sent, long read, long kernelDrops, long noBuffer, long tooBig,
               long unsupported, long guestDiscarded, int socketBufferGranted, long socketBufferAsked) {
        long device() {
            return noBuffer + tooBig + unsupported;
        }

        /** Datagrams the sender sent that neither reached the socket nor were dropped there. */
        long beforeSocket() {
            return sent < 0 ? 0 : Math.max(0, sent - read - Math.max(0, kernelDrops));
        }
    }

    /**
     * The line, without indentation or newline; {@code rmemMax} is net.core.rmem_max (-1 when unknown), and
     * {@code senderNice} the built-in sender's nice value (-1: no built-in sender).
     */
    static String of(List<Nic> nics, long rmemMax, int senderNice) {
        long kernel = 0;
        long device = 0;
        long guest = 0;
        long before = 0;
        boolean kernelKnown = false;
        List<String> why = new ArrayList<>();
        for (Nic n : nics) {
            if (n.kernelDrops() >= 0) {
                kernelKnown = true;
                kernel += n.kernelDrops();
            }
            device += n.device();
            guest += n.guestDiscarded();
            before += n.beforeSocket();
        }
        for (Nic n : nics) {
            if (n.beforeSocket() > 0) {
                why.add(String.format(Locale.ROOT, "%d sent to %s never reached its socket (the kernel's input "
                        + "backlog, net.core.netdev_max_backlog, or the sender's own socket)", n.beforeSocket(), n.id()));
            }
            if (n.kernelDrops() > 0) {
                why.add(kernelReason(n, rmemMax, senderNice));
            }
            if (n.tooBig() > 0) {
                why.add(String.format(Locale.ROOT, "%s's device dropped %d too big for the guest's receive buffers; %s",
                        n.id(), n.tooBig(), n.mrgRxbuf() ? "set a larger nics[].queue-size (or guest.options.queue-size)"
                                : "set nics[].mrg-rxbuf: true"));
            }
            if (n.noBuffer() > 0) {
                why.add(String.format(Locale.ROOT, "%s's device dropped %d that waited for a receive buffer while "
                        + "the guest reset the NIC or the machine stopped", n.id(), n.noBuffer()));
            }
            if (n.unsupported() > 0) {
                why.add(String.format(Locale.ROOT, "%s's device dropped %d from IPv6 senders, which the udp backend "
                        + "does not forward; send over IPv4", n.id(), n.unsupported()));
            }
            if (n.guestDiscarded() > 0) {
                why.add(String.format(Locale.ROOT, "%s's guest threw away %d received frames when it reset the NIC "
                        + "(guest.options.reset-after)", n.id(), n.guestDiscarded()));
            }
        }
        StringBuilder sb = new StringBuilder("loss: ");
        if (before > 0) {
            sb.append("before the socket ").append(before).append(", ");
        }
        sb.append("kernel ").append(kernelKnown ? Long.toString(kernel) : "?")
                .append(", device ").append(device).append(", guest ").append(guest);
        if (why.isEmpty()) {
            sb.append(kernelKnown ? ": none" : ": none the device or the guest saw (the kernel's drops are unknown "
                    + "here: not Linux)");
        } else {
            sb.append(": ").append(String.join("; ", why));
        }
        return sb.toString();
    }

    /** Why the kernel dropped at {@code n}'s socket, and the setting that gives the socket more room. */
    private static String kernelReason(Nic n, long rmemMax, int senderNice) {
        String head = String.format(Locale.ROOT, "%s's socket dropped %d with its %s receive buffer full", n.id(),
                n.kernelDrops(), n.socketBufferGranted() > 0 ? size(n.socketBufferGranted()) : "(size unknown)");
        long asked = n.socketBufferAsked();
        boolean capped = asked > 0 && n.socketBufferGranted() > 0 && n.socketBufferGranted() < 2 * asked;
        if (asked > 0 && !capped && n.socketBufferGranted() > 0) {
            // The granted size is twice the request (Linux counts its bookkeeping in it): say so, or "set 8M" next to
            // "its 8M buffer" reads as advice to set what is already set.
            head = String.format(Locale.ROOT, "%s's socket dropped %d with its receive buffer full (%s asked, which "
                    + "Linux reports as %s with its bookkeeping)", n.id(), n.kernelDrops(), size(asked),
                    size(n.socketBufferGranted()));
        }
        if (capped) {
            // Linux doubles what it grants: less than twice the request means rmem_max, not the config, was the limit.
            return head + String.format(Locale.ROOT, "; the kernel cut the %s asked at net.core.rmem_max: raise it "
                    + "(sysctl -w net.core.rmem_max=%d)", size(asked), asked);
        }
        long more = Math.max(4L << 20, 2 * asked);
        String raise = rmemMax >= 0 && rmemMax < more
                ? String.format(Locale.ROOT, " and sysctl -w net.core.rmem_max=%d (now %d)", more, rmemMax) : "";
        return head + String.format(Locale.ROOT, "; set net.socket-receive-buffer: %s%s, or leave the receiving "
                + "threads more CPU%s", size(more), raise,
                senderNice == 0 ? " (--sender-nice 19 puts the built-in sender behind them)" : "");
    }

    /** A size as the configuration spells it: 4M, 208K, or bytes. */
    static String size(long bytes) {
        if (bytes >= 1L << 20 && bytes % (1L << 20) == 0) {
            return (bytes >> 20) + "M";
        }
        if (bytes >= 1L << 10 && bytes % (1L << 10) == 0) {
            return (bytes >> 10) + "K";
        }
        return Long.toString(bytes);
    }
}
