package dev.jvmm.arm64;

import dev.jvmm.core.vcpu.SystemRegister;

/**
 * MRS, MSR (register and immediate) and SYS: the access rules and side effects of {@link SysReg}'s registers, the GIC
 * CPU-interface registers routed to the interrupt controller, and the cache, TLB and address-translation
 * instructions. Every refused access becomes the architectural exception (UNDEFINED, or a trap to EL1 with EC 0x18
 * where the Arm ARM says EL1 controls the access), never a Java exception.
 */
final class SysRegs {
    /** SCTLR_EL1 bits this CPU implements (v8.0, no EE/E0E: little-endian only); the RES1 bits read as one. */
    static final long SCTLR_VALID = 1L | 1L << 1 | 1L << 2 | 1L << 3 | 1L << 4 | 1L << 5 | 1L << 7 | 1L << 8
            | 1L << 9 | 1L << 12 | 1L << 14 | 1L << 15 | 1L << 16 | 1L << 18 | 1L << 19 | 1L << 26;
    static final long SCTLR_RES1 = 1L << 11 | 1L << 20 | 1L << 22 | 1L << 23 | 1L << 28 | 1L << 29;
    static final long SCTLR_SA = 1L << 3;
    static final long SCTLR_SA0 = 1L << 4;
    static final long SCTLR_UMA = 1L << 9;
    static final long SCTLR_DZE = 1L << 14;
    static final long SCTLR_UCT = 1L << 15;
    static final long SCTLR_NTWI = 1L << 16;
    static final long SCTLR_NTWE = 1L << 18;
    static final long SCTLR_UCI = 1L << 26;

    /** CCSIDR_EL1 of a Cortex-A57 by CSSELR_EL1 (L1D, L1I, L2), as QEMU's cortex-a57. */
    private static final long[] CCSIDR = {0x701F_E00AL, 0x201F_E012L, 0x70FF_E07AL};

    private final Arm64Cpu cpu;
    private final ArchState st;
    private boolean osLock = true;
    private int claimTags;

    SysRegs(Arm64Cpu cpu, ArchState st) {
        this.cpu = cpu;
        this.st = st;
    }

    void reset() {
        osLock = true;
        claimTags = 0;
    }

    private GuestTrap undefined() {
        return cpu.raiseNoFar(Syndrome.EC_UNKNOWN, 0);
    }

    private GuestTrap trapped(int key, int rt, boolean read) {
        return cpu.raiseNoFar(Syndrome.EC_SYSREG, Syndrome.sysregIss(key, rt, read));
    }

    /** Whether EL0 may access {@code r} now, given its gate. */
    private boolean gateOpen(SysReg.Gate gate) {
        long sctlr = st.get(SysReg.SCTLR_EL1);
        long kctl = st.get(SysReg.CNTKCTL_EL1);
        switch (gate) {
            case UCT: return (sctlr & SCTLR_UCT) != 0;
            case UMA: return (sctlr & SCTLR_UMA) != 0;
            case CNT_PCT: return (kctl & 1) != 0;
            case CNT_VCT: return (kctl & 2) != 0;
            case CNT_FRQ: return (kctl & 3) != 0;
            case CNT_PT: return (kctl >>> 9 & 1) != 0;
            case CNT_VT: return (kctl >>> 8 & 1) != 0;
            default: return true;
        }
    }

    private static int rtField(Insn in) {
        return in.word & 31;
    }

    // ------------------------------------------------------------------------------------------------ MRS

    long mrs(Insn in) {
        int key = (int) in.imm;
        SysReg r = SysReg.byKey(key);
        if (r == null) {
            SystemRegister gic = gicAccess(key, true);
            if (gic != null) {
                return cpu.io().readSystemRegister(gic);
            }
            if (st.el >= 1 && SysReg.isRazIdSpace(key)) {
                return 0;
            }
            throw undefined();
        }
        checkAccess(r, in, true);
        return read(r);
    }

    /**
     * Throws the exception an MRS ({@code read}) or MSR of {@code r} takes at the current EL: UNDEFINED where the
     * architecture never allows the access, trapped to EL1 where an EL0 access's gate is closed (see {@link SysReg}).
     */
    private void checkAccess(SysReg r, Insn in, boolean read) {
        if (st.el == 0) {
            if (!(read ? r.r0 : r.w0)) {
                throw undefined();
            }
            if (!gateOpen(r.gate)) {
                throw trapped((int) in.imm, rtField(in), read);
            }
        } else if (!(read ? r.r1 : r.w1)) {
            throw undefined();
        }
    }

