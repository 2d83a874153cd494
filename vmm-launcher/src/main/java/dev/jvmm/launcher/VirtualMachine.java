package dev.jvmm.launcher;

import dev.jvmm.core.config.ConfigLoader;
import dev.jvmm.core.config.ConfigSection;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.IrqStats;
import dev.jvmm.core.irq.MsiTarget;
import dev.jvmm.core.machine.Machine;
import dev.jvmm.core.vcpu.GuestProgram;
import dev.jvmm.gic.GicConfig;
import dev.jvmm.gic.GicStats;
import dev.jvmm.gic.GicV3;
import dev.jvmm.guest.GuestPlatform;
import dev.jvmm.guest.GuestReport;
import dev.jvmm.guest.ToyGuest;
import dev.jvmm.guest.ToyGuestConfig;
import dev.jvmm.launcher.trace.TraceConfig;
import dev.jvmm.launcher.trace.TraceRecorder;
import dev.jvmm.net.NetBackend;
import dev.jvmm.net.NetConfig;
import dev.jvmm.net.NicConfig;
import dev.jvmm.net.NicStats;
import dev.jvmm.net.VirtioNetDevice;
import dev.jvmm.net.VirtioNetDevices;
import dev.jvmm.virt.MachineBuilder;
import dev.jvmm.virt.MachineWiring;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * A whole toy-guest machine as the launcher wires it: {@link Machine} with the GICv3 of vmm-gic, the virtio-net NICs
 * of vmm-net, the toy guest of vmm-guest on its vCPUs (told about the machine as built, as a device tree would tell a
 * kernel), and optionally a trace journal. This class and the launcher's commands are the only place that wires the
 * modules together; {@link #SECTIONS} are the configuration sections such a machine reads (with the board's guest
 * section, so that one loader reads every file {@code vmm run} takes: a {@code guest.kernel} goes to vmm-virt's
 * board through {@link BoardRun}).
 *
 * <pre>{@code
 * VmConfig config = VirtualMachine.configLoader().load(Path.of("configs/toy-guest.yaml"));
 * try (VirtualMachine vm = VirtualMachine.builder(config).build()) {
 *     vm.start();                 // binds the NICs' sockets, boots the guest
 *     vm.awaitGuestRunning(Duration.ofSeconds(10));
 *     ... send datagrams to vm.nicPort(0) ...
 *     long received = vm.guest().total(GuestReport.Counter.FRAMES);
 * }
 * }</pre>
 */
public final class VirtualMachine implements AutoCloseable {

    /** The sections of a toy-guest machine's configuration, besides core's machine and irq, in file order. */
    public static final List<ConfigSection<?>> SECTIONS = List.of(GicConfig.SECTION, NetConfig.SECTION,
            NicConfig.SECTION, ToyGuestConfig.SECTION, dev.jvmm.virt.KernelConfig.SECTION, TraceConfig.SECTION);

    private final VmConfig config;
    private final Machine machine;
    private final GicV3 gic;
    private final List<VirtioNetDevice> nics;
    private final GuestReport report;
    private final TraceRecorder trace;

    /** A loader of every section a toy-guest machine reads. */
    public static ConfigLoader configLoader() {
        return ConfigLoader.of(SECTIONS);
    }

    private VirtualMachine(Builder b) {
        this.config = b.config();
        if (config.find(dev.jvmm.virt.KernelConfig.SECTION).isPresent()) {
            throw new IllegalArgumentException("this configuration's guest is a kernel (guest.kernel): the virt board "
                    + "boots it (dev.jvmm.virt.VirtMachine), not the toy guest's machine");
        }
        List<NicConfig> nicConfigs = config.get(NicConfig.SECTION);
        TraceRecorder recorder = null;
        if (b.traceDir != null) {
            recorder = new TraceRecorder(b.traceDir, nicConfigs, "vmm");
        }
        this.trace = recorder;
        MachineWiring wiring = b.wiring();
        Machine.Builder machineBuilder = wiring.machine(config);
        VirtioNetDevices.Builder nicFactory = wiring.nics();
        if (recorder != null) {
            // The recorder observes the MSIs and sees every datagram the NICs' backends take.
            NetBackend.Factory inner = wiring.backends() != null ? wiring.backends() : VirtioNetDevices::defaultBackend;
            TraceRecorder r = recorder;
            machineBuilder.observer(recorder);
            nicFactory.backends(nic -> new TracingBackend(inner.create(nic), r, nicConfigs.indexOf(nic)));
        }
        List<VirtioNetDevice> devices = new ArrayList<>();
        GicV3[] controller = new GicV3[1];
        ToyGuestConfig guestConfig = config.get(ToyGuestConfig.SECTION);
        Machine m;
        try {
            m = machineBuilder
                    .interruptController(ctx -> controller[0] = GicV3.create(ctx))
                    .devices(ctx -> {
                        List<VirtioNetDevice> d = nicFactory.create(ctx);
                        devices.addAll(d);
                        return d;
                    })
                    .guest(new LazyGuest(guestConfig, controller, devices, config))
                    .build();
        } catch (RuntimeException e) {
            if (recorder != null) {
                recorder.close();
            }
            throw e;
        }
        if (recorder != null) {
            recorder.attach(devices);
        }
        this.machine = m;
        this.gic = controller[0];
        this.nics = List.copyOf(devices);
        this.report = new GuestReport(m.memory());
    }

