package dev.jvmm.arm64.oracle;

/**
 * Where the differential harness puts things, in the guest's address space, and the layout of its tables. The same
 * addresses are used on both sides: QEMU user mode loads the harness ELF there, and jvmm's guest RAM starts at
 * {@link #BASE} with the MMU mapping it one to one, so PC-relative results (ADR, ADRP, BL's link) agree.
 *
 * <pre>
 *  BASE            ELF header, program header, the driver (QEMU only)
 *  BASE + 0x1000   driver globals  (QEMU only; {@link #G_CASE} ...)
 *  BASE + 0x2F80   scratch memory  ({@link #SCRATCH_SIZE} bytes: every load and store of a case lands here;
 *                                   it straddles a page boundary, so accesses that cross pages are tested too)
 *  BASE + 0x10000  case code       (one {@link Snippet} image per case, 8-aligned, back to back)
 *  ...             input table     (one {@link #ENTRY_SIZE} entry per case, QEMU only)
 *  ...             output records  (one {@link #RECORD_SIZE} record per case, QEMU only, zero-filled)
 * </pre>
 *
 * Input entry (what the driver loads before it branches to a case):
 * <pre>
 *   0   x0 .. x29       30 x 8 bytes
 *   240 x30             (loaded by the case's own first instruction, from its code literal)
 *   248 SP
 *   256 NZCV            (bits 31:28, as MSR NZCV takes them)
 *   264 code address    (the case's entry point)
 *   272 scratch         SCRATCH_SIZE bytes, copied to the scratch area before the case runs
 * </pre>
 * Output record (what the epilogue stores after the case):
 * <pre>
 *   0   x0 .. x30       31 x 8 bytes
 *   248 SP
 *   256 NZCV
 *   264 signal          the signal the case died of (SIGILL, SIGSEGV...; 0: it ran to its end), then the PC of
 *   272 signal PC       the instruction that raised it and the signal's si_addr; the registers are then those
 *   280 signal address  at that instruction (the handler resumes the epilogue from the signal's context)
 *   288 scratch         SCRATCH_SIZE bytes, copied from the scratch area
 * </pre>
 */
final class HarnessDescriptor {
    private HarnessDescriptor() {
    }

    /** Load address of the ELF and base of jvmm's guest RAM (QEMU virt's RAM base, too). */
    static final long BASE = 0x4000_0000L;
    static final long GLOBALS = BASE + 0x1000;
    /** 128 bytes before a 4 KiB (and 64 KiB) page boundary and 128 after it; 64-byte aligned for DC ZVA. */
    static final long SCRATCH = BASE + 0x2F80;
    /** Large enough for every addressing mode's reach to matter, small enough that loads often see earlier stores. */
    static final int SCRATCH_SIZE = 256;
    static final long CODE = BASE + 0x1_0000;

    /** Driver globals: index of the next case, case count, its input entry, its output record, the batch start. */
    static final int G_CASE = 0;
    static final int G_COUNT = 8;
    static final int G_ENTRY = 16;
    static final int G_CURSOR = 24;
    static final int G_BATCH_START = 32;
    static final int G_BATCH_FILL = 40;
    /** The signal the last case died of (0: none), the PC it hit and its si_addr, set by the signal handler. */
    static final int G_SIGNAL = 48;
    static final int G_SIGPC = 56;
    static final int G_SIGADDR = 64;
    /** struct sigaction for rt_sigaction and stack_t for sigaltstack (Linux AArch64 layouts). */
    static final int G_SIGACTION = 0x100;
    static final int G_STACK_T = 0x140;
    /** The signal handler's stack (the case's SP may be anything). */
    static final long ALT_STACK = BASE + 0xA000;
    static final int ALT_STACK_SIZE = 0x6000;

    static final int E_X0 = 0;
    static final int E_X30 = 240;
    static final int E_SP = 248;
    static final int E_NZCV = 256;
    static final int E_CODE = 264;
    static final int E_SCRATCH = 272;
    static final int ENTRY_SIZE = E_SCRATCH + SCRATCH_SIZE;

    static final int R_X0 = 0;
    static final int R_SP = 248;
    static final int R_NZCV = 256;
    static final int R_SIGNAL = 264;
    static final int R_SIGPC = 272;
    static final int R_SIGADDR = 280;
    static final int R_SCRATCH = 288;
    static final int RECORD_SIZE = R_SCRATCH + SCRATCH_SIZE;
}
