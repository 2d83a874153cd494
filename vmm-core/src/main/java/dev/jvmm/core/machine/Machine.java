package dev.jvmm.core.machine;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.InterruptController;
import dev.jvmm.core.irq.IrqObserver;
import dev.jvmm.core.irq.IrqRouter;
import dev.jvmm.core.irq.MsiTarget;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.vcpu.GuestProgram;
import dev.jvmm.core.vcpu.Vcpu;
import dev.jvmm.core.vcpu.VcpuState;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * A virtual machine: guest memory, the MMIO bus, an interrupt controller, MSI routing with its injector thread,
 * devices and vCPUs, built from a {@link VmConfig}.
 *
 * <pre>{@code
 * try (Machine m = Machine.builder(config)
 *         .interruptController(GicV3::create)                    // vmm-gic
 *         .devices(VirtioNetDevices.factory())                   // vmm-net
 *         .guest(vcpu -> cpu -> { ... guest code ... })
 *         .failureListener((what, e) -> log(what, e))            // internal errors, as they happen
 *         .build()) {
 *     m.start();
 *     ...
 * }                        // close: stops and joins every thread, frees RAM, closes sockets; throws if a thread hung
 * }</pre>
 *
 * <p>A machine may have no vCPU at all ({@code machine.vcpus: 0}): a device-only machine whose guest side the
 * embedder drives from its own threads, through {@link #bus()} and {@link #memory()}.
 *
 * <h2>Lifecycle</h2>
 * {@link #start()} starts the injector, then the devices (which bind their sockets: a port in use fails here, with
 * a message), then the vCPUs. {@link #pause()} parks every vCPU at its next exit and pauses the devices;
 * {@link #resume()} undoes it. {@link #stop()} is idempotent and ends in a fixed order: vCPUs (joined), devices
 * (their threads joined, sockets closed), the injector (joined), the interrupt controller, and last the guest RAM,
 * which no thread can touch any more.
 *
 * <h2>Threads</h2>
 * One per vCPU, one injector, and whatever the devices start (their Netty event loops); nothing else.
 *
 * <h2>Failures</h2>
 * No thread of the machine lets an exception escape; an internal error (a bug, never the guest's doing) is counted
 * in {@link #failures()} and handed to the {@link FailureListener} the builder was given.
 */
public final class Machine implements AutoCloseable {

    private static final AtomicInteger COUNTER = new AtomicInteger();
    /** How long a stop waits for each thread by default. */
    public static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(5);

    private final String name;
    private final VmConfig config;
    private final GuestMemory memory;
    private final MmioBus bus;
    private final InterruptController controller;
    private final IrqRouter router;
    private final List<MachineDevice> devices;
    private final List<Vcpu> vcpus;
    private final IrqObserver observer;
    private final Failures failures;
    private final Duration stopTimeout;
    private volatile MachineState state = MachineState.CREATED;
    private final List<String> stopProblems = Collections.synchronizedList(new ArrayList<>());

    private Machine(Builder b) {
        this.config = b.config;
        this.name = b.name != null ? b.name : "vm" + COUNTER.incrementAndGet();
        this.observer = b.observer;
        this.failures = new Failures(b.failureListener);
        this.stopTimeout = b.stopTimeout;
        this.bus = new MmioBus(config.machine().strictMmio());
        GuestMemory mem = null;
        InterruptController ic = null;
        IrqRouter ir = null;
        List<MachineDevice> devs = new ArrayList<>();
        Context ctx = new Context();
        try {
            mem = GuestMemory.create(config.machine().memory());
            ctx.memory = mem;
            ic = b.controllerFactory.create(ctx);
            ctx.controller = ic;
            ir = new IrqRouter(ic, config.irq().mode(), config.irq().injectorSpinNanos(), observer, failures, name);
            ctx.router = ir;
            for (DeviceFactory f : b.deviceFactories) {
                devs.addAll(f.create(ctx));
            }
        } catch (RuntimeException | Error e) {
            for (MachineDevice d : devs) {
                closeQuietly(d::close);
            }
            if (ir != null) {
                ir.close();
            }
            if (ic != null) {
                closeQuietly(ic::close);
            }
            if (mem != null) {
                mem.close();
            }
            throw e;
        }
        this.memory = mem;
        this.controller = ic;
        this.router = ir;
        this.devices = List.copyOf(devs);
        int n = config.machine().vcpus();
        List<Vcpu> vs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            GuestProgram p = Objects.requireNonNull(b.guest.apply(i), "guest program for vCPU " + i);
            vs.add(new Vcpu(i, n, memory, bus, controller, config.irq().haltPolling(), p, name));
        }
        this.vcpus = List.copyOf(vs);
        ctx.vcpus = this.vcpus;
    }

    public static Builder builder(VmConfig config) {
        return new Builder(config);
    }

    // -------------------------------------------------------------------------------------------- lifecycle

    /**
     * Starts the injector, the devices and the vCPUs. A device that cannot start (a port in use) stops the machine
     * and throws its {@link MachineException}.
     */
    public synchronized void start() {
        if (state != MachineState.CREATED) {
            throw new IllegalStateException("machine " + name + " is " + state + ", not CREATED");
        }
        router.start();
        try {
            for (MachineDevice d : devices) {
                d.start();
            }
        } catch (RuntimeException e) {
            stop();
            throw e;
        }
        for (Vcpu v : vcpus) {
            v.start();
        }
        state = MachineState.RUNNING;
    }

    /** Parks every vCPU at its next exit and pauses the devices. Returns whether every vCPU paused in time. */
    public synchronized boolean pause() {
        if (state != MachineState.RUNNING) {
            return state == MachineState.PAUSED;
        }
        for (Vcpu v : vcpus) {
            v.requestPause();
        }
        boolean all = true;
        for (Vcpu v : vcpus) {
            all &= v.awaitPaused(stopTimeout);
        }
        for (MachineDevice d : devices) {
            d.pause();
        }
        state = MachineState.PAUSED;
        return all;
    }

    public synchronized void resume() {
        if (state != MachineState.PAUSED) {
            return;
        }
        for (MachineDevice d : devices) {
            d.resume();
        }
        for (Vcpu v : vcpus) {
            v.resume();
        }
        state = MachineState.RUNNING;
    }

    /**
     * Stops everything and releases every resource; idempotent. Returns the problems met (a thread that did not end
     * in time, a device that failed to close), empty when the stop was clean.
     */
    public synchronized List<String> stop() {
        if (state == MachineState.STOPPED) {
            return List.copyOf(stopProblems);
        }
        state = MachineState.STOPPED;
        for (Vcpu v : vcpus) {
            v.requestStop();
        }
        for (Vcpu v : vcpus) {
            if (!v.join(stopTimeout)) {
                stopProblems.add("vCPU " + v.index() + " did not stop within " + stopTimeout.toMillis()
                        + " ms (guest code that never exits)");
            }
        }
        for (MachineDevice d : devices) {
            closeQuietly(d::close, "device " + d.name());
        }
        if (!router.stop(stopTimeout)) {
            stopProblems.add("the injector thread did not stop within " + stopTimeout.toMillis() + " ms");
        }
        closeQuietly(controller::close, "interrupt controller");
        boolean threadsAlive = router.injectorThread().isAlive();
        for (Vcpu v : vcpus) {
            threadsAlive |= v.thread().isAlive();
        }
        if (threadsAlive) {
            // A thread still running could touch RAM: leave it to the garbage collector rather than free it under them.
            stopProblems.add("guest RAM left to the garbage collector: a thread is still alive");
        } else {
            memory.close();
        }
        return List.copyOf(stopProblems);
    }

    /**
     * Stops the machine ({@link #stop()}) and throws a {@link MachineException} listing the problems when the stop
     * was not clean: a thread the machine started that did not end (its guest RAM is then left to the garbage
     * collector rather than freed under it), or a device that failed to close.
     */
    @Override
    public void close() {
        List<String> problems = stop();
        if (!problems.isEmpty()) {
            throw new MachineException("machine " + name + " did not stop cleanly: " + String.join("; ", problems));
        }
    }

    private void closeQuietly(Runnable r, String what) {
        try {
            r.run();
        } catch (RuntimeException e) {
            stopProblems.add(what + " failed to close: " + e);
        }
    }

    private static void closeQuietly(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException ignored) {
            // building failed already; that error is the one to report
        }
    }

    // -------------------------------------------------------------------------------------------- accessors

    public String name() {
        return name;
    }

    public VmConfig config() {
        return config;
    }

    public MachineState state() {
        return state;
    }

    public GuestMemory memory() {
        return memory;
    }

    public MmioBus bus() {
        return bus;
    }

    public InterruptController interruptController() {
        return controller;
    }

    public IrqRouter irqRouter() {
        return router;
    }

    /** The machine's internal errors (see {@link FailureListener}). */
    public Failures failures() {
        return failures;
    }

    public List<MachineDevice> devices() {
        return devices;
    }

    /** The first device of type {@code type}, or null. */
    public <T> T device(Class<T> type) {
        for (MachineDevice d : devices) {
            if (type.isInstance(d)) {
                return type.cast(d);
            }
        }
        return null;
    }

    public List<Vcpu> vcpus() {
        return vcpus;
    }

    /** vCPUs whose guest program threw, with what it threw. */
    public List<String> vcpuFaults() {
        List<String> out = new ArrayList<>();
        for (Vcpu v : vcpus) {
            if (v.state() == VcpuState.FAULTED) {
                out.add("vCPU " + v.index() + ": " + v.fault());
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "Machine[" + name + ", " + state + "]";
    }

    // -------------------------------------------------------------------------------------------- builder

    /** Assembles a machine; the configuration must be valid ({@link VmConfig#validate()}). */
    public static final class Builder {
        private final VmConfig config;
        private String name;
        private InterruptControllerFactory controllerFactory;
        private final List<DeviceFactory> deviceFactories = new ArrayList<>();
        private IntFunction<GuestProgram> guest = i -> cpu -> {
            while (true) {
                cpu.waitForInterrupt();
            }
        };
        private IrqObserver observer = IrqObserver.NONE;
        private FailureListener failureListener = FailureListener.NONE;
        private Duration stopTimeout = DEFAULT_STOP_TIMEOUT;

        private Builder(VmConfig config) {
            this.config = Objects.requireNonNull(config).validate();
        }

        /** The machine's name, a prefix of its threads' names (default vmN). */
        public Builder name(String n) {
            name = n;
            return this;
        }

        public Builder interruptController(InterruptControllerFactory f) {
            controllerFactory = f;
            return this;
        }

        /** Adds devices; factories run in the order they were added. */
        public Builder devices(DeviceFactory f) {
            deviceFactories.add(f);
            return this;
        }

        /** The guest program of each vCPU (default: every vCPU idles in WFI). */
        public Builder guest(IntFunction<GuestProgram> g) {
            guest = g;
            return this;
        }

        public Builder observer(IrqObserver o) {
            observer = o == null ? IrqObserver.NONE : o;
            return this;
        }

        /** How long pause and stop wait for each thread the machine started (default 5 s). */
        public Builder stopTimeout(Duration d) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("stop timeout must be positive, got " + d);
            }
            stopTimeout = d;
            return this;
        }

        /** Who hears about internal errors of the machine's threads and devices (default: they are only counted). */
        public Builder failureListener(FailureListener l) {
            failureListener = l == null ? FailureListener.NONE : l;
            return this;
        }

        /**
         * Builds the machine: allocates RAM, creates the interrupt controller, the router and the devices, and the
         * vCPUs (not started). Everything created is released again if a step fails.
         */
        public Machine build() {
            if (controllerFactory == null) {
                throw new IllegalStateException("a machine needs an interrupt controller");
            }
            return new Machine(this);
        }
    }

    private final class Context implements MachineContext {
        GuestMemory memory;
        InterruptController controller;
        IrqRouter router;
        volatile List<Vcpu> vcpus = List.of();

        @Override
        public String name() {
            return name;
        }

        @Override
        public VmConfig config() {
            return config;
        }

        @Override
        public GuestMemory memory() {
            return memory;
        }

        @Override
        public MmioBus bus() {
            return bus;
        }

        @Override
        public IrqRouter irqRouter() {
            if (router == null) {
                throw new IllegalStateException("the irq router does not exist yet");
            }
            return router;
        }

        @Override
        public int vcpuCount() {
            return config.machine().vcpus();
        }

        @Override
        public void kick(int index) {
            List<Vcpu> vs = vcpus;
            if (index >= 0 && index < vs.size()) {
                vs.get(index).kick();
            }
        }

        @Override
        public IrqObserver observer() {
            return observer;
        }

        @Override
        public MsiTarget msiTarget(int msiController, int deviceId) {
            if (controller == null) {
                throw new IllegalStateException("the interrupt controller does not exist yet");
            }
            return controller.msiTarget(msiController, deviceId);
        }

        @Override
        public Failures failures() {
            return failures;
        }
    }
}
