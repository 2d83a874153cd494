package dev.jvmm.net;

/**
 * A snapshot of one NIC's counters ({@link VirtioNetDevice#stats()}); see {@link NicCounter} for each field's
 * meaning.
 *
 * @param nic                   the NIC's id
 * @param msisSignalled         MSIs raised (used-buffer and configuration-change interrupts)
 * @param socketErrors          errors the host socket reported
 * @param internalErrors        exceptions of the device's or the backend's own code (bugs), counted apart from socket
 *                              errors and reported to the machine's failure listener
 * @param guestErrors           driver rule violations: ring errors plus register errors
 * @param needsReset            whether the device currently shows DEVICE_NEEDS_RESET
 * @param lastGuestError        the most recent driver error (a ring or register rule's name), or null
 */
public record NicStats(String nic,
                       long rxDatagrams, long rxBytes, long rxDelivered, long rxDroppedNoBuffer, long rxDroppedTooBig,
                       long rxDroppedUnsupported, long socketPaused, long socketErrors, long internalErrors,
                       long txFrames, long txBytes, long txDatagrams, long txMalformed, long txDroppedNonUdp,
                       long txDroppedUnknownPeer, long txDroppedSocketError, long txDroppedClosed, long arpReplies,
                       long guestErrors, long deviceErrors, long guestNotifies,
                       long notificationsSent, long notificationsSuppressed, long msisSignalled,
                       boolean needsReset, String lastGuestError) {

    /** Frames lost on the receive side for any reason. */
    public long rxDropped() {
        return rxDroppedNoBuffer + rxDroppedTooBig + rxDroppedUnsupported;
    }

    /** Transmitted frames that did not leave as a datagram and never will, for any of the named reasons. */
    public long txDropped() {
        return txMalformed + txDroppedNonUdp + txDroppedUnknownPeer + txDroppedSocketError + txDroppedClosed;
    }

    /**
     * Transmitted frames with no outcome yet: queued for the socket (a full send buffer holds them back) or held by
     * the backend. {@code txFrames = txDatagrams + arpReplies + txDropped + txInFlight}; 0 once the transmit path
     * is idle, for the shipped backends (a backend of your own accounts for its frames with the same counters).
     */
    public long txInFlight() {
        return txFrames - txDatagrams - arpReplies - txDropped();
    }
}
