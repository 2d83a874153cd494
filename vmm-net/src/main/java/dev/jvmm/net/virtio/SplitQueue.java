package dev.jvmm.net.virtio;

import dev.jvmm.core.memory.GuestMemory;

import static dev.jvmm.net.virtio.SplitVirtqDescriptor.AVAIL_ELEM_SIZE;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.AVAIL_FLAGS;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.VIRTQ_AVAIL_F_NO_INTERRUPT;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.AVAIL_IDX;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.AVAIL_RING;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.USED_ELEM_ID;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.USED_ELEM_LEN;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.USED_ELEM_SIZE;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.USED_FLAGS;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.VIRTQ_USED_F_NO_NOTIFY;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.USED_IDX;
import static dev.jvmm.net.virtio.SplitVirtqDescriptor.USED_RING;

/**
 * The device side of one split virtqueue (virtio 1.x, section 2.7) in guest memory.
 *
 * <pre>
 *         driver                                   device (this class)
 *   writes descriptors, ring[avail.idx % N]
 *   avail.idx++ (release) ───────────────────▶ available(): avail.idx (acquire) - nextAvail
 *                                             head(k) ─▶ {@link DescriptorChain#parse} ─▶ use the buffers
 *                                             putUsed(k, id, len); consume(chains, entries)
 *   used.idx (acquire) ◀───────────────────── publishUsed(): used.idx = nextUsed (release)
 *   handles used entries                      notifyDecision(): EVENT_IDX / NO_INTERRUPT
 * </pre>
 *
 * <h2>What it checks</h2>
 * The ring areas were validated when the queue was activated ({@link QueueConfig#problem}), so the ring fields
 * themselves are always inside RAM and aligned. What the guest writes into them is checked when read:
 * {@link #available()} refuses an avail.idx more than N ahead (a broken driver; never loop on it), and
 * {@link #head} returns the raw entry, which {@link DescriptorChain#parse} refuses when it is not below N.
 * Indices are 16-bit counters that wrap; every difference is taken modulo 2^16.
 *
 * <h2>Memory ordering</h2>
 * avail.idx is read with acquire before ring entries and descriptors; used entries are written before used.idx is
 * stored with release; re-enabling notifications stores avail_event (or clears NO_NOTIFY), issues a full fence and
 * reads avail.idx again; the interrupt decision issues a full fence after publishing used.idx and before it reads
 * used_event or avail.flags, so that it never misses a driver that re-armed its interrupt concurrently.
 *
 * <h2>Threads</h2>
 * Not thread-safe: one thread (the device's event loop) owns a queue from activation to reset.
 */
public final class SplitQueue {
    private final GuestMemory memory;
    private final int index;
    private final int size;
    private final int mask;
    private final long desc;
    private final long avail;
    private final long used;
    private final long usedEventAddr;
    private final long availEventAddr;
    private final boolean eventIdx;
    private final boolean indirect;

    /** The next available ring entry the device will take (16-bit counter). */
    private int nextAvail;
    /** avail.idx as last read: entries up to it are known to be available without another read. */
    private int shadowAvailIdx;
    /** The next used ring slot the device will fill (16-bit counter). */
    private int nextUsed;
    /** The used index of the last interrupt decision (Linux vhost's signalled_used). */
    private int signalledUsed;
    /** Whether NO_NOTIFY is currently set in used.flags (without EVENT_IDX). */
    private boolean notifySuppressed;

    /**
     * @param config   the validated queue configuration
     * @param features the negotiated features (EVENT_IDX and INDIRECT_DESC matter here)
     */
    public SplitQueue(GuestMemory memory, QueueConfig config, long features) {
        this.memory = memory;
        this.index = config.index();
        this.size = config.size();
        this.mask = size - 1;
        this.desc = config.descAddr();
        this.avail = config.driverAddr();
        this.used = config.deviceAddr();
        this.usedEventAddr = avail + SplitVirtqDescriptor.usedEventOffset(size);
        this.availEventAddr = used + SplitVirtqDescriptor.availEventOffset(size);
        this.eventIdx = VirtioFeatures.has(features, VirtioFeatures.VIRTIO_F_EVENT_IDX);
        this.indirect = VirtioFeatures.has(features, VirtioFeatures.VIRTIO_F_INDIRECT_DESC);
    }

    public int index() {
        return index;
    }

    public int size() {
        return size;
    }

    /** The descriptor table's guest physical address. */
    public long descTable() {
        return desc;
    }

    public boolean indirectAllowed() {
        return indirect;
    }

    public boolean eventIdx() {
        return eventIdx;
    }

    GuestMemory memory() {
        return memory;
    }

    /** The next available entry the device will take. */
    public int nextAvail() {
        return nextAvail;
    }

