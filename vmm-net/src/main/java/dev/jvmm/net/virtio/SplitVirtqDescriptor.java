package dev.jvmm.net.virtio;

/**
 * The memory layout of a split virtqueue (virtio 1.x, section 2.7 "Split Virtqueues"), with the specification's names
 * for the flags ({@code struct virtq_desc}, {@code struct virtq_avail}, {@code struct virtq_used}). Every field is little-endian;
 * every index is a free-running 16-bit counter, and ring slot {@code i} is {@code i mod N} for a queue of size N.
 *
 * <pre>
 *  Descriptor table (align 16), N entries of 16 bytes:
 *    0        8        12       14       16
 *   ┌────────┬────────┬────────┬────────┐
 *   │ addr   │ len    │ flags  │ next   │     VIRTQ_DESC_F_NEXT 1, _WRITE 2, _INDIRECT 4
 *   │ u64    │ u32    │ u16    │ u16    │
 *   └────────┴────────┴────────┴────────┘
 *
 *  Available ring (driver area, align 2), 6 + 2N bytes:
 *    0       2       4                4+2N
 *   ┌───────┬───────┬───────────────┬────────────┐
 *   │ flags │ idx   │ ring[N] u16   │ used_event │   VIRTQ_AVAIL_F_NO_INTERRUPT
 *   └───────┴───────┴───────────────┴────────────┘
 *
 *  Used ring (device area, align 4), 6 + 8N bytes:
 *    0       2       4                        4+8N
 *   ┌───────┬───────┬───────────────────────┬─────────────┐
 *   │ flags │ idx   │ ring[N] {u32 id,u32 len}│ avail_event │  VIRTQ_USED_F_NO_NOTIFY
 *   └───────┴───────┴───────────────────────┴─────────────┘
 * </pre>
 */
public final class SplitVirtqDescriptor {
    /** The largest queue size the split layout allows. */
    public static final int MAX_QUEUE_SIZE = 32768;

    // ---------------------------------------------------------------------------- descriptor table
    public static final int DESC_SIZE = 16;
    public static final int DESC_ALIGN = 16;
    public static final int DESC_ADDR = 0;
    public static final int DESC_LEN = 8;
    public static final int DESC_FLAGS = 12;
    public static final int DESC_NEXT = 14;

    /** The buffer continues in the descriptor named by {@code next}. */
    public static final int VIRTQ_DESC_F_NEXT = 1;
    /** The buffer is device-writable (otherwise device-readable). */
    public static final int VIRTQ_DESC_F_WRITE = 2;
    /** The buffer holds a table of descriptors (requires VIRTIO_F_INDIRECT_DESC). */
    public static final int VIRTQ_DESC_F_INDIRECT = 4;

    // ---------------------------------------------------------------------------- available ring
    public static final int AVAIL_ALIGN = 2;
    public static final int AVAIL_FLAGS = 0;
    public static final int AVAIL_IDX = 2;
    public static final int AVAIL_RING = 4;
    public static final int AVAIL_ELEM_SIZE = 2;
    /** avail.flags: the driver asks not to be interrupted (ignored when EVENT_IDX is negotiated). */
    public static final int VIRTQ_AVAIL_F_NO_INTERRUPT = 1;

    // ---------------------------------------------------------------------------- used ring
    public static final int USED_ALIGN = 4;
    public static final int USED_FLAGS = 0;
    public static final int USED_IDX = 2;
    public static final int USED_RING = 4;
    public static final int USED_ELEM_SIZE = 8;
    public static final int USED_ELEM_ID = 0;
    public static final int USED_ELEM_LEN = 4;
    /** used.flags: the device asks not to be notified (ignored when EVENT_IDX is negotiated). */
    public static final int VIRTQ_USED_F_NO_NOTIFY = 1;

    private SplitVirtqDescriptor() {
    }

    /** Bytes of a descriptor table of {@code n} entries. */
    public static long descTableSize(int n) {
        return (long) DESC_SIZE * n;
    }

    /** Bytes of an available ring of {@code n} entries, used_event included. */
    public static long availRingSize(int n) {
        return AVAIL_RING + (long) AVAIL_ELEM_SIZE * n + 2;
    }

    /** Bytes of a used ring of {@code n} entries, avail_event included. */
    public static long usedRingSize(int n) {
        return USED_RING + (long) USED_ELEM_SIZE * n + 2;
    }

    /** Offset of used_event in the available ring of a queue of size {@code n}. */
    public static long usedEventOffset(int n) {
        return AVAIL_RING + (long) AVAIL_ELEM_SIZE * n;
    }

    /** Offset of avail_event in the used ring of a queue of size {@code n}. */
    public static long availEventOffset(int n) {
        return USED_RING + (long) USED_ELEM_SIZE * n;
    }

    /**
     * vring_need_event (section 2.7.10): after the used index moved from {@code oldIdx} to {@code newIdx}, whether
     * the other side asked to hear about it with {@code eventIdx}. All three are 16-bit counters.
     */
    public static boolean needEvent(int eventIdx, int newIdx, int oldIdx) {
        return ((newIdx - eventIdx - 1) & 0xFFFF) < ((newIdx - oldIdx) & 0xFFFF);
    }
}
