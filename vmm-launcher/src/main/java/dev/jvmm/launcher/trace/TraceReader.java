package dev.jvmm.launcher.trace;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a trace journal ({@link TraceRecordDescriptor}) from the start, record by record, up to its last complete record.
 */
public final class TraceReader {

    /** A NIC as the journal's header describes it. */
    public record Nic(int index, int its, int deviceId, int port, String id) {
    }

    /** The journal's header. */
    public record Header(long epochNanos, long nanoTimeAtEpoch, List<Nic> nics) {
        /** The wall-clock time (epoch nanoseconds) of a recorded nanoTime value. */
        public long wallClock(long nanoTime) {
            return epochNanos + (nanoTime - nanoTimeAtEpoch);
        }
    }

    /** Receives the records in journal order. */
    public interface Visitor {
        default void header(Header h) {
        }

        /**
         * {@code status}: 1 delivered (intid, vcpu valid), 3 dropped (intid holds the DropReason ordinal); {@code nic}
         * is the index of the NIC that raised it, or -1.
         */
        default void msi(long signal, long pending, int deviceId, int eventId, int intid, int vcpu, boolean fast, int status,
                         int nic) {
        }

        default void ack(long signal, long pending, long ack, int intid, int vcpu) {
        }

        /** {@code payload} is valid during the call only. */
        default void datagram(long time, int nic, byte[] payload, int length) {
        }
    }

    private TraceReader() {
    }

    /**
     * Reads every complete record of the journal in {@code dir}.
     *
     * @return the number of records read
     * @throws IllegalArgumentException when {@code dir} holds no journal or the journal is not one of ours
     */
    public static long read(Path dir, Visitor v) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + ": no such trace directory");
        }
        try (var files = Files.list(dir)) {
            if (files.noneMatch(p -> p.getFileName().toString().endsWith(".cq4"))) {
                throw new IllegalArgumentException(dir + ": no trace journal (*.cq4) in this directory");
            }
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(dir + ": cannot list the directory: " + e.getMessage());
        }
        long count = 0;
        byte[] payload = new byte[2048];
        try (ChronicleQueue q = SingleChronicleQueueBuilder.binary(dir).rollCycle(RollCycles.FAST_DAILY).readOnly(true).build()) {
            ExcerptTailer t = q.createTailer();
            while (true) {
                try (DocumentContext dc = t.readingDocument()) {
                    if (!dc.isPresent()) {
                        break;
                    }
                    if (dc.isMetaData()) {
                        continue;
                    }
                    Bytes<?> b = dc.wire().bytes();
                    if (b.readRemaining() < 1) {
                        continue;
                    }
                    byte type = b.readByte();
                    switch (type) {
                        case TraceRecordDescriptor.HEADER: {
                            int version = b.readInt();
                            if (version != TraceRecordDescriptor.VERSION) {
                                throw new IllegalArgumentException(dir + ": trace format version " + version
                                        + " is not " + TraceRecordDescriptor.VERSION);
                            }
                            long epoch = b.readLong();
                            long nano = b.readLong();
                            int n = b.readShort();
                            List<Nic> nics = new ArrayList<>();
                            for (int i = 0; i < n; i++) {
                                int index = b.readShort();
                                int its = b.readShort();
                                int dev = b.readInt();
                                int port = b.readInt();
                                byte[] id = new byte[b.readShort()];
                                b.read(id);
                                nics.add(new Nic(index, its, dev, port, new String(id, StandardCharsets.UTF_8)));
                            }
                            v.header(new Header(epoch, nano, List.copyOf(nics)));
                            break;
                        }
                        case TraceRecordDescriptor.MSI:
                            v.msi(b.readLong(), b.readLong(), b.readInt(), b.readInt(), b.readInt(), b.readShort(),
                                    b.readByte() != 0, b.readByte(), b.readShort());
                            break;
                        case TraceRecordDescriptor.ACK:
                            v.ack(b.readLong(), b.readLong(), b.readLong(), b.readInt(), b.readShort());
                            break;
                        case TraceRecordDescriptor.DATAGRAM: {
                            long time = b.readLong();
                            int nic = b.readShort();
                            int len = b.readInt();
                            if (len < 0 || len > b.readRemaining()) {
                                throw new IllegalArgumentException(dir + ": a datagram record is damaged");
                            }
                            if (payload.length < len) {
                                payload = new byte[len];
                            }
                            b.read(payload, 0, len);
                            v.datagram(time, nic, payload, len);
                            break;
                        }
                        default:
                            throw new IllegalArgumentException(dir + ": unknown record type " + type);
                    }
                    count++;
                }
            }
        }
        return count;
    }
}
