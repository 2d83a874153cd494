package dev.jvmm.net;

import dev.jvmm.core.machine.Failures;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.memory.GuestMemoryException;
import dev.jvmm.net.virtio.DescriptorChain;
import dev.jvmm.net.virtio.QueueConfig;
import dev.jvmm.net.virtio.SplitQueue;
import dev.jvmm.net.virtio.VirtioDevice;
import dev.jvmm.net.virtio.VirtioFeatures;
import dev.jvmm.net.virtio.VirtioInterrupts;
import dev.jvmm.net.virtio.VirtioNetDescriptor;
import dev.jvmm.net.virtio.VirtqError;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

import java.util.concurrent.RejectedExecutionException;

import static dev.jvmm.net.virtio.VirtioNetDescriptor.HDR_NUM_BUFFERS;
import static dev.jvmm.net.virtio.VirtioNetDescriptor.HDR_SIZE;

/**
 * The virtio-net device model (virtio 1.x, section 5.1) behind a {@link dev.jvmm.net.virtio.VirtioMmioTransport}:
 * features, configuration space, and the receive, transmit and control queues, on one Netty event loop.
 *
 * <h2>Who runs what</h2>
 * <pre>
 *  vCPU threads (transport lock held)         the NIC's event loop (owns every field marked "loop")
 *  activate() ── execute(activation) ───────▶ queues built, receiveReady() ─▶ backend reads
 *  reset() ───── submit(reset), wait ───────▶ queues dropped, backend.deviceReset()
 *  notifyQueue() ─ QueueKick (ioeventfd) ───▶ onKick: TX batch / RX resume / control command
 *                                             backend ─▶ receive(): copy into guest buffers, publish used
 *                                                        receiveComplete(): interrupt decision, MSI
 * </pre>
 * The rings and everything derived from them belong to the event loop from activation to reset, so the data path
 * takes no lock. A reset waits until the loop has dropped them (section 2.4.1: the device must stop using the rings
 * before Status reads 0), with a bound so a vCPU is never stuck behind a wedged loop.
 *
 * <h2>Errors</h2>
 * Any ring error ({@link VirtqError}) or failed guest-memory access marks the device broken: it stops processing
 * every queue, shows DEVICE_NEEDS_RESET and raises the configuration interrupt once. A reset recovers. A bad frame
 * inside a well-formed chain is not a ring error: it is counted, the chain returned, and processing goes on.
 */
final class VirtioNet implements VirtioDevice, NetBackend.Guest {

    /** Transmitted frames per event-loop run before yielding to receive work (the rest runs next). */
    static final int TX_BUDGET = 64;
    /** Control commands per run. */
    static final int CTRL_BUDGET = 64;
    /** Largest frame the guest may transmit: an Ethernet header and the largest IPv4 packet. */
    static final int MAX_TX_FRAME = 14 + 65535;
    static final int MIN_TX_FRAME = 14;
    /** How long a vCPU waits for the event loop to complete a reset. */
    static final long RESET_TIMEOUT_MILLIS = 2000;
    private static final byte[] NO_HEAD = new byte[0];

    private final NicConfig nic;

    private final NetConfig netConfig;
    private final GuestMemory memory;
    private final EventLoop loop;
    private final NetBackend backend;
    private final VirtioInterrupts interrupts;
    private final NicCounters counters;
    private final Failures failures;
    private final int maxPairs;
    private final int queueSize;
    private final long offered;
    private final QueueKick[] kicks;
    private final FrameBuffers buffers;

    /** The configuration space; guarded by itself. */
    private final byte[] config = new byte[VirtioNetDescriptor.CONFIG_SIZE];
    private volatile int configGeneration;
    /** DRIVER_OK is set and the device was activated (read by the thread that changes the link state). */
    private volatile boolean driverOk;
    private volatile boolean broken;
    private volatile VirtqError lastRingError;
    private volatile boolean closed;