    /**
     * The GIC CPU-interface register that {@code key} names, or null; UNDEFINED at EL0 and for a read
     * ({@code read}) of a write-only register or a write of a read-only one.
     */
    private SystemRegister gicAccess(int key, boolean read) {
        SystemRegister gic = gicRegister(key);
        if (gic != null && (st.el == 0 || !(read ? gic.readable() : gic.writable()))) {
            throw undefined();
        }
        return gic;
    }

    /** The value of {@code r} as MRS at the current EL would read it (access already checked). */
    long read(SysReg r) {
        switch (r.kind) {
            case CONST:
                return r.value;
            case STORED:
                return st.get(r);
            default:
                break;
        }
        GenericTimer t = cpu.timer;
        switch (r) {
            case MPIDR_EL1:
                return cpu.mpidr();
            case DCZID_EL0:
                return 4 | (st.el == 0 && (st.get(SysReg.SCTLR_EL1) & SCTLR_DZE) == 0 ? 0x10 : 0);
            case CCSIDR_EL1: {
                int sel = (int) st.get(SysReg.CSSELR_EL1) & 0xF;
                return sel < CCSIDR.length ? CCSIDR[sel] : 0;
            }
            case SP_EL0:
                if (st.spsel == 0) {
                    throw undefined();
                }
                return st.spEl0();
            case SPSEL:
                return st.spsel;
            case CURRENTEL:
                return (long) st.el << 2;
            case DAIF:
                return st.daif;
            case NZCV:
                return st.nzcv() & 0xFFFF_FFFFL;
            case ISR_EL1:
                return cpu.io().interruptSignalled() ? 1 << 7 : 0;
            case CNTFRQ_EL0:
                return GenericTimer.FREQUENCY;
            case CNTPCT_EL0:
            case CNTVCT_EL0:
                return t.counter();
            case CNTP_CTL_EL0:
                return t.ctl(false);
            case CNTV_CTL_EL0:
                return t.ctl(true);
            case CNTP_CVAL_EL0:
                return t.physCval;
            case CNTV_CVAL_EL0:
                return t.virtCval;
            case CNTP_TVAL_EL0:
                return (t.physCval - t.counter()) & 0xFFFF_FFFFL;
            case CNTV_TVAL_EL0:
                return (t.virtCval - t.counter()) & 0xFFFF_FFFFL;
            case OSLSR_EL1:
                return 0b1000 | (osLock ? 0b10 : 0);
            case DBGCLAIMSET_EL1:
                return 0xFF;
            case DBGCLAIMCLR_EL1:
                return claimTags;
            case L2CTLR_EL1:
                return (long) (cpu.system().cpuCount() - 1) << 24;
            default:
                throw new IllegalStateException("no read for " + r);
        }
    }

    // ------------------------------------------------------------------------------------------------ MSR

    void msr(Insn in, long v) {
        int key = (int) in.imm;
        SysReg r = SysReg.byKey(key);
        if (r == null) {
            SystemRegister gic = gicAccess(key, false);
            if (gic != null) {
                cpu.io().writeSystemRegister(gic, v);
                return;
            }
            throw undefined();
        }
        checkAccess(r, in, false);
        write(r, v);
    }

