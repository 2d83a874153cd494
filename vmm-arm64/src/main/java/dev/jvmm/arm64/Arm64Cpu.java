package dev.jvmm.arm64;

import dev.jvmm.core.concurrent.VarHandles;
import dev.jvmm.core.irq.IrqLine;
import dev.jvmm.core.vcpu.GuestCpu;
import dev.jvmm.core.vcpu.GuestProgram;
import dev.jvmm.core.vcpu.VcpuExit;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

/**
 * One AArch64 processor (a Cortex-A57 r1p0 as the guest sees it: EL0 and EL1, the A64 base instruction set, stage 1
 * MMU, generic timer, GICv3 CPU interface through {@link GuestCpu}), to run on one of core's vCPU threads.
 *
 * <pre>
 *   run loop (this class)                        one door out for everything slow
 *   ┌──────────────────────────────────────┐
 *   │ every {@value #CHECK_INTERVAL} instructions:  GuestCpu.checkpoint(), timer lines
 *   │ IRQ unmasked and signalled? ─────────────────► take IRQ (vector + 0x80)
 *   │ block = jump cache[pc] or ──────────────────► Mmu.translateFetch → CodeCache (decode once)
 *   │ Interpreter.execute(block)
 *   │    loads/stores: Mmu fast path (TLB) ────────► slow path: walk, MMIO bus, alignment, code writes
 *   │    faults: GuestTrap ─────────────────────────► takeTrap: ESR/FAR/ELR/SPSR, vector
 *   │    SVC, HVC, MSR, SYS, WFI, ERET ... ─────────► {@link #system}
 *   └──────────────────────────────────────┘
 * </pre>
 *
 * <h2>Two ways to run</h2>
 * As a {@link GuestProgram} ({@link #run(GuestCpu)}) it runs until the VMM stops its vCPU, sleeping while powered
 * off (PSCI CPU_OFF, or a secondary CPU before CPU_ON) and after a {@link FatalReport}. For tests,
 * {@link #run(GuestCpu, RunOptions)} runs a bounded stretch and says why it stopped; the register accessors then
 * read and write the state (the tests' {@code BareMetal} fixture shows the whole round trip).
 *
 * <h2>Threads</h2>
 * Everything here runs on the CPU's own thread, except {@link #powerOn}, {@link #sendEvent} and the monitor and TLB
 * broadcasts, which other CPUs call. The register accessors may be used from another thread only while the CPU is
 * not running (before start, while paused, or between bounded runs).
 *
 * <h2>Never a Java exception for the guest</h2>
 * Whatever the guest does ends as an architectural exception in the guest, or (for an exception loop, or an internal
 * error of this CPU) as a {@link FatalReport}. Only {@link VcpuExit}, core's stop signal, leaves {@link #run}.
 */
public final class Arm64Cpu implements GuestProgram {
    /** Pause/stop requests and timer deadlines are checked at least this often (instructions plus blocks). */
    static final int CHECK_INTERVAL = 1024;
    /** An exception loop with no instruction retired in between ends in a {@link FatalReport}. */
    static final int EXCEPTION_LOOP_LIMIT = 64;
    private static final int JC_BITS = 12;
    private static final int JC_SIZE = 1 << JC_BITS;

    private final Arm64System system;
    final int index;
    final ArchState st = new ArchState();
    private final GuestTrap trap = new GuestTrap();
    // The jump cache: virtual PC to block, one half per exception level (as execute permission differs).
    private final Block[] jc = new Block[2 * JC_SIZE];
    private final long[] jcTag = new long[2 * JC_SIZE];
    final Mmu mmu;
    final Interpreter interpreter;
    final SysRegs sysregs;
    final GenericTimer timer;
    private final Runnable dropWriteTags;
    private long newPagePa;

    private GuestCpu io;
    private volatile Thread thread;
    private volatile Runnable waker = () -> { };

    // The pending synchronous exception (GuestTrap).
    private long trapEsr;
    private long trapFar;
    private boolean trapHasFar;

    // The local exclusive monitor.
    private long exclVa = -1;
    private long exclPa = -1;
    private int exclSize;
    private long exclLo;
    private long exclHi;
    private final long[] pairBuffer = new long[2];

    private long retired;
    /** Blocks entered (interpreted or translated), for statistics. */
    private long blocksEntered;
    private long blocksInterpreted;
    /** Translations this CPU made (hot blocks turned into classes), for statistics. */
    private long translations;
    private int exceptionsWithoutProgress;
    private RunOptions options;
    private StopReason stopReason;
    private volatile FatalReport fatal;

    // Power state (PSCI).
    private volatile boolean poweredOn = true;
    private volatile boolean powerOnRequested;
    private volatile long powerOnEntry;
    private volatile long powerOnContext;