    /** The next used slot the device will fill. */
    public int nextUsed() {
        return nextUsed;
    }

    /**
     * How many chains the driver has made available and the device has not taken: 0..N, or -1 when avail.idx is more
     * than N ahead ({@link VirtqError#AVAIL_INDEX_JUMP}). Reads avail.idx (acquire) only when the entries already
     * known are used up.
     */
    public int available() {
        int known = (shadowAvailIdx - nextAvail) & 0xFFFF;
        if (known != 0 && known <= size) {
            return known;
        }
        shadowAvailIdx = memory.loadAcquire16(avail + AVAIL_IDX) & 0xFFFF;
        int n = (shadowAvailIdx - nextAvail) & 0xFFFF;
        return n > size ? -1 : n;
    }

    /** The raw descriptor index in available entry {@code nextAvail + k}; not yet checked against N. */
    public int head(int k) {
        return memory.read16(avail + AVAIL_RING + (long) AVAIL_ELEM_SIZE * ((nextAvail + k) & mask)) & 0xFFFF;
    }

    /** Writes used entry {@code nextUsed + k}: chain {@code id} (a head below N) with {@code len} bytes written. */
    public void putUsed(int k, int id, int len) {
        long e = used + USED_RING + (long) USED_ELEM_SIZE * ((nextUsed + k) & mask);
        memory.write32(e + USED_ELEM_ID, id);
        memory.write32(e + USED_ELEM_LEN, len);
    }

    /** Takes {@code chains} available entries and accounts {@code usedEntries} used entries (not yet published). */
    public void consume(int chains, int usedEntries) {
        nextAvail = (nextAvail + chains) & 0xFFFF;
        nextUsed = (nextUsed + usedEntries) & 0xFFFF;
    }

    /** Publishes every used entry written so far: a release store of used.idx. */
    public void publishUsed() {
        memory.storeRelease16(used + USED_IDX, (short) nextUsed);
    }

    /** The decision of {@link #notifyDecision()}. */
    public static final int NOTHING_NEW = 0;
    public static final int NOTIFY = 1;
    public static final int SUPPRESSED = 2;

    /**
     * Whether the driver wants an interrupt for the used entries published since the last decision (2.7.7.2):
     * with EVENT_IDX when used.idx passed used_event, otherwise unless avail.flags has NO_INTERRUPT.
     * Returns {@link #NOTHING_NEW} when nothing was published since the last decision.
     */
    public int notifyDecision() {
        int newIdx = nextUsed;
        int oldIdx = signalledUsed;
        if (newIdx == oldIdx) {
            return NOTHING_NEW;
        }
        signalledUsed = newIdx;
        // Order the used.idx store before the reads below (StoreLoad), or a driver that re-arms concurrently is missed.
        GuestMemory.fullFence();
        if (eventIdx) {
            int usedEvent = memory.read16(usedEventAddr) & 0xFFFF;
            return SplitVirtqDescriptor.needEvent(usedEvent, newIdx, oldIdx) ? NOTIFY : SUPPRESSED;
        }
        int flags = memory.read16(avail + AVAIL_FLAGS) & 0xFFFF;
        return (flags & VIRTQ_AVAIL_F_NO_INTERRUPT) != 0 ? SUPPRESSED : NOTIFY;
    }

    /**
     * Asks the driver to notify when it makes more buffers available, then checks whether it already did (2.7.10):
     * with EVENT_IDX stores avail_event = nextAvail, otherwise clears NO_NOTIFY; a full fence; avail.idx again.
     *
     * @return the number of available chains after the re-check (-1 for an avail.idx jump)
     */
    public int enableNotification() {
        if (eventIdx) {
            memory.write16(availEventAddr, (short) nextAvail);
        } else if (notifySuppressed) {
            memory.write16(used + USED_FLAGS, (short) 0);
            notifySuppressed = false;
        }
        GuestMemory.fullFence();
        shadowAvailIdx = memory.loadAcquire16(avail + AVAIL_IDX) & 0xFFFF;
        int n = (shadowAvailIdx - nextAvail) & 0xFFFF;
        return n > size ? -1 : n;
    }

    /**
     * Tells the driver that notifications are not needed while the device is busy with the queue: sets NO_NOTIFY
     * without EVENT_IDX (a hint the driver may ignore). With EVENT_IDX the stale avail_event already suppresses them.
     */
    public void disableNotification() {
        if (!eventIdx && !notifySuppressed) {
            memory.write16(used + USED_FLAGS, (short) VIRTQ_USED_F_NO_NOTIFY);
            notifySuppressed = true;
        }
    }

    @Override
    public String toString() {
        return "SplitQueue[" + index + ", size " + size + ", nextAvail " + nextAvail + ", nextUsed " + nextUsed + "]";
    }
}
