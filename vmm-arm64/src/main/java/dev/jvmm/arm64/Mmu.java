package dev.jvmm.arm64;

import dev.jvmm.core.bus.MmioFault;
import dev.jvmm.core.memory.GuestMemory;

/**
 * Stage 1 translation of the EL1&0 regime (Arm ARM D5 "The AArch64 Virtual Memory System Architecture") with a
 * software TLB, and every data access and instruction fetch of one vCPU.
 *
 * <h2>Software TLB</h2>
 * Two direct-mapped tables of {@link #TLB_SIZE} 4 KiB entries, one per permission set (index 0: EL0's permissions,
 * index 1: EL1's, as QEMU keeps one TLB per MMU index). An entry has a tag per access type (read, write, execute)
 * holding the page's virtual address when that access is allowed, and the page's physical offset. The fast path of an
 * access compares {@code va & (PAGE_MASK | size - 1)} with the tag: an unaligned access never matches, so the fast
 * path needs no alignment logic, and the slow path applies SCTLR_EL1.A, Device memory's alignment rule and page
 * crossing. Tags are filled only for RAM; MMIO always takes the slow path. A write tag is never filled for a page
 * with decoded code ({@link CodeCache}), so a store to code takes the slow path, which drops the code.
 *
 * <p>Larger pages and blocks (64 KiB granule, 2 MiB blocks) are cached as 4 KiB pieces. The whole TLB is flushed by
 * every TLBI, and by writes to SCTLR_EL1, TCR_EL1, TTBR0/1_EL1 and MAIR_EL1 that change their value (over-flushing a
 * TLB is always allowed; a flush also empties the vCPU's jump cache, which caches translations too).
 *
 * <h2>Faults</h2>
 * A failing access records its syndrome in the CPU ({@link Arm64Cpu#raise}) and throws the CPU's {@link GuestTrap}.
 * Fault codes and levels follow the Arm ARM's AArch64.TranslationTableWalk: translation faults (invalid descriptor,
 * address outside TTBR0's and TTBR1's ranges or an EPDn-disabled range at level 0), address size faults (output
 * address above the configured PA size), access flag faults (AF = 0: a Cortex-A57 has no hardware AF update),
 * permission faults, synchronous external aborts on a table walk that reads outside RAM, and external aborts for an
 * MMIO access that no device answers.
 */
final class Mmu {
    static final int PAGE_SHIFT = 12;
    static final long PAGE_MASK = -1L << PAGE_SHIFT;
    static final int TLB_BITS = 9;
    static final int TLB_SIZE = 1 << TLB_BITS;
    private static final long INVALID = -1L;
    /** Implemented physical address size: ID_AA64MMFR0_EL1.PARange = 44 bits. */
    static final int PA_BITS = 44;

    static final int READ = 0;
    static final int WRITE = 1;
    static final int EXEC = 2;

    // Permission bits of a translation.
    private static final int R0 = 1;
    private static final int W0 = 2;
    private static final int X0 = 4;
    private static final int R1 = 8;
    private static final int W1 = 16;
    private static final int X1 = 32;

    private final Arm64Cpu cpu;
    private final ArchState st;
    private final GuestMemory memory;
    private final CodeCache code;
    private final ExclusiveMonitor monitor;

    final long[] readTag = new long[2 * TLB_SIZE];
    final long[] writeTag = new long[2 * TLB_SIZE];
    final long[] execTag = new long[2 * TLB_SIZE];
    /** Physical address minus virtual address of the page. */
    final long[] addend = new long[2 * TLB_SIZE];
    /** The buffer backing the page ({@link GuestMemory#pageBuffer}), and buffer index minus virtual address. */
    final java.nio.ByteBuffer[] buffer = new java.nio.ByteBuffer[2 * TLB_SIZE];
    final long[] bufferAddend = new long[2 * TLB_SIZE];

    // The result of the last walk (slow path only).
    private long walkPa;
    private int walkPerms;
    private boolean walkDevice;
    private int walkAttr;
    private int walkFault;
    private int walkLevel;