    /**
     * Work other threads ask of this CPU at its next block boundary ({@link #ATTENTION_CODE},
     * {@link #ATTENTION_TLB}): one volatile read per block instead of one per kind of request.
     */
    volatile int attention;
    static final int ATTENTION_CODE = 1;
    static final int ATTENTION_TLB = 2;
    private static final VarHandle ATTENTION = VarHandles.field(MethodHandles.lookup(), "attention", int.class);

    /** Set by this CPU's own thread when the loop must look at power, fatal or stop state (plain: same thread). */
    private boolean exitCheck;

    // Broadcast TLB invalidation: requests from other CPUs, done at this CPU's next block boundary.
    private volatile long tlbFlushRequests;
    private volatile long tlbFlushDone;
    /** True while this CPU executes guest code (not in WFI, paused, powered off). */
    private volatile boolean executing;

    Arm64Cpu(Arm64System system, int index) {
        this.system = system;
        this.index = index;
        Arrays.fill(jcTag, -1L);
        this.mmu = new Mmu(this, st, system.memory(), system.code, system.monitor);
        this.interpreter = new Interpreter(this, st, mmu);
        this.sysregs = new SysRegs(this, st);
        this.timer = new GenericTimer(this);
        this.dropWriteTags = () -> mmu.dropWriteTags(newPagePa);
    }

    // ================================================================================================ public API

    /** This CPU's index in its {@link Arm64System} (also its vCPU index). */
    public int index() {
        return index;
    }

    public Arm64System system() {
        return system;
    }

    /** MPIDR_EL1 with QEMU {@code virt}'s layout: bit 31 set, Aff0 = index within a cluster of 16, Aff1 = cluster. */
    public long mpidr() {
        return 1L << 31 | (long) (index / 16) << 8 | index % 16;
    }

    /** X{@code n}, n in 0..30. */
    public long x(int n) {
        checkGpr(n);
        return st.x[n];
    }

    public void setX(int n, long value) {
        checkGpr(n);
        st.x[n] = value;
    }

    private static void checkGpr(int n) {
        if (n < 0 || n > 30) {
            throw new IllegalArgumentException("X" + n + " is not a general-purpose register (0..30)");
        }
    }

    /** The stack pointer in use (SP_EL0 or SP_EL1, by EL and SPSel). */
    public long sp() {
        return st.x[Insn.SP];
    }

    public void setSp(long value) {
        st.x[Insn.SP] = value;
    }

    public long spEl0() {
        return st.spEl0();
    }

    public void setSpEl0(long value) {
        st.setSpEl0(value);
    }

    public long spEl1() {
        return st.spEl1();
    }

    public void setSpEl1(long value) {
        st.setSpEl1(value);
    }

    public long pc() {
        return st.pc;
    }

    public void setPc(long pc) {
        st.pc = pc;
    }

    /** NZCV in the NZCV register's layout: N bit 31, Z 30, C 29, V 28. */
    public int nzcv() {
        return st.nzcv();
    }

    public void setNzcv(int nzcv) {
        st.setNzcv(nzcv & 0xF000_0000L);
    }

    /** PSTATE.EL (0 or 1). */
    public int el() {
        return st.el;
    }

    /** PSTATE.SP (0: SP_EL0, 1: SP_ELx at EL1). */
    public int spSel() {
        return st.spsel;
    }

    /** Sets PSTATE.EL and PSTATE.SP (SP_EL0 at EL0 whatever {@code spSel} says). */
    public void setElAndSpSel(int el, int spSel) {
        if (el < 0 || el > 1 || spSel < 0 || spSel > 1) {
            throw new IllegalArgumentException("EL must be 0 or 1 and SPSel 0 or 1");
        }
        st.setElAndSpSel(el, el == 0 ? 0 : spSel);
    }

    /** PSTATE.{D,A,I,F} in the DAIF register's layout (D bit 9, A 8, I 7, F 6). */
    public int daif() {
        return st.daif;
    }

    public void setDaif(int daif) {
        st.daif = daif & ArchState.DAIF_MASK;
    }

    /** PSTATE as SPSR_EL1 would save it (NZCV, SS, IL, DAIF, M[3:0]). */
    public long pstate() {
        return st.pstateAsSpsr();
    }

    /**
     * The system register with this encoding, as MRS at EL1 reads it (GIC CPU-interface registers go to the
     * interrupt controller, so reading ICC_IAR1_EL1 acknowledges). Only between runs, on the CPU's thread.
     *
     * @throws IllegalArgumentException when this CPU has no such register, or it cannot be read
     */
    public long readSystemRegister(int op0, int op1, int crn, int crm, int op2) {
        SysReg r = SysReg.byKey(Decoder.sysKey(op0, op1, crn, crm, op2));
        if (r == null) {
            throw new IllegalArgumentException("no system register S" + op0 + "_" + op1 + "_C" + crn + "_C" + crm
                    + "_" + op2 + " here");
        }
        return readSystemRegister(r.name());
    }

