package dev.jvmm.arm64;

import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;

import java.lang.invoke.MethodHandles;

/**
 * Translates a hot {@link Block} to a JVM class, so HotSpot compiles guest code to host code (QEMU's TCG idea, with
 * the JIT of the JVM as the back end).
 *
 * <h2>What a translated block does</h2>
 * The guest registers the block uses are loaded into JVM locals on entry and stored back on every exit, so C2 keeps
 * them in host registers; NZCV lives in four locals in {@link ArchState}'s representation, and a flag that is
 * overwritten before it is read is dead code the JIT removes. Semantics are the interpreter's: data processing is
 * emitted inline with every decoded field a constant, the rarer operations call the same static helpers
 * {@link Interpreter} uses ({@link Interpreter#bitfield}, {@link Interpreter#crc32} ...), and loads and stores call
 * {@link Mmu#read}/{@link Mmu#write}, whose TLB fast path the JIT inlines. A block whose last instruction branches
 * back to its own start is a JVM loop that runs until the budget is spent (at most
 * {@link Arm64Cpu#CHECK_INTERVAL} instructions), so tight guest loops never leave compiled code.
 *
 * <p>Only data processing, loads and stores (all single-register and pair forms) and branches are translated. A
 * block stops before the first other instruction (system, exclusive, acquire/release, barrier, exception
 * generating): it stores its state, sets the PC to that instruction and returns, and the CPU interprets from there.
 * A fault unwinds through the method's exception handler, which stores the registers retired instructions wrote and
 * takes the exception at the faulting instruction, exactly as the interpreter does.
 *
 * <p>Classes are hidden classes in this package (no class loader to leak; unloaded with the block). A block is
 * translated once, when its execution count reaches {@link #THRESHOLD}, on the vCPU that gets there.
 */
final class BlockCompiler implements Opcodes {
    /** Executions after which a block is translated ({@code -Djvmm.arm64.compileThreshold}; 1: at once). */
    static final int THRESHOLD = Math.max(1, Integer.getInteger("jvmm.arm64.compileThreshold", 256));
    /** Longest translated prefix: keeps methods well under HotSpot's 8000-byte limit for JIT compilation. */
    static final int MAX_INSNS = 48;

    /**
     * What a translated block extends. An abstract class rather than an interface: the CPU's loop calls {@code run}
     * on whichever of the (hundreds of) translations it meets, and a megamorphic virtual call is a vtable load where
     * an interface call searches the itable (measured with perf: the itable stub was 7% of the vCPU thread).
     */
    abstract static class Compiled {
        /**
         * Runs the block entered at {@code va}; returns the instructions retired. May loop on itself while fewer than
         * {@code budget} instructions have retired.
         */
        abstract int run(Arm64Cpu cpu, long va, int budget);
    }

    private static final String COMPILED = Type.getInternalName(Compiled.class);
    private static final String CPU = Type.getInternalName(Arm64Cpu.class);
    private static final String STATE = Type.getInternalName(ArchState.class);
    private static final String MMU = Type.getInternalName(Mmu.class);
    private static final String INTERP = Type.getInternalName(Interpreter.class);
    private static final String INSN = Type.getInternalName(Insn.class);
    private static final String TRAP = Type.getInternalName(GuestTrap.class);

    // Local variable slots.
    private static final int THIS = 0;
    private static final int L_CPU = 1;
    private static final int L_VA = 2;
    private static final int L_BUDGET = 4;
    private static final int L_ST = 5;
    private static final int L_X = 6;
    private static final int L_MMU = 7;
    private static final int L_IDX = 8;
    private static final int L_COUNT = 9;
    private static final int L_EL = 10;
    private static final int L_REG = 11;                  // 34 registers, two slots each
    private static final int L_NF = L_REG + 2 * 34;
    private static final int L_ZF = L_NF + 2;
    private static final int L_CF = L_NF + 4;
    private static final int L_VF = L_NF + 6;
    private static final int T0 = L_NF + 8;
    private static final int T1 = T0 + 2;
    private static final int T2 = T0 + 4;
    private static final int T3 = T0 + 6;
    /** Byte offset of the block being executed from the region's entry (for the PC of a fault). */
    private static final int L_BASE = T0 + 8;

    private static int counter;

    private BlockCompiler() {
    }

    /** Whether the interpreter must run {@code in} (the compiled code stops in front of it). */
    static boolean translatable(Insn in) {
        switch (in.op) {
            case Op.UNDEF: case Op.SVC: case Op.HVC: case Op.SMC: case Op.BRK: case Op.HINT: case Op.CLREX:
            case Op.DSB: case Op.DMB: case Op.ISB: case Op.MSR_IMM: case Op.SYS: case Op.MSR: case Op.MRS:
            case Op.ERET: case Op.LDXR: case Op.STXR: case Op.LDXP: case Op.STXP: case Op.LDAR: case Op.STLR:
                return false;
            default:
                return true;
        }
    }

    /** Most blocks in one translated region, and most instructions (keeps the method well under 8000 bytes). */
    static final int MAX_REGION_BLOCKS = Integer.getInteger("jvmm.arm64.regionBlocks", 4);
    static final int MAX_REGION_INSNS = Integer.getInteger("jvmm.arm64.regionInsns", 100);

    /** The length of {@code b}'s translatable prefix (at most {@link #MAX_INSNS}). */
    static int prefix(Block b) {
        int n = 0;
        while (n < b.insns.length && n < MAX_INSNS && translatable(b.insns[n])) {
            n++;
        }
        return n;
    }

    private static boolean directBranch(Insn in) {
        switch (in.op) {
            case Op.B: case Op.B_COND: case Op.CBZ: case Op.CBNZ: case Op.TBZ: case Op.TBNZ:
                return true;
            default:
                return false;
        }
    }

    /**
     * Translates the region that starts with {@code b}: {@code b} and the blocks of the same page that its direct
     * branches reach (taken or not), transitively, when they have run before. A branch to a region block is a jump
     * inside the method (registers stay in locals); any other exit returns to the CPU's loop. Returns null when
     * {@code b}'s first instruction is not translatable.
     */
    static Compiled compile(Block b, CodeCache code) {
        if (!translatable(b.insns[0])) {
            return null;
        }
        java.util.List<Block> region = new java.util.ArrayList<>();
        java.util.List<Long> offsets = new java.util.ArrayList<>();
        region.add(b);
        offsets.add(0L);
        int total = prefix(b);
        int minHits = THRESHOLD > 1 ? 1 : 0;
        for (int k = 0; k < region.size() && code != null; k++) {
            Block blk = region.get(k);
            int len = prefix(blk);
            if (len < blk.insns.length || !directBranch(blk.insns[len - 1])) {
                continue;
            }
            Insn last = blk.insns[len - 1];
            long at = offsets.get(k) + 4L * (len - 1);
            long[] targets = last.op == Op.B ? new long[] {at + last.imm} : new long[] {at + last.imm, at + 4};
            for (long t : targets) {
                long pa = b.pa + t;
                if ((pa >>> CodeCache.PAGE_SHIFT) != (b.pa >>> CodeCache.PAGE_SHIFT) || offsets.contains(t)
                        || region.size() >= MAX_REGION_BLOCKS) {
                    continue;
                }
                Block next = code.block(pa, () -> { });
                int n = prefix(next);
                if (n == 0 || next.hits < minHits || total + n > MAX_REGION_INSNS) {
                    continue;
                }
                region.add(next);
                offsets.add(t);
                total += n;
            }
        }
        Compiled c = compileRegion(region, offsets);
        if (c == null && region.size() > 1) {
            c = compileRegion(java.util.List.of(b), java.util.List.of(0L));
        }
        return c;
    }

