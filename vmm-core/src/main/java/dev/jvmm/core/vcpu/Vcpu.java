package dev.jvmm.core.vcpu;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.core.irq.InterruptController;
import dev.jvmm.core.memory.GuestMemory;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * A virtual CPU: one thread that runs a {@link GuestProgram}, whose every trapped operation (MMIO, system
 * register, WFI) is an exit where the VMM's requests (pause, stop) take effect.
 *
 * <h2>WFI and halt polling</h2>
 * WFI returns at once when the interrupt controller has an interrupt for this vCPU. Otherwise the vCPU spins for up
 * to {@code haltPollNanos} (KVM's {@code halt_poll_ns}: a wake-up that arrives within the window costs no sleep
 * and no wake-up latency), then parks until {@link #kick()}ed.
 *
 * <p>Adaptive halt polling follows KVM's {@code kvm_vcpu_halt}: each vCPU keeps its own window, starting at zero.
 * A WFI that slept but was woken within the maximum window grows it (doubling, from 10 us), since polling would
 * have caught that wake-up; a WFI that slept longer than the maximum shrinks it to zero, since polling would only
 * have burnt a core that another thread (a NIC's event loop, another vCPU) needed. A vCPU that is woken often
 * polls; an idle one sleeps at once.
 *
 * <p>A yielding poll ({@link HaltPolling#yielding()}) gives the CPU away on every round when another thread wants
 * it, as KVM stops polling when another task is runnable: on a machine with fewer cores than busy threads the poll
 * then costs the others almost nothing, and the vCPU, still awake, is woken by a volatile store.
 *
 * <h2>Kicks</h2>
 * {@link #kick()} is what an interrupt controller calls after making an interrupt pending for this vCPU. It is a
 * volatile store and a volatile load when the vCPU is running; only a halted vCPU costs an unpark. The
 * kick flag and the state form a Dekker pair: the vCPU publishes HALTED before its last look at the flag and the
 * controller's pending state, the kicker publishes the flag before its look at the state, so one of them always
 * sees the other and no wake-up is lost.
 */
public final class Vcpu {

    /**
     * A parked vCPU re-checks its wake-up conditions at least this often: a guard, not a mechanism (every wake-up is
     * an unpark, see Kicks). Once a second rather than ten times: an idle guest's vCPU should cost nothing while it
     * sleeps, and each needless wake-up is two system calls.
     */
    private static final long MAX_PARK_NANOS = 1_000_000_000L;

    private final int index;
    private final int vcpuCount;
    private final GuestMemory memory;
    private final MmioBus bus;
    private final InterruptController interruptController;
    /** The configured window: fixed, or the adaptive window's upper bound. */
    private final long haltPollNanos;
    private final boolean adaptive;
    /** Each round of the poll yields the CPU to other runnable threads (see {@link HaltPolling#yielding()}). */
    private final boolean yielding;
    /** The window in use (KVM's vcpu->halt_poll_ns); only the vCPU thread writes it. */
    private volatile long pollNanos;
    static final long GROW_START_NANOS = 10_000;
    private final GuestProgram program;
    private final Thread thread;
    private final Cpu cpu = new Cpu();

    private volatile VcpuState state = VcpuState.CREATED;
    private volatile boolean kickPending;
    private volatile boolean pauseRequested;
    private volatile boolean stopRequested;
    private volatile Throwable fault;

    // Statistics: written only by the vCPU thread (single writer), read by anyone.
    private volatile long mmioExits;
    private volatile long sysregExits;
    private volatile long wfiExits;
    private volatile long wfiImmediate;
    private volatile long haltPollSuccesses;
    private volatile long halts;
    private volatile long parkedNanos;

    /**
     * @param haltPollNanos how long WFI spins before parking (0: park at once)
     */
    public Vcpu(int index, int vcpuCount, GuestMemory memory, MmioBus bus, InterruptController interruptController,
                long haltPollNanos, GuestProgram program, String machineName) {
        this(index, vcpuCount, memory, bus, interruptController, HaltPolling.spinning(haltPollNanos), program,
                machineName);
    }

    /**
     * @param haltPolling how WFI waits before it parks (see the class documentation)
     */
    public Vcpu(int index, int vcpuCount, GuestMemory memory, MmioBus bus, InterruptController interruptController,
                HaltPolling haltPolling, GuestProgram program, String machineName) {
        if (index < 0 || index >= vcpuCount) {
            throw new IllegalArgumentException("vCPU index " + index + " outside 0.." + (vcpuCount - 1));
        }
        this.index = index;
        this.vcpuCount = vcpuCount;
        this.memory = memory;
        this.bus = bus;
        this.interruptController = interruptController;
        this.haltPollNanos = haltPolling.windowNanos();
        this.adaptive = haltPolling.adaptive();
        this.yielding = haltPolling.yielding();
        this.pollNanos = adaptive ? 0 : this.haltPollNanos;
        this.program = program;
        this.thread = new Thread(this::runThread, machineName + "-vcpu-" + index);
        this.thread.setDaemon(true);
    }

    public int index() {
        return index;
    }

    public VcpuState state() {
        return state;
    }

    /** What the guest program threw, when the state is {@link VcpuState#FAULTED}. */
    public Throwable fault() {
        return fault;
    }

    public Thread thread() {
        return thread;
    }

    /** Starts the vCPU thread. */
    public void start() {
        if (state != VcpuState.CREATED) {
            throw new IllegalStateException("vCPU " + index + " already started");
        }
        state = VcpuState.RUNNING;
        thread.start();
    }

    private void runThread() {
        try {
            program.run(cpu);
            state = VcpuState.FINISHED;
        } catch (VcpuExit e) {
            state = VcpuState.STOPPED;
        } catch (Throwable t) {
            // Never let anything escape the thread: record it for the machine to report.
            fault = t;
            state = VcpuState.FAULTED;
        }
    }

    /**
     * Tells the vCPU that an interrupt may be pending for it: wakes it from WFI. Cheap when the vCPU is running.
     * Any thread may call it.
     */
    public void kick() {
        kickPending = true;
        VcpuState s = state;
        if (s == VcpuState.HALTED) {
            LockSupport.unpark(thread);
        }
    }

    /** Asks the vCPU to pause at its next exit; see {@link #awaitPaused}. */
    public void requestPause() {
        pauseRequested = true;
        LockSupport.unpark(thread);
    }

    /** Waits until the vCPU has paused (or ended); returns whether it did within the timeout. */
    public boolean awaitPaused(Duration timeout) {
        return awaitState(timeout, true);
    }

    /** Lets a paused vCPU run again. */
    public void resume() {
        pauseRequested = false;
        LockSupport.unpark(thread);
    }

    /** Asks the vCPU to stop at its next exit; {@link #join} waits for it. */
    public void requestStop() {
        stopRequested = true;
        LockSupport.unpark(thread);
    }

    /** Waits for the vCPU thread to end; returns whether it did within the timeout. */
    public boolean join(Duration timeout) {
        if (state == VcpuState.CREATED) {
            return true;
        }
        try {
            thread.join(Math.max(1, timeout.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !thread.isAlive();
    }

    private boolean awaitState(Duration timeout, boolean paused) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            VcpuState s = state;
            if (s == VcpuState.CREATED || s == VcpuState.FINISHED || s == VcpuState.FAULTED || s == VcpuState.STOPPED
                    || paused && s == VcpuState.PAUSED) {
                return true;
            }
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            LockSupport.parkNanos(50_000);
        }
    }

    /** A snapshot of this vCPU's exit counters. */
    public VcpuStats stats() {
        return new VcpuStats(index, state, mmioExits, sysregExits, wfiExits, wfiImmediate, haltPollSuccesses, halts,
                parkedNanos, pollNanos);
    }

    /** Runs at every exit, on the vCPU thread. */
    private void checkRequests() {
        if (stopRequested) {
            throw VcpuExit.INSTANCE;
        }
        if (pauseRequested) {
            VcpuState before = state;
            state = VcpuState.PAUSED;
            while (pauseRequested && !stopRequested) {
                LockSupport.parkNanos(this, MAX_PARK_NANOS);
            }
            state = before;
            if (stopRequested) {
                throw VcpuExit.INSTANCE;
            }
        }
    }

    private void waitForInterrupt() {
        waitForInterrupt(Long.MAX_VALUE, false);
    }

    /**
     * WFI. With {@code timed}, also returns once {@code System.nanoTime()} reaches {@code deadline}: the poll window
     * and the park are cut short at the deadline, so a timer wake-up costs no spinning.
     */
    private void waitForInterrupt(long deadline, boolean timed) {
        checkRequests();
        wfiExits++;
        kickPending = false;
        if (interruptController.hasPendingInterrupt(index)) {
            wfiImmediate++;
            return;
        }
        long window = pollNanos;
        long start = System.nanoTime();
        if (window > 0) {
            do {
                if (kickPending || interruptController.hasPendingInterrupt(index)) {
                    haltPollSuccesses++;
                    return;
                }
                if (timed && System.nanoTime() - deadline >= 0) {
                    return;
                }
                if (stopRequested || pauseRequested) {
                    checkRequests();
                    return;
                }
                if (yielding) {
                    Thread.yield();
                } else {
                    Thread.onSpinWait();
                }
            } while (System.nanoTime() - start < window);
        }
        long parkStart = System.nanoTime();
        state = VcpuState.HALTED;
        try {
            while (!kickPending && !stopRequested && !pauseRequested
                    && !interruptController.hasPendingInterrupt(index)) {
                long park = MAX_PARK_NANOS;
                if (timed) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    park = Math.min(park, left);
                }
                LockSupport.parkNanos(this, park);
            }
        } finally {
            state = VcpuState.RUNNING;
        }
        halts++;
        long end = System.nanoTime();
        parkedNanos += end - parkStart;
        if (adaptive) {
            adapt(window, end - start);
        }
        checkRequests();
    }

    /**
     * KVM's rule, after a WFI that slept for a total of {@code haltedNanos} (polling included): a wake-up that came
     * later than the window but within the maximum grows the window; one that came after more than the maximum
     * shrinks it to zero. A sleep that a kick or a pause ended early counts the same (KVM does not tell them apart
     * either, beyond spurious wake-ups).
     */
    private void adapt(long window, long haltedNanos) {
        if (haltedNanos > haltPollNanos) {
            if (window != 0) {
                pollNanos = 0;
            }
        } else if (window < haltPollNanos) {
            pollNanos = Math.min(haltPollNanos, Math.max(GROW_START_NANOS, window * 2));
        }
    }

    /** The halt-polling window in use now (the configured one, or the adaptive window). */
    public long haltPollWindowNanos() {
        return pollNanos;
    }

    /** The guest's view of this vCPU. */
    private final class Cpu implements GuestCpu {
        @Override
        public int index() {
            return index;
        }

        @Override
        public int vcpuCount() {
            return vcpuCount;
        }

        @Override
        public GuestMemory memory() {
            return memory;
        }

        @Override
        public long mmioRead(long address, int size) {
            checkRequests();
            mmioExits++;
            return bus.read(address, size);
        }

        @Override
        public void mmioWrite(long address, int size, long value) {
            checkRequests();
            mmioExits++;
            bus.write(address, size, value);
        }

        @Override
        public long readSystemRegister(SystemRegister register) {
            checkRequests();
            sysregExits++;
            return interruptController.readSystemRegister(index, register);
        }

        @Override
        public void writeSystemRegister(SystemRegister register, long value) {
            checkRequests();
            sysregExits++;
            interruptController.writeSystemRegister(index, register, value);
        }

        @Override
        public void waitForInterrupt() {
            Vcpu.this.waitForInterrupt();
        }

        @Override
        public void waitForInterrupt(long deadlineNanos) {
            Vcpu.this.waitForInterrupt(deadlineNanos, true);
        }

        @Override
        public boolean interruptSignalled() {
            return interruptController.hasPendingInterrupt(index);
        }

        @Override
        public dev.jvmm.core.irq.IrqLine ppiLine(int intid) {
            return interruptController.ppiLine(index, intid);
        }

        @Override
        public long counterNanos() {
            return System.nanoTime();
        }

        @Override
        public void checkpoint() {
            checkRequests();
        }
    }
}