    // ---- loop: the running state
    private boolean active;
    private boolean mrgRxbuf;
    private boolean mqNegotiated;
    private SplitQueue[] rx = new SplitQueue[0];
    private SplitQueue[] tx = new SplitQueue[0];
    private SplitQueue ctrl;
    private int ctrlIndex = -1;
    private int activePairs = 1;
    /** Bit p: receive queue p published entries since the last interrupt decision. */
    private int dirtyRx;
    private boolean rxWaiting;
    private boolean txBlocked;
    private final DescriptorChain chain;
    /** The virtio-net header written in front of every received frame. */
    private final byte[] header = new byte[HDR_SIZE];
    private final byte[] command = new byte[8];
    // The frame being received: header | head[headOffset, +headLength) | body[bodyIndex, +bodyLength).
    private byte[] curHead = NO_HEAD;
    private int curHeadOffset;
    private int curHeadLength;
    private ByteBuf curBody;
    private int curBodyIndex;
    /** Where num_buffers landed in guest memory (its two bytes may fall into different buffers). */
    private long numBuffersLo;
    private long numBuffersHi;

    VirtioNet(NicConfig nic, NetConfig netConfig, GuestMemory memory, EventLoop loop, NetBackend backend,
              VirtioInterrupts interrupts, NicCounters counters, Failures failures) {
        this.failures = failures;
        this.nic = nic;
        this.netConfig = netConfig;
        this.memory = memory;
        this.loop = loop;
        this.backend = backend;
        this.interrupts = interrupts;
        this.counters = counters;
        this.maxPairs = nic.queuePairs();
        this.queueSize = nic.queueSize();
        long f = VirtioFeatures.VIRTIO_F_VERSION_1 | VirtioFeatures.VIRTIO_F_EVENT_IDX | VirtioFeatures.VIRTIO_F_INDIRECT_DESC
                | VirtioFeatures.VIRTIO_NET_F_MAC | VirtioFeatures.VIRTIO_NET_F_STATUS | VirtioFeatures.VIRTIO_NET_F_MTU;
        if (nic.mrgRxbuf()) {
            f |= VirtioFeatures.VIRTIO_NET_F_MRG_RXBUF;
        }
        if (maxPairs > 1) {
            f |= VirtioFeatures.VIRTIO_NET_F_CTRL_VQ | VirtioFeatures.VIRTIO_NET_F_MQ;
        }
        this.offered = f;
        this.chain = new DescriptorChain(queueSize);
        this.buffers = new FrameBuffers(loop);
        int n = maxQueueCount(maxPairs);
        this.kicks = new QueueKick[n];
        for (int q = 0; q < n; q++) {
            kicks[q] = new QueueKick(this, q, loop, nic.id() + "-kick" + q);
        }
        for (int i = 0; i < 6; i++) {
            config[VirtioNetDescriptor.CONFIG_MAC + i] = nic.mac().get(i);
        }
        putLe16(config, VirtioNetDescriptor.CONFIG_STATUS, VirtioNetDescriptor.VIRTIO_NET_S_LINK_UP);
        putLe16(config, VirtioNetDescriptor.CONFIG_MAX_VIRTQUEUE_PAIRS, maxPairs);
        putLe16(config, VirtioNetDescriptor.CONFIG_MTU, Math.min(backend.mtu(), 65535));
    }

    /** Queues of a device with {@code pairs} queue pairs: 2 per pair, plus the control queue when MQ is offered. */
    static int maxQueueCount(int pairs) {
        return pairs > 1 ? 2 * pairs + 1 : 2;
    }

    // ============================================================================================ VirtioDevice

    @Override
    public int deviceType() {
        return VirtioNetDescriptor.VIRTIO_ID_NET;
    }

    @Override
    public long offeredFeatures() {
        return offered;
    }

    @Override
    public boolean acceptsFeatures(long f) {
        // 5.1.3.1: VIRTIO_NET_F_MQ requires VIRTIO_NET_F_CTRL_VQ.
        return !VirtioFeatures.has(f, VirtioFeatures.VIRTIO_NET_F_MQ) || VirtioFeatures.has(f, VirtioFeatures.VIRTIO_NET_F_CTRL_VQ);
    }

