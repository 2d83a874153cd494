package dev.jvmm.net.testing;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.vcpu.GuestAccess;
import dev.jvmm.net.virtio.VirtioFeatures;
import dev.jvmm.net.virtio.VirtioNetDescriptor;
import dev.jvmm.net.virtio.SplitVirtqDescriptor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.locks.LockSupport;

import static dev.jvmm.net.virtio.VirtioMmioRegisterDescriptor.*;
import static dev.jvmm.net.virtio.VirtioStatus.*;

/**
 * The guest-side virtio-net driver of the test kit: it reaches the device only through MMIO and through the rings it
 * builds in guest RAM (with random gaps between everything), exactly as guest code would. It runs wherever a
 * {@link GuestAccess} does: on a test thread ({@code GuestAccess.of(bus, memory)}) or as guest code on a vCPU (a
 * {@code GuestCpu}). Bring-up and the per-frame helpers allocate freely; {@link RxRing} is its allocation-free
 * receive loop for benchmarks.
 */
public final class NetDriver {
    /** A frame the guest received: the virtio-net header and the frame after it (joined across buffers). */
    public record RxFrame(byte[] header, byte[] frame, int numBuffers, List<Integer> usedLengths) {
        public int numBuffersField() {
            return (header[VirtioNetDescriptor.HDR_NUM_BUFFERS] & 0xFF) | (header[VirtioNetDescriptor.HDR_NUM_BUFFERS + 1] & 0xFF) << 8;
        }
    }

    private final GuestAccess guest;
    private final long base;
    private final GuestMemory mem;
    private final GuestAllocator alloc;
    private final Random random;
    private long features;
    private GuestQueue rx;
    private GuestQueue tx;
    /** Receive chains the device has used and the driver has read: posted again before new memory is taken. */
    private final java.util.ArrayDeque<List<GuestQueue.Buffer>> spareRx = new java.util.ArrayDeque<>();

    private static int total(List<GuestQueue.Buffer> bufs) {
        int t = 0;
        for (GuestQueue.Buffer b : bufs) {
            t += b.len();
        }
        return t;
    }

    public NetDriver(MmioBus bus, long base, GuestMemory mem, Random random) {
        this(GuestAccess.of(bus, mem), base, random, new GuestAllocator(mem, random, 4096));
    }

    /** A driver whose rings and buffers come from {@code alloc}, played from the calling thread. */
    public NetDriver(MmioBus bus, long base, GuestMemory mem, Random random, GuestAllocator alloc) {
        this(GuestAccess.of(bus, mem), base, random, alloc);
    }

    /** A driver of the device at {@code base} that reaches it through {@code guest}. */
    public NetDriver(GuestAccess guest, long base, Random random, GuestAllocator alloc) {
        this.guest = guest;
        this.base = base;
        this.mem = guest.memory();
        this.random = random;
        this.alloc = alloc;
    }

    // ------------------------------------------------------------------------------------ registers

    public int read(int offset) {
        return guest.mmioRead32(base + offset);
    }

    public void write(int offset, int value) {
        guest.mmioWrite32(base + offset, value);
    }

    public int status() {
        return read(STATUS);
    }

    public long deviceFeatures() {
        write(DEVICE_FEATURES_SEL, 0);
        long lo = read(DEVICE_FEATURES) & 0xFFFF_FFFFL;
        write(DEVICE_FEATURES_SEL, 1);
        long hi = read(DEVICE_FEATURES) & 0xFFFF_FFFFL;
        return hi << 32 | lo;
    }

    public void writeDriverFeatures(long f) {
        write(DRIVER_FEATURES_SEL, 0);
        write(DRIVER_FEATURES, (int) f);
        write(DRIVER_FEATURES_SEL, 1);
        write(DRIVER_FEATURES, (int) (f >>> 32));
    }

