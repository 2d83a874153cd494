package dev.jvmm.launcher.trace;

/**
 * The layout of a trace journal: a Chronicle Queue whose excerpts are raw little-endian records, one per excerpt,
 * each starting with a type byte. Times are {@link System#nanoTime()} values of the recording JVM; the header gives
 * the wall-clock time that corresponds to one of them.
 *
 * <pre>
 *  HEADER    u8 0  u32 version  i64 epochNanos  i64 nanoTimeAtEpoch  u16 nics
 *            then per NIC: u16 index  u16 its  u32 deviceId  u32 port  utf8 id
 *  MSI       u8 1  i64 signal  i64 pending  u32 deviceId  u32 eventId  u32 intid  u16 vcpu  u8 fast  u8 status
 *                  i16 nic (status: 1 delivered, 3 dropped; for a drop, intid holds the DropReason ordinal;
 *                  nic: the index of the NIC that raised it, -1 when none)
 *  ACK       u8 2  i64 signal  i64 pending  i64 ack  u32 intid  u16 vcpu
 *  DATAGRAM  u8 3  i64 time  u16 nic  u32 length  bytes[length]
 * </pre>
 *
 * A journal cut short (the process killed while writing) ends at its last complete excerpt: Chronicle marks an
 * excerpt complete only when its writer closes it, and readers stop before an incomplete one.
 */
public final class TraceRecordDescriptor {
    public static final int VERSION = 1;
    public static final byte HEADER = 0;
    public static final byte MSI = 1;
    public static final byte ACK = 2;
    public static final byte DATAGRAM = 3;

    private TraceRecordDescriptor() {
    }
}