    @Override
    public int queueCount(long f) {
        if (VirtioFeatures.has(f, VirtioFeatures.VIRTIO_NET_F_MQ)) {
            return 2 * maxPairs + 1;
        }
        return VirtioFeatures.has(f, VirtioFeatures.VIRTIO_NET_F_CTRL_VQ) ? 3 : 2;
    }

    @Override
    public int maxQueueSize(int queue) {
        return queueSize;
    }

    @Override
    public int configSize() {
        return VirtioNetDescriptor.CONFIG_SIZE;
    }

    @Override
    public int readConfigByte(int offset) {
        synchronized (config) {
            return config[offset];
        }
    }

    @Override
    public int configGeneration() {
        return configGeneration;
    }

    /** Sets the link state in the configuration space: a new generation and, once running, a config interrupt. */
    void setLinkUp(boolean up) {
        synchronized (config) {
            putLe16(config, VirtioNetDescriptor.CONFIG_STATUS, up ? VirtioNetDescriptor.VIRTIO_NET_S_LINK_UP : 0);
            configGeneration++;
        }
        if (driverOk) {
            interrupts.signalConfigChange();
        }
    }

    boolean linkUp() {
        synchronized (config) {
            return (config[VirtioNetDescriptor.CONFIG_STATUS] & VirtioNetDescriptor.VIRTIO_NET_S_LINK_UP) != 0;
        }
    }

    @Override
    public boolean activate(long features, QueueConfig[] queues) {
        if (closed) {
            return false;
        }
        boolean mq = VirtioFeatures.has(features, VirtioFeatures.VIRTIO_NET_F_MQ);
        boolean ctrlVq = VirtioFeatures.has(features, VirtioFeatures.VIRTIO_NET_F_CTRL_VQ);
        int pairs = mq ? maxPairs : 1;
        SplitQueue[] newRx = new SplitQueue[pairs];
        SplitQueue[] newTx = new SplitQueue[pairs];
        for (int p = 0; p < pairs; p++) {
            newRx[p] = queue(queues, VirtioNetDescriptor.rxQueue(p), features);
            newTx[p] = queue(queues, VirtioNetDescriptor.txQueue(p), features);
        }
        int ci = ctrlVq ? 2 * pairs : -1;
        SplitQueue newCtrl = ci >= 0 ? queue(queues, ci, features) : null;
        boolean mrg = VirtioFeatures.has(features, VirtioFeatures.VIRTIO_NET_F_MRG_RXBUF);
        try {
            loop.execute(() -> {
                try {
                    onActivate(newRx, newTx, newCtrl, ci, mrg, mq);
                } catch (RuntimeException e) {
                    internalError("activation", e);
                }
            });
        } catch (RejectedExecutionException e) {
            return false;
        }
        driverOk = true;
        return true;
    }

    private SplitQueue queue(QueueConfig[] queues, int index, long features) {
        QueueConfig c = index < queues.length ? queues[index] : null;
        return c == null ? null : new SplitQueue(memory, c, features);
    }

    @Override
    public void reset() {
        driverOk = false;
        runOnLoop(this::onReset);
    }

    @Override
    public void notifyQueue(int queue) {
        if (queue < kicks.length) {
            counters.increment(NicCounter.GUEST_NOTIFIES);
            kicks[queue].kick();
        }
    }

    @Override
    public boolean needsReset() {
        return broken;
    }

    VirtqError lastRingError() {
        return lastRingError;
    }

    // ============================================================================================ loop: lifecycle

    private void onActivate(SplitQueue[] newRx, SplitQueue[] newTx, SplitQueue newCtrl, int ci, boolean mrg,
                            boolean mq) {
        if (closed) {
            return;
        }
        rx = newRx;
        tx = newTx;
        ctrl = newCtrl;
        ctrlIndex = ci;
        mrgRxbuf = mrg;
        mqNegotiated = mq;
        resetRunState();
        active = true;
        // The driver may have made transmit buffers available before DRIVER_OK without ringing (it must not ring).
        for (int p = 0; p < tx.length; p++) {
            if (tx[p] != null) {
                kicks[VirtioNetDescriptor.txQueue(p)].schedule();
            }
        }
        callBackend(BACKEND_RECEIVE_READY);
    }

