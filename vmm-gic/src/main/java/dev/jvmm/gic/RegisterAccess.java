package dev.jvmm.gic;

/**
 * How this GIC's MMIO registers are accessed, in one place: 64-bit registers as one 8-byte access or two 4-byte
 * halves, 32-bit registers as 4-byte accesses, anything else read-as-zero/write-ignored (the GICv3 architecture's
 * rule for accesses a register does not support). And the ID register block every frame ends with.
 */
final class RegisterAccess {
    private static final long LOW = 0xFFFF_FFFFL;

    private RegisterAccess() {
    }

    /** A read of a 64-bit register {@code reg} at {@code at} bytes into it (0 or 4), {@code size} bytes. */
    static long read64(long reg, long at, int size) {
        if (size == 8 && at == 0) {
            return reg;
        }
        if (size == 4 && at == 0) {
            return reg & LOW;
        }
        if (size == 4 && at == 4) {
            return reg >>> 32;
        }
        return 0;
    }

    /** The register's value after a write of {@code size} bytes at {@code at}; unchanged for other accesses. */
    static long write64(long reg, long at, int size, long value) {
        if (size == 8 && at == 0) {
            return value;
        }
        if (size == 4 && at == 0) {
            return (reg & ~LOW) | (value & LOW);
        }
        if (size == 4 && at == 4) {
            return (reg & LOW) | (value << 32);
        }
        return reg;
    }

    /** Whether an access is a supported 64-bit-register access (8 bytes at 0, or 4 bytes at 0 or 4). */
    static boolean is64(long at, int size) {
        return size == 8 && at == 0 || size == 4 && (at == 0 || at == 4);
    }

    /** Where the ID register block of every GIC frame starts (GICD/GICR/GITS_PIDR4), and its length. */
    static final long ID_REGISTERS = 0xFFD0;
    static final long ID_REGISTERS_LENGTH = 0x30;

    /** A row handler: the ID register {@code at} bytes into the block. */
    static long readIdRegister(Object frame, long at, int size) {
        return idRegister(ID_REGISTERS + at);
    }

    /** The ID register block at 0xFFD0..0xFFFC of every GIC frame: Arm's CoreSight values, ArchRev 3. */
    static long idRegister(long offset) {
        switch ((int) offset) {
            case 0xFFD0: return 0x44; // PIDR4: 64 KiB frame, Arm JEP106 continuation
            case 0xFFE0: return 0x92; // PIDR0: part number [7:0]
            case 0xFFE4: return 0xB4; // PIDR1: part number [11:8], JEP106 id [3:0]
            case 0xFFE8: return DistributorRegisterDescriptor.PIDR2_GICV3;
            case 0xFFF0: return 0x0D; // CIDR0..3: the CoreSight component preamble
            case 0xFFF4: return 0xF0;
            case 0xFFF8: return 0x05;
            case 0xFFFC: return 0xB1;
            default: return 0;
        }
    }

    /** GICD_IIDR, GICR_IIDR and GITS_IIDR: Implementer 0x43B (Arm, as KVM and QEMU report), ProductID 0x4A ('J'). */
    static final int IIDR = 0x4A00_043B;
}
