package dev.jvmm.arm64;

import java.lang.invoke.VarHandle;

/**
 * Executes a {@link Block}: the semantics of every {@link Op}, in one place (Arm ARM C6, each instruction's
 * "Operation" pseudocode). One {@code switch} per instruction on the decoded op; the cases call small static
 * helpers for shared arithmetic ({@link #addFlags64} ...) that the JIT inlines.
 *
 * <p>The PC of instruction {@code i} of a block is {@code blockVa + 4 * i}: blocks are cached by physical address and
 * may be entered through any virtual alias, so nothing virtual is baked into a block.
 *
 * <h2>Memory ordering (how the Arm memory model maps onto Java's)</h2>
 * Guest loads and stores are plain accesses of guest RAM, as Arm's are unordered without barriers or dependencies
 * (and HotSpot never reorders a load above the load its address depends on). Barriers map to VarHandle fences:
 * <ul>
 *   <li>DMB/DSB with a full domain option (SY, ISH, OSH, NSH): {@link VarHandle#fullFence()}, which orders all
 *       earlier loads and stores before all later ones, the definition of a full DMB.</li>
 *   <li>DMB/DSB ...LD (loads before loads and stores): {@link VarHandle#acquireFence()}, exactly LoadLoad|LoadStore.
 *       </li>
 *   <li>DMB/DSB ...ST (stores before stores): {@link VarHandle#storeStoreFence()}.</li>
 *   <li>LDAR/LDAXR (load-acquire): the load, then {@link VarHandle#acquireFence()}: no later access moves above it.
 *       </li>
 *   <li>STLR/STLXR (store-release): {@link VarHandle#releaseFence()}, then the store: no earlier access moves below
 *       it. Arm's acquire/release are RCsc: a store-release followed by a load-acquire must not be reordered (a
 *       StoreLoad pair, which release/acquire fences allow). So a store-release sets {@link #releasePending}, and
 *       the next load-acquire first issues a {@link VarHandle#fullFence()}. That costs one full fence per
 *       STLR;LDAR pair and nothing for a load-acquire without a preceding store-release.</li>
 * </ul>
 * Exclusive stores are CASes (volatile semantics, stronger than needed). ISB has no memory effect; it ends the block
 * so that the next instruction sees every context change, which is what context synchronization means here.
 */
final class Interpreter {
    private final Arm64Cpu cpu;
    private final ArchState st;
    private final long[] x;
    private final Mmu mmu;
    /** A store-release has been executed since the last full fence (see the class comment). */
    private boolean releasePending;

    Interpreter(Arm64Cpu cpu, ArchState st, Mmu mmu) {
        this.cpu = cpu;
        this.st = st;
        this.x = st.x;
        this.mmu = mmu;
    }