    /** The queues' run-time state as a device starts it: after activation and after a reset. */
    private void resetRunState() {
        // 5.1.6.5.5: until the driver sets the number of pairs, only the first pair is used.
        activePairs = 1;
        dirtyRx = 0;
        rxWaiting = false;
        txBlocked = false;
        broken = false;
    }

    private void onReset() {
        active = false;
        rx = new SplitQueue[0];
        tx = new SplitQueue[0];
        ctrl = null;
        ctrlIndex = -1;
        resetRunState();
        lastRingError = null;
        callBackend(BACKEND_DEVICE_RESET);
    }

    /** Stops the device for good: after it returns, the event loop no longer touches guest memory for it. */
    void close() {
        closed = true;
        driverOk = false;
        for (QueueKick k : kicks) {
            k.close();
        }
        runOnLoop(this::onClose);
    }

    private void onClose() {
        buffers.close();
        active = false;
        rx = new SplitQueue[0];
        tx = new SplitQueue[0];
        ctrl = null;
        dirtyRx = 0;
    }

    /**
     * Runs {@code task} on the event loop and waits (bounded) for it. Inline when called on the loop, or when the loop
     * is gone (then no other thread runs device code).
     */
    private void runOnLoop(Runnable task) {
        if (loop.inEventLoop()) {
            task.run();
            return;
        }
        Future<?> f;
        try {
            f = loop.submit(task);
        } catch (RejectedExecutionException e) {
            if (loop.terminationFuture().awaitUninterruptibly(RESET_TIMEOUT_MILLIS)) {
                task.run();
            }
            return;
        }
        f.awaitUninterruptibly(RESET_TIMEOUT_MILLIS);
    }

    private static final int BACKEND_RECEIVE_READY = 0;
    private static final int BACKEND_DEVICE_RESET = 1;
    private static final int BACKEND_TRANSMIT_COMPLETE = 2;

    /** Calls into the backend, which may be user code: nothing it throws may reach the event loop. */
    private void callBackend(int what) {
        try {
            switch (what) {
                case BACKEND_RECEIVE_READY: backend.receiveReady(); break;
                case BACKEND_DEVICE_RESET: backend.deviceReset(); break;
                default: backend.transmitComplete();
            }
        } catch (RuntimeException e) {
            internalError("backend", e);
        }
    }

    /**
     * An exception of the device's or the backend's own code: counted apart from socket errors and reported to the
     * machine's failure listener; the event loop carries on. Any thread.
     */
    @Override
    public void internalError(String what, Throwable e) {
        counters.increment(NicCounter.INTERNAL_ERRORS);
        failures.report("nic " + nic.id() + " " + what, e);
    }

    /**
     * The driver broke a ring rule (or a buffer is not in RAM): stop, show DEVICE_NEEDS_RESET and raise the
     * configuration interrupt (section 2.1.2). Loop.
     */
    private void fail(VirtqError e) {
        if (broken) {
            return;
        }
        broken = true;
        lastRingError = e;
        counters.increment(NicCounter.GUEST_ERRORS);
        counters.increment(NicCounter.DEVICE_ERRORS);
        interrupts.signalConfigChange();
    }

    // ============================================================================================ loop: doorbells

    /** A queue's doorbell rang (through its ioeventfd). */
    void onKick(int queue) {
        if (!active || broken || closed) {
            return;
        }
        if (queue == ctrlIndex) {
            processControl();
        } else if ((queue & 1) == 0) {
            // A receive queue got buffers: if a frame or the socket waits for them, let the backend go on.
            if (rxWaiting) {
                rxWaiting = false;
                callBackend(BACKEND_RECEIVE_READY);
            }
        } else {
            int pair = queue >> 1;
            if (pair < tx.length) {
                processTransmit(pair);
            }
        }
    }

    // ============================================================================================ loop: receive

    @Override
    public NicConfig config() {
        return nic;
    }

    @Override
    public NetConfig net() {
        return netConfig;
    }

    @Override
    public EventLoop eventLoop() {
        return loop;
    }

    @Override
    public NicCounters counters() {
        return counters;
    }