    /** Writes {@code r} as MSR at the current EL would (access already checked), with its side effects. */
    void write(SysReg r, long v) {
        GenericTimer t = cpu.timer;
        switch (r) {
            case SCTLR_EL1:
                // RES1 bits keep what software writes (software writes them as ones), as QEMU keeps them.
                translationRegister(r, v & (SCTLR_VALID | SCTLR_RES1));
                return;
            case TTBR0_EL1:
            case TTBR1_EL1:
            case TCR_EL1:
            case MAIR_EL1:
                translationRegister(r, v);
                return;
            case VBAR_EL1:
                st.set(r, v & ~0x7FFL);
                return;
            case CPACR_EL1:
                // FPEN and TTA control units this CPU does not have: RES0.
                st.set(r, 0);
                return;
            case ESR_EL1:
            case CONTEXTIDR_EL1:
            case SPSR_EL1:
                st.set(r, v & 0xFFFF_FFFFL);
                return;
            case CSSELR_EL1:
                st.set(r, v & 0xF);
                return;
            case SP_EL0:
                if (st.spsel == 0) {
                    throw undefined();
                }
                st.setSpEl0(v);
                return;
            case SPSEL:
                st.setElAndSpSel(st.el, (int) v & 1);
                return;
            case DAIF:
                st.daif = (int) v & ArchState.DAIF_MASK;
                return;
            case NZCV:
                st.setNzcv(v);
                return;
            case CNTFRQ_EL0:
                // The frequency is the implementation's: the write is ignored (see the report).
                return;
            case CNTP_CTL_EL0:
                t.physCtl = v & 3;
                t.update();
                return;
            case CNTV_CTL_EL0:
                t.virtCtl = v & 3;
                t.update();
                return;
            case CNTP_CVAL_EL0:
                t.physCval = v;
                t.update();
                return;
            case CNTV_CVAL_EL0:
                t.virtCval = v;
                t.update();
                return;
            case CNTP_TVAL_EL0:
                t.physCval = t.counter() + (int) v;
                t.update();
                return;
            case CNTV_TVAL_EL0:
                t.virtCval = t.counter() + (int) v;
                t.update();
                return;
            case OSLAR_EL1:
                osLock = (v & 1) != 0;
                return;
            case DBGCLAIMSET_EL1:
                claimTags |= (int) v & 0xFF;
                return;
            case DBGCLAIMCLR_EL1:
                claimTags &= ~(int) v;
                return;
            case L2CTLR_EL1:
                return;
            default:
                if (r.kind == SysReg.Kind.STORED) {
                    st.set(r, v);
                    return;
                }
                throw new IllegalStateException("no write for " + r);
        }
    }

    private void translationRegister(SysReg r, long v) {
        if (st.get(r) != v) {
            st.set(r, v);
            cpu.mmu.flush();
        }
    }

    private static SystemRegister gicRegister(int key) {
        int op0 = key >>> 14;
        return SystemRegister.of(op0, key >>> 11 & 7, key >>> 7 & 15, key >>> 3 & 15, key & 7);
    }

    // ------------------------------------------------------------------------------------------------ MSR (imm)

    /** MSR SPSel/DAIFSet/DAIFClr, #imm (Arm ARM C5.2 "MSR (immediate)"); the rest of the space is UNDEFINED. */
    void msrImmediate(Insn in) {
        int field = (int) in.imm;
        int crm = in.amount;
        switch (field) {
            case 0b000_101: // SPSel
                if (st.el == 0) {
                    throw undefined();
                }
                st.setElAndSpSel(st.el, crm & 1);
                return;
            case 0b011_110: // DAIFSet
            case 0b011_111: // DAIFClr
                if (st.el == 0 && (st.get(SysReg.SCTLR_EL1) & SCTLR_UMA) == 0) {
                    throw cpu.raiseNoFar(Syndrome.EC_SYSREG,
                            Syndrome.sysregIss(Decoder.sysKey(0, 3, 4, crm, field & 7), 31, false));
                }
                if (field == 0b011_110) {
                    st.daif |= crm << 6;
                } else {
                    st.daif &= ~(crm << 6);
                }
                return;
            default:
                throw undefined();
        }
    }

    // ------------------------------------------------------------------------------------------------ SYS

