package dev.jvmm.arm64;

import dev.jvmm.core.memory.GuestMemory;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * What the CPUs of one machine share: guest RAM, decoded code ({@link CodeCache}), the global exclusive monitor,
 * the system counter's epoch, and the board's handlers for hypervisor calls and fatal guest errors.
 *
 * <pre>{@code
 * Arm64System system = new Arm64System(memory, 4);
 * system.setHypervisorCall(psci);              // the board's PSCI/SMCCC handler
 * for (int i = 0; i < 4; i++) {
 *     Arm64Cpu cpu = system.cpu(i);            // a GuestProgram: give it to core's Vcpu i
 * }
 * }</pre>
 */
public final class Arm64System {
    private final GuestMemory memory;
    private final Arm64Cpu[] cpus;
    final CodeCache code;
    final ExclusiveMonitor monitor;
    private volatile HypervisorCall hypervisorCall = HypervisorCall.NOT_SUPPORTED;
    private volatile Consumer<FatalReport> fatalListener = r -> { };
    private volatile long counterEpochNanos = System.nanoTime();
    private volatile boolean smcUndefined;
    private volatile boolean compilerEnabled = !Boolean.getBoolean("jvmm.arm64.interpretOnly");

    public Arm64System(GuestMemory memory, int cpuCount) {
        if (cpuCount < 1 || cpuCount > 512) {
            throw new IllegalArgumentException("cpu count must be in 1..512, got " + cpuCount);
        }
        this.memory = Objects.requireNonNull(memory);
        this.code = new CodeCache(memory, this::codeInvalidated);
        this.cpus = new Arm64Cpu[cpuCount];
        this.monitor = new ExclusiveMonitor(cpus);
        for (int i = 0; i < cpuCount; i++) {
            cpus[i] = new Arm64Cpu(this, i);
        }
    }

    public GuestMemory memory() {
        return memory;
    }

    public int cpuCount() {
        return cpus.length;
    }

    public Arm64Cpu cpu(int index) {
        return cpus[index];
    }

    /** Installs the handler of HVC and SMC (PSCI, SMCCC); the default answers NOT_SUPPORTED (-1) in X0. */
    public void setHypervisorCall(HypervisorCall handler) {
        this.hypervisorCall = Objects.requireNonNull(handler);
    }

    /**
     * Makes SMC UNDEFINED at EL1 (as on QEMU's {@code virt} without EL3 when the PSCI conduit is HVC: ESR 0x02000000);
     * by default SMC goes to the {@link HypervisorCall} handler like HVC.
     */
    public void setSmcUndefined(boolean undefined) {
        this.smcUndefined = undefined;
    }

    boolean smcUndefined() {
        return smcUndefined;
    }

    HypervisorCall hypervisorCall() {
        return hypervisorCall;
    }

    /** Called once per CPU that hits a {@link FatalReport} (on that CPU's thread). */
    public void setFatalListener(Consumer<FatalReport> listener) {
        this.fatalListener = Objects.requireNonNull(listener);
    }

    void reportFatal(FatalReport report) {
        fatalListener.accept(report);
    }

    /** The {@code GuestCpu.counterNanos()} value at which CNTPCT_EL0 reads 0. */
    public long counterEpochNanos() {
        return counterEpochNanos;
    }

    /** Sets the counter's epoch (tests with a fake clock; a board at reset). */
    public void setCounterEpochNanos(long nanos) {
        this.counterEpochNanos = nanos;
    }

    /**
     * Drops all decoded code. For a host that writes guest code through {@link GuestMemory} directly (a loader, a
     * test): stores by the guest itself invalidate what they overwrite, host writes do not. Call while no CPU runs.
     */
    public void invalidateCode() {
        code.invalidateAll();
    }

    /** Blocks decoded so far (a racy count across vCPUs, for statistics): a block is decoded again after a drop. */
    public long blocksDecoded() {
        return code.blocksDecoded;
    }

    /**
     * Decoding and translation work begun so far on any vCPU: with {@link #codeWorkFinished()}, tells a measurement
     * when the CPUs did anything but execute code already decoded and translated (the only work of theirs that
     * allocates). Read {@code codeWorkFinished()} before and {@code codeWorkStarted()} after what is measured: equal
     * values mean no such work ran in between.
     */
    public long codeWorkStarted() {
        return code.workStarted.get();
    }

    /** Decoding and translation work finished so far on any vCPU (see {@link #codeWorkStarted()}). */
    public long codeWorkFinished() {
        return code.workFinished.get();
    }

    /** Drops of decoded code so far (a page by a store or IC IVAU, everything by IC IALLU), for statistics. */
    public long codeInvalidations() {
        return code.generation();
    }

    /** Whether hot blocks are translated to JVM bytecode (default; {@code -Djvmm.arm64.interpretOnly=true}: never). */
    public boolean compilerEnabled() {
        return compilerEnabled;
    }

    public void setCompilerEnabled(boolean on) {
        this.compilerEnabled = on;
    }

    /** TLBI ...IS: every other CPU drops its translations before it executes another block. */
    void broadcastTlbFlush(Arm64Cpu from) {
        for (Arm64Cpu c : cpus) {
            if (c != from) {
                c.requestTlbFlush();
            }
        }
        for (Arm64Cpu c : cpus) {
            if (c != from) {
                c.awaitTlbFlush(from);
            }
        }
    }

    private void codeInvalidated() {
        for (Arm64Cpu c : cpus) {
            if (c != null) {
                c.attention(Arm64Cpu.ATTENTION_CODE);
            }
        }
    }

    /** SEV: an event for every other CPU. */
    void sendEventToOthers(Arm64Cpu from) {
        for (Arm64Cpu c : cpus) {
            if (c != from) {
                c.sendEvent();
            }
        }
    }
}
