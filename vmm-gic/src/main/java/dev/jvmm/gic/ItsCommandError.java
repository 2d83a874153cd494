package dev.jvmm.gic;

/**
 * Why an ITS command was ignored. The architecture reports command errors through an implementation-defined
 * SError with these encodings ({@code 0x01_CC_EE}: command CC, error EE); like KVM, this ITS raises no SError: it
 * ignores the command, moves GITS_CREADR past it and counts the error here (see {@link ItsStats#errors()}).
 * Codes and checks follow Linux's {@code vgic-its.c} and {@code arm-gic-v3.h}; the last two are this project's.
 */
public enum ItsCommandError {
    /** MOVI: no interrupt translation entry for (DeviceID, EventID). */
    MOVI_UNMAPPED_INTERRUPT(0x010107),
    /** MOVI: the entry's collection or the new collection is not mapped. */
    MOVI_UNMAPPED_COLLECTION(0x010109),
    /** INT: no entry, or its collection is not mapped. */
    INT_UNMAPPED_INTERRUPT(0x010307),
    /** CLEAR: no entry. */
    CLEAR_UNMAPPED_INTERRUPT(0x010507),
    /** MAPD: the DeviceID is outside the device table (GITS_BASER0) or the 16 DeviceID bits. */
    MAPD_DEVICE_OOR(0x010801),
    /** MAPD: more EventID bits than the 16 the ITS supports. */
    MAPD_ITTSIZE_OOR(0x010802),
    /** MAPC: the RDbase names no processor (checked for V = 0 too, as KVM does). */
    MAPC_PROCNUM_OOR(0x010902),
    /** MAPC, MAPTI, MAPI: the ICID is outside the collection table (GITS_BASER1). */
    MAPC_COLLECTION_OOR(0x010903),
    /** MAPTI, MAPI: the device is not mapped. */
    MAPTI_UNMAPPED_DEVICE(0x010A04),
    /** MAPTI, MAPI: the EventID is beyond the device's EventID bits. */
    MAPTI_ID_OOR(0x010A05),
    /** MAPTI, MAPI: the pINTID is not in [8192, 2^min(PROPBASER.IDbits + 1, 16)). */
    MAPTI_PHYSICALID_OOR(0x010A06),
    /** INV: no entry. */
    INV_UNMAPPED_INTERRUPT(0x010C07),
    /** INVALL: the collection is not mapped. */
    INVALL_UNMAPPED_COLLECTION(0x010D09),
    /** MOVALL: RDbase1 or RDbase2 names no processor. */
    MOVALL_PROCNUM_OOR(0x010E01),
    /** DISCARD: no entry, or its collection is not mapped (KVM keeps the entry then). */
    DISCARD_UNMAPPED_INTERRUPT(0x010F07),
    /** An opcode this ITS does not implement (GICv4 commands, reserved values). Project-specific code. */
    UNKNOWN_COMMAND(0x01FF00),
    /** MAPTI, MAPI: the ITS already holds its limit of interrupt translation entries. Project-specific code. */
    ITE_LIMIT(0x01FF01);

    private final int code;

    ItsCommandError(int code) {
        this.code = code;
    }

    /** The error's encoding, {@code 0x01_CC_EE}. */
    public int code() {
        return code;
    }

    @Override
    public String toString() {
        return name() + "(0x" + Integer.toHexString(code) + ")";
    }
}