    @Override
    public ByteBuf frameBuffer() {
        return buffers.take();
    }

    /** The NIC's frame buffers (loop). */
    FrameBuffers frameBuffers() {
        return buffers;
    }

    @Override
    public int receiveRoom() {
        if (!active || broken || closed) {
            rxWaiting = true;
            return 0;
        }
        int room = Integer.MAX_VALUE;
        for (int p = 0; p < activePairs; p++) {
            SplitQueue q = rx[p];
            if (q == null) {
                return 0;
            }
            int n = availableOrArm(q);
            if (n <= 0) {
                return 0;
            }
            room = Math.min(room, n);
        }
        return room;
    }

    /**
     * The chains available in receive queue {@code q}; when there are none, asks the driver to notify (and checks
     * again, 2.7.10), marking the device as waiting. 0 when waiting, -1 when the queue broke.
     */
    private int availableOrArm(SplitQueue q) {
        try {
            int n = q.available();
            if (n == 0) {
                n = q.enableNotification();
                if (n == 0) {
                    rxWaiting = true;
                    return 0;
                }
            }
            if (n < 0) {
                fail(VirtqError.AVAIL_INDEX_JUMP);
                return -1;
            }
            q.disableNotification();
            return n;
        } catch (GuestMemoryException e) {
            fail(VirtqError.MEMORY);
            return -1;
        }
    }

    @Override
    public RxStatus receive(ByteBuf frame, int index, int length, int flowHash) {
        return receive(NO_HEAD, 0, 0, frame, index, length, flowHash);
    }

    @Override
    public RxStatus receive(byte[] head, int headOffset, int headLength, ByteBuf body, int bodyIndex, int bodyLength,
                            int flowHash) {
        if (!active || broken || closed) {
            rxWaiting = true;
            return RxStatus.RETRY_LATER;
        }
        int pair = activePairs == 1 ? 0 : ((flowHash ^ (flowHash >>> 16)) & 0x7FFF_FFFF) % activePairs;
        SplitQueue q = rx[pair];
        if (q == null) {
            counters.increment(NicCounter.RX_DROPPED_NO_BUFFER);
            return RxStatus.DROPPED;
        }
        curHead = head;
        curHeadOffset = headOffset;
        curHeadLength = headLength;
        // GuestByteBufs.writeFrom copies straight from the memory behind derived buffers (slices) too.
        curBody = body;
        curBodyIndex = bodyIndex;
        long need = (long) HDR_SIZE + headLength + bodyLength;
        try {
            RxStatus s = mrgRxbuf ? receiveMerged(q, need) : receiveSingle(q, need);
            if (s == RxStatus.DELIVERED) {
                dirtyRx |= 1 << pair;
                counters.increment(NicCounter.RX_DELIVERED);
            }
            return s;
        } catch (GuestMemoryException e) {
            fail(VirtqError.MEMORY);
            return RxStatus.RETRY_LATER;
        } finally {
            curBody = null;
            curHead = NO_HEAD;
        }
    }


    /** Without MRG_RXBUF: the whole frame goes into the first available chain, or is dropped if it does not fit. */
    private RxStatus receiveSingle(SplitQueue q, long need) {
        int n = availableOrArm(q);
        if (n <= 0) {
            return RxStatus.RETRY_LATER;
        }
        int head = q.head(0);
        if (!parseReceiveChain(q, head)) {
            return RxStatus.RETRY_LATER;
        }
        if (chain.writableBytes() < need) {
            // 5.1.6.3: never cut a frame; the buffer stays for the next (smaller) one.
            counters.increment(NicCounter.RX_DROPPED_TOO_BIG);
            return RxStatus.DROPPED;
        }
        prepareHeader(1);
        int written = scatter(0, (int) need);
        q.putUsed(0, head, written);
        q.consume(1, 1);
        q.publishUsed();
        return RxStatus.DELIVERED;
    }