    /** As {@link #readSystemRegister(int, int, int, int, int)}, by the Arm ARM name ("SCTLR_EL1"). */
    public long readSystemRegister(String name) {
        SysReg r = SysReg.byName(name);
        if (r == null || !r.r1) {
            throw new IllegalArgumentException("no readable system register " + name + " here");
        }
        int el = st.el;
        st.el = 1;
        try {
            return sysregs.read(r);
        } finally {
            st.el = el;
        }
    }

    /** The system register with this encoding, written as MSR at EL1 writes it (with its side effects). */
    public void writeSystemRegister(int op0, int op1, int crn, int crm, int op2, long value) {
        SysReg r = SysReg.byKey(Decoder.sysKey(op0, op1, crn, crm, op2));
        if (r == null) {
            throw new IllegalArgumentException("no system register S" + op0 + "_" + op1 + "_C" + crn + "_C" + crm
                    + "_" + op2 + " here");
        }
        writeSystemRegister(r.name(), value);
    }

    public void writeSystemRegister(String name, long value) {
        SysReg r = SysReg.byName(name);
        if (r == null || !r.w1) {
            throw new IllegalArgumentException("no writable system register " + name + " here");
        }
        if (r == SysReg.SP_EL0) {
            st.setSpEl0(value);
            return;
        }
        sysregs.write(r, value);
    }

    /** Instructions retired since this CPU was created. */
    public long instructionsRetired() {
        return retired;
    }

    /** Blocks this CPU entered (a translated self-loop counts once per entry), for statistics. */
    public long blocksEntered() {
        return blocksEntered;
    }

    /** Of {@link #blocksEntered()}, those the interpreter ran. */
    public long blocksInterpreted() {
        return blocksInterpreted;
    }

    /** Translations ({@link BlockCompiler}) this CPU made, for statistics: each one is a new class for the JIT. */
    public long translations() {
        return translations;
    }

    /** The fatal report, once the guest did something no vector can handle; null before. */
    public FatalReport fatal() {
        return fatal;
    }

    // ------------------------------------------------------------------------------------------------ board hooks

    /**
     * Architectural reset (Arm ARM D1.9 "Reset"), then the boot state QEMU's loader gives the primary CPU: EL1 with
     * SP_EL1, DAIF masked, MMU and caches off, PC = {@code pc}, X0..X3 as given, other registers 0. Powers the CPU on.
     * Call before the vCPU starts, or on its own thread.
     */
    public void setBootState(long pc, long x0, long x1, long x2, long x3) {
        reset();
        st.pc = pc;
        st.x[0] = x0;
        st.x[1] = x1;
        st.x[2] = x2;
        st.x[3] = x3;
        poweredOn = true;
    }

    /** Resets architectural state: registers 0, EL1h, DAIF masked, system registers to their reset values. */
    public void reset() {
        Arrays.fill(st.x, 0);
        st.spEl0 = 0;
        st.spEl1 = 0;
        st.el = 1;
        st.spsel = 1;
        st.daif = ArchState.DAIF_MASK;
        st.il = false;
        st.ss = false;
        st.setNzcv(0);
        st.event = false;
        for (SysReg r : SysReg.values()) {
            if (r.kind == SysReg.Kind.STORED) {
                st.set(r, r.value);
            }
        }
        sysregs.reset();
        clearExclusive();
        mmu.flush();
        if (io != null) {
            timer.reset();
        } else {
            timer.physCtl = 0;
            timer.virtCtl = 0;
        }
        fatal = null;
        exceptionsWithoutProgress = 0;
    }

    /** A secondary CPU: stays off until {@link #powerOn} (PSCI CPU_ON). Call before the vCPU starts. */
    public void startPoweredOff() {
        poweredOn = false;
        powerOnRequested = false;
    }

    public boolean isPoweredOn() {
        return poweredOn;
    }

    /** Whether a {@link #powerOn} is requested and not yet taken up (PSCI AFFINITY_INFO's ON_PENDING). */
    public boolean isPowerOnPending() {
        return powerOnRequested;
    }

    /**
     * PSCI CPU_ON, from any thread: the CPU leaves the powered-off state at {@code entry} in EL1h with the MMU off,
     * DAIF masked and X0 = {@code contextId} (PSCI 1.0, section 6.4 "CPU_ON"). Returns false when it is on already.
     */
    public boolean powerOn(long entry, long contextId) {
        if (poweredOn || powerOnRequested) {
            return false;
        }
        powerOnEntry = entry;
        powerOnContext = contextId;
        powerOnRequested = true;
        wake();
        return true;
    }

    /** PSCI CPU_OFF, from the hypervisor-call handler on this CPU's thread: it stops after the call returns. */
    public void powerOff() {
        poweredOn = false;
        exitCheck = true;
    }

    /**
     * WFI on behalf of the board's {@link HypervisorCall} handler (PSCI CPU_SUSPEND, which QEMU and this board implement
     * as a WFI): sleeps as the WFI instruction does, until an interrupt is signalled or this CPU's earliest timer
     * deadline, or returns spuriously, as WFI may. Only on this CPU's own thread, from inside the handler.
     *
     * @throws IllegalStateException on another thread
     */
    public void waitForInterruptInCall() {
        if (Thread.currentThread() != thread || io == null) {
            throw new IllegalStateException("CPU " + index + ": a hypervisor call's WFI runs on the CPU's own thread");
        }
        waitForInterrupt();
    }

