package dev.jvmm.arm64;

/**
 * The architectural state of one PE, in one place: the general-purpose registers, the PC, PSTATE and the stored
 * system registers. Everything that executes reads and writes it here; nothing else holds a copy.
 *
 * <h2>Registers</h2>
 * {@link #x} holds X0..X30, then the stack pointer in use ({@link Insn#SP}: SP_EL0 at EL0 or with SPSel = 0, SP_EL1
 * otherwise), then {@link Insn#ZR} (always 0) and {@link Insn#SINK}. The stack pointer not in use waits in
 * {@link #spEl0} or {@link #spEl1}, swapped on every change of EL or SPSel (as QEMU keeps {@code sp_el[]}).
 *
 * <h2>Flags</h2>
 * NZCV is kept as QEMU keeps it, so a flag-setting instruction stores what it computed anyway: N is the sign of
 * {@link #nf}, Z is {@code zf == 0}, C is {@link #cf} (0 or 1), V is the sign of {@link #vf}. 32-bit operations store
 * sign-extended values.
 */
final class ArchState {
    final long[] x = new long[34];
    long pc;

    long nf;
    long zf = 1;
    long cf;
    long vf;

    /** PSTATE.EL: 0 or 1. */
    int el = 1;
    /** PSTATE.SP: 1 selects SP_ELx at EL1. */
    int spsel = 1;
    /** PSTATE.{D,A,I,F} in the DAIF register's layout (bits 9..6). */
    int daif = DAIF_MASK;
    /** PSTATE.IL: an illegal exception return happened; the next instruction takes an Illegal State exception. */
    boolean il;
    /** PSTATE.SS (software step): kept for SPSR round trips; this CPU generates no software-step exception. */
    boolean ss;

    long spEl0;
    long spEl1;

    /** The event register of WFE/SEV (Arm ARM D1.16.1). */
    volatile boolean event;

    /** The {@link SysReg.Kind#STORED} system registers, by ordinal. */
    final long[] sys = new long[SysReg.values().length];

    static final int DAIF_D = 1 << 9;
    static final int DAIF_A = 1 << 8;
    static final int DAIF_I = 1 << 7;
    static final int DAIF_F = 1 << 6;
    static final int DAIF_MASK = DAIF_D | DAIF_A | DAIF_I | DAIF_F;

    ArchState() {
        for (SysReg r : SysReg.values()) {
            if (r.kind == SysReg.Kind.STORED) {
                sys[r.ordinal()] = r.value;
            }
        }
    }

    long get(SysReg r) {
        return sys[r.ordinal()];
    }

    void set(SysReg r, long v) {
        sys[r.ordinal()] = v;
    }

    /** Whether x[SP] holds SP_EL0 now. */
    boolean usesSpEl0() {
        return el == 0 || spsel == 0;
    }

    /** Sets EL and SPSel, moving the stack pointers between {@link #x}[SP] and their banks. */
    void setElAndSpSel(int newEl, int newSpsel) {
        if (usesSpEl0()) {
            spEl0 = x[Insn.SP];
        } else {
            spEl1 = x[Insn.SP];
        }
        el = newEl;
        spsel = newSpsel;
        x[Insn.SP] = usesSpEl0() ? spEl0 : spEl1;
    }

    long spEl0() {
        return usesSpEl0() ? x[Insn.SP] : spEl0;
    }

    long spEl1() {
        return usesSpEl0() ? spEl1 : x[Insn.SP];
    }

    void setSpEl0(long v) {
        if (usesSpEl0()) {
            x[Insn.SP] = v;
        } else {
            spEl0 = v;
        }
    }

    void setSpEl1(long v) {
        if (usesSpEl0()) {
            spEl1 = v;
        } else {
            x[Insn.SP] = v;
        }
    }

    /** NZCV in the NZCV register's layout (bits 31..28). */
    int nzcv() {
        return (nf < 0 ? 1 << 31 : 0) | (zf == 0 ? 1 << 30 : 0) | (cf != 0 ? 1 << 29 : 0) | (vf < 0 ? 1 << 28 : 0);
    }

    void setNzcv(long v) {
        nf = (v & 1L << 31) != 0 ? -1 : 0;
        zf = (v & 1L << 30) != 0 ? 0 : 1;
        cf = (v >>> 29) & 1;
        vf = (v & 1L << 28) != 0 ? -1 : 0;
    }

    /** PSTATE as SPSR_EL1 saves it for an exception from AArch64 (Arm ARM C5.2.18). */
    long pstateAsSpsr() {
        long v = nzcv() & 0xF000_0000L;
        v |= daif;
        if (ss) {
            v |= 1L << 21;
        }
        if (il) {
            v |= 1L << 20;
        }
        v |= (long) el << 2 | (el == 0 ? 0 : spsel);
        return v;
    }

    /** Condition {@code cond} (Arm ARM ConditionHolds). */
    boolean holds(int cond) {
        return holds(cond, nf, zf, cf, vf);
    }

    /** ConditionHolds on flags kept as {@link ArchState} keeps them (for compiled blocks, which keep them in locals). */
    static boolean holds(int cond, long nf, long zf, long cf, long vf) {
        boolean r;
        switch (cond >>> 1) {
            case 0: r = zf == 0; break;                       // EQ
            case 1: r = cf != 0; break;                       // CS
            case 2: r = nf < 0; break;                        // MI
            case 3: r = vf < 0; break;                        // VS
            case 4: r = cf != 0 && zf != 0; break;            // HI
            case 5: r = (nf ^ vf) >= 0; break;                // GE
            case 6: r = (nf ^ vf) >= 0 && zf != 0; break;     // GT
            default: return true;                             // AL, NV
        }
        return (cond & 1) != 0 ? !r : r;
    }
}