    /**
     * With MRG_RXBUF: the frame spreads over as many chains as it needs, each filled completely but the last
     * (5.1.6.4); num_buffers says how many. Used entries are published only once the whole frame is placed, so a
     * frame that does not fit yet leaves no trace the driver can see.
     */
    private RxStatus receiveMerged(SplitQueue q, long need) {
        int n = availableOrArm(q);
        if (n <= 0) {
            return RxStatus.RETRY_LATER;
        }
        prepareHeader(0);
        numBuffersLo = -1;
        numBuffersHi = -1;
        long done = 0;
        int chains = 0;
        while (done < need) {
            if (chains == n) {
                n = q.available();
                if (n < 0) {
                    fail(VirtqError.AVAIL_INDEX_JUMP);
                    return RxStatus.RETRY_LATER;
                }
                if (chains == n) {
                    if (n == q.size()) {
                        // Even the whole ring cannot hold it.
                        counters.increment(NicCounter.RX_DROPPED_TOO_BIG);
                        return RxStatus.DROPPED;
                    }
                    n = q.enableNotification();
                    if (n < 0) {
                        fail(VirtqError.AVAIL_INDEX_JUMP);
                        return RxStatus.RETRY_LATER;
                    }
                    if (chains == n) {
                        rxWaiting = true;
                        return RxStatus.RETRY_LATER;
                    }
                    q.disableNotification();
                }
            }
            int head = q.head(chains);
            if (!parseReceiveChain(q, head)) {
                return RxStatus.RETRY_LATER;
            }
            int written = scatter((int) done, (int) (need - done));
            q.putUsed(chains, head, written);
            done += written;
            chains++;
        }
        memory.write8(numBuffersLo, (byte) chains);
        memory.write8(numBuffersHi, (byte) (chains >>> 8));
        q.consume(chains, chains);
        q.publishUsed();
        return RxStatus.DELIVERED;
    }

    private boolean parseReceiveChain(SplitQueue q, int head) {
        VirtqError e = chain.parse(q, head);
        if (e == null && chain.readableCount() != 0) {
            e = VirtqError.UNEXPECTED_READABLE;
        }
        if (e != null) {
            fail(e);
            return false;
        }
        return true;
    }

    private void prepareHeader(int numBuffers) {
        // No offloads are offered: flags, gso_type and the checksum fields are zero (5.1.6.4).
        for (int i = 0; i < HDR_SIZE; i++) {
            header[i] = 0;
        }
        header[HDR_NUM_BUFFERS] = (byte) numBuffers;
        header[HDR_NUM_BUFFERS + 1] = (byte) (numBuffers >>> 8);
    }

    /**
     * Copies stream bytes {@code [from, from + max)} into the writable buffers of the parsed chain, in order, as far as
     * they reach; returns how many bytes went in. The stream is header | head | body.
     */
    private int scatter(int from, int max) {
        int written = 0;
        for (int i = chain.readableCount(), end = chain.count(); i < end && written < max; i++) {
            int len = Math.min(chain.length(i), max - written);
            writeStream(chain.address(i), from + written, len);
            written += len;
        }
        return written;
    }

    private void writeStream(long gpa, int pos, int len) {
        while (len > 0) {
            int k;
            if (pos < HDR_SIZE) {
                k = Math.min(len, HDR_SIZE - pos);
                if (pos <= HDR_NUM_BUFFERS && HDR_NUM_BUFFERS < pos + k) {
                    numBuffersLo = gpa + (HDR_NUM_BUFFERS - pos);
                }
                if (pos <= HDR_NUM_BUFFERS + 1 && HDR_NUM_BUFFERS + 1 < pos + k) {
                    numBuffersHi = gpa + (HDR_NUM_BUFFERS + 1 - pos);
                }
                memory.write(gpa, header, pos, k);
            } else if (pos < HDR_SIZE + curHeadLength) {
                int o = pos - HDR_SIZE;
                k = Math.min(len, curHeadLength - o);
                memory.write(gpa, curHead, curHeadOffset + o, k);
            } else {
                int o = pos - HDR_SIZE - curHeadLength;
                k = len;
                GuestByteBufs.writeFrom(memory, curBody, curBodyIndex + o, gpa, k);
            }
            gpa += k;
            pos += k;
            len -= k;
        }
    }

