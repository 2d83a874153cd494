package dev.jvmm.gic;

/**
 * The layout of an ITS command in the command queue (GICv3 architecture, "ITS commands"): 32 bytes, four
 * little-endian 64-bit words. Every field the twelve physical commands use, as named constants, so that no offset
 * or mask appears in the logic that decodes or encodes commands.
 *
 * <pre>
 *        63                32 31               16 15              8 7             0
 *  DW0  ┌────────────────────┬───────────────────────────────────────┬──────────────┐
 *       │      DeviceID      │                (RES0)                 │    opcode    │
 *  DW1  ├────────────────────┼───────────────────────────────────────┴──────────────┤
 *       │  pINTID (MAPTI)    │  EventID            (MAPD: Size = EventID bits - 1 in [4:0])
 *  DW2  ├─┬──────────┬───────┴────────────────────────────────┬─────────────────────┤
 *       │V│  (RES0)  │ RDbase [51:16] (MAPC, SYNC, MOVALL)     │     ICID [15:0]     │
 *       │ │          │ ITT address [51:8] (MAPD)                                     │
 *  DW3  ├─┴──────────┴─────────────────────────────────────────┬─────────────────────┤
 *       │              RDbase2 [51:16] (MOVALL)                 │                     │
 *       └────────────────────────────────────────────────────────────────────────────┘
 * </pre>
 *
 * With GITS_TYPER.PTA = 0 an RDbase is a processor number placed at bit 16: a guest writes {@code pe << 16}.
 */
public final class ItsCommandDescriptor {
    /** Bytes per command. */
    public static final int COMMAND_SIZE = 32;
    /** Byte offsets of the four words in a command. */
    public static final int DW0_OFFSET = 0;
    public static final int DW1_OFFSET = 8;
    public static final int DW2_OFFSET = 16;
    public static final int DW3_OFFSET = 24;

    // ------------------------------------------------------------------------------------ opcodes (DW0[7:0])
    public static final int MOVI = 0x01;
    public static final int INT = 0x03;
    public static final int CLEAR = 0x04;
    public static final int SYNC = 0x05;
    public static final int MAPD = 0x08;
    public static final int MAPC = 0x09;
    public static final int MAPTI = 0x0A;
    public static final int MAPI = 0x0B;
    public static final int INV = 0x0C;
    public static final int INVALL = 0x0D;
    public static final int MOVALL = 0x0E;
    public static final int DISCARD = 0x0F;

    // ------------------------------------------------------------------------------------ fields
    /** DW0[7:0]. */
    public static final long OPCODE_MASK = 0xFFL;
    /** DW0[63:32]. */
    public static final int DEVICE_ID_SHIFT = 32;
    /** DW1[31:0]. */
    public static final long EVENT_ID_MASK = 0xFFFF_FFFFL;
    /** DW1[63:32], MAPTI only. */
    public static final int PHYSICAL_ID_SHIFT = 32;
    /** DW1[4:0], MAPD only: EventID bits - 1 of the device's ITT. */
    public static final long ITT_SIZE_MASK = 0x1FL;
    /** DW2[15:0]. */
    public static final long ICID_MASK = 0xFFFFL;
    /** DW2[51:16] and DW3[51:16]: the target redistributor, a processor number when PTA = 0. */
    public static final int RDBASE_SHIFT = 16;
    public static final long RDBASE_MASK = (1L << 36) - 1;
    /** DW2[51:8], MAPD only: the ITT address, 256-byte aligned. */
    public static final long ITT_ADDRESS_MASK = 0x000F_FFFF_FFFF_FF00L;
    /** DW2[63], MAPD and MAPC: the mapping is valid (1) or removed (0). */
    public static final long VALID = 1L << 63;

    private ItsCommandDescriptor() {
    }

    public static int opcode(long dw0) {
        return (int) (dw0 & OPCODE_MASK);
    }

    /** The DeviceID, zero-extended: values above 0xFFFF are possible in a command and are out of range. */
    public static long deviceId(long dw0) {
        return dw0 >>> DEVICE_ID_SHIFT;
    }

    public static long eventId(long dw1) {
        return dw1 & EVENT_ID_MASK;
    }

    public static long physicalId(long dw1) {
        return dw1 >>> PHYSICAL_ID_SHIFT;
    }

    /** MAPD: the number of EventID bits of the device (the Size field plus one). */
    public static int ittEventIdBits(long dw1) {
        return (int) (dw1 & ITT_SIZE_MASK) + 1;
    }

    public static int icid(long dw2) {
        return (int) (dw2 & ICID_MASK);
    }

    /** DW2 or DW3: the RDbase field (a processor number with PTA = 0). */
    public static long rdBase(long dw) {
        return (dw >>> RDBASE_SHIFT) & RDBASE_MASK;
    }

    public static long ittAddress(long dw2) {
        return dw2 & ITT_ADDRESS_MASK;
    }

    public static boolean valid(long dw2) {
        return (dw2 & VALID) != 0;
    }

    // ------------------------------------------------------------------------------------ encoders (guest side)

    /** DW0 of a command: {@code opcode} and {@code deviceId}. */
    public static long dw0(int opcode, long deviceId) {
        return ((deviceId & 0xFFFF_FFFFL) << DEVICE_ID_SHIFT) | (opcode & OPCODE_MASK);
    }

    /** DW1 with an EventID and (MAPTI) a physical INTID. */
    public static long dw1(long eventId, long physicalId) {
        return ((physicalId & 0xFFFF_FFFFL) << PHYSICAL_ID_SHIFT) | (eventId & EVENT_ID_MASK);
    }

    /** DW2 with an ICID, an RDbase (processor number) and the Valid bit. */
    public static long dw2(int icid, long rdBase, boolean valid) {
        return (valid ? VALID : 0) | ((rdBase & RDBASE_MASK) << RDBASE_SHIFT) | (icid & ICID_MASK);
    }

    /** An RDbase word (DW2 of SYNC and MOVALL, DW3 of MOVALL). */
    public static long rdBaseWord(long rdBase) {
        return (rdBase & RDBASE_MASK) << RDBASE_SHIFT;
    }
}