    Mmu(Arm64Cpu cpu, ArchState st, GuestMemory memory, CodeCache code, ExclusiveMonitor monitor) {
        this.cpu = cpu;
        this.st = st;
        this.memory = memory;
        this.code = code;
        this.monitor = monitor;
        flush();
    }

    /** Forgets every translation. */
    void flush() {
        java.util.Arrays.fill(readTag, INVALID);
        java.util.Arrays.fill(writeTag, INVALID);
        java.util.Arrays.fill(execTag, INVALID);
        cpu.onTranslationFlush();
    }

    /** Drops the fast write tags of physical page {@code pa}: the page just got decoded code. */
    void dropWriteTags(long pa) {
        long page = pa & PAGE_MASK;
        for (int i = 0; i < writeTag.length; i++) {
            if (writeTag[i] != INVALID && writeTag[i] + addend[i] == page) {
                writeTag[i] = INVALID;
            }
        }
    }

    static int index(long va, int regime) {
        return regime << TLB_BITS | (int) (va >>> PAGE_SHIFT) & (TLB_SIZE - 1);
    }

    // ------------------------------------------------------------------------------------------------ data

    /** Loads {@code size} (1, 2, 4, 8) bytes at {@code va}, zero-extended, with the permissions of {@code regime}. */
    long read(long va, int size, int regime) {
        int i = index(va, regime);
        if (readTag[i] == (va & (PAGE_MASK | (size - 1)))) {
            java.nio.ByteBuffer b = buffer[i];
            int at = (int) (va + bufferAddend[i]);
            switch (size) {
                case 8: return b.getLong(at);
                case 4: return b.getInt(at) & 0xFFFF_FFFFL;
                case 2: return b.getShort(at) & 0xFFFFL;
                default: return b.get(at) & 0xFFL;
            }
        }
        return readSlow(va, size, regime);
    }

    /** Stores the low {@code size} bytes of {@code value} at {@code va}. */
    void write(long va, int size, long value, int regime) {
        int i = index(va, regime);
        if (writeTag[i] == (va & (PAGE_MASK | (size - 1)))) {
            if (monitor.armed()) {
                monitor.onStore(cpu.index, va + addend[i], size);
            }
            java.nio.ByteBuffer b = buffer[i];
            int at = (int) (va + bufferAddend[i]);
            switch (size) {
                case 8: b.putLong(at, value); return;
                case 4: b.putInt(at, (int) value); return;
                case 2: b.putShort(at, (short) value); return;
                default: b.put(at, (byte) value); return;
            }
        }
        writeSlow(va, size, value, regime);
    }

    private boolean alignmentChecked() {
        return (st.get(SysReg.SCTLR_EL1) & 2) != 0;
    }

    /**
     * What a slow access checks first: the alignment fault SCTLR_EL1.A asks for, and for an access that crosses a
     * page, the translation of both pages before either is touched (no partial effects). Returns whether it crosses
     * (then the caller accesses it byte by byte).
     */
    private boolean crossesPage(long va, int size, int access, int regime) {
        if ((va & (size - 1)) != 0 && alignmentChecked()) {
            throw alignmentFault(va, access == WRITE);
        }
        long pageEnd = (va | ~PAGE_MASK) + 1;
        if (va + size - pageEnd > 0 && pageEnd != 0) {
            translateData(va, access, regime, size);
            translateData(pageEnd, access, regime, 1);
            return true;
        }
        return false;
    }

    private long readSlow(long va, int size, int regime) {
        if (crossesPage(va, size, READ, regime)) {
            long v = 0;
            for (int b = 0; b < size; b++) {
                v |= (read(va + b, 1, regime) & 0xFF) << (8 * b);
            }
            return v;
        }
        long pa = translateData(va, READ, regime, size);
        if (memory.isValid(pa, size)) {
            return memory.read(pa, size);
        }
        try {
            return cpu.io().mmioRead(pa, size);
        } catch (MmioFault f) {
            throw externalAbort(va, false);
        }
    }