    @Override
    public void receiveComplete() {
        int dirty = dirtyRx;
        if (dirty == 0 || broken || closed) {
            return;
        }
        dirtyRx = 0;
        try {
            for (int p = 0; dirty != 0; p++, dirty >>>= 1) {
                if ((dirty & 1) != 0 && p < rx.length && rx[p] != null) {
                    notifyDriver(rx[p], VirtioNetDescriptor.rxQueue(p));
                }
            }
        } catch (GuestMemoryException e) {
            fail(VirtqError.MEMORY);
        }
    }

    private void notifyDriver(SplitQueue q, int queueIndex) {
        int d = q.notifyDecision();
        if (d == SplitQueue.NOTIFY) {
            counters.increment(NicCounter.NOTIFICATIONS_SENT);
            interrupts.signalUsedBuffer(queueIndex);
        } else if (d == SplitQueue.SUPPRESSED) {
            counters.increment(NicCounter.NOTIFICATIONS_SUPPRESSED);
        }
    }

    // ============================================================================================ loop: transmit

    @Override
    public void transmitReady() {
        if (txBlocked && active && !broken && !closed) {
            txBlocked = false;
            for (int p = 0; p < tx.length; p++) {
                if (tx[p] != null) {
                    kicks[VirtioNetDescriptor.txQueue(p)].schedule();
                }
            }
        }
    }

    /**
     * Takes frames from transmit queue {@code pair} until it is empty, the backend is full, or the budget is spent
     * (then another run is queued, so receive work interleaves). Notifications stay off while the queue is being
     * drained and are re-armed, with a re-check, before the run ends (the vhost pattern).
     */
    private void processTransmit(int pair) {
        SplitQueue q = tx[pair];
        if (q == null) {
            return;
        }
        int queueIndex = VirtioNetDescriptor.txQueue(pair);
        boolean sent = false;
        try {
            q.disableNotification();
            int budget = TX_BUDGET;
            while (true) {
                if (!backend.isWritable()) {
                    txBlocked = true;
                    break;
                }
                int n = q.available();
                if (n == 0) {
                    n = q.enableNotification();
                    if (n == 0) {
                        break;
                    }
                    q.disableNotification();
                }
                if (n < 0) {
                    fail(VirtqError.AVAIL_INDEX_JUMP);
                    break;
                }
                if (budget-- == 0) {
                    kicks[queueIndex].schedule();
                    break;
                }
                int head = q.head(0);
                VirtqError e = chain.parse(q, head);
                if (e == null && chain.readableCount() != chain.count()) {
                    e = VirtqError.UNEXPECTED_WRITABLE;
                }
                if (e != null) {
                    fail(e);
                    break;
                }
                long frameLength = chain.readableBytes() - HDR_SIZE;
                ByteBuf frame = null;
                if (frameLength < MIN_TX_FRAME || frameLength > MAX_TX_FRAME) {
                    counters.increment(NicCounter.TX_MALFORMED);
                } else {
                    frame = gather((int) frameLength);
                    if (frame == null) {
                        fail(VirtqError.MEMORY);
                        break;
                    }
                }
                // The device writes nothing into a transmit buffer: used length 0.
                q.putUsed(0, head, 0);
                q.consume(1, 1);
                // Every chain taken is a frame the guest transmitted, with one outcome (NicCounter's accounting).
                counters.increment(NicCounter.TX_FRAMES);
                if (frame != null) {
                    counters.add(NicCounter.TX_BYTES, frameLength);
                    sent = true;
                    try {
                        backend.transmit(frame);
                    } catch (RuntimeException ex) {
                        internalError("backend transmit", ex);
                    }
                }
            }
            q.publishUsed();
            if (!broken) {
                notifyDriver(q, queueIndex);
            }
        } catch (GuestMemoryException e) {
            fail(VirtqError.MEMORY);
        }
        if (sent) {
            // Even when the ring broke mid-batch: what the backend took leaves now, not with a later batch.
            callBackend(BACKEND_TRANSMIT_COMPLETE);
        }
        // A transmitted frame may have produced a reply for the guest (the udp backend's ARP).
        receiveComplete();
    }

