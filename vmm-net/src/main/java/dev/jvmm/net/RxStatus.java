package dev.jvmm.net;

/** What became of a frame a backend offered the guest ({@link NetBackend.Guest#receive}). */
public enum RxStatus {
    /** The frame is in the guest's buffers; the backend may release its bytes. */
    DELIVERED,
    /**
     * Nothing was taken: the guest has no room now (no receive buffers, not enough of them, or the device is not
     * running). The backend keeps the frame (one at most), stops reading, and offers it again when the device calls
     * {@link NetBackend#receiveReady()}.
     */
    RETRY_LATER,
    /** The frame was dropped and counted by the device (larger than the guest's buffers); release it. */
    DROPPED
}