    /** Reset, ACKNOWLEDGE, DRIVER, accept {@code wanted & offered}, FEATURES_OK; returns the features or fails. */
    public long negotiate(long wanted) {
        reset();
        write(STATUS, ACKNOWLEDGE);
        write(STATUS, ACKNOWLEDGE | DRIVER);
        long f = deviceFeatures() & wanted;
        writeDriverFeatures(f);
        write(STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
        if ((status() & FEATURES_OK) == 0) {
            throw new AssertionError("the device refused features 0x" + Long.toHexString(f));
        }
        features = f;
        return f;
    }

    public void reset() {
        write(STATUS, 0);
        if (status() != 0) {
            throw new AssertionError("Status does not read 0 after a reset");
        }
        rx = null;
        tx = null;
        spareRx.clear();
    }

    public long features() {
        return features;
    }

    public boolean has(long feature) {
        return VirtioFeatures.has(features, feature);
    }

    /** Places queue {@code index}'s rings in RAM (random gaps) and programs them; not yet ready. */
    public GuestQueue placeQueue(int index, int size) {
        long desc = alloc.alloc(SplitVirtqDescriptor.descTableSize(size), SplitVirtqDescriptor.DESC_ALIGN);
        long avail = alloc.alloc(SplitVirtqDescriptor.availRingSize(size), SplitVirtqDescriptor.AVAIL_ALIGN);
        long used = alloc.alloc(SplitVirtqDescriptor.usedRingSize(size), SplitVirtqDescriptor.USED_ALIGN);
        programQueue(index, size, desc, avail, used);
        return new GuestQueue(mem, index, size, desc, avail, used);
    }

    public void programQueue(int index, int size, long desc, long avail, long used) {
        write(QUEUE_SEL, index);
        write(QUEUE_NUM, size);
        write(QUEUE_DESC_LOW, (int) desc);
        write(QUEUE_DESC_HIGH, (int) (desc >>> 32));
        write(QUEUE_DRIVER_LOW, (int) avail);
        write(QUEUE_DRIVER_HIGH, (int) (avail >>> 32));
        write(QUEUE_DEVICE_LOW, (int) used);
        write(QUEUE_DEVICE_HIGH, (int) (used >>> 32));
    }

    public void ready(int index) {
        write(QUEUE_SEL, index);
        write(QUEUE_READY, 1);
    }

    public void driverOk() {
        write(STATUS, status() | DRIVER_OK);
    }

    /** The whole bring-up of receiveq1 and transmitq1 with {@code size}-entry queues; returns the features. */
    public long start(long wanted, int size) {
        long f = negotiate(wanted);
        rx = placeQueue(0, size);
        ready(0);
        tx = placeQueue(1, size);
        ready(1);
        driverOk();
        if ((status() & DRIVER_OK) == 0 || (status() & DEVICE_NEEDS_RESET) != 0) {
            throw new AssertionError("device did not start: status 0x" + Integer.toHexString(status()));
        }
        return f;
    }

    /**
     * Brings the device up for a receive benchmark and returns its allocation-free loop: features
     * VIRTIO_F_VERSION_1 | VIRTIO_F_EVENT_IDX, receiveq1 of {@code size} entries with one {@code bufferSize}-byte
     * buffer each (all posted), transmitq1 of 16 (unused), DRIVER_OK and a QueueNotify of the receive queue. The
     * device's activation runs on its event loop afterwards.
     *
     * @param batch interrupt every {@code batch} used entries ({@link RxRing})
     */
    public RxRing startRxRing(int size, int bufferSize, int batch) {
        long f = negotiate(VirtioFeatures.VIRTIO_F_VERSION_1 | VirtioFeatures.VIRTIO_F_EVENT_IDX);
        if (f != (VirtioFeatures.VIRTIO_F_VERSION_1 | VirtioFeatures.VIRTIO_F_EVENT_IDX)) {
            throw new IllegalStateException("the device does not offer VIRTIO_F_VERSION_1 | VIRTIO_F_EVENT_IDX");
        }
        rx = placeQueue(0, size);
        tx = placeQueue(1, 16);
        long buffers = alloc.alloc((long) size * bufferSize, 4096);
        RxRing ring = new RxRing(guest, base, rx, buffers, bufferSize, batch);
        ready(0);
        ready(1);
        driverOk();
        if ((status() & DEVICE_NEEDS_RESET) != 0) {
            throw new IllegalStateException("DEVICE_NEEDS_RESET after DRIVER_OK");
        }
        ring.notifyDevice();
        return ring;
    }

    public GuestQueue rx() {
        return rx;
    }

    public GuestQueue tx() {
        return tx;
    }

    public GuestAllocator allocator() {
        return alloc;
    }

    public void notifyQueue(int q) {
        write(QUEUE_NOTIFY, q);
    }

    /** Rings the doorbell if the device asked for it (EVENT_IDX / NO_NOTIFY), as a real driver would. */
    public void kickIfNeeded(GuestQueue q, int oldIdx) {
        if (q.needsNotify(oldIdx, has(VirtioFeatures.VIRTIO_F_EVENT_IDX))) {
            notifyQueue(q.index());
        }
    }

    // ------------------------------------------------------------------------------------ receive

    /**
     * Posts {@code count} receive chains of {@code size} bytes each, every chain split into 1..{@code maxPieces}
     * device-writable buffers at random places; then notifies if needed.
     */
    public void postRx(int count, int size, int maxPieces) {
        postRx(rx, count, size, maxPieces);
    }

    /** As {@link #postRx(int, int, int)} on receive queue {@code q}. */
    public void postRx(GuestQueue q, int count, int size, int maxPieces) {
        int old = q.availIdx();
        int[] heads = new int[count];
        for (int i = 0; i < count; i++) {
            List<GuestQueue.Buffer> bufs = spareRx.isEmpty() || total(spareRx.peekFirst()) != size
                    ? pieces(size, 1 + random.nextInt(maxPieces), true) : spareRx.pollFirst();
            heads[i] = q.add(bufs);
        }
        q.makeAvailable(heads);
        kickIfNeeded(q, old);
    }

    /** {@code size} bytes split into {@code n} buffers (none empty), each after a random gap. */
    public List<GuestQueue.Buffer> pieces(int size, int n, boolean writable) {
        n = Math.max(1, Math.min(n, size));
        List<GuestQueue.Buffer> out = new ArrayList<>(n);
        int left = size;
        for (int i = 0; i < n; i++) {
            int len = i == n - 1 ? left : 1 + random.nextInt(Math.max(1, left - (n - 1 - i)));
            len = Math.min(len, left - (n - 1 - i));
            out.add(new GuestQueue.Buffer(alloc.alloc(len, 1), len, writable));
            left -= len;
        }
        return out;
    }

    /** Reaps used receive entries and assembles frames (several buffers per frame with MRG_RXBUF). */
    public List<RxFrame> reapFrames() {
        return reapFrames(rx);
    }

    /** As {@link #reapFrames()} on receive queue {@code rx}. */
    public List<RxFrame> reapFrames(GuestQueue rx) {
        List<GuestQueue.Used> used = rx.reap();
        List<RxFrame> frames = new ArrayList<>();
        int i = 0;
        while (i < used.size()) {
            GuestQueue.Used first = used.get(i);
            byte[] firstBytes = bytesOf(rx, first);
            int numBuffers = (firstBytes[VirtioNetDescriptor.HDR_NUM_BUFFERS] & 0xFF)
                    | (firstBytes[VirtioNetDescriptor.HDR_NUM_BUFFERS + 1] & 0xFF) << 8;
            int n = has(VirtioFeatures.VIRTIO_NET_F_MRG_RXBUF) ? numBuffers : 1;
            if (n < 1 || i + n > used.size()) {
                throw new AssertionError("num_buffers " + numBuffers + " but " + (used.size() - i) + " used entries");
            }
            java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
            List<Integer> lengths = new ArrayList<>();
            for (int k = 0; k < n; k++) {
                GuestQueue.Used u = used.get(i + k);
                byte[] b = k == 0 ? firstBytes : bytesOf(rx, u);
                all.write(b, 0, b.length);
                lengths.add(u.len());
                List<GuestQueue.Buffer> done = rx.buffersOf(u.id());
                if (done != null && spareRx.size() < 1024) {
                    spareRx.addLast(done);
                }
                rx.forget(u.id());
            }
            byte[] bytes = all.toByteArray();
            byte[] header = java.util.Arrays.copyOf(bytes, VirtioNetDescriptor.HDR_SIZE);
            byte[] frame = java.util.Arrays.copyOfRange(bytes, VirtioNetDescriptor.HDR_SIZE, bytes.length);
            frames.add(new RxFrame(header, frame, n, lengths));
            i += n;
        }
        return frames;
    }

    /** The first {@code used.len} bytes the device wrote into a chain's buffers, in order. */
    public byte[] bytesOf(GuestQueue q, GuestQueue.Used u) {
        List<GuestQueue.Buffer> bufs = q.buffersOf(u.id());
        if (bufs == null) {
            throw new AssertionError("used id " + u.id() + " names no chain the driver made available");
        }
        byte[] out = new byte[u.len()];
        int done = 0;
        for (GuestQueue.Buffer b : bufs) {
            if (done == out.length) {
                break;
            }
            int k = Math.min(b.len(), out.length - done);
            mem.read(b.addr(), out, done, k);
            done += k;
        }
        if (done != out.length) {
            throw new AssertionError("used length " + u.len() + " exceeds the chain's " + done + " bytes");
        }
        return out;
    }

    /** Waits (bounded) until {@code n} frames arrived; returns them. */
    public List<RxFrame> awaitFrames(int n, Duration timeout) {
        List<RxFrame> got = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (got.size() < n && System.nanoTime() < deadline) {
            List<RxFrame> f = reapFrames();
            got.addAll(f);
            if (f.isEmpty()) {
                LockSupport.parkNanos(200_000);
            }
        }
        return got;
    }

    // ------------------------------------------------------------------------------------ transmit

    /** Puts header + frame into the transmit queue split into up to {@code maxPieces} buffers; notifies if needed. */
    public int transmit(byte[] frame, int maxPieces) {
        return transmit(List.of(txChain(frame, maxPieces)))[0];
    }

    /**
     * Header + frame written into up to {@code maxPieces} new device-readable buffers, not yet made available: a
     * chain a test can {@link #transmit(List) transmit} as often as it likes without using up guest RAM.
     */
    public List<GuestQueue.Buffer> txChain(byte[] frame, int maxPieces) {
        byte[] all = new byte[VirtioNetDescriptor.HDR_SIZE + frame.length];
        System.arraycopy(frame, 0, all, VirtioNetDescriptor.HDR_SIZE, frame.length);
        List<GuestQueue.Buffer> bufs = pieces(all.length, 1 + random.nextInt(maxPieces), false);
        int off = 0;
        for (GuestQueue.Buffer b : bufs) {
            mem.write(b.addr(), all, off, b.len());
            off += b.len();
        }
        return bufs;
    }

    /** Makes the chains available in the transmit queue, in order, with one notification if needed; the heads. */
    public int[] transmit(List<List<GuestQueue.Buffer>> chains) {
        int old = tx.availIdx();
        int[] heads = new int[chains.size()];
        for (int i = 0; i < heads.length; i++) {
            heads[i] = tx.add(chains.get(i));
        }
        tx.makeAvailable(heads);
        kickIfNeeded(tx, old);
        return heads;
    }

    /** Waits (bounded) until {@code n} transmit chains came back; returns them. */
    public List<GuestQueue.Used> awaitTxDone(int n, Duration timeout) {
        List<GuestQueue.Used> got = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (got.size() < n && System.nanoTime() < deadline) {
            List<GuestQueue.Used> u = tx.reap();
            got.addAll(u);
            if (u.isEmpty()) {
                LockSupport.parkNanos(200_000);
            }
        }
        return got;
    }
}