    /**
     * Executes up to {@code max} instructions of {@code b}, entered at virtual address {@code va}, and leaves the PC
     * of the next instruction in {@link ArchState#pc}. Returns the number of instructions retired; an instruction
     * that takes an exception is not retired (the exception is taken, and the PC is its vector).
     */
    int execute(Block b, long va, int max) {
        final Insn[] insns = b.insns;
        final long[] x = this.x;
        final int n = Math.min(max, insns.length);
        int i = 0;
        try {
            for (; i < n; i++) {
                final Insn in = insns[i];
                switch (in.op) {
                    // ---------------------------------------------------------------- immediate
                    case Op.ADR: x[in.rd] = va + ((long) i << 2) + in.imm; break;
                    case Op.ADRP: x[in.rd] = (va + ((long) i << 2) & ~0xFFFL) + in.imm; break;
                    case Op.ADD_IMM: x[in.rd] = res(in, x[in.rn] + in.imm); break;
                    case Op.SUB_IMM: x[in.rd] = res(in, x[in.rn] - in.imm); break;
                    case Op.ADDS_IMM: x[in.rd] = addFlags(in.sf, x[in.rn], in.imm, 0); break;
                    case Op.SUBS_IMM: x[in.rd] = addFlags(in.sf, x[in.rn], ~in.imm, 1); break;
                    case Op.AND_IMM: x[in.rd] = x[in.rn] & in.imm; break;
                    case Op.ORR_IMM: x[in.rd] = res(in, x[in.rn] | in.imm); break;
                    case Op.EOR_IMM: x[in.rd] = res(in, x[in.rn] ^ in.imm); break;
                    case Op.ANDS_IMM: x[in.rd] = logicFlags(in.sf, x[in.rn] & in.imm); break;
                    case Op.MOVN: x[in.rd] = res(in, ~(in.imm << in.amount)); break;
                    case Op.MOVZ: x[in.rd] = in.imm << in.amount; break;
                    case Op.MOVK:
                        x[in.rd] = res(in, x[in.ra] & ~(0xFFFFL << in.amount) | in.imm << in.amount);
                        break;
                    case Op.SBFM: x[in.rd] = bitfield(in, x[in.rn], 0, true); break;
                    case Op.BFM: x[in.rd] = bitfield(in, x[in.rn], x[in.ra], false); break;
                    case Op.UBFM: x[in.rd] = bitfield(in, x[in.rn], 0, false); break;
                    case Op.EXTR: x[in.rd] = extract(in, x[in.rn], x[in.rm]); break;

                    // ---------------------------------------------------------------- register
                    case Op.AND_REG: x[in.rd] = res(in, x[in.rn] & shifted(in, x[in.rm])); break;
                    case Op.BIC_REG: x[in.rd] = res(in, x[in.rn] & ~shifted(in, x[in.rm])); break;
                    case Op.ORR_REG: x[in.rd] = res(in, x[in.rn] | shifted(in, x[in.rm])); break;
                    case Op.ORN_REG: x[in.rd] = res(in, x[in.rn] | ~shifted(in, x[in.rm])); break;
                    case Op.EOR_REG: x[in.rd] = res(in, x[in.rn] ^ shifted(in, x[in.rm])); break;
                    case Op.EON_REG: x[in.rd] = res(in, x[in.rn] ^ ~shifted(in, x[in.rm])); break;
                    case Op.ANDS_REG: x[in.rd] = logicFlags(in.sf, x[in.rn] & shifted(in, x[in.rm])); break;
                    case Op.BICS_REG: x[in.rd] = logicFlags(in.sf, x[in.rn] & ~shifted(in, x[in.rm])); break;
                    case Op.ADD_SREG: x[in.rd] = res(in, x[in.rn] + shifted(in, x[in.rm])); break;
                    case Op.SUB_SREG: x[in.rd] = res(in, x[in.rn] - shifted(in, x[in.rm])); break;
                    case Op.ADDS_SREG: x[in.rd] = addFlags(in.sf, x[in.rn], shifted(in, x[in.rm]), 0); break;
                    case Op.SUBS_SREG: x[in.rd] = addFlags(in.sf, x[in.rn], ~shifted(in, x[in.rm]), 1); break;
                    case Op.ADD_EREG: x[in.rd] = res(in, x[in.rn] + extended(in, x[in.rm])); break;
                    case Op.SUB_EREG: x[in.rd] = res(in, x[in.rn] - extended(in, x[in.rm])); break;
                    case Op.ADDS_EREG: x[in.rd] = addFlags(in.sf, x[in.rn], extended(in, x[in.rm]), 0); break;
                    case Op.SUBS_EREG: x[in.rd] = addFlags(in.sf, x[in.rn], ~extended(in, x[in.rm]), 1); break;
                    case Op.ADC: x[in.rd] = res(in, x[in.rn] + x[in.rm] + st.cf); break;
                    case Op.SBC: x[in.rd] = res(in, x[in.rn] + ~x[in.rm] + st.cf); break;
                    case Op.ADCS: x[in.rd] = addFlags(in.sf, x[in.rn], x[in.rm], st.cf); break;
                    case Op.SBCS: x[in.rd] = addFlags(in.sf, x[in.rn], ~x[in.rm], st.cf); break;
                    case Op.CCMN:
                    case Op.CCMP:
                        condCompare(in);
                        break;
                    case Op.CSEL: x[in.rd] = res(in, st.holds(in.cond) ? x[in.rn] : x[in.rm]); break;
                    case Op.CSINC: x[in.rd] = res(in, st.holds(in.cond) ? x[in.rn] : x[in.rm] + 1); break;
                    case Op.CSINV: x[in.rd] = res(in, st.holds(in.cond) ? x[in.rn] : ~x[in.rm]); break;
                    case Op.CSNEG: x[in.rd] = res(in, st.holds(in.cond) ? x[in.rn] : -x[in.rm]); break;
                    case Op.MADD: x[in.rd] = res(in, x[in.ra] + x[in.rn] * x[in.rm]); break;
                    case Op.MSUB: x[in.rd] = res(in, x[in.ra] - x[in.rn] * x[in.rm]); break;
                    case Op.SMADDL: x[in.rd] = x[in.ra] + (long) (int) x[in.rn] * (int) x[in.rm]; break;
                    case Op.SMSUBL: x[in.rd] = x[in.ra] - (long) (int) x[in.rn] * (int) x[in.rm]; break;
                    case Op.UMADDL:
                        x[in.rd] = x[in.ra] + (x[in.rn] & 0xFFFF_FFFFL) * (x[in.rm] & 0xFFFF_FFFFL);
                        break;
                    case Op.UMSUBL:
                        x[in.rd] = x[in.ra] - (x[in.rn] & 0xFFFF_FFFFL) * (x[in.rm] & 0xFFFF_FFFFL);
                        break;
                    case Op.SMULH: x[in.rd] = Math.multiplyHigh(x[in.rn], x[in.rm]); break;
                    case Op.UMULH: x[in.rd] = unsignedMultiplyHigh(x[in.rn], x[in.rm]); break;
                    case Op.UDIV: x[in.rd] = udiv(in.sf, x[in.rn], x[in.rm]); break;
                    case Op.SDIV: x[in.rd] = sdiv(in.sf, x[in.rn], x[in.rm]); break;
                    case Op.LSLV: x[in.rd] = res(in, x[in.rn] << (x[in.rm] & (in.sf ? 63 : 31))); break;
                    case Op.LSRV:
                        x[in.rd] = in.sf ? x[in.rn] >>> x[in.rm] : (x[in.rn] & 0xFFFF_FFFFL) >>> (x[in.rm] & 31);
                        break;
                    case Op.ASRV:
                        x[in.rd] = in.sf ? x[in.rn] >> x[in.rm]
                                : ((int) x[in.rn] >> (x[in.rm] & 31)) & 0xFFFF_FFFFL;
                        break;
                    case Op.RORV:
                        x[in.rd] = in.sf ? Long.rotateRight(x[in.rn], (int) x[in.rm])
                                : Integer.rotateRight((int) x[in.rn], (int) x[in.rm] & 31) & 0xFFFF_FFFFL;
                        break;
                    case Op.CRC32: x[in.rd] = crc32(in, x[in.rn], x[in.rm]); break;
                    case Op.RBIT:
                    case Op.REV16:
                    case Op.REV32:
                    case Op.REV:
                    case Op.CLZ:
                    case Op.CLS:
                        x[in.rd] = unary(in.op, in.sf, x[in.rn]);
                        break;

                    // ---------------------------------------------------------------- loads and stores
                    case Op.LD: {
                        long addr = address(in, x[in.rn] + in.imm);
                        x[in.rd] = extendLoad(in, mmu.read(addr, 1 << in.size, regime(in)));
                        break;
                    }
                    case Op.ST: {
                        long addr = address(in, x[in.rn] + in.imm);
                        mmu.write(addr, 1 << in.size, x[in.rd], regime(in));
                        break;
                    }
                    case Op.LD_REG: {
                        long addr = address(in, x[in.rn] + (extendReg(x[in.rm], in.shift) << in.amount));
                        x[in.rd] = extendLoad(in, mmu.read(addr, 1 << in.size, st.el));
                        break;
                    }
                    case Op.ST_REG: {
                        long addr = address(in, x[in.rn] + (extendReg(x[in.rm], in.shift) << in.amount));
                        mmu.write(addr, 1 << in.size, x[in.rd], st.el);
                        break;
                    }
                    case Op.LD_PRE: {
                        long addr = address(in, x[in.rn] + in.imm);
                        long v = extendLoad(in, mmu.read(addr, 1 << in.size, st.el));
                        x[in.rd] = v;
                        x[in.rn] = addr;
                        break;
                    }
                    case Op.LD_POST: {
                        long addr = address(in, x[in.rn]);
                        long v = extendLoad(in, mmu.read(addr, 1 << in.size, st.el));
                        x[in.rd] = v;
                        x[in.rn] = addr + in.imm;
                        break;
                    }
                    case Op.ST_PRE: {
                        long addr = address(in, x[in.rn] + in.imm);
                        mmu.write(addr, 1 << in.size, x[in.rd], st.el);
                        x[in.rn] = addr;
                        break;
                    }
                    case Op.ST_POST: {
                        long addr = address(in, x[in.rn]);
                        mmu.write(addr, 1 << in.size, x[in.rd], st.el);
                        x[in.rn] = addr + in.imm;
                        break;
                    }
                    case Op.LDP: loadPair(in, address(in, x[in.rn] + in.imm)); break;
                    case Op.LDP_PRE: {
                        long addr = address(in, x[in.rn] + in.imm);
                        loadPair(in, addr);
                        x[in.rn] = addr;
                        break;
                    }
                    case Op.LDP_POST: {
                        long addr = address(in, x[in.rn]);
                        loadPair(in, addr);
                        x[in.rn] = addr + in.imm;
                        break;
                    }
                    case Op.STP: storePair(in, address(in, x[in.rn] + in.imm)); break;
                    case Op.STP_PRE: {
                        long addr = address(in, x[in.rn] + in.imm);
                        storePair(in, addr);
                        x[in.rn] = addr;
                        break;
                    }
                    case Op.STP_POST: {
                        long addr = address(in, x[in.rn]);
                        storePair(in, addr);
                        x[in.rn] = addr + in.imm;
                        break;
                    }
                    case Op.LDR_LIT: {
                        long addr = va + ((long) i << 2) + in.imm;
                        x[in.rd] = extendLoad(in, mmu.read(addr, 1 << in.size, st.el));
                        break;
                    }
                    case Op.PRFM:
                    case Op.NOP:
                        break;
                    case Op.LDAR: {
                        long addr = address(in, x[in.rn]);
                        int size = 1 << in.size;
                        cpu.checkAligned(addr, size, false);
                        if (releasePending) {
                            VarHandle.fullFence();
                            releasePending = false;
                        }
                        long v = mmu.read(addr, size, st.el);
                        VarHandle.acquireFence();
                        x[in.rd] = v;
                        break;
                    }
                    case Op.STLR: {
                        long addr = address(in, x[in.rn]);
                        int size = 1 << in.size;
                        cpu.checkAligned(addr, size, true);
                        VarHandle.releaseFence();
                        mmu.write(addr, size, x[in.rd], st.el);
                        releasePending = true;
                        break;
                    }
                    case Op.LDXR:
                    case Op.LDXP:
                        if ((in.flags & Insn.ACQUIRE) != 0 && releasePending) {
                            VarHandle.fullFence();
                            releasePending = false;
                        }
                        cpu.loadExclusive(in, address(in, x[in.rn]));
                        if ((in.flags & Insn.ACQUIRE) != 0) {
                            VarHandle.acquireFence();
                        }
                        break;
                    case Op.STXR:
                    case Op.STXP:
                        if ((in.flags & Insn.RELEASE) != 0) {
                            VarHandle.releaseFence();
                            releasePending = true;
                        }
                        cpu.storeExclusive(in, address(in, x[in.rn]));
                        break;

                    // ---------------------------------------------------------------- branches
                    case Op.B:
                        st.pc = va + ((long) i << 2) + in.imm;
                        return i + 1;
                    case Op.BL: {
                        long pc = va + ((long) i << 2);
                        x[30] = pc + 4;
                        st.pc = pc + in.imm;
                        return i + 1;
                    }
                    case Op.B_COND: {
                        long pc = va + ((long) i << 2);
                        st.pc = st.holds(in.cond) ? pc + in.imm : pc + 4;
                        return i + 1;
                    }
                    case Op.CBZ:
                    case Op.CBNZ: {
                        long pc = va + ((long) i << 2);
                        long v = in.sf ? x[in.rd] : x[in.rd] & 0xFFFF_FFFFL;
                        st.pc = (v == 0) == (in.op == Op.CBZ) ? pc + in.imm : pc + 4;
                        return i + 1;
                    }
                    case Op.TBZ:
                    case Op.TBNZ: {
                        long pc = va + ((long) i << 2);
                        boolean zero = (x[in.rd] & in.imm2) == 0;
                        st.pc = zero == (in.op == Op.TBZ) ? pc + in.imm : pc + 4;
                        return i + 1;
                    }
                    case Op.BR:
                    case Op.RET:
                        st.pc = x[in.rn];
                        return i + 1;
                    case Op.BLR: {
                        long target = x[in.rn];
                        x[30] = va + ((long) i << 2) + 4;
                        st.pc = target;
                        return i + 1;
                    }

                    // ---------------------------------------------------------------- system: leave through the CPU
                    case Op.DMB:
                    case Op.DSB: {
                        int domainType = (int) in.imm & 3;
                        if (domainType == 1) {
                            VarHandle.acquireFence();
                        } else if (domainType == 2) {
                            VarHandle.storeStoreFence();
                        } else {
                            VarHandle.fullFence();
                            releasePending = false;
                        }
                        if (in.op == Op.DSB) {
                            st.pc = va + ((long) i << 2) + 4;
                            cpu.dataSynchronizationBarrier();
                            return i + 1;
                        }
                        break;
                    }
                    case Op.CLREX:
                        cpu.clearExclusive();
                        break;
                    default: {
                        // Everything else ends the block and is handled by the CPU: exceptions, system registers,
                        // hints, ERET, ISB, UNDEFINED.
                        long pc = va + ((long) i << 2);
                        st.pc = pc;
                        if (cpu.system(in, pc)) {
                            return i + 1;
                        }
                        return i;
                    }
                }
            }
            st.pc = va + ((long) n << 2);
            return n;
        } catch (GuestTrap t) {
            cpu.takeTrap(va + ((long) i << 2));
            return i;
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /** A 32-bit result zero-extended into its X register (writing a W register clears the top half). */
    private static long res(Insn in, long v) {
        return in.sf ? v : v & 0xFFFF_FFFFL;
    }

    private int regime(Insn in) {
        return (in.flags & Insn.UNPRIVILEGED) != 0 ? 0 : st.el;
    }

    /** The address of a load/store; checks SP alignment when the base is SP (SCTLR_EL1.SA/SA0). */
    private long address(Insn in, long addr) {
        if ((in.flags & Insn.BASE_SP) != 0) {
            cpu.checkSpAlignment(x[Insn.SP]);
        }
        return addr;
    }

    static long extendLoad(Insn in, long v) {
        int f = in.flags;
        if ((f & (Insn.SIGNED64 | Insn.SIGNED32)) == 0) {
            return v;
        }
        int bits = 8 << in.size;
        long s = v << (64 - bits) >> (64 - bits);
        return (f & Insn.SIGNED32) != 0 ? s & 0xFFFF_FFFFL : s;
    }

    private void loadPair(Insn in, long addr) {
        int size = 1 << in.size;
        int regime = st.el;
        long a = extendLoad(in, mmu.read(addr, size, regime));
        long b = extendLoad(in, mmu.read(addr + size, size, regime));
        x[in.rd] = a;
        x[in.ra] = b;
    }

    private void storePair(Insn in, long addr) {
        int size = 1 << in.size;
        int regime = st.el;
        long a = x[in.rd];
        long b = x[in.ra];
        mmu.write(addr, size, a, regime);
        mmu.write(addr + size, size, b, regime);
    }

    static long shifted(Insn in, long v) {
        return shift(in.sf, v, in.shift, in.amount);
    }

    /** DecodeShift/ShiftReg: LSL, LSR, ASR, ROR of a 64-bit or 32-bit value (the latter sign-extended). */
    static long shift(boolean sf, long v, int type, int amount) {
        if (sf) {
            switch (type) {
                case 0: return v << amount;
                case 1: return v >>> amount;
                case 2: return v >> amount;
                default: return Long.rotateRight(v, amount);
            }
        }
        int w = (int) v;
        switch (type) {
            case 0: return w << amount;
            case 1: return w >>> amount;
            case 2: return w >> amount;
            default: return Integer.rotateRight(w, amount);
        }
    }

    /** ExtendReg: option 0..7 = UXTB, UXTH, UXTW, UXTX, SXTB, SXTH, SXTW, SXTX. */
    static long extendReg(long v, int option) {
        switch (option) {
            case 0: return v & 0xFF;
            case 1: return v & 0xFFFF;
            case 2: return v & 0xFFFF_FFFFL;
            case 4: return (byte) v;
            case 5: return (short) v;
            case 6: return (int) v;
            default: return v;
        }
    }

    private static long extended(Insn in, long v) {
        return extendReg(v, in.shift) << in.amount;
    }

    /** AddWithCarry, setting NZCV; returns the result (zero-extended for 32 bits). */
    private long addFlags(boolean sf, long a, long b, long carry) {
        return sf ? addFlags64(a, b, carry) : addFlags32(a, b, carry);
    }

    private long addFlags64(long a, long b, long carry) {
        long r = a + b + carry;
        st.nf = r;
        st.zf = r;
        st.cf = ((a & b) | ((a | b) & ~r)) >>> 63;
        st.vf = (a ^ r) & (b ^ r);
        return r;
    }

    private long addFlags32(long a, long b, long carry) {
        long ua = a & 0xFFFF_FFFFL;
        long ub = b & 0xFFFF_FFFFL;
        long sum = ua + ub + carry;
        int r = (int) sum;
        st.nf = r;
        st.zf = r;
        st.cf = sum >>> 32 & 1;
        st.vf = ((int) a ^ r) & ((int) b ^ r);
        return r & 0xFFFF_FFFFL;
    }

    private long logicFlags(boolean sf, long r) {
        if (sf) {
            st.nf = r;
            st.zf = r;
        } else {
            int w = (int) r;
            st.nf = w;
            st.zf = w;
            r = w & 0xFFFF_FFFFL;
        }
        st.cf = 0;
        st.vf = 0;
        return r;
    }

    private void condCompare(Insn in) {
        if (st.holds(in.cond)) {
            long b = (in.flags & Insn.IMMEDIATE) != 0 ? in.imm : x[in.rm];
            if (in.op == Op.CCMP) {
                addFlags(in.sf, x[in.rn], ~b, 1);
            } else {
                addFlags(in.sf, x[in.rn], b, 0);
            }
        } else {
            st.setNzcv((long) in.amount << 28);
        }
    }

    /** SBFM/BFM/UBFM (Arm ARM C6.2 BFM "Operation"). */
    static long bitfield(Insn in, long src, long dstIn, boolean signed) {
        int r = in.amount;
        int s = in.shift;
        long wmask = in.imm;
        long tmask = in.imm2;
        if (in.sf) {
            long dst = in.op == Op.BFM ? dstIn : 0;
            long bot = (dst & ~wmask) | (Long.rotateRight(src, r) & wmask);
            long top = signed ? -(src >>> s & 1) : dst;
            return (top & ~tmask) | (bot & tmask);
        }
        int w = (int) src;
        int dst = in.op == Op.BFM ? (int) dstIn : 0;
        int bot = (dst & ~(int) wmask) | (Integer.rotateRight(w, r) & (int) wmask);
        int top = signed ? -(w >>> s & 1) : dst;
        return ((top & ~(int) tmask) | (bot & (int) tmask)) & 0xFFFF_FFFFL;
    }

    static long extract(Insn in, long n, long m) {
        int lsb = in.amount;
        if (in.sf) {
            return lsb == 0 ? m : (m >>> lsb) | (n << (64 - lsb));
        }
        long concat = (n & 0xFFFF_FFFFL) << 32 | (m & 0xFFFF_FFFFL);
        return (concat >>> lsb) & 0xFFFF_FFFFL;
    }

    static long udiv(boolean sf, long n, long m) {
        if (sf) {
            return m == 0 ? 0 : Long.divideUnsigned(n, m);
        }
        long a = n & 0xFFFF_FFFFL;
        long b = m & 0xFFFF_FFFFL;
        return b == 0 ? 0 : a / b;
    }

    static long sdiv(boolean sf, long n, long m) {
        if (sf) {
            if (m == 0) {
                return 0;
            }
            return m == -1 ? -n : n / m;   // Long.MIN_VALUE / -1 = Long.MIN_VALUE, as RoundTowardsZero then truncation
        }
        int a = (int) n;
        int b = (int) m;
        if (b == 0) {
            return 0;
        }
        return (b == -1 ? -a : a / b) & 0xFFFF_FFFFL;
    }

    /** RBIT, REV16, REV32, REV, CLZ, CLS (Arm ARM C6.2). */
    static long unary(int op, boolean sf, long v) {
        switch (op) {
            case Op.RBIT:
                return sf ? Long.reverse(v) : Integer.reverse((int) v) & 0xFFFF_FFFFL;
            case Op.REV16: {
                long r = (v & 0x00FF_00FF_00FF_00FFL) << 8 | (v >>> 8) & 0x00FF_00FF_00FF_00FFL;
                return sf ? r : r & 0xFFFF_FFFFL;
            }
            case Op.REV32:
                return Long.rotateLeft(Long.reverseBytes(v), 32);
            case Op.REV:
                return sf ? Long.reverseBytes(v) : Integer.reverseBytes((int) v) & 0xFFFF_FFFFL;
            case Op.CLZ:
                return sf ? Long.numberOfLeadingZeros(v) : Integer.numberOfLeadingZeros((int) v);
            default: // CLS
                return sf ? Long.numberOfLeadingZeros(v ^ (v >> 1)) - 1
                        : Integer.numberOfLeadingZeros((int) v ^ ((int) v >> 1)) - 1;
        }
    }

    static long unsignedMultiplyHigh(long a, long b) {
        long hi = Math.multiplyHigh(a, b);
        return hi + ((a >> 63) & b) + ((b >> 63) & a);
    }

    private static final int[] CRC32_TABLE = crcTable(0xEDB8_8320);
    private static final int[] CRC32C_TABLE = crcTable(0x82F6_3B78);

    private static int[] crcTable(int poly) {
        int[] t = new int[256];
        for (int i = 0; i < 256; i++) {
            int c = i;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) != 0 ? (c >>> 1) ^ poly : c >>> 1;
            }
            t[i] = c;
        }
        return t;
    }

    /** CRC32B/H/W/X and CRC32C*: the reflected CRC of the low 2^size bytes of {@code data}, no inversions. */
    static long crc32(Insn in, long acc, long data) {
        int[] t = (in.flags & Insn.CASTAGNOLI) != 0 ? CRC32C_TABLE : CRC32_TABLE;
        int crc = (int) acc;
        int bytes = 1 << in.size;
        for (int k = 0; k < bytes; k++) {
            crc = t[(crc ^ (int) (data >>> (8 * k))) & 0xFF] ^ (crc >>> 8);
        }
        return crc & 0xFFFF_FFFFL;
    }
}