    private void writeSlow(long va, int size, long value, int regime) {
        if (crossesPage(va, size, WRITE, regime)) {
            for (int b = 0; b < size; b++) {
                write(va + b, 1, value >>> (8 * b), regime);
            }
            return;
        }
        long pa = translateData(va, WRITE, regime, size);
        if (memory.isValid(pa, size)) {
            if (monitor.armed()) {
                monitor.onStore(cpu.index, pa, size);
            }
            memory.write(pa, size, value);
            code.onStore(pa, size);
            return;
        }
        try {
            cpu.io().mmioWrite(pa, size, value);
        } catch (MmioFault f) {
            throw externalAbort(va, true);
        }
    }

    /**
     * Translates a data access of {@code size} bytes at {@code va} that does not cross a page, filling the TLB;
     * raises the fault if there is one. Unaligned accesses to Device memory raise an alignment fault.
     */
    long translateData(long va, int access, int regime, int size) {
        int i = index(va, regime);
        long[] tags = access == WRITE ? writeTag : readTag;
        long page = va & PAGE_MASK;
        if (tags[i] == page && (va & (size - 1)) == 0) {
            return va + addend[i];
        }
        if (!walk(va, access, regime)) {
            throw abort(va, access, walkFault | walkLevel, false);
        }
        if (walkDevice && (va & (size - 1)) != 0) {
            throw alignmentFault(va, access == WRITE);
        }
        fill(va, regime);
        return walkPa;
    }

    /** Whether physical {@code pa} is RAM for an access of {@code size}. */
    boolean isRam(long pa, int size) {
        return memory.isValid(pa, size);
    }

    /** Whether the last successful walk ({@link #translateData}) found Device memory. */
    boolean lastWasDevice() {
        return walkDevice;
    }

    // ------------------------------------------------------------------------------------------------ fetch

    /** The physical address of the instruction at {@code pc}; raises an instruction abort. */
    long translateFetch(long pc, int regime) {
        int i = index(pc, regime);
        if (execTag[i] == (pc & PAGE_MASK)) {
            return pc + addend[i];
        }
        if (!walk(pc, EXEC, regime)) {
            throw abort(pc, EXEC, walkFault | walkLevel, false);
        }
        if (!memory.isValid(walkPa & PAGE_MASK, 1 << PAGE_SHIFT)) {
            // Instruction fetch from outside RAM: a synchronous external abort (there is no ROM or flash here).
            throw abort(pc, EXEC, Syndrome.FSC_EXTERNAL, false);
        }
        fill(pc, regime);
        return walkPa;
    }

    private void fill(long va, int regime) {
        long pa = walkPa;
        if (memory.pageBuffer(pa) == null) {
            return;
        }
        int i = index(va, regime);
        long page = va & PAGE_MASK;
        long paPage = pa & PAGE_MASK;
        addend[i] = paPage - page;
        buffer[i] = memory.pageBuffer(paPage);
        bufferAddend[i] = memory.bufferOffset(paPage) - page;
        int p = walkPerms;
        boolean el0 = regime == 0;
        readTag[i] = (p & (el0 ? R0 : R1)) != 0 ? page : INVALID;
        writeTag[i] = (p & (el0 ? W0 : W1)) != 0 && !code.hasCode(pa) ? page : INVALID;
        execTag[i] = (p & (el0 ? X0 : X1)) != 0 ? page : INVALID;
    }

    // ------------------------------------------------------------------------------------------------ faults

    private GuestTrap alignmentFault(long va, boolean write) {
        return abort(va, write ? WRITE : READ, Syndrome.FSC_ALIGNMENT, false);
    }

    /** No device answered: a synchronous external abort, EA = 0 as QEMU reports a decode error. */
    private GuestTrap externalAbort(long va, boolean write) {
        return abort(va, write ? WRITE : READ, Syndrome.FSC_EXTERNAL, false);
    }

