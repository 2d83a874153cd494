package dev.jvmm.launcher.trace;

import dev.jvmm.net.NicConfig;
import dev.jvmm.net.VirtioNetDevice;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.core.irq.IrqObserver;
import dev.jvmm.core.irq.MsiRoute;
import dev.jvmm.core.irq.MsiTarget;
import io.netty.buffer.ByteBuf;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.jctools.queues.MpmcArrayQueue;
import org.jctools.queues.MpscArrayQueue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Records every MSI, every acknowledge and every received datagram of a machine into a Chronicle Queue
 * ({@link TraceRecordDescriptor}), for {@code vmm trace} and {@code vmm replay}.
 *
 * <pre>
 *  injecting threads, vCPUs, Netty event loop ──(fill a pooled event)──▶ MPSC queue ──▶ trace writer thread
 *                                                                                       └▶ Chronicle appender
 * </pre>
 *
 * <p>The threads that see the events only copy a few fields (and a datagram's bytes) into an event taken from a
 * pool and hand it on: no allocation, no I/O, no lock. One writer thread owns the Chronicle appender. Nothing is
 * dropped: when the pool is empty (the writer has fallen behind) a producer waits for an event to come back, which
 * slows the traced machine rather than losing a record, and counts the wait.
 */
public final class TraceRecorder implements IrqObserver, AutoCloseable {
    private static final int POOL = 1 << 14;
    private static final int INLINE_BYTES = 2048;

    /** One record on its way to the journal. */
    private static final class Event {
        byte type;
        long t0;
        long t1;
        long t2;
        int a;
        int b;
        int c;
        int d;
        int flags;
        byte[] data = new byte[INLINE_BYTES];
        int length;
    }

    private final ChronicleQueue queue;
    /** NIC n raises MSIs to nicDoorbells[n] with DeviceID nicDeviceIds[n]. */
    private final long[] nicDoorbells;
    private final int[] nicDeviceIds;
    private final MpmcArrayQueue<Event> free = new MpmcArrayQueue<>(POOL);
    private final MpscArrayQueue<Event> full = new MpscArrayQueue<>(POOL);
    private final Thread writer;
    private volatile boolean closing;
    private volatile boolean writerParked;
    private final LongAdder stalls = new LongAdder();
    private final LongAdder records = new LongAdder();
    private final LongAdder written = new LongAdder();

    /**
     * Opens (or appends to) the journal in {@code dir} and writes its header describing the NICs.
     */
    public TraceRecorder(Path dir, List<NicConfig> nics, String threadPrefix) {
        this.nicDoorbells = new long[nics.size()];
        this.nicDeviceIds = new int[nics.size()];
        for (int i = 0; i < nics.size(); i++) {
            nicDoorbells[i] = -1;
            nicDeviceIds[i] = nics.get(i).deviceId();
        }
        this.queue = SingleChronicleQueueBuilder.binary(dir).rollCycle(RollCycles.FAST_DAILY).build();
        for (int i = 0; i < POOL; i++) {
            free.offer(new Event());
        }
        this.writer = new Thread(this::runWriter, threadPrefix + "-trace-writer");
        this.writer.setDaemon(true);
        writeHeader(nics);
        writer.start();
    }

    /**
     * Learns each NIC's MSI doorbell, as the interrupt controller handed it to the NIC, so that an MSI's (doorbell,
     * DeviceID) names its NIC. Call after building the machine and before starting it. A wired NIC raises no MSIs
     * (its SPI's edges are not recorded; its datagrams and acknowledges are).
     */
    public void attach(List<VirtioNetDevice> devices) {
        for (int i = 0; i < nicDoorbells.length && i < devices.size(); i++) {
            MsiTarget t = devices.get(i).msiTarget();
            nicDoorbells[i] = t == null ? -1 : t.doorbell();
        }
    }

    private void writeHeader(List<NicConfig> nics) {
        try (ExcerptAppender app = queue.createAppender(); DocumentContext dc = app.writingDocument()) {
            Bytes<?> b = dc.wire().bytes();
            b.writeByte(TraceRecordDescriptor.HEADER);
            b.writeInt(TraceRecordDescriptor.VERSION);
            long nano = System.nanoTime();
            java.time.Instant now = java.time.Instant.now();
            b.writeLong(now.getEpochSecond() * 1_000_000_000L + now.getNano());
            b.writeLong(nano);
            b.writeShort((short) nics.size());
            for (int i = 0; i < nics.size(); i++) {
                NicConfig n = nics.get(i);
                b.writeShort((short) i);
                b.writeShort((short) n.its());
                b.writeInt(n.deviceId());
                b.writeInt(n.listen().getPort());
                byte[] id = n.id().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                b.writeShort((short) id.length);
                b.write(id);
            }
        }
    }

    /** A free event, set to a record of {@code type} at {@code t0}; null once the recorder is closing. */
    private Event take(byte type, long t0) {
        Event e = free.poll();
        while (e == null) {
            if (closing) {
                return null;
            }
            stalls.increment();
            LockSupport.unpark(writer);
            Thread.yield();
            e = free.poll();
        }
        e.type = type;
        e.t0 = t0;
        return e;
    }

    private void put(Event e) {
        full.offer(e);
        records.increment();
        if (writerParked) {
            LockSupport.unpark(writer);
        }
    }

    @Override
    public void injected(MsiRoute route, long result, boolean fastPath, long signalNanos, long pendingNanos) {
        Event e = take(TraceRecordDescriptor.MSI, signalNanos);
        if (e == null) {
            return;
        }
        e.t1 = pendingNanos;
        e.a = route == null ? -1 : route.deviceId();
        e.b = route == null ? -1 : route.data();
        boolean delivered = InjectResult.isDelivered(result);
        e.c = delivered ? InjectResult.intid(result) : InjectResult.isDropped(result) ? InjectResult.reason(result).ordinal() : -1;
        e.d = delivered ? InjectResult.vcpu(result) : -1;
        e.flags = (fastPath ? 1 : 0) | (InjectResult.status(result) << 8);
        e.length = route == null ? -1 : nicOf(route);
        put(e);
    }

    private int nicOf(MsiRoute route) {
        for (int i = 0; i < nicDoorbells.length; i++) {
            if (nicDoorbells[i] == route.address() && nicDeviceIds[i] == route.deviceId()) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public void acknowledged(int vcpu, int intid, long signalNanos, long pendingNanos, long ackNanos) {
        Event e = take(TraceRecordDescriptor.ACK, signalNanos);
        if (e == null) {
            return;
        }
        e.t1 = pendingNanos;
        e.t2 = ackNanos;
        e.c = intid;
        e.d = vcpu;
        put(e);
    }

    /** A datagram that NIC {@code nic} received from its host socket: {@code length} bytes of {@code buf} at {@code index}. */
    public void datagram(int nic, long nanos, ByteBuf buf, int index, int length) {
        Event e = take(TraceRecordDescriptor.DATAGRAM, nanos);
        if (e == null) {
            return;
        }
        e.a = nic;
        if (e.data.length < length) {
            e.data = new byte[Math.max(length, e.data.length * 2)];
        }
        buf.getBytes(index, e.data, 0, length);
        e.length = length;
        put(e);
    }

    private void runWriter() {
        try (ExcerptAppender app = queue.createAppender()) {
            while (true) {
                Event e = full.poll();
                if (e == null) {
                    if (closing && full.isEmpty()) {
                        return;
                    }
                    writerParked = true;
                    if (full.isEmpty() && !closing) {
                        LockSupport.parkNanos(this, 1_000_000L);
                    }
                    writerParked = false;
                    continue;
                }
                write(app, e);
                free.offer(e);
                written.increment();
            }
        }
    }

    private static void write(ExcerptAppender app, Event e) {
        try (DocumentContext dc = app.writingDocument()) {
            Bytes<?> b = dc.wire().bytes();
            b.writeByte(e.type);
            switch (e.type) {
                case TraceRecordDescriptor.MSI:
                    b.writeLong(e.t0);
                    b.writeLong(e.t1);
                    b.writeInt(e.a);
                    b.writeInt(e.b);
                    b.writeInt(e.c);
                    b.writeShort((short) e.d);
                    b.writeByte((byte) (e.flags & 1));
                    b.writeByte((byte) (e.flags >>> 8));
                    b.writeShort((short) e.length);
                    break;
                case TraceRecordDescriptor.ACK:
                    b.writeLong(e.t0);
                    b.writeLong(e.t1);
                    b.writeLong(e.t2);
                    b.writeInt(e.c);
                    b.writeShort((short) e.d);
                    break;
                default:
                    b.writeLong(e.t0);
                    b.writeShort((short) e.a);
                    b.writeInt(e.length);
                    b.write(e.data, 0, e.length);
            }
        }
    }

    /** Records handed to the writer so far. */
    public long records() {
        return records.sum();
    }

    /** Records in the journal so far. */
    public long written() {
        return written.sum();
    }

    /** Times a producer waited because the writer had fallen behind. */
    public long stalls() {
        return stalls.sum();
    }

    /** Writes every record handed over so far, stops the writer and closes the journal. */
    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        LockSupport.unpark(writer);
        try {
            writer.join(30_000);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
        queue.close();
    }
}
