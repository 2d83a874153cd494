package dev.jvmm.core.machine;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.InterruptController;
import dev.jvmm.core.irq.IrqObserver;
import dev.jvmm.core.irq.IrqRouter;
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
 *         .interruptController(GicV3::create)          // vmm-gic
 *         .devices(ctx -> VirtioNet.createAll(ctx))  // vmm-net
 *         .guest(vcpu -> cpu -> { ... guest code ... })
 *         .build()) {
 *     m.start();
 *     ...
 * }                                                  // stop: joins every thread, frees RAM, closes sockets
 * }</pre>
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
 */
public final class Machine implements AutoCloseable {

    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(5);

    private final String name;
    private final VmConfig config;
    private final GuestMemory memory;
    private final MmioBus bus;
    private final InterruptController controller;
    private final IrqRouter router;
    private final List<MachineDevice> devices;
    private final List<Vcpu> vcpus;
    private final IrqObserver observer;
    private volatile MachineState state = MachineState.CREATED;
    private final List<String> stopProblems = Collections.synchronizedList(new ArrayList<>());

    private Machine(Builder b) {
        this.config = b.config;
        this.name = b.name != null ? b.name : "vm" + COUNTER.incrementAndGet();
        this.observer = b.observer;
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
            ir = new IrqRouter(ic, config.irq().mode(), config.irq().injectorSpinNanos(), observer, name);
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
            all &= v.awaitPaused(JOIN_TIMEOUT);
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
            if (!v.join(JOIN_TIMEOUT)) {
                stopProblems.add("vCPU " + v.index() + " did not stop within " + JOIN_TIMEOUT.toSeconds()
                        + "s (guest code that never exits)");
            }
        }
        for (MachineDevice d : devices) {
            closeQuietly(d::close, "device " + d.name());
        }
        if (!router.stop(JOIN_TIMEOUT)) {
            stopProblems.add("the injector thread did not stop within " + JOIN_TIMEOUT.toSeconds() + "s");
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

    @Override
    public void close() {
        stop();
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
    }
}
