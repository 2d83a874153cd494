package dev.jvmm.launcher;

import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.IrqObserver;
import dev.jvmm.core.irq.IrqStats;
import dev.jvmm.core.machine.Machine;
import dev.jvmm.gic.GicStats;
import dev.jvmm.gic.GicV3;
import dev.jvmm.launcher.guest.GuestReport;
import dev.jvmm.launcher.guest.ToyGuest;
import dev.jvmm.launcher.trace.TraceRecorder;
import dev.jvmm.net.NetBackend;
import dev.jvmm.net.NicStats;
import dev.jvmm.net.VirtioNetDevice;
import dev.jvmm.net.VirtioNetDevices;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A whole toy-guest machine as the launcher runs it: {@link Machine} with the GICv3 of vmm-gic, the virtio-net
 * NICs of vmm-net, the toy guest on its vCPUs, and optionally a trace journal.
 *
 * <pre>{@code
 * try (VirtualMachine vm = VirtualMachine.builder(ConfigLoader.load(Path.of("configs/toy-guest.yaml"))).build()) {
 *     vm.start();                 // binds the NICs' sockets, boots the guest
 *     vm.awaitGuestRunning(Duration.ofSeconds(10));
 *     ... send datagrams to vm.nicPort(0) ...
 *     long received = vm.guest().total(GuestReport.Counter.FRAMES);
 * }
 * }</pre>
 */
public final class VirtualMachine implements AutoCloseable {
    private final VmConfig config;
    private final Machine machine;
    private final GicV3 gic;
    private final List<VirtioNetDevice> nics;
    private final GuestReport report;
    private final TraceRecorder trace;

    private VirtualMachine(Builder b) {
        this.config = b.config;
        TraceRecorder recorder = null;
        if (b.traceDir != null) {
            recorder = new TraceRecorder(b.traceDir, config.nics(), config.machine().vcpus(), "vmm");
        }
        this.trace = recorder;
        IrqObserver observer = recorder != null ? recorder : b.observer;
        NetBackend.Factory backends = b.backends != null ? b.backends : VirtioNetDevices::defaultBackend;
        if (recorder != null) {
            NetBackend.Factory inner = backends;
            TraceRecorder r = recorder;
            backends = nic -> new TracingBackend(inner.create(nic), r, config.nics().indexOf(nic));
        }
        NetBackend.Factory finalBackends = backends;
        List<VirtioNetDevice> devices = new ArrayList<>();
        GicV3[] controller = new GicV3[1];
        Machine m;
        try {
            m = Machine.builder(config)
                    .name(b.name)
                    .interruptController(ctx -> controller[0] = GicV3.create(ctx))
                    .devices(ctx -> {
                        List<VirtioNetDevice> d = VirtioNetDevices.create(ctx, finalBackends);
                        devices.addAll(d);
                        return d;
                    })
                    .guest(ToyGuest.programs(config))
                    .observer(observer)
                    .build();
        } catch (RuntimeException e) {
            if (recorder != null) {
                recorder.close();
            }
            throw e;
        }
        this.machine = m;
        this.gic = controller[0];
        this.nics = List.copyOf(devices);
        this.report = new GuestReport(m.memory());
    }

    /** A machine for {@code config} (validated); the guest program comes from {@code config.guest()}. */
    public static Builder builder(VmConfig config) {
        return new Builder(config);
    }

    public void start() {
        machine.start();
    }

    /**
     * Waits until the guest has booted (its report says running) and returns; throws {@link Main.RunFailure} with
     * the guest's panic message, or when it does not boot in time.
     */
    public void awaitGuestRunning(java.time.Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            int state = report.state();
            if (state == GuestReport.STATE_RUNNING && report.vcpusOnline() == config.machine().vcpus()) {
                return;
            }
            if (state == GuestReport.STATE_PANICKED) {
                throw new Main.RunFailure("the guest panicked: " + report.panicMessage());
            }
            List<String> faults = machine.vcpuFaults();
            if (!faults.isEmpty()) {
                throw new Main.RunFailure("a vCPU faulted: " + faults.get(0));
            }
            if (System.nanoTime() > deadline) {
                throw new Main.RunFailure("the guest did not boot within " + timeout.toSeconds() + "s");
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Main.RunFailure("interrupted while the guest booted");
            }
        }
    }

    /** Stops the machine and closes the trace journal; returns the problems met (empty when clean). */
    public List<String> stop() {
        List<String> problems = machine.stop();
        if (trace != null) {
            trace.close();
        }
        return problems;
    }

    @Override
    public void close() {
        stop();
    }

    public VmConfig config() {
        return config;
    }

    public Machine machine() {
        return machine;
    }

    public GicV3 gic() {
        return gic;
    }

    public List<VirtioNetDevice> nics() {
        return nics;
    }

    /** The host port NIC {@code i} is bound to (its actual port when configured with port 0). */
    public int nicPort(int i) {
        VirtioNetDevice d = nics.get(i);
        return d.boundPort();
    }

    /** The guest's own counters, read from its report page in guest RAM. */
    public GuestReport guest() {
        return report;
    }

    public TraceRecorder trace() {
        return trace;
    }

    public IrqStats irqStats() {
        return machine.irqRouter().stats();
    }

    public GicStats gicStats() {
        return gic.stats();
    }

    public List<NicStats> nicStats() {
        List<NicStats> out = new ArrayList<>(nics.size());
        for (VirtioNetDevice d : nics) {
            out.add(d.stats());
        }
        return out;
    }

    /** Assembles a {@link VirtualMachine}. */
    public static final class Builder {
        private final VmConfig config;
        private String name = "vm";
        private Path traceDir;
        private IrqObserver observer = IrqObserver.NONE;
        private NetBackend.Factory backends;

        private Builder(VmConfig config) {
            this.config = config.validate();
            if (config.trace().enabled()) {
                traceDir = config.trace().dir();
            }
        }

        public Builder name(String n) {
            name = n;
            return this;
        }

        /** Records every MSI, acknowledge and datagram into a Chronicle Queue in {@code dir} (null: no trace). */
        public Builder trace(Path dir) {
            traceDir = dir;
            return this;
        }

        /** An observer of MSIs (ignored when tracing, which observes them itself). */
        public Builder observer(IrqObserver o) {
            observer = o;
            return this;
        }

        /** NIC backends other than the built-in {@code udp} and {@code udp-tunnel}. */
        public Builder backends(NetBackend.Factory f) {
            backends = f;
            return this;
        }

        public VirtualMachine build() {
            return new VirtualMachine(this);
        }
    }
}