    /** Copies the frame that follows the virtio-net header out of the parsed chain; null if a buffer is not in RAM. */
    private ByteBuf gather(int frameLength) {
        ByteBuf frame = buffers.take();
        try {
            int skip = HDR_SIZE;
            int out = 0;
            for (int i = 0, end = chain.readableCount(); i < end && out < frameLength; i++) {
                long gpa = chain.address(i);
                int len = chain.length(i);
                if (skip >= len) {
                    skip -= len;
                    continue;
                }
                gpa += skip;
                len -= skip;
                skip = 0;
                int k = Math.min(len, frameLength - out);
                GuestByteBufs.readInto(memory, gpa, frame, out, k);
                out += k;
            }
            frame.writerIndex(frameLength);
            return frame;
        } catch (GuestMemoryException e) {
            frame.release();
            return null;
        }
    }

    // ============================================================================================ loop: control

    /**
     * The control queue (5.1.6.5): {u8 class, u8 command, data} device-readable, then a u8 ack device-writable. Only
     * VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET is implemented (the classes that other features enable are not offered);
     * anything else is answered VIRTIO_NET_ERR.
     */
    private void processControl() {
        SplitQueue q = ctrl;
        if (q == null) {
            return;
        }
        try {
            int budget = CTRL_BUDGET;
            while (budget-- > 0) {
                int n = q.available();
                if (n < 0) {
                    fail(VirtqError.AVAIL_INDEX_JUMP);
                    return;
                }
                if (n == 0) {
                    break;
                }
                int head = q.head(0);
                VirtqError e = chain.parse(q, head);
                if (e != null) {
                    fail(e);
                    return;
                }
                int used = 0;
                if (chain.count() == chain.readableCount() || chain.readableBytes() < VirtioNetDescriptor.CTRL_HDR_SIZE) {
                    // No room for the ack, or no command: a driver error, but the ring itself is intact.
                    counters.increment(NicCounter.GUEST_ERRORS);
                } else {
                    int ack = executeCommand(readCommand());
                    memory.write8(chain.address(chain.readableCount()), (byte) ack);
                    used = 1;
                }
                q.putUsed(0, head, used);
                q.consume(1, 1);
            }
            if (budget < 0) {
                kicks[ctrlIndex].schedule();
            }
            q.publishUsed();
            notifyDriver(q, ctrlIndex);
        } catch (GuestMemoryException e) {
            fail(VirtqError.MEMORY);
        }
    }

    /** Copies up to {@code command.length} readable bytes of the chain; returns how many. */
    private int readCommand() {
        int got = 0;
        for (int i = 0, end = chain.readableCount(); i < end && got < command.length; i++) {
            int k = Math.min(chain.length(i), command.length - got);
            memory.read(chain.address(i), command, got, k);
            got += k;
        }
        return got;
    }

    private int executeCommand(int length) {
        int cls = command[VirtioNetDescriptor.CTRL_HDR_CLASS] & 0xFF;
        int cmd = command[VirtioNetDescriptor.CTRL_HDR_COMMAND] & 0xFF;
        if (cls == VirtioNetDescriptor.VIRTIO_NET_CTRL_MQ && cmd == VirtioNetDescriptor.VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET && mqNegotiated
                && length >= VirtioNetDescriptor.CTRL_HDR_SIZE + 2) {
            int pairs = (command[2] & 0xFF) | (command[3] & 0xFF) << 8;
            if (pairs >= 1 && pairs <= rx.length && pairsReady(pairs)) {
                activePairs = pairs;
                return VirtioNetDescriptor.VIRTIO_NET_OK;
            }
        }
        return VirtioNetDescriptor.VIRTIO_NET_ERR;
    }

    /** Whether the driver made both queues of the first {@code pairs} pairs ready (steering needs them). */
    private boolean pairsReady(int pairs) {
        for (int p = 0; p < pairs; p++) {
            if (rx[p] == null || tx[p] == null) {
                return false;
            }
        }
        return true;
    }

    /** The receive/transmit pairs in use (1 until the driver sets more through the control queue). Loop. */
    int activePairs() {
        return activePairs;
    }

    private static void putLe16(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
    }
}