    /**
     * The toy guest's programs, made when the machine asks for the first vCPU's: by then the GIC and the NICs exist,
     * and the guest's platform description is taken from them as built.
     */
    private static final class LazyGuest implements IntFunction<GuestProgram> {
        private final ToyGuestConfig guest;
        private final GicV3[] gic;
        private final List<VirtioNetDevice> nics;
        private final VmConfig config;
        private IntFunction<GuestProgram> programs;

        LazyGuest(ToyGuestConfig guest, GicV3[] gic, List<VirtioNetDevice> nics, VmConfig config) {
            this.guest = guest;
            this.gic = gic;
            this.nics = nics;
            this.config = config;
        }

        @Override
        public GuestProgram apply(int vcpu) {
            if (programs == null) {
                programs = ToyGuest.programs(guest, platform(gic[0], nics, config));
            }
            return programs.apply(vcpu);
        }
    }

    /**
     * The toy guest's description of the machine as built: where the GIC's frames are, each NIC's slot, wired
     * interrupt and, in MSI mode, MSI parent.
     */
    static GuestPlatform platform(GicV3 gic, List<VirtioNetDevice> nics, VmConfig config) {
        int vcpus = config.machine().vcpus();
        long[] gicr = new long[vcpus];
        for (int n = 0; n < vcpus; n++) {
            gicr[n] = gic.redistributorBase(n);
        }
        long[] its = new long[gic.itsCount()];
        for (int i = 0; i < its.length; i++) {
            its[i] = gic.itsBase(i);
        }
        List<GuestPlatform.Nic> list = new ArrayList<>();
        for (int i = 0; i < nics.size(); i++) {
            VirtioNetDevice d = nics.get(i);
            NicConfig n = d.config();
            MsiTarget msi = d.msiTarget();
            list.add(new GuestPlatform.Nic(i, d.mmioBase(), d.wiredIntid(), msi != null,
                    msi == null ? -1 : msi.deviceId(), msi == null ? -1 : msi.controller(),
                    GuestPlatform.ipv4(n.guestIp()), GuestPlatform.ipv4(n.gatewayIp()), n.guestPort()));
        }
        return new GuestPlatform(vcpus, config.machine().memory().get(0), gic.distributorBase(), gicr, its, list);
    }

    /** A machine for {@code config} (validated); the guest program comes from its {@code guest} section. */
    public static Builder builder(VmConfig config) {
        return new Builder(config);
    }

    public void start() {
        machine.start();
    }

    /**
     * Waits until the guest has booted (its report says running) and returns; throws
     * {@link dev.jvmm.guest.GuestFailure} with the guest's panic message, or when it does not boot in time.
     */
    public void awaitGuestRunning(Duration timeout) {
        report.awaitRunning(machine, timeout);
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
        return nics.get(i).boundPort();
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
    public static final class Builder extends MachineBuilder<Builder> {
        private Path traceDir;

        private Builder(VmConfig config) {
            super(config.validate(), "vm");
            traceDir = config.get(TraceConfig.SECTION).dir();
        }

        /**
         * Records every MSI, acknowledge and datagram into a Chronicle Queue in {@code dir} (null: no trace); the
         * recorder then observes the MSIs instead of the {@link #observer}.
         */
        public Builder trace(Path dir) {
            traceDir = dir;
            return this;
        }

        public VirtualMachine build() {
            return new VirtualMachine(this);
        }
    }
}