    /** IC, DC, AT and TLBI (Arm ARM C5.3 "A64 System instructions for cache maintenance, address translation ..."). */
    void sys(Insn in, long value) {
        int key = (int) in.imm;
        int op1 = key >>> 11 & 7;
        int crn = key >>> 7 & 15;
        int crm = key >>> 3 & 15;
        int op2 = key & 7;
        boolean el0 = st.el == 0;
        long sctlr = st.get(SysReg.SCTLR_EL1);
        if (crn == 7) {
            switch (op1 << 7 | crm << 3 | op2) {
                case 0 << 7 | 1 << 3 | 0:  // IC IALLUIS
                case 0 << 7 | 5 << 3 | 0:  // IC IALLU
                    el1Only();
                    cpu.system().code.invalidateAll();
                    return;
                case 3 << 7 | 5 << 3 | 1:  // IC IVAU
                    el0Gate(el0, sctlr, SCTLR_UCI, key, in);
                    if (cpu.mmu.walk(value, Mmu.READ, st.el)) {
                        cpu.system().code.invalidatePage(cpu.mmu.lastPa());
                    }
                    return;
                case 0 << 7 | 6 << 3 | 1:  // DC IVAC
                    el1Only();
                    maintain(value, Mmu.WRITE);
                    return;
                case 0 << 7 | 6 << 3 | 2:  // DC ISW
                case 0 << 7 | 10 << 3 | 2: // DC CSW
                case 0 << 7 | 14 << 3 | 2: // DC CISW
                    el1Only();
                    return;
                case 3 << 7 | 4 << 3 | 1:  // DC ZVA
                    el0Gate(el0, sctlr, SCTLR_DZE, key, in);
                    cpu.zeroBlock(value);
                    return;
                case 3 << 7 | 10 << 3 | 1: // DC CVAC
                case 3 << 7 | 11 << 3 | 1: // DC CVAU
                case 3 << 7 | 14 << 3 | 1: // DC CIVAC
                    el0Gate(el0, sctlr, SCTLR_UCI, key, in);
                    maintain(value, Mmu.READ);
                    return;
                case 0 << 7 | 8 << 3 | 0:  // AT S1E1R
                case 0 << 7 | 8 << 3 | 1:  // AT S1E1W
                case 0 << 7 | 8 << 3 | 2:  // AT S1E0R
                case 0 << 7 | 8 << 3 | 3:  // AT S1E0W
                    el1Only();
                    addressTranslate(value, op2 < 2 ? 1 : 0, (op2 & 1) != 0 ? Mmu.WRITE : Mmu.READ);
                    return;
                default:
                    throw undefined();
            }
        }
        if (crn == 8 && op1 == 0) {
            // TLBI VMALLE1, VAE1, ASIDE1, VAAE1, VALE1, VAALE1 and their Inner Shareable (CRm = 3) forms: every one
            // flushes the whole TLB here (over-invalidation is always allowed).
            boolean local = crm == 7;
            boolean shareable = crm == 3;
            boolean known = op2 == 0 || op2 == 1 || op2 == 2 || op2 == 3 || op2 == 5 || op2 == 7;
            if ((local || shareable) && known) {
                el1Only();
                cpu.mmu.flush();
                if (shareable) {
                    cpu.system().broadcastTlbFlush(cpu);
                }
                return;
            }
        }
        throw undefined();
    }

    private void el1Only() {
        if (st.el == 0) {
            throw undefined();
        }
    }

    private void el0Gate(boolean el0, long sctlr, long bit, int key, Insn in) {
        if (el0 && (sctlr & bit) == 0) {
            throw cpu.raiseNoFar(Syndrome.EC_SYSREG, Syndrome.sysregIss(key, rtField(in), false));
        }
    }

    /** DC by VA to the PoC/PoU: coherent memory needs no work, but the address must translate (faults with CM = 1). */
    private void maintain(long va, int access) {
        if (!cpu.mmu.walk(va, access, st.el)) {
            throw cpu.mmu.abort(va, access, cpu.mmu.lastFault(), true);
        }
    }

    /**
     * AT S1E{0,1}{R,W}: the translation into PAR_EL1 (Arm ARM D17.2.113). Translation, access flag, permission and
     * address size faults are reported in PAR_EL1; a synchronous external abort on the walk is taken as a Data Abort
     * with CM = 1, as QEMU 7.2 does (ESR 0x96000157 for a level 3 table outside RAM).
     */
    private void addressTranslate(long va, int regime, int access) {
        long par;
        boolean ok = cpu.mmu.walk(va, access, regime);
        if (!ok && (cpu.mmu.lastFault() & ~3) == Syndrome.FSC_EXTERNAL_WALK) {
            throw cpu.mmu.abort(va, access, cpu.mmu.lastFault(), true);
        }
        if (ok) {
            long pa = cpu.mmu.lastPa();
            long attr = cpu.mmu.lastAttr();
            par = attr << 56 | (pa & 0x0000_FFFF_FFFF_F000L) | (cpu.mmu.lastDevice() ? 0b10L << 7 : 0b11L << 7);
        } else {
            par = 1 | (long) (cpu.mmu.lastFault() & 0x3F) << 1;
        }
        st.set(SysReg.PAR_EL1, par);
    }
}