    /** A data or instruction abort with fault status {@code fsc} (plus ISS bits such as EA), raised in the CPU. */
    GuestTrap abort(long va, int access, int fsc, boolean cacheMaintenance) {
        boolean lower = st.el == 0;
        if (access == EXEC) {
            return cpu.raise(lower ? Syndrome.EC_IABT_LOWER : Syndrome.EC_IABT_SAME, fsc, va);
        }
        int iss = fsc;
        if (access == WRITE || cacheMaintenance) {
            iss |= Syndrome.ISS_WNR;
        }
        if (cacheMaintenance) {
            iss |= Syndrome.ISS_CM;
        }
        return cpu.raise(lower ? Syndrome.EC_DABT_LOWER : Syndrome.EC_DABT_SAME, iss, va);
    }

    // ------------------------------------------------------------------------------------------------ the walk

    /** The fault of the last failed walk ({@code FSC | level}), for AT. */
    int lastFault() {
        return walkFault | walkLevel;
    }

    long lastPa() {
        return walkPa;
    }

    /**
     * Translates {@code va} for {@code access} with {@code regime}'s permissions (0: EL0, 1: EL1). On success sets
     * {@link #walkPa}, {@link #walkPerms}, {@link #walkDevice} and returns true; otherwise sets {@link #walkFault}
     * and {@link #walkLevel}. AArch64.TranslationTableWalk and AArch64.CheckPermission, for stage 1 only.
     */
    boolean walk(long va, int access, int regime) {
        long sctlr = st.get(SysReg.SCTLR_EL1);
        if ((sctlr & 1) == 0) {
            // Stage 1 disabled (Arm ARM D5.2.9): flat mapping; data accesses are Device-nGnRnE, instruction fetches
            // Normal; an address above the implemented PA size is an address size fault at level 0.
            if ((va >>> PA_BITS) != 0) {
                return fault(Syndrome.FSC_ADDRESS_SIZE, 0);
            }
            walkPa = va;
            walkPerms = R0 | W0 | X0 | R1 | W1 | X1;
            walkDevice = access != EXEC;
            walkAttr = walkDevice ? 0x00 : 0x44;
            return true;
        }
        long tcr = st.get(SysReg.TCR_EL1);
        boolean upper = (va >>> 55 & 1) != 0;
        boolean tbi = access != EXEC && ((tcr >>> (upper ? 38 : 37)) & 1) != 0;
        int tsz = (int) (upper ? tcr >>> 16 : tcr) & 63;
        // Out-of-range TnSZ values are IMPLEMENTATION DEFINED; like QEMU without FEAT_TTST/LVA, clamp to 16..39.
        tsz = Math.max(16, Math.min(39, tsz));
        int inputSize = 64 - tsz;
        long top = tbi ? va << 8 >> 8 : va;
        boolean inRange = upper ? (top >> inputSize) == -1 : (top >>> inputSize) == 0;
        if (!inRange) {
            return fault(Syndrome.FSC_TRANSLATION, 0);
        }
        if (((tcr >>> (upper ? 23 : 7)) & 1) != 0) {
            return fault(Syndrome.FSC_TRANSLATION, 0);
        }
        int tg = (int) (upper ? tcr >>> 30 : tcr >>> 14) & 3;
        int granule;
        if (upper) {
            granule = tg == 3 ? 16 : 12;     // TG1: 01 = 16K (not on a Cortex-A57), 10 = 4K, 11 = 64K
        } else {
            granule = tg == 1 ? 16 : 12;     // TG0: 00 = 4K, 01 = 64K, 10 = 16K (not on a Cortex-A57)
        }
        // An unsupported or reserved granule size is IMPLEMENTATION DEFINED to be one that is supported: 4K here.
        int stride = granule - 3;
        int levels = (inputSize - granule + stride - 1) / stride;
        int level = 4 - levels;
        int ips = (int) (tcr >>> 32) & 7;
        int outputBits = Math.min(PA_BITS, ips == 0 ? 32 : ips == 1 ? 36 : ips == 2 ? 40 : ips == 3 ? 42 : 44);
        long ttbr = st.get(upper ? SysReg.TTBR1_EL1 : SysReg.TTBR0_EL1);
        int firstBits = inputSize - (granule + (3 - level) * stride);
        long tableBytes = 8L << firstBits;
        long base = ttbr & 0x0000_FFFF_FFFF_FFFEL & -Math.max(tableBytes, 8);
        if ((base >>> outputBits) != 0) {
            return fault(Syndrome.FSC_ADDRESS_SIZE, 0);
        }
        int apTable = 0;
        boolean uxnTable = false;
        boolean pxnTable = false;
        while (true) {
            int shift = granule + (3 - level) * stride;
            int bits = level == 4 - levels ? firstBits : stride;
            long index = (va >>> shift) & ((1L << bits) - 1);
            long descAddr = base + index * 8;
            if (!memory.isValid(descAddr, 8)) {
                return fault(Syndrome.FSC_EXTERNAL_WALK, level);
            }
            long desc = memory.read64(descAddr);
            if ((desc & 1) == 0) {
                return fault(Syndrome.FSC_TRANSLATION, level);
            }
            boolean table = (desc & 2) != 0;
            if (level == 3) {
                if (!table) {
                    return fault(Syndrome.FSC_TRANSLATION, level);
                }
            } else if (!table) {
                boolean blockAllowed = granule == 12 ? level == 1 || level == 2 : level == 2;
                if (!blockAllowed) {
                    return fault(Syndrome.FSC_TRANSLATION, level);
                }
            } else {
                long next = desc & 0x0000_FFFF_FFFF_F000L & -(1L << granule);
                if ((next >>> outputBits) != 0) {
                    return fault(Syndrome.FSC_ADDRESS_SIZE, level);
                }
                apTable |= (int) (desc >>> 61) & 3;
                uxnTable |= (desc >>> 60 & 1) != 0;
                pxnTable |= (desc >>> 59 & 1) != 0;
                base = next;
                level++;
                continue;
            }
            long oa = desc & 0x0000_FFFF_FFFF_FFFFL & -(1L << shift);
            if ((oa >>> outputBits) != 0) {
                return fault(Syndrome.FSC_ADDRESS_SIZE, level);
            }
            if ((desc >>> 10 & 1) == 0) {
                return fault(Syndrome.FSC_ACCESS_FLAG, level);
            }
            int ap = (int) (desc >>> 6) & 3;
            boolean userR = (ap & 1) != 0;
            boolean userW = ap == 1;
            boolean privR = true;
            boolean privW = (ap & 2) == 0;
            if ((apTable & 1) != 0) {
                userR = false;
                userW = false;
            }
            if ((apTable & 2) != 0) {
                userW = false;
                privW = false;
            }
            boolean wxn = (sctlr >>> 19 & 1) != 0;
            boolean uxn = (desc >>> 54 & 1) != 0 || uxnTable;
            boolean pxn = (desc >>> 53 & 1) != 0 || pxnTable;
            // AArch64.S1ApplyOutputPerms (v8.0): memory writable at EL0 is never executable at EL1.
            boolean userX = userR && !uxn && !(wxn && userW);
            boolean privX = !pxn && !(wxn && privW) && !userW;
            int perms = (userR ? R0 : 0) | (userW ? W0 : 0) | (userX ? X0 : 0) | (privR ? R1 : 0)
                    | (privW ? W1 : 0) | (privX ? X1 : 0);
            int attrIndex = (int) (desc >>> 2) & 7;
            int attr = (int) (st.get(SysReg.MAIR_EL1) >>> (8 * attrIndex)) & 0xFF;
            walkPa = oa | (va & ((1L << shift) - 1));
            walkPerms = perms;
            walkDevice = (attr & 0xF0) == 0;
            walkAttr = attr;
            int need = access == READ ? (regime == 0 ? R0 : R1) : access == WRITE ? (regime == 0 ? W0 : W1)
                    : (regime == 0 ? X0 : X1);
            if ((perms & need) == 0) {
                return fault(Syndrome.FSC_PERMISSION, level);
            }
            return true;
        }
    }

    private boolean fault(int fsc, int level) {
        walkFault = fsc;
        walkLevel = fsc == Syndrome.FSC_EXTERNAL ? 0 : level;
        return false;
    }

    boolean lastDevice() {
        return walkDevice;
    }

    /** The MAIR_EL1 attribute byte of the last successful walk (PAR_EL1.ATTR). */
    int lastAttr() {
        return walkAttr;
    }
}