    /** What wakes this CPU's vCPU from WFI (the board passes {@code vcpu::kick}): used by SEV, CPU_ON, monitors. */
    public void setWaker(Runnable waker) {
        this.waker = waker == null ? () -> { } : waker;
    }

    private void wake() {
        waker.run();
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** An event for WFE (SEV from another CPU, a cleared exclusive reservation). Any thread. */
    void sendEvent() {
        st.event = true;
        wake();
    }

    // ================================================================================================ running

    /** The vCPU's life: runs, sleeps while off, until core stops the vCPU ({@link VcpuExit}). */
    @Override
    public void run(GuestCpu cpu) {
        attach(cpu);
        while (true) {
            if (fatal != null) {
                executing = false;
                io.checkpoint();
                LockSupport.parkNanos(this, 50_000_000L);
                continue;
            }
            if (!poweredOn) {
                waitForPowerOn();
                continue;
            }
            loop(null);
        }
    }

    /**
     * Runs until a stop condition of {@code options}, a power-off or a fatal error; for tests and tools. Uses
     * {@code cpu} for memory-mapped I/O, GIC registers, WFI and the counter.
     */
    public Stop run(GuestCpu cpu, RunOptions options) {
        attach(cpu);
        long before = retired;
        if (fatal != null) {
            return new Stop(StopReason.FATAL, st.pc, 0);
        }
        if (!poweredOn) {
            if (!powerOnRequested) {
                return new Stop(StopReason.POWERED_OFF, st.pc, 0);
            }
            takePowerOn();
        }
        this.options = options;
        try {
            StopReason r = loop(options);
            return new Stop(r, st.pc, retired - before);
        } finally {
            this.options = null;
            executing = false;
        }
    }

    private void attach(GuestCpu cpu) {
        if (io != cpu) {
            io = cpu;
            timer.attach(line(cpu, GenericTimer.PHYSICAL_PPI), line(cpu, GenericTimer.VIRTUAL_PPI));
        }
        thread = Thread.currentThread();
    }

    private static IrqLine line(GuestCpu cpu, int intid) {
        try {
            return cpu.ppiLine(intid);
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            // An interrupt controller without wired lines (a test's): the timer still runs, ISTATUS still reads.
            return null;
        }
    }

    GuestCpu io() {
        return io;
    }

    private void waitForPowerOn() {
        executing = false;
        while (!powerOnRequested) {
            io.checkpoint();
            LockSupport.parkNanos(this, 50_000_000L);
        }
        takePowerOn();
    }

    private void takePowerOn() {
        long entry = powerOnEntry;
        long context = powerOnContext;
        reset();
        st.pc = entry;
        st.x[0] = context;
        poweredOn = true;
        powerOnRequested = false;
    }

    /** The execution loop. Returns when a stop condition holds; {@code options} null: only power-off and fatal. */
    private StopReason loop(RunOptions opt) {
        final long limit = opt == null || opt.maxInstructions() > Long.MAX_VALUE - retired ? Long.MAX_VALUE
                : retired + opt.maxInstructions();
        final long stopAt = opt == null ? RunOptions.NO_ADDRESS : opt.stopAt();
        stopReason = null;
        exitCheck = true;
        executing = true;
        long ticks = 0;
        long nextCheck = 0;
        try {
            while (true) {
                if (ticks >= nextCheck) {
                    nextCheck = ticks + CHECK_INTERVAL;
                    executing = false;
                    io.checkpoint();
                    executing = true;
                    timer.update();
                    exitCheck = true;
                }
                if (attention != 0) {
                    int work = (int) ATTENTION.getAndSet(this, 0);
                    if ((work & ATTENTION_TLB) != 0) {
                        long req = tlbFlushRequests;
                        mmu.flush();
                        tlbFlushDone = req;
                    }
                    if ((work & ATTENTION_CODE) != 0) {
                        Arrays.fill(jcTag, -1L);
                    }
                }
                if (exitCheck) {
                    exitCheck = false;
                    if (stopReason != null) {
                        return stopReason;
                    }
                    if (!poweredOn) {
                        return StopReason.POWERED_OFF;
                    }
                    if (fatal != null) {
                        return StopReason.FATAL;
                    }
                }
                if (retired >= limit) {
                    return StopReason.INSTRUCTION_LIMIT;
                }
                if ((st.daif & ArchState.DAIF_I) == 0 && io.interruptSignalled()) {
                    takeException(0, 0, false, st.pc, 0x80);
                    ticks++;
                    continue;
                }
                long pc = st.pc;
                if (pc == stopAt && stopAt != RunOptions.NO_ADDRESS) {
                    return StopReason.ADDRESS;
                }
                if (st.il) {
                    takeException(Syndrome.esr(Syndrome.EC_ILLEGAL_STATE, 0), 0, false, pc, 0);
                    ticks++;
                    continue;
                }
                Block b;
                try {
                    b = lookup(pc);
                } catch (GuestTrap t) {
                    takeTrap(pc);
                    ticks++;
                    continue;
                }
                long room = limit - retired;
                int n;
                BlockCompiler.Compiled c = b.compiled;
                if (c == null && ++b.hits >= BlockCompiler.THRESHOLD && system.compilerEnabled()) {
                    translate(b);
                    c = b.compiled;
                }
                if (c != null && c != Block.UNTRANSLATABLE && stopAt == RunOptions.NO_ADDRESS
                        && room >= b.length()) {
                    n = c.run(this, pc, room < CHECK_INTERVAL ? (int) room : CHECK_INTERVAL);
                    blocksEntered++;
                } else {
                    if (stopAt != RunOptions.NO_ADDRESS && stopAt - pc > 0 && stopAt - pc < 4L * b.length()) {
                        room = Math.min(room, (stopAt - pc) >>> 2);
                    }
                    n = interpreter.execute(b, pc, room < b.length() ? (int) room : b.length());
                    blocksEntered++;
                    blocksInterpreted++;
                }
                retired += n;
                ticks += n + 1;
                if (n > 0) {
                    exceptionsWithoutProgress = 0;
                }
            }
        } catch (VcpuExit e) {
            executing = false;   // a CPU waiting for this one's TLB flush must not wait for a stopped thread
            throw e;
        } catch (RuntimeException | StackOverflowError e) {
            // A bug of this CPU, never the guest's doing: report it as fatal rather than killing the vCPU thread.
            fatal("internal error: " + e, st.pc);
            return StopReason.FATAL;
        }
    }

    private void translate(Block b) {
        translations++;
        BlockCompiler.Compiled c;
        system.code.workStarted.incrementAndGet();
        try {
            c = BlockCompiler.compile(b, system.code);
        } catch (RuntimeException | LinkageError e) {
            // A translation the JVM refuses is a performance loss, never the guest's problem: interpret the block.
            c = null;
        } finally {
            system.code.workFinished.incrementAndGet();
        }
        b.compiled = c == null ? Block.UNTRANSLATABLE : c;
    }

    private Block lookup(long pc) {
        // Alignment first: an empty jump-cache slot's tag (-1) is a PC a guest can branch to.
        if ((pc & 3) != 0) {
            throw raise(Syndrome.EC_PC_ALIGN, 0, pc);
        }
        int el = st.el;
        int h = el << JC_BITS | (int) (pc >>> 2) & (JC_SIZE - 1);
        if (jcTag[h] == pc) {
            return jc[h];
        }
        long pa = mmu.translateFetch(pc, el);
        newPagePa = pa;
        Block b = system.code.block(pa, dropWriteTags);
        jc[h] = b;
        jcTag[h] = pc;
        return b;
    }

    /** The TLB was flushed: the jump cache caches translations too. */
    void onTranslationFlush() {
        Arrays.fill(jcTag, -1L);
    }

    // ================================================================================================ exceptions

    /** Records a synchronous exception with a fault address; the caller throws the result. */
    GuestTrap raise(int ec, long iss, long far) {
        trapEsr = Syndrome.esr(ec, iss);
        trapFar = far;
        trapHasFar = true;
        return trap;
    }

    GuestTrap raiseNoFar(int ec, long iss) {
        trapEsr = Syndrome.esr(ec, iss);
        trapHasFar = false;
        return trap;
    }

    /** Takes the recorded synchronous exception for the instruction at {@code pc}. */
    void takeTrap(long pc) {
        takeException(trapEsr, trapFar, trapHasFar, pc, 0);
    }

    /**
     * Exception entry to EL1 (Arm ARM D1.10.2 "Exception entry", AArch64.TakeException): SPSR_EL1 and ELR_EL1 saved,
     * ESR_EL1 (synchronous only) and FAR_EL1 written, EL1 with SP_EL1, DAIF all masked, PC at VBAR_EL1 + the vector
     * for where it came from (current EL with SP_EL0: 0x000, current EL with SP_ELx: 0x200, lower EL: 0x400) plus
     * {@code offset} (0 synchronous, 0x80 IRQ).
     */
    void takeException(long esr, long far, boolean hasFar, long returnPc, int offset) {
        int base = st.el == 0 ? 0x400 : st.spsel == 0 ? 0 : 0x200;
        st.set(SysReg.SPSR_EL1, st.pstateAsSpsr());
        st.set(SysReg.ELR_EL1, returnPc);
        if (offset == 0) {
            st.set(SysReg.ESR_EL1, esr);
        }
        if (hasFar) {
            st.set(SysReg.FAR_EL1, far);
        }
        st.setElAndSpSel(1, 1);
        st.daif = ArchState.DAIF_MASK;
        st.il = false;
        st.ss = false;
        st.pc = (st.get(SysReg.VBAR_EL1) & ~0x7FFL) + base + offset;
        if (options != null && options.stopOnException()) {
            stopReason = StopReason.EXCEPTION;
            exitCheck = true;
        }
        if (++exceptionsWithoutProgress > EXCEPTION_LOOP_LIMIT) {
            fatal("every exception faults again before its handler runs (VBAR_EL1 0x"
                    + Long.toHexString(st.get(SysReg.VBAR_EL1)) + ")", returnPc);
        }
    }

    private void fatal(String message, long pc) {
        if (fatal == null) {
            FatalReport r = new FatalReport(index, pc, st.get(SysReg.ESR_EL1), st.get(SysReg.FAR_EL1), message);
            fatal = r;
            exitCheck = true;
            try {
                system.reportFatal(r);
            } catch (RuntimeException e) {
                // The board's listener failing must not take the vCPU down.
            }
        }
    }

    void checkSpAlignment(long sp) {
        long sctlr = st.get(SysReg.SCTLR_EL1);
        long bit = st.el == 0 ? SysRegs.SCTLR_SA0 : SysRegs.SCTLR_SA;
        if ((sctlr & bit) != 0 && (sp & 15) != 0) {
            throw raiseNoFar(Syndrome.EC_SP_ALIGN, 0);
        }
    }

    /** Exclusives and acquire/release must be naturally aligned whatever SCTLR_EL1.A says (Arm ARM B2.5.2). */
    void checkAligned(long va, int size, boolean write) {
        if ((va & (size - 1)) != 0) {
            throw mmu.abort(va, write ? Mmu.WRITE : Mmu.READ, Syndrome.FSC_ALIGNMENT, false);
        }
    }

    // ================================================================================================ system

    /**
     * An instruction that leaves the block through the CPU (see {@link Op#endsBlock}). {@code st.pc} is the
     * instruction's address on entry; on return it is the next PC. Returns whether the instruction retired (false
     * when it took an exception, or when a bounded run stops in front of it).
     */
    boolean system(Insn in, long pc) {
        switch (in.op) {
            case Op.UNDEF:
                return undefined(pc);
            case Op.SVC:
                takeException(Syndrome.esr(Syndrome.EC_SVC, in.imm), 0, false, pc + 4, 0);
                return true;
            case Op.HVC:
            case Op.SMC:
                if (st.el == 0 || in.op == Op.SMC && system.smcUndefined()) {
                    return undefined(pc);
                }
                st.pc = pc + 4;
                system.hypervisorCall().call(this, in.op == Op.HVC ? HypervisorCall.Conduit.HVC
                        : HypervisorCall.Conduit.SMC, (int) in.imm);
                return true;
            case Op.BRK:
                if (options != null && options.stopsAt((int) in.imm)) {
                    stopReason = StopReason.BREAKPOINT;
                    exitCheck = true;
                    return false;
                }
                takeException(Syndrome.esr(Syndrome.EC_BRK, in.imm), 0, false, pc, 0);
                return false;
            case Op.HINT:
                return hint(in, pc);
            case Op.ISB:
                return retire(pc);
            case Op.MSR_IMM:
                sysregs.msrImmediate(in);
                return retire(pc);
            case Op.MSR:
                sysregs.msr(in, st.x[in.rd]);
                return retire(pc);
            case Op.MRS: {
                long v = sysregs.mrs(in);
                st.x[in.rd] = v;
                return retire(pc);
            }
            case Op.SYS:
                sysregs.sys(in, st.x[in.rd]);
                return retire(pc);
            case Op.ERET:
                if (st.el == 0) {
                    return undefined(pc);
                }
                exceptionReturn();
                return true;
            default:
                throw new IllegalStateException("not a system op: " + in);
        }
    }

    /** The instruction at {@code pc} is UNDEFINED: takes the exception; returns false (it did not retire). */
    private boolean undefined(long pc) {
        takeException(Syndrome.esr(Syndrome.EC_UNKNOWN, 0), 0, false, pc, 0);
        return false;
    }

    /** The instruction at {@code pc} retired: the next PC is pc + 4; returns true. */
    private boolean retire(long pc) {
        st.pc = pc + 4;
        return true;
    }

    /**
     * ERET (Arm ARM D1.11 "Exception return", AArch64.ExceptionReturn): PSTATE from SPSR_EL1, PC from ELR_EL1. A
     * return to AArch32, to an EL above 1, with M[1] set, or to EL0 with M[0] set is an illegal exception return:
     * PSTATE.IL is set and EL and SP stay (the next instruction then takes an Illegal Execution State exception).
     * Clears the local exclusive monitor, as QEMU does.
     */
    private void exceptionReturn() {
        long spsr = st.get(SysReg.SPSR_EL1);
        long elr = st.get(SysReg.ELR_EL1);
        clearExclusive();
        int m = (int) spsr & 0x1F;
        int newEl = m >>> 2 & 3;
        boolean illegal = (m & 0x10) != 0 || newEl > 1 || (m & 2) != 0 || newEl == 0 && (m & 1) != 0;
        st.setNzcv(spsr);
        st.daif = (int) spsr & ArchState.DAIF_MASK;
        st.ss = (spsr >>> 21 & 1) != 0;
        if (illegal) {
            st.il = true;
        } else {
            st.il = (spsr >>> 20 & 1) != 0;
            st.setElAndSpSel(newEl, m & 1);
        }
        st.pc = elr;
    }

    private boolean hint(Insn in, long pc) {
        int hint = (int) in.imm;
        long sctlr = st.get(SysReg.SCTLR_EL1);
        switch (hint) {
            case 2: // WFE
                if (st.el == 0 && (sctlr & SysRegs.SCTLR_NTWE) == 0) {
                    takeException(Syndrome.esr(Syndrome.EC_WFX, Syndrome.WFX_CV_AL | 1), 0, false, pc, 0);
                    return false;
                }
                st.pc = pc + 4;
                waitForEvent();
                return true;
            case 3: // WFI
                if (st.el == 0 && (sctlr & SysRegs.SCTLR_NTWI) == 0) {
                    takeException(Syndrome.esr(Syndrome.EC_WFX, Syndrome.WFX_CV_AL), 0, false, pc, 0);
                    return false;
                }
                st.pc = pc + 4;
                if (options != null && options.stopOnWfi()) {
                    stopReason = StopReason.WFI;
                    exitCheck = true;
                    return true;
                }
                waitForInterrupt();
                return true;
            case 4: // SEV
                system.sendEventToOthers(this);
                break;
            case 5: // SEVL
                st.event = true;
                break;
            default: // NOP, YIELD and unallocated hints decode as Op.NOP and never come here
                break;
        }
        return retire(pc);
    }

    /** WFI: sleeps in core's vCPU until an interrupt is signalled or the earliest timer deadline, never spinning. */
    private void waitForInterrupt() {
        timer.update();
        if (io.interruptSignalled()) {
            return;
        }
        long deadline = timer.nextDeadlineNanos();
        executing = false;
        try {
            if (deadline == Long.MAX_VALUE) {
                io.waitForInterrupt();
            } else {
                io.waitForInterrupt(deadline);
            }
        } finally {
            executing = true;
        }
        timer.update();
    }

    /**
     * WFE (Arm ARM D1.16.2): returns at once, clearing it, when the event register is set; otherwise sleeps until
     * an event (SEV, a cleared reservation: both kick this vCPU), an interrupt, a timer deadline or the event stream
     * (CNTKCTL_EL1.EVNTEN). Returning early is always allowed: software loops around WFE. A wait is bounded by 1 ms
     * in case an event lands between the check and the sleep (core's WFI clears its kick flag on entry).
     */
    private void waitForEvent() {
        if (st.event) {
            st.event = false;
            return;
        }
        timer.update();
        if (io.interruptSignalled()) {
            // Pending (possibly masked) interrupt: core's WFI would return at once; return without sleeping.
            return;
        }
        long now = io.counterNanos();
        long deadline = Math.min(timer.nextDeadlineNanos(), now + 1_000_000L);
        deadline = Math.min(deadline, eventStreamDeadline());
        executing = false;
        try {
            if (!st.event) {
                io.waitForInterrupt(deadline);
            }
        } finally {
            executing = true;
        }
        st.event = false;
        timer.update();
    }

    /** When the event stream generates its next event, in host nanoseconds (Long.MAX_VALUE when disabled). */
    private long eventStreamDeadline() {
        long kctl = st.get(SysReg.CNTKCTL_EL1);
        if ((kctl & 4) == 0) {
            return Long.MAX_VALUE;
        }
        int bit = (int) (kctl >>> 4) & 15;
        boolean highToLow = (kctl & 8) != 0;
        long c = timer.counter();
        long m = (c >>> bit) + 1;
        if (((m & 1) == 0) != highToLow) {
            m++;
        }
        long ticks = (m << bit) - c;
        return io.counterNanos() + ticks * GenericTimer.NANOS_PER_TICK;
    }

    /** DSB: completes outstanding TLB maintenance (already synchronous here). */
    void dataSynchronizationBarrier() {
        // TLBI ...IS waits for the other CPUs itself (Arm64System.broadcastTlbFlush); nothing is outstanding.
    }

    // ------------------------------------------------------------------------------------------------ exclusives

    void clearExclusive() {
        exclVa = -1;
        exclPa = -1;
        system.monitor.clear(index);
    }

    /** LDXR, LDAXR, LDXP, LDAXP (Arm ARM C6.2): load, and mark the granule in the local and global monitors. */
    void loadExclusive(Insn in, long va) {
        boolean pair = in.op == Op.LDXP;
        int size = pair ? 2 << in.size : 1 << in.size;
        checkAligned(va, size, false);
        long pa = mmu.translateData(va, Mmu.READ, st.el, Math.min(size, 8));
        long lo;
        long hi = 0;
        boolean ram = mmu.isRam(pa, size);
        if (size == 16) {
            if (ram) {
                system.monitor.loadPair(system.memory(), pa, pairBuffer);
                lo = pairBuffer[0];
                hi = pairBuffer[1];
            } else {
                lo = io.mmioRead(pa, 8);
                hi = io.mmioRead(pa + 8, 8);
            }
        } else {
            lo = ram ? system.memory().read(pa, size) : io.mmioRead(pa, size);
        }
        if (ram) {
            exclVa = va;
            exclPa = pa;
            exclSize = size;
            exclLo = lo;
            exclHi = hi;
            system.monitor.mark(index, pa);
        } else {
            clearExclusive();
        }
        if (!pair) {
            st.x[in.rd] = lo;
        } else if (size == 8) {
            st.x[in.rd] = lo & 0xFFFF_FFFFL;
            st.x[in.ra] = lo >>> 32;
        } else {
            st.x[in.rd] = lo;
            st.x[in.ra] = hi;
        }
    }

    /**
     * STXR, STLXR, STXP, STLXP: stores only if this CPU's monitors still hold the address (same address and size as
     * the LDXR, as QEMU requires), then writes the status (0 success, 1 failure) to Ws. A failing STXR makes no
     * access; one whose monitors match may fault (the translation is checked first).
     */
    void storeExclusive(Insn in, long va) {
        boolean pair = in.op == Op.STXP;
        int size = pair ? 2 << in.size : 1 << in.size;
        checkAligned(va, size, true);
        boolean ok = false;
        if (va == exclVa && size == exclSize) {
            long pa = mmu.translateData(va, Mmu.WRITE, st.el, Math.min(size, 8));
            if (pa == exclPa) {
                long lo;
                if (!pair) {
                    lo = st.x[in.rd];
                } else if (size == 8) {
                    lo = st.x[in.rd] & 0xFFFF_FFFFL | st.x[in.ra] << 32;
                } else {
                    lo = st.x[in.rd];
                }
                if (size == 16) {
                    ok = system.monitor.storeExclusivePair(system.memory(), index, pa, exclLo, exclHi, lo,
                            st.x[in.ra]);
                } else {
                    ok = system.monitor.storeExclusive(system.memory(), index, pa, size, exclLo, lo);
                }
                if (ok) {
                    system.code.onStore(pa, size);
                }
            }
        }
        clearExclusive();
        st.x[in.rm] = ok ? 0 : 1;
    }

    /**
     * DC ZVA: zeroes the 64-byte block holding {@code va} (DCZID_EL0.BS = 4) with write permission. On Device memory
     * the Arm ARM says the instruction "can give an alignment fault" (C5.3.9 "DC ZVA"); like QEMU it zeroes the block
     * instead, so a guest that zeroes with the MMU off behaves the same on both. A fault reports {@code va} itself.
     */
    void zeroBlock(long va) {
        long base = va & -64L;
        if (!mmu.walk(base, Mmu.WRITE, st.el)) {
            throw mmu.abort(va, Mmu.WRITE, mmu.lastFault(), false);
        }
        long pa = mmu.lastPa();
        if (mmu.isRam(pa, 64)) {
            if (system.monitor.armed()) {
                system.monitor.onStore(index, pa, 64);
            }
            system.memory().fill(pa, 64, (byte) 0);
            system.code.onStore(pa, 64);
            return;
        }
        for (int k = 0; k < 64; k += 8) {
            io.mmioWrite(pa + k, 8, 0);
        }
    }

    // ------------------------------------------------------------------------------------------------ broadcasts

    void requestTlbFlush() {
        synchronized (this) {
            tlbFlushRequests++;
        }
        attention(ATTENTION_TLB);
    }

    void attention(int bits) {
        ATTENTION.getAndBitwiseOr(this, bits);
    }

    /**
     * Waits (spinning, bounded by the other CPU's current block) until this CPU has applied the flushes requested
     * so far, unless it is not executing guest code (it flushes before it executes again). The waiting CPU keeps
     * applying flushes requested of itself, so two CPUs flushing each other cannot deadlock.
     */
    void awaitTlbFlush(Arm64Cpu waiter) {
        long target = tlbFlushRequests;
        long spins = 0;
        while (executing && tlbFlushDone < target && Thread.currentThread() != thread) {
            if (waiter.tlbFlushRequests != waiter.tlbFlushDone) {
                long req = waiter.tlbFlushRequests;
                waiter.mmu.flush();
                waiter.tlbFlushDone = req;
            }
            if (++spins > 1000) {
                Thread.yield();
                if (spins % 1024 == 0 && waiter.io != null) {
                    // Let a pause or stop reach the waiting vCPU (the other one may be paused inside an MMIO exit).
                    waiter.io.checkpoint();
                }
            } else {
                Thread.onSpinWait();
            }
        }
    }
}