    /** Translates {@code b} alone. */
    static Compiled compile(Block b) {
        return compile(b, null);
    }

    /** Writes and defines the class of a region; null when its method would be too large for the JIT. */
    private static Compiled compileRegion(java.util.List<Block> region, java.util.List<Long> offsets) {
        Block b = region.get(0);
        int blocks = region.size();
        Insn[][] bodies = new Insn[blocks][];
        long[] offs = new long[blocks];
        int flat = 0;
        for (int k = 0; k < blocks; k++) {
            int n = prefix(region.get(k));
            bodies[k] = java.util.Arrays.copyOf(region.get(k).insns, n);
            offs[k] = offsets.get(k);
            flat += n;
        }
        Insn[] insns = new Insn[flat];
        int[] base = new int[blocks];
        int f = 0;
        for (int k = 0; k < blocks; k++) {
            base[k] = f;
            System.arraycopy(bodies[k], 0, insns, f, bodies[k].length);
            f += bodies[k].length;
        }
        String name = "dev/jvmm/arm64/Compiled$" + Long.toHexString(b.pa) + "$" + nextId();
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES | ClassWriter.COMPUTE_MAXS) {
            @Override
            protected String getCommonSuperClass(String a, String c) {
                return "java/lang/Object";
            }
        };
        cw.visit(V17, ACC_FINAL | ACC_SUPER, name, null, COMPILED, null);
        cw.visitField(ACC_PRIVATE | ACC_FINAL, "insns", "[L" + INSN + ";", null, null).visitEnd();
        MethodVisitor init = cw.visitMethod(0, "<init>", "([L" + INSN + ";)V", null, null);
        init.visitCode();
        init.visitVarInsn(ALOAD, 0);
        init.visitMethodInsn(INVOKESPECIAL, COMPILED, "<init>", "()V", false);
        init.visitVarInsn(ALOAD, 0);
        init.visitVarInsn(ALOAD, 1);
        init.visitFieldInsn(PUTFIELD, name, "insns", "[L" + INSN + ";");
        init.visitInsn(RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();
        MethodVisitor mv = cw.visitMethod(0, "run", "(L" + CPU + ";JI)I", null, null);
        new Emitter(mv, name, bodies, offs, base).emit();
        cw.visitEnd();
        byte[] bytes = cw.toByteArray();
        if (bytes.length > 7600 && blocks > 1) {
            return null;
        }
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup().defineHiddenClass(bytes, true);
            return (Compiled) lookup.findConstructor(lookup.lookupClass(),
                    java.lang.invoke.MethodType.methodType(void.class, Insn[].class)).invoke(insns);
        } catch (Throwable t) {
            throw new IllegalStateException("cannot translate block at 0x" + Long.toHexString(b.pa), t);
        }
    }

    private static synchronized int nextId() {
        return counter++;
    }

    /** Writes the {@code run} method of one block. */
    private static final class Emitter {
        private final MethodVisitor mv;
        private final String owner;
        /** The region's blocks (translatable prefixes), their byte offsets from the entry, their index in insns. */
        private final Insn[][] bodies;
        private final long[] offs;
        private final int[] base;
        private final Label[] labels;
        /** The block being emitted. */
        private int cur;
        private final boolean[] used = new boolean[34];
        /** Registers some instruction writes: only these are stored back. */
        private final boolean[] written = new boolean[34];
        /** Whether some instruction reads NZCV (then the flags are loaded on entry). */
        private boolean readsFlags;
        /** Whether some instruction writes NZCV (then the flags are stored on exit). */
        private boolean writesFlags;

        Emitter(MethodVisitor mv, String owner, Insn[][] bodies, long[] offs, int[] base) {
            this.mv = mv;
            this.owner = owner;
            this.bodies = bodies;
            this.offs = offs;
            this.base = base;
            this.labels = new Label[bodies.length];
            for (int k = 0; k < bodies.length; k++) {
                labels[k] = new Label();
            }
            for (Insn[] body : bodies) {
                for (Insn in : body) {
                    note(in);
                }
            }
        }

        private void note(Insn in) {
            used[in.rd] = true;
            used[in.rn] = true;
            used[in.rm] = true;
            used[in.ra] = true;
            if (in.op == Op.BL || in.op == Op.BLR) {
                used[30] = true;
                written[30] = true;
            }
            classify(in);
        }

        /** Which registers and flags {@code in} writes, and whether it reads the flags. */
        private void classify(Insn in) {
            switch (in.op) {
                case Op.B: case Op.BL: case Op.BR: case Op.BLR: case Op.RET: case Op.CBZ: case Op.CBNZ:
                case Op.TBZ: case Op.TBNZ: case Op.PRFM:
                    break;
                case Op.B_COND:
                    readsFlags = true;
                    break;
                case Op.ST: case Op.ST_REG: case Op.STP:
                    break;
                case Op.ST_PRE: case Op.ST_POST: case Op.STP_PRE: case Op.STP_POST:
                    written[in.rn] = true;
                    break;
                case Op.LD_PRE: case Op.LD_POST:
                    written[in.rd] = true;
                    written[in.rn] = true;
                    break;
                case Op.LDP:
                    written[in.rd] = true;
                    written[in.ra] = true;
                    break;
                case Op.LDP_PRE: case Op.LDP_POST:
                    written[in.rd] = true;
                    written[in.ra] = true;
                    written[in.rn] = true;
                    break;
                case Op.CCMN: case Op.CCMP:
                    readsFlags = true;
                    writesFlags = true;
                    break;
                case Op.ADDS_IMM: case Op.SUBS_IMM: case Op.ANDS_IMM: case Op.ANDS_REG: case Op.BICS_REG:
                case Op.ADDS_SREG: case Op.SUBS_SREG: case Op.ADDS_EREG: case Op.SUBS_EREG:
                    writesFlags = true;
                    written[in.rd] = true;
                    break;
                case Op.ADCS: case Op.SBCS:
                    readsFlags = true;
                    writesFlags = true;
                    written[in.rd] = true;
                    break;
                case Op.ADC: case Op.SBC: case Op.CSEL: case Op.CSINC: case Op.CSINV: case Op.CSNEG:
                    readsFlags = true;
                    written[in.rd] = true;
                    break;
                default:
                    written[in.rd] = true;
                    break;
            }
        }

        void emit() {
            mv.visitCode();
            // st, x, mmu, el, idx, count
            mv.visitVarInsn(ALOAD, L_CPU);
            mv.visitFieldInsn(GETFIELD, CPU, "st", "L" + STATE + ";");
            mv.visitVarInsn(ASTORE, L_ST);
            mv.visitVarInsn(ALOAD, L_ST);
            mv.visitFieldInsn(GETFIELD, STATE, "x", "[J");
            mv.visitVarInsn(ASTORE, L_X);
            mv.visitVarInsn(ALOAD, L_CPU);
            mv.visitFieldInsn(GETFIELD, CPU, "mmu", "L" + MMU + ";");
            mv.visitVarInsn(ASTORE, L_MMU);
            mv.visitVarInsn(ALOAD, L_ST);
            mv.visitFieldInsn(GETFIELD, STATE, "el", "I");
            mv.visitVarInsn(ISTORE, L_EL);
            mv.visitInsn(ICONST_0);
            mv.visitVarInsn(ISTORE, L_IDX);
            mv.visitInsn(ICONST_0);
            mv.visitVarInsn(ISTORE, L_COUNT);
            for (int r = 0; r < 34; r++) {
                if (used[r]) {
                    if (r == Insn.ZR || r == Insn.SINK) {
                        mv.visitInsn(LCONST_0);
                    } else {
                        mv.visitVarInsn(ALOAD, L_X);
                        iconst(r);
                        mv.visitInsn(LALOAD);
                    }
                    mv.visitVarInsn(LSTORE, reg(r));
                }
            }
            // Flags a block writes without reading them first need no load, but a fault before the first write
            // stores them back: load them whenever the block touches them at all.
            if (readsFlags || writesFlags) {
                loadFlag("nf", L_NF);
                loadFlag("zf", L_ZF);
                loadFlag("cf", L_CF);
                loadFlag("vf", L_VF);
            } else {
                for (int f = L_NF; f <= L_VF; f += 2) {
                    mv.visitInsn(LCONST_0);
                    mv.visitVarInsn(LSTORE, f);
                }
            }
            for (int t = T0; t <= L_BASE; t += 2) {
                mv.visitInsn(LCONST_0);
                mv.visitVarInsn(LSTORE, t);
            }
            Label tryStart = new Label();
            Label tryEnd = new Label();
            Label handler = new Label();
            mv.visitTryCatchBlock(tryStart, tryEnd, handler, TRAP);
            mv.visitLabel(tryStart);
            for (cur = 0; cur < bodies.length; cur++) {
                mv.visitLabel(labels[cur]);
                if (cur > 0) {
                    lconst(offs[cur]);
                    mv.visitVarInsn(LSTORE, L_BASE);
                }
                Insn[] body = bodies[cur];
                boolean ended = false;
                for (int i = 0; i < body.length && !ended; i++) {
                    ended = instruction(i, body[i]);
                }
                if (!ended) {
                    // Stopped in front of an untranslated instruction (or the prefix limit): PC = the next one.
                    int n = body.length;
                    exit(() -> pcOf(n), n);
                }
            }
            mv.visitLabel(tryEnd);
            mv.visitLabel(handler);
            mv.visitInsn(POP);
            storeState();
            mv.visitVarInsn(ALOAD, L_CPU);
            mv.visitVarInsn(LLOAD, L_VA);
            mv.visitVarInsn(LLOAD, L_BASE);
            mv.visitInsn(LADD);
            mv.visitVarInsn(ILOAD, L_IDX);
            mv.visitInsn(I2L);
            mv.visitInsn(ICONST_2);
            mv.visitInsn(LSHL);
            mv.visitInsn(LADD);
            mv.visitMethodInsn(INVOKEVIRTUAL, CPU, "takeTrap", "(J)V", false);
            mv.visitVarInsn(ILOAD, L_COUNT);
            mv.visitVarInsn(ILOAD, L_IDX);
            mv.visitInsn(IADD);
            mv.visitInsn(IRETURN);
            mv.visitMaxs(0, 0);
            mv.visitEnd();
        }

        private void loadFlag(String f, int slot) {
            mv.visitVarInsn(ALOAD, L_ST);
            mv.visitFieldInsn(GETFIELD, STATE, f, "J");
            mv.visitVarInsn(LSTORE, slot);
        }

        private void storeFlag(String f, int slot) {
            mv.visitVarInsn(ALOAD, L_ST);
            mv.visitVarInsn(LLOAD, slot);
            mv.visitFieldInsn(PUTFIELD, STATE, f, "J");
        }

        private void storeState() {
            for (int r = 0; r < 32; r++) {
                if (written[r]) {
                    mv.visitVarInsn(ALOAD, L_X);
                    iconst(r);
                    mv.visitVarInsn(LLOAD, reg(r));
                    mv.visitInsn(LASTORE);
                }
            }
            if (writesFlags) {
                storeFlag("nf", L_NF);
                storeFlag("zf", L_ZF);
                storeFlag("cf", L_CF);
                storeFlag("vf", L_VF);
            }
        }

        /** Stores the state, sets st.pc from {@code pc}, returns count + retired. */
        private void exit(Runnable pc, int retired) {
            storeState();
            mv.visitVarInsn(ALOAD, L_ST);
            pc.run();
            mv.visitFieldInsn(PUTFIELD, STATE, "pc", "J");
            mv.visitVarInsn(ILOAD, L_COUNT);
            iconst(retired);
            mv.visitInsn(IADD);
            mv.visitInsn(IRETURN);
        }

        private static int reg(int r) {
            return L_REG + 2 * r;
        }

        /** Pushes the virtual address of instruction {@code i} of the current block. */
        private void pcOf(int i) {
            entryPlus(offs[cur] + 4L * i);
        }

        /** Pushes the virtual address {@code offset} bytes from the region's entry. */
        private void entryPlus(long offset) {
            mv.visitVarInsn(LLOAD, L_VA);
            lconst(offset);
            mv.visitInsn(LADD);
        }

        private void iconst(int v) {
            if (v >= -1 && v <= 5) {
                mv.visitInsn(ICONST_0 + v);
            } else if (v >= Byte.MIN_VALUE && v <= Byte.MAX_VALUE) {
                mv.visitIntInsn(BIPUSH, v);
            } else if (v >= Short.MIN_VALUE && v <= Short.MAX_VALUE) {
                mv.visitIntInsn(SIPUSH, v);
            } else {
                mv.visitLdcInsn(v);
            }
        }

        private void lconst(long v) {
            if (v == 0) {
                mv.visitInsn(LCONST_0);
            } else if (v == 1) {
                mv.visitInsn(LCONST_1);
            } else {
                mv.visitLdcInsn(v);
            }
        }

        private void load(int r) {
            if (r == Insn.ZR) {
                mv.visitInsn(LCONST_0);
            } else {
                mv.visitVarInsn(LLOAD, reg(r));
            }
        }

        private void store(int r) {
            mv.visitVarInsn(LSTORE, reg(r));
        }

        /** Replaces the long on the stack by its bitwise NOT. */
        private void not() {
            lconst(-1);
            mv.visitInsn(LXOR);
        }

        /** Zero-extends the 64-bit value on the stack to 32 bits unless {@code sf}. */
        private void res(boolean sf) {
            if (!sf) {
                lconst(0xFFFF_FFFFL);
                mv.visitInsn(LAND);
            }
        }

        private void insnObject(int i) {
            mv.visitVarInsn(ALOAD, THIS);
            mv.visitFieldInsn(GETFIELD, owner, "insns", "[L" + INSN + ";");
            iconst(base[cur] + i);
            mv.visitInsn(AALOAD);
        }

        private void setIdx(int i) {
            iconst(i);
            mv.visitVarInsn(ISTORE, L_IDX);
        }

        /** Shifted register operand (LSL/LSR/ASR/ROR by a constant), as Interpreter.shift. */
        private void shifted(Insn in) {
            if (in.amount == 0) {
                // A shift by 0 is the value itself; 32-bit users only look at the low 32 bits.
                load(in.rm);
                return;
            }
            if (in.sf && in.shift == 0) {
                load(in.rm);
                iconst(in.amount);
                mv.visitInsn(LSHL);
                return;
            }
            load(in.rm);
            constantShift(in.sf, in.shift, in.amount);
        }

        /**
         * Interpreter.shift of the long on the stack by a constant type and amount, emitted inline: the translation
         * calls no helper that C1 would leave out of line and C2 would have to inline and fold.
         */
        private void constantShift(boolean sf, int type, int amount) {
            if (sf) {
                iconst(amount);
                shiftBy(true, type);
                return;
            }
            mv.visitInsn(L2I);
            iconst(amount);
            shiftBy(false, type);
            mv.visitInsn(I2L);
        }

        /**
         * Shifts the long ({@code sf}) or int under the int count on the stack by shift type {@code type} (LSL, LSR,
         * ASR, ROR); the JVM takes the count modulo 64 or 32, as the architecture does.
         */
        private void shiftBy(boolean sf, int type) {
            if (sf) {
                switch (type) {
                    case 0: mv.visitInsn(LSHL); break;
                    case 1: mv.visitInsn(LUSHR); break;
                    case 2: mv.visitInsn(LSHR); break;
                    default: mv.visitMethodInsn(INVOKESTATIC, "java/lang/Long", "rotateRight", "(JI)J", false);
                }
                return;
            }
            switch (type) {
                case 0: mv.visitInsn(ISHL); break;
                case 1: mv.visitInsn(IUSHR); break;
                case 2: mv.visitInsn(ISHR); break;
                default: mv.visitMethodInsn(INVOKESTATIC, "java/lang/Integer", "rotateRight", "(II)I", false);
            }
        }

        /** Interpreter.extendReg of the long on the stack by a constant option, emitted inline. */
        private void extendReg(int option) {
            switch (option) {
                case 0: lconst(0xFFL); mv.visitInsn(LAND); break;
                case 1: lconst(0xFFFFL); mv.visitInsn(LAND); break;
                case 2: lconst(0xFFFF_FFFFL); mv.visitInsn(LAND); break;
                case 4: mv.visitInsn(L2I); mv.visitInsn(I2B); mv.visitInsn(I2L); break;
                case 5: mv.visitInsn(L2I); mv.visitInsn(I2S); mv.visitInsn(I2L); break;
                case 6: mv.visitInsn(L2I); mv.visitInsn(I2L); break;
                default: break;
            }
        }

        /** Pushes the second operand of a register form: Rm shifted (*_SREG) or extended (*_EREG). */
        private void registerOperand(Insn in) {
            if (in.op == Op.ADD_EREG || in.op == Op.SUB_EREG || in.op == Op.ADDS_EREG || in.op == Op.SUBS_EREG) {
                extended(in);
            } else {
                shifted(in);
            }
        }

        private void extended(Insn in) {
            load(in.rm);
            extendReg(in.shift);
            if (in.amount != 0) {
                iconst(in.amount);
                mv.visitInsn(LSHL);
            }
        }

        /**
         * AddWithCarry(a, b, carry) with NZCV, a in T0 and b on the stack: b is inverted for a subtraction
         * ({@code sub}); the carry is C ({@code withCarry}: ADCS, SBCS), else 1 for a subtraction and 0 for an addition.
         * Pushes the result.
         */
        private void addWithCarry(boolean sf, boolean sub, boolean withCarry) {
            if (sub) {
                not();
            }
            mv.visitVarInsn(LSTORE, T1);
            if (withCarry) {
                mv.visitVarInsn(LLOAD, L_CF);
            } else {
                lconst(sub ? 1 : 0);
            }
            mv.visitVarInsn(LSTORE, T2);
            addFlags(sf);
        }

        /** a (T0) + b (T1) + carry (T2) with NZCV into the flag locals; pushes the result. */
        private void addFlags(boolean sf) {
            // r = a + b + c; for 32 bits (a & M) + (b & M) + c, whose bit 32 is the carry out
            mv.visitVarInsn(LLOAD, T0);
            res(sf);
            mv.visitVarInsn(LLOAD, T1);
            res(sf);
            mv.visitInsn(LADD);
            mv.visitVarInsn(LLOAD, T2);
            mv.visitInsn(LADD);
            mv.visitVarInsn(LSTORE, T3);
            if (sf) {
                mv.visitVarInsn(LLOAD, T3);
                mv.visitVarInsn(LSTORE, L_NF);
                mv.visitVarInsn(LLOAD, T3);
                mv.visitVarInsn(LSTORE, L_ZF);
                // cf = ((a & b) | ((a | b) & ~r)) >>> 63
                mv.visitVarInsn(LLOAD, T0);
                mv.visitVarInsn(LLOAD, T1);
                mv.visitInsn(LAND);
                mv.visitVarInsn(LLOAD, T0);
                mv.visitVarInsn(LLOAD, T1);
                mv.visitInsn(LOR);
                mv.visitVarInsn(LLOAD, T3);
                not();
                mv.visitInsn(LAND);
                mv.visitInsn(LOR);
                iconst(63);
                mv.visitInsn(LUSHR);
                mv.visitVarInsn(LSTORE, L_CF);
                overflow();
                mv.visitVarInsn(LSTORE, L_VF);
                mv.visitVarInsn(LLOAD, T3);
                return;
            }
            mv.visitVarInsn(LLOAD, T3);
            mv.visitInsn(L2I);
            mv.visitInsn(I2L);
            mv.visitInsn(DUP2);
            mv.visitVarInsn(LSTORE, L_NF);
            mv.visitVarInsn(LSTORE, L_ZF);
            mv.visitVarInsn(LLOAD, T3);
            iconst(32);
            mv.visitInsn(LUSHR);
            lconst(1);
            mv.visitInsn(LAND);
            mv.visitVarInsn(LSTORE, L_CF);
            overflow();
            mv.visitInsn(L2I);
            mv.visitInsn(I2L);
            mv.visitVarInsn(LSTORE, L_VF);
            mv.visitVarInsn(LLOAD, T3);
            lconst(0xFFFF_FFFFL);
            mv.visitInsn(LAND);
        }

        /** Pushes (a ^ r) & (b ^ r) from T0, T1 and T3: its sign bit (bit 63 or 31) is V of r = a + b + c. */
        private void overflow() {
            mv.visitVarInsn(LLOAD, T0);
            mv.visitVarInsn(LLOAD, T3);
            mv.visitInsn(LXOR);
            mv.visitVarInsn(LLOAD, T1);
            mv.visitVarInsn(LLOAD, T3);
            mv.visitInsn(LXOR);
            mv.visitInsn(LAND);
        }

        /** NZ from the value on the stack, C = V = 0 (ANDS, BICS); leaves the (zero-extended) result. */
        private void logicFlags(boolean sf) {
            if (!sf) {
                mv.visitInsn(L2I);
                mv.visitInsn(I2L);
            }
            mv.visitInsn(DUP2);
            mv.visitVarInsn(LSTORE, L_NF);
            mv.visitInsn(DUP2);
            mv.visitVarInsn(LSTORE, L_ZF);
            mv.visitInsn(LCONST_0);
            mv.visitVarInsn(LSTORE, L_CF);
            mv.visitInsn(LCONST_0);
            mv.visitVarInsn(LSTORE, L_VF);
            res(sf);
        }

        /** Pushes ConditionHolds(cond) as an int (0/1). */
        private void cond(int cond) {
            // ArchState.holds with a constant condition, emitted inline: jump to t when the base condition holds.
            int base = cond >>> 1;
            if (base == 7) {
                mv.visitInsn(ICONST_1);                          // AL, NV
                return;
            }
            Label t = new Label();
            Label f = new Label();
            Label e = new Label();
            switch (base) {
                case 0: signTest(L_ZF, IFEQ, t); break;          // EQ: zf == 0
                case 1: signTest(L_CF, IFNE, t); break;          // CS: cf != 0
                case 2: signTest(L_NF, IFLT, t); break;          // MI: nf < 0
                case 3: signTest(L_VF, IFLT, t); break;          // VS: vf < 0
                case 4:                                          // HI: cf != 0 && zf != 0
                    signTest(L_CF, IFEQ, f);
                    signTest(L_ZF, IFNE, t);
                    break;
                case 5:                                          // GE: (nf ^ vf) >= 0
                    nXorV();
                    mv.visitJumpInsn(IFGE, t);
                    break;
                default:                                         // GT: (nf ^ vf) >= 0 && zf != 0
                    nXorV();
                    mv.visitJumpInsn(IFLT, f);
                    signTest(L_ZF, IFNE, t);
                    break;
            }
            boolean invert = (cond & 1) != 0;
            mv.visitLabel(f);
            mv.visitInsn(invert ? ICONST_1 : ICONST_0);
            mv.visitJumpInsn(GOTO, e);
            mv.visitLabel(t);
            mv.visitInsn(invert ? ICONST_0 : ICONST_1);
            mv.visitLabel(e);
        }

        /** Compares the flag local {@code slot} with 0 and jumps to {@code to} on {@code opcode} (IFEQ, IFLT ...). */
        private void signTest(int slot, int opcode, Label to) {
            mv.visitVarInsn(LLOAD, slot);
            mv.visitInsn(LCONST_0);
            mv.visitInsn(LCMP);
            mv.visitJumpInsn(opcode, to);
        }

        /** Pushes the sign comparison of nf ^ vf with 0 (an int for IFGE/IFLT). */
        private void nXorV() {
            mv.visitVarInsn(LLOAD, L_NF);
            mv.visitVarInsn(LLOAD, L_VF);
            mv.visitInsn(LXOR);
            mv.visitInsn(LCONST_0);
            mv.visitInsn(LCMP);
        }

        /** Address of a load/store into T0 (with the SP alignment check); {@code withOffset}: base + imm. */
        private void address(Insn in, boolean withOffset) {
            if ((in.flags & Insn.BASE_SP) != 0) {
                // An aligned SP passes whatever SCTLR_EL1.SA says: call the check only for a misaligned one.
                Label aligned = new Label();
                load(Insn.SP);
                lconst(15);
                mv.visitInsn(LAND);
                mv.visitInsn(LCONST_0);
                mv.visitInsn(LCMP);
                mv.visitJumpInsn(IFEQ, aligned);
                mv.visitVarInsn(ALOAD, L_CPU);
                load(Insn.SP);
                mv.visitMethodInsn(INVOKEVIRTUAL, CPU, "checkSpAlignment", "(J)V", false);
                mv.visitLabel(aligned);
            }
            load(in.rn);
            if (withOffset && in.imm != 0) {
                lconst(in.imm);
                mv.visitInsn(LADD);
            }
            mv.visitVarInsn(LSTORE, T0);
        }

        private void regime(Insn in) {
            if ((in.flags & Insn.UNPRIVILEGED) != 0) {
                mv.visitInsn(ICONST_0);
            } else {
                mv.visitVarInsn(ILOAD, L_EL);
            }
        }

        /** Pushes the MMU, the address (the long at {@code addrSlot} + {@code plus}) and the size of an access. */
        private void access(Insn in, int addrSlot, long plus) {
            mv.visitVarInsn(ALOAD, L_MMU);
            mv.visitVarInsn(LLOAD, addrSlot);
            if (plus != 0) {
                lconst(plus);
                mv.visitInsn(LADD);
            }
            iconst(1 << in.size);
        }

        /** mmu.read(addr at slot, size) with the load's extension; pushes the value. */
        private void read(Insn in, int addrSlot, long plus) {
            access(in, addrSlot, plus);
            regime(in);
            mv.visitMethodInsn(INVOKEVIRTUAL, MMU, "read", "(JII)J", false);
            int f = in.flags;
            if ((f & (Insn.SIGNED64 | Insn.SIGNED32)) != 0) {
                int bits = 8 << in.size;
                iconst(64 - bits);
                mv.visitInsn(LSHL);
                iconst(64 - bits);
                mv.visitInsn(LSHR);
                if ((f & Insn.SIGNED32) != 0) {
                    res(false);
                }
            }
        }

        private void write(Insn in, int addrSlot, long plus, int valueReg) {
            access(in, addrSlot, plus);
            load(valueReg);
            regime(in);
            mv.visitMethodInsn(INVOKEVIRTUAL, MMU, "write", "(JIJI)V", false);
        }

        /** Emits instruction {@code i}; returns true when it ended the method (a branch). */
        private boolean instruction(int i, Insn in) {
            switch (in.op) {
                case Op.ADR:
                    pcOf(i);
                    lconst(in.imm);
                    mv.visitInsn(LADD);
                    store(in.rd);
                    return false;
                case Op.ADRP:
                    pcOf(i);
                    lconst(~0xFFFL);
                    mv.visitInsn(LAND);
                    lconst(in.imm);
                    mv.visitInsn(LADD);
                    store(in.rd);
                    return false;
                case Op.ADD_IMM:
                case Op.SUB_IMM:
                    load(in.rn);
                    lconst(in.imm);
                    mv.visitInsn(in.op == Op.ADD_IMM ? LADD : LSUB);
                    res(in.sf);
                    store(in.rd);
                    return false;
                case Op.ADDS_IMM:
                case Op.SUBS_IMM:
                    load(in.rn);
                    mv.visitVarInsn(LSTORE, T0);
                    lconst(in.op == Op.ADDS_IMM ? in.imm : ~in.imm);
                    mv.visitVarInsn(LSTORE, T1);
                    lconst(in.op == Op.ADDS_IMM ? 0 : 1);
                    mv.visitVarInsn(LSTORE, T2);
                    addFlags(in.sf);
                    store(in.rd);
                    return false;
                case Op.AND_IMM:
                case Op.ORR_IMM:
                case Op.EOR_IMM:
                case Op.ANDS_IMM:
                    load(in.rn);
                    lconst(in.imm);
                    mv.visitInsn(in.op == Op.ORR_IMM ? LOR : in.op == Op.EOR_IMM ? LXOR : LAND);
                    if (in.op == Op.ANDS_IMM) {
                        logicFlags(in.sf);
                    } else {
                        res(in.sf);
                    }
                    store(in.rd);
                    return false;
                case Op.MOVN:
                    lconst(in.sf ? ~(in.imm << in.amount) : ~(in.imm << in.amount) & 0xFFFF_FFFFL);
                    store(in.rd);
                    return false;
                case Op.MOVZ:
                    lconst(in.imm << in.amount);
                    store(in.rd);
                    return false;
                case Op.MOVK:
                    load(in.ra);
                    lconst(~(0xFFFFL << in.amount));
                    mv.visitInsn(LAND);
                    lconst(in.imm << in.amount);
                    mv.visitInsn(LOR);
                    res(in.sf);
                    store(in.rd);
                    return false;
                case Op.SBFM:
                case Op.BFM:
                case Op.UBFM:
                    bitfield(in);
                    store(in.rd);
                    return false;
                case Op.EXTR:
                    extract(in);
                    store(in.rd);
                    return false;
                case Op.AND_REG: case Op.BIC_REG: case Op.ORR_REG: case Op.ORN_REG: case Op.EOR_REG:
                case Op.EON_REG: case Op.ANDS_REG: case Op.BICS_REG: {
                    load(in.rn);
                    shifted(in);
                    boolean invert = in.op == Op.BIC_REG || in.op == Op.ORN_REG || in.op == Op.EON_REG
                            || in.op == Op.BICS_REG;
                    if (invert) {
                        not();
                    }
                    int jop = in.op == Op.ORR_REG || in.op == Op.ORN_REG ? LOR
                            : in.op == Op.EOR_REG || in.op == Op.EON_REG ? LXOR : LAND;
                    mv.visitInsn(jop);
                    if (in.op == Op.ANDS_REG || in.op == Op.BICS_REG) {
                        logicFlags(in.sf);
                    } else {
                        res(in.sf);
                    }
                    store(in.rd);
                    return false;
                }
                case Op.ADD_SREG: case Op.SUB_SREG: case Op.ADD_EREG: case Op.SUB_EREG:
                    load(in.rn);
                    registerOperand(in);
                    mv.visitInsn(in.op == Op.ADD_SREG || in.op == Op.ADD_EREG ? LADD : LSUB);
                    res(in.sf);
                    store(in.rd);
                    return false;
                case Op.ADDS_SREG: case Op.SUBS_SREG: case Op.ADDS_EREG: case Op.SUBS_EREG:
                    load(in.rn);
                    mv.visitVarInsn(LSTORE, T0);
                    registerOperand(in);
                    addWithCarry(in.sf, in.op == Op.SUBS_SREG || in.op == Op.SUBS_EREG, false);
                    store(in.rd);
                    return false;
                case Op.ADC: case Op.SBC:
                    load(in.rn);
                    load(in.rm);
                    if (in.op == Op.SBC) {
                        not();
                    }
                    mv.visitInsn(LADD);
                    mv.visitVarInsn(LLOAD, L_CF);
                    mv.visitInsn(LADD);
                    res(in.sf);
                    store(in.rd);
                    return false;
                case Op.ADCS: case Op.SBCS:
                    load(in.rn);
                    mv.visitVarInsn(LSTORE, T0);
                    load(in.rm);
                    addWithCarry(in.sf, in.op == Op.SBCS, true);
                    store(in.rd);
                    return false;
                case Op.CCMN: case Op.CCMP: {
                    Label no = new Label();
                    Label done = new Label();
                    cond(in.cond);
                    mv.visitJumpInsn(IFEQ, no);
                    load(in.rn);
                    mv.visitVarInsn(LSTORE, T0);
                    if ((in.flags & Insn.IMMEDIATE) != 0) {
                        lconst(in.imm);
                    } else {
                        load(in.rm);
                    }
                    addWithCarry(in.sf, in.op == Op.CCMP, false);
                    mv.visitInsn(POP2);
                    mv.visitJumpInsn(GOTO, done);
                    mv.visitLabel(no);
                    int nzcv = in.amount;
                    lconst((nzcv & 8) != 0 ? -1 : 0);
                    mv.visitVarInsn(LSTORE, L_NF);
                    lconst((nzcv & 4) != 0 ? 0 : 1);
                    mv.visitVarInsn(LSTORE, L_ZF);
                    lconst((nzcv >>> 1) & 1);
                    mv.visitVarInsn(LSTORE, L_CF);
                    lconst((nzcv & 1) != 0 ? -1 : 0);
                    mv.visitVarInsn(LSTORE, L_VF);
                    mv.visitLabel(done);
                    return false;
                }
                case Op.CSEL: case Op.CSINC: case Op.CSINV: case Op.CSNEG: {
                    Label no = new Label();
                    Label done = new Label();
                    cond(in.cond);
                    mv.visitJumpInsn(IFEQ, no);
                    load(in.rn);
                    mv.visitJumpInsn(GOTO, done);
                    mv.visitLabel(no);
                    load(in.rm);
                    if (in.op == Op.CSINC) {
                        lconst(1);
                        mv.visitInsn(LADD);
                    } else if (in.op == Op.CSINV) {
                        not();
                    } else if (in.op == Op.CSNEG) {
                        mv.visitInsn(LNEG);
                    }
                    mv.visitLabel(done);
                    res(in.sf);
                    store(in.rd);
                    return false;
                }
                case Op.MADD: case Op.MSUB:
                    load(in.ra);
                    load(in.rn);
                    load(in.rm);
                    mv.visitInsn(LMUL);
                    mv.visitInsn(in.op == Op.MADD ? LADD : LSUB);
                    res(in.sf);
                    store(in.rd);
                    return false;
                case Op.SMADDL: case Op.SMSUBL: case Op.UMADDL: case Op.UMSUBL: {
                    boolean signed = in.op == Op.SMADDL || in.op == Op.SMSUBL;
                    load(in.ra);
                    word(in.rn, signed);
                    word(in.rm, signed);
                    mv.visitInsn(LMUL);
                    mv.visitInsn(in.op == Op.SMADDL || in.op == Op.UMADDL ? LADD : LSUB);
                    store(in.rd);
                    return false;
                }
                case Op.SMULH: case Op.UMULH:
                    load(in.rn);
                    load(in.rm);
                    if (in.op == Op.SMULH) {
                        mv.visitMethodInsn(INVOKESTATIC, "java/lang/Math", "multiplyHigh", "(JJ)J", false);
                    } else {
                        mv.visitMethodInsn(INVOKESTATIC, INTERP, "unsignedMultiplyHigh", "(JJ)J", false);
                    }
                    store(in.rd);
                    return false;
                case Op.UDIV: case Op.SDIV:
                    mv.visitInsn(in.sf ? ICONST_1 : ICONST_0);
                    load(in.rn);
                    load(in.rm);
                    mv.visitMethodInsn(INVOKESTATIC, INTERP, in.op == Op.UDIV ? "udiv" : "sdiv", "(ZJJ)J", false);
                    store(in.rd);
                    return false;
                case Op.LSLV: case Op.LSRV: case Op.ASRV: case Op.RORV: {
                    // Interpreter.shift by Rm MOD datasize, inline (shiftBy: the JVM's modulo is the architecture's).
                    int type = in.op - Op.LSLV;
                    load(in.rn);
                    if (!in.sf) {
                        mv.visitInsn(L2I);
                    }
                    load(in.rm);
                    mv.visitInsn(L2I);
                    shiftBy(in.sf, type);
                    if (!in.sf) {
                        mv.visitInsn(I2L);
                    }
                    res(in.sf);
                    store(in.rd);
                    return false;
                }
                case Op.CRC32:
                    insnObject(i);
                    load(in.rn);
                    load(in.rm);
                    mv.visitMethodInsn(INVOKESTATIC, INTERP, "crc32", "(L" + INSN + ";JJ)J", false);
                    store(in.rd);
                    return false;
                case Op.RBIT: case Op.REV16: case Op.REV32: case Op.REV: case Op.CLZ: case Op.CLS:
                    iconst(in.op);
                    mv.visitInsn(in.sf ? ICONST_1 : ICONST_0);
                    load(in.rn);
                    mv.visitMethodInsn(INVOKESTATIC, INTERP, "unary", "(IZJ)J", false);
                    store(in.rd);
                    return false;
                case Op.PRFM:
                case Op.NOP:
                    return false;

                // ------------------------------------------------------------ loads and stores
                case Op.LD: case Op.LD_PRE: case Op.LD_POST: case Op.LD_REG: case Op.LDR_LIT: {
                    setIdx(i);
                    if (in.op == Op.LDR_LIT) {
                        pcOf(i);
                        lconst(in.imm);
                        mv.visitInsn(LADD);
                        mv.visitVarInsn(LSTORE, T0);
                    } else if (in.op == Op.LD_REG) {
                        registerOffsetAddress(in);
                    } else {
                        address(in, in.op != Op.LD_POST);
                    }
                    read(in, T0, 0);
                    store(in.rd);
                    writeback(in);
                    return false;
                }
                case Op.ST: case Op.ST_PRE: case Op.ST_POST: case Op.ST_REG: {
                    setIdx(i);
                    if (in.op == Op.ST_REG) {
                        registerOffsetAddress(in);
                    } else {
                        address(in, in.op != Op.ST_POST);
                    }
                    write(in, T0, 0, in.rd);
                    writeback(in);
                    return false;
                }
                case Op.LDP: case Op.LDP_PRE: case Op.LDP_POST: {
                    setIdx(i);
                    address(in, in.op != Op.LDP_POST);
                    read(in, T0, 0);
                    mv.visitVarInsn(LSTORE, T1);
                    read(in, T0, 1L << in.size);
                    mv.visitVarInsn(LSTORE, T2);
                    mv.visitVarInsn(LLOAD, T1);
                    store(in.rd);
                    mv.visitVarInsn(LLOAD, T2);
                    store(in.ra);
                    writeback(in);
                    return false;
                }
                case Op.STP: case Op.STP_PRE: case Op.STP_POST:
                    setIdx(i);
                    address(in, in.op != Op.STP_POST);
                    write(in, T0, 0, in.rd);
                    write(in, T0, 1L << in.size, in.ra);
                    writeback(in);
                    return false;

                // ------------------------------------------------------------ branches
                case Op.B:
                    branch(i, in.imm, null);
                    return true;
                case Op.BL:
                    pcOf(i + 1);
                    store(30);
                    branch(i, in.imm, null);
                    return true;
                case Op.B_COND:
                    branch(i, in.imm, () -> {
                        cond(in.cond);
                    });
                    return true;
                case Op.CBZ: case Op.CBNZ:
                    branch(i, in.imm, () -> {
                        load(in.rd);
                        res(in.sf);
                        zeroTest(in.op == Op.CBZ);
                    });
                    return true;
                case Op.TBZ: case Op.TBNZ:
                    branch(i, in.imm, () -> {
                        load(in.rd);
                        lconst(in.imm2);
                        mv.visitInsn(LAND);
                        zeroTest(in.op == Op.TBZ);
                    });
                    return true;
                case Op.BR: case Op.RET: case Op.BLR: {
                    load(in.rn);
                    mv.visitVarInsn(LSTORE, T1);
                    if (in.op == Op.BLR) {
                        pcOf(i + 1);
                        store(30);
                    }
                    exit(() -> mv.visitVarInsn(LLOAD, T1), i + 1);
                    return true;
                }
                default:
                    throw new IllegalStateException("not translatable: " + in);
            }
        }

        /** Pushes the low 32 bits of register {@code r}, sign- or zero-extended to 64. */
        private void word(int r, boolean signed) {
            load(r);
            if (signed) {
                mv.visitInsn(L2I);
                mv.visitInsn(I2L);
            } else {
                res(false);
            }
        }

        /**
         * Interpreter.bitfield (UBFM, SBFM, BFM) with the instruction's constant rotation and masks, emitted inline;
         * pushes the result (zero-extended for 32 bits).
         */
        private void bitfield(Insn in) {
            boolean bfm = in.op == Op.BFM;
            boolean signed = in.op == Op.SBFM;
            int r = in.amount;
            int s = in.shift;
            long wmask = in.imm;
            long tmask = in.imm2;
            if (in.sf) {
                // bot = (dst & ~wmask) | (ROR(src, r) & wmask); result = (top & ~tmask) | (bot & tmask)
                load(in.rn);
                if (r != 0) {
                    iconst(r);
                    mv.visitMethodInsn(INVOKESTATIC, "java/lang/Long", "rotateRight", "(JI)J", false);
                }
                lconst(wmask);
                mv.visitInsn(LAND);
                if (bfm) {
                    load(in.ra);
                    lconst(~wmask);
                    mv.visitInsn(LAND);
                    mv.visitInsn(LOR);
                }
                lconst(tmask);
                mv.visitInsn(LAND);
                if (signed) {
                    load(in.rn);               // top = -(src >>> s & 1)
                    iconst(s);
                    mv.visitInsn(LUSHR);
                    lconst(1);
                    mv.visitInsn(LAND);
                    mv.visitInsn(LNEG);
                } else if (bfm) {
                    load(in.ra);               // top = dst
                } else {
                    return;                    // top = 0
                }
                lconst(~tmask);
                mv.visitInsn(LAND);
                mv.visitInsn(LOR);
                return;
            }
            load(in.rn);
            mv.visitInsn(L2I);
            if (r != 0) {
                iconst(r);
                mv.visitMethodInsn(INVOKESTATIC, "java/lang/Integer", "rotateRight", "(II)I", false);
            }
            iconst((int) wmask);
            mv.visitInsn(IAND);
            if (bfm) {
                load(in.ra);
                mv.visitInsn(L2I);
                iconst(~(int) wmask);
                mv.visitInsn(IAND);
                mv.visitInsn(IOR);
            }
            iconst((int) tmask);
            mv.visitInsn(IAND);
            if (signed || bfm) {
                load(signed ? in.rn : in.ra);
                mv.visitInsn(L2I);
                if (signed) {
                    iconst(s);
                    mv.visitInsn(IUSHR);
                    iconst(1);
                    mv.visitInsn(IAND);
                    mv.visitInsn(INEG);
                }
                iconst(~(int) tmask);
                mv.visitInsn(IAND);
                mv.visitInsn(IOR);
            }
            mv.visitInsn(I2L);
            lconst(0xFFFF_FFFFL);
            mv.visitInsn(LAND);
        }

        /** Interpreter.extract (EXTR) with its constant lsb, emitted inline; pushes the result. */
        private void extract(Insn in) {
            int lsb = in.amount;
            if (in.sf) {
                load(in.rm);
                if (lsb != 0) {
                    iconst(lsb);
                    mv.visitInsn(LUSHR);
                    load(in.rn);
                    iconst(64 - lsb);
                    mv.visitInsn(LSHL);
                    mv.visitInsn(LOR);
                }
                return;
            }
            load(in.rn);
            lconst(0xFFFF_FFFFL);
            mv.visitInsn(LAND);
            iconst(32);
            mv.visitInsn(LSHL);
            load(in.rm);
            lconst(0xFFFF_FFFFL);
            mv.visitInsn(LAND);
            mv.visitInsn(LOR);
            iconst(lsb);
            mv.visitInsn(LUSHR);
            lconst(0xFFFF_FFFFL);
            mv.visitInsn(LAND);
        }

        /** Base + ExtendReg(Rm, option) << amount into T0 (the register-offset addressing mode). */
        private void registerOffsetAddress(Insn in) {
            address(in, false);
            mv.visitVarInsn(LLOAD, T0);
            load(in.rm);
            extendReg(in.shift);
            if (in.amount != 0) {
                iconst(in.amount);
                mv.visitInsn(LSHL);
            }
            mv.visitInsn(LADD);
            mv.visitVarInsn(LSTORE, T0);
        }

        /** Replaces the long on the stack by 1 when it is zero ({@code whenZero}) or non-zero, else by 0. */
        private void zeroTest(boolean whenZero) {
            lconst(0);
            mv.visitInsn(LCMP);
            Label t = new Label();
            Label e = new Label();
            mv.visitJumpInsn(whenZero ? IFEQ : IFNE, t);
            mv.visitInsn(ICONST_0);
            mv.visitJumpInsn(GOTO, e);
            mv.visitLabel(t);
            mv.visitInsn(ICONST_1);
            mv.visitLabel(e);
        }

        private void writeback(Insn in) {
            switch (in.op) {
                case Op.LD_PRE: case Op.ST_PRE: case Op.LDP_PRE: case Op.STP_PRE:
                    mv.visitVarInsn(LLOAD, T0);
                    store(in.rn);
                    break;
                case Op.LD_POST: case Op.ST_POST: case Op.LDP_POST: case Op.STP_POST:
                    mv.visitVarInsn(LLOAD, T0);
                    lconst(in.imm);
                    mv.visitInsn(LADD);
                    store(in.rn);
                    break;
                default:
                    break;
            }
        }

        /**
         * The block's final direct branch at {@code i} to pc + {@code offset}, conditional when {@code condition}
         * pushes an int. A destination that starts a block of the region is a jump inside the method while the
         * budget lasts (a block back to itself is a JVM loop); any other destination returns with the PC.
         */
        private void branch(int i, long offset, Runnable condition) {
            long at = offs[cur] + 4L * i;
            Label notTaken = new Label();
            if (condition != null) {
                condition.run();
                mv.visitJumpInsn(IFEQ, notTaken);
            }
            go(at + offset, i + 1);
            if (condition != null) {
                mv.visitLabel(notTaken);
                go(at + 4, i + 1);
            }
        }

        /** Continues at {@code target} (bytes from the entry) after {@code retired} instructions of this block. */
        private void go(long target, int retired) {
            int k = -1;
            for (int j = 0; j < offs.length; j++) {
                if (offs[j] == target) {
                    k = j;
                }
            }
            if (k < 0) {
                exit(() -> entryPlus(target), retired);
                return;
            }
            // count += retired; if (no attention is asked && count + length of the next block <= budget) jump there.
            // The attention flag is how a store to decoded code (or a TLB flush from another CPU) stops a region that
            // would otherwise run its old translation until the budget is spent.
            mv.visitIincInsn(L_COUNT, retired);
            Label leave = new Label();
            mv.visitVarInsn(ALOAD, L_CPU);
            mv.visitFieldInsn(GETFIELD, CPU, "attention", "I");
            mv.visitJumpInsn(IFNE, leave);
            mv.visitVarInsn(ILOAD, L_COUNT);
            iconst(bodies[k].length);
            mv.visitInsn(IADD);
            mv.visitVarInsn(ILOAD, L_BUDGET);
            if (k == 0) {
                // The entry block's base offset is 0: reset it before jumping back.
                mv.visitJumpInsn(IF_ICMPGT, leave);
                mv.visitInsn(LCONST_0);
                mv.visitVarInsn(LSTORE, L_BASE);
                mv.visitJumpInsn(GOTO, labels[0]);
            } else {
                mv.visitJumpInsn(IF_ICMPLE, labels[k]);
            }
            mv.visitLabel(leave);
            exit(() -> entryPlus(target), 0);
        }
    }
}
