package dev.jvmm.gic.guest;

import dev.jvmm.core.vcpu.GuestAccess;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.gic.ItsCommandDescriptor;
import dev.jvmm.gic.ItsRegisterDescriptor;

/**
 * A guest's view of one ITS command queue: writes 32-byte commands into the queue in guest RAM and moves
 * GITS_CWRITER past them, as Linux's {@code its_send_single_command} does. The ITS runs commands synchronously
 * when CWRITER moves, so when a method returns, GITS_CREADR has passed the command (unless the ITS is disabled or
 * the queue stalled; see {@link #creadr()}).
 *
 * <p>Methods are named after the commands. Identifiers are passed unchecked, so tests can send bad ones.
 */
public final class ItsCommandQueue {
    private final GuestAccess access;
    private final long itsBase;
    private final long queue;
    private final long queueBytes;
    private long cwriter;

    ItsCommandQueue(GuestAccess access, long itsBase, long queue, long queueBytes) {
        this.access = access;
        this.itsBase = itsBase;
        this.queue = queue;
        this.queueBytes = queueBytes;
    }

    /** The queue's guest physical address. */
    public long address() {
        return queue;
    }

    public long queueBytes() {
        return queueBytes;
    }

    /** The ITS's base address. */
    public long itsBase() {
        return itsBase;
    }

    /** MAPD: DeviceID to an ITT of 2^eventIdBits entries at {@code itt} (valid), or unmap it. */
    public void mapd(long deviceId, int eventIdBits, long itt, boolean valid) {
        send(ItsCommandDescriptor.dw0(ItsCommandDescriptor.MAPD, deviceId),
                (eventIdBits - 1) & ItsCommandDescriptor.ITT_SIZE_MASK,
                (valid ? ItsCommandDescriptor.VALID : 0) | (itt & ItsCommandDescriptor.ITT_ADDRESS_MASK), 0);
    }

    /** MAPC: ICID to processor {@code pe} (valid), or unmap it. */
    public void mapc(int icid, long pe, boolean valid) {
        send(ItsCommandDescriptor.dw0(ItsCommandDescriptor.MAPC, 0), 0,
                ItsCommandDescriptor.dw2(icid, pe, valid), 0);
    }

    /** MAPTI: (DeviceID, EventID) to LPI {@code intid} in collection {@code icid}. */
    public void mapti(long deviceId, long eventId, long intid, int icid) {
        send(ItsCommandDescriptor.dw0(ItsCommandDescriptor.MAPTI, deviceId), ItsCommandDescriptor.dw1(eventId, intid),
                ItsCommandDescriptor.dw2(icid, 0, false), 0);
    }

    /** MAPI: (DeviceID, EventID) to LPI EventID in collection {@code icid}. */
    public void mapi(long deviceId, long eventId, int icid) {
        send(ItsCommandDescriptor.dw0(ItsCommandDescriptor.MAPI, deviceId), ItsCommandDescriptor.dw1(eventId, 0),
                ItsCommandDescriptor.dw2(icid, 0, false), 0);
    }

    /** MOVI: (DeviceID, EventID) to collection {@code icid}. */
    public void movi(long deviceId, long eventId, int icid) {
        send(ItsCommandDescriptor.dw0(ItsCommandDescriptor.MOVI, deviceId), ItsCommandDescriptor.dw1(eventId, 0),
                ItsCommandDescriptor.dw2(icid, 0, false), 0);
    }

    /** MOVALL: every LPI of processor {@code from} to processor {@code to}. */
    public void movall(long from, long to) {
        send(ItsCommandDescriptor.dw0(ItsCommandDescriptor.MOVALL, 0), 0, ItsCommandDescriptor.rdBaseWord(from),
                ItsCommandDescriptor.rdBaseWord(to));
    }

    public void discard(long deviceId, long eventId) {
        eventCommand(ItsCommandDescriptor.DISCARD, deviceId, eventId);
    }

    public void inv(long deviceId, long eventId) {
        eventCommand(ItsCommandDescriptor.INV, deviceId, eventId);
    }

    /** INT: makes the LPI of (DeviceID, EventID) pending. */
    public void interrupt(long deviceId, long eventId) {
        eventCommand(ItsCommandDescriptor.INT, deviceId, eventId);
    }

    public void clear(long deviceId, long eventId) {
        eventCommand(ItsCommandDescriptor.CLEAR, deviceId, eventId);
    }

    public void invall(int icid) {
        send(ItsCommandDescriptor.dw0(ItsCommandDescriptor.INVALL, 0), 0, ItsCommandDescriptor.dw2(icid, 0, false), 0);
    }

    public void sync(long pe) {
        send(ItsCommandDescriptor.dw0(ItsCommandDescriptor.SYNC, 0), 0, ItsCommandDescriptor.rdBaseWord(pe), 0);
    }

    private void eventCommand(int opcode, long deviceId, long eventId) {
        send(ItsCommandDescriptor.dw0(opcode, deviceId), ItsCommandDescriptor.dw1(eventId, 0), 0, 0);
    }

    /** Writes one command of any content and moves CWRITER past it. */
    public void send(long dw0, long dw1, long dw2, long dw3) {
        enqueue(dw0, dw1, dw2, dw3);
        publish();
    }

    /** Writes one command without telling the ITS (see {@link #publish()}). */
    public void enqueue(long dw0, long dw1, long dw2, long dw3) {
        GuestMemory ram = access.memory();
        long slot = queue + cwriter;
        ram.write64(slot + ItsCommandDescriptor.DW0_OFFSET, dw0);
        ram.write64(slot + ItsCommandDescriptor.DW1_OFFSET, dw1);
        ram.write64(slot + ItsCommandDescriptor.DW2_OFFSET, dw2);
        ram.write64(slot + ItsCommandDescriptor.DW3_OFFSET, dw3);
        cwriter = (cwriter + ItsCommandDescriptor.COMMAND_SIZE) % queueBytes;
    }

    /** Moves GITS_CWRITER to the next free slot: the ITS runs what was enqueued. */
    public void publish() {
        // The commands must be in RAM before the ITS reads them (Linux: dsb(ishst) before writing CWRITER).
        GuestMemory.fullFence();
        access.mmioWrite(itsBase + ItsRegisterDescriptor.GITS_CWRITER, 8, cwriter);
    }

    /** The driver's next free slot. */
    public long cwriter() {
        return cwriter;
    }

    /** GITS_CREADR's offset. */
    public long creadr() {
        return access.mmioRead(itsBase + ItsRegisterDescriptor.GITS_CREADR, 8) & ItsRegisterDescriptor.QUEUE_OFFSET_MASK;
    }

    /** GITS_CREADR.Stalled. */
    public boolean stalled() {
        return (access.mmioRead(itsBase + ItsRegisterDescriptor.GITS_CREADR, 8) & ItsRegisterDescriptor.CREADR_STALLED) != 0;
    }

    /** Whether the ITS has run every command written so far. */
    public boolean drained() {
        return creadr() == cwriter && !stalled();
    }

    /** Forgets the driver's write position (after GITS_CBASER was rewritten, which resets the ITS's to 0). */
    void reset() {
        cwriter = 0;
    }
}
