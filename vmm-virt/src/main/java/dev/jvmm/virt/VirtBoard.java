package dev.jvmm.virt;

import dev.jvmm.arm64.Arm64Cpu;
import dev.jvmm.arm64.Arm64System;
import dev.jvmm.arm64.FatalReport;
import dev.jvmm.core.bus.MmioDevice;
import dev.jvmm.core.config.MachineConfig;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.machine.Machine;
import dev.jvmm.core.machine.MachineContext;
import dev.jvmm.core.machine.MachineDevice;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.RamRegion;
import dev.jvmm.core.vcpu.Vcpu;
import dev.jvmm.gic.GicV3;
import dev.jvmm.net.NicConfig;
import dev.jvmm.net.VirtioNetDevice;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One boot of QEMU's {@code virt} board ({@code hw/arm/virt.c}, QEMU 7.2, {@code -M virt,gic-version=3 -cpu
 * cortex-a57}) as jvmm builds it: the memory map, each device with its interrupt and its device-tree node side by
 * side, the CPUs and their firmware (PSCI), and the kernel placed by {@link BootLoader}. A reset throws this boot
 * away and builds the next ({@link VirtMachine}).
 *
 * <pre>
 *  what                  base           size          interrupt (dt cells)          device-tree node
 *  ────────────────────  ─────────────  ────────────  ────────────────────────────  ──────────────────────────────
 *  GIC distributor       0x0800_0000    64 KiB                                      /intc@8000000 "arm,gic-v3"
 *  ITS i                 0x0808_0000    128 KiB                                       its@... "arm,gic-v3-its"
 *  GIC redistributors    0x080A_0000    128 KiB each                                  (reg[1] of /intc)
 *  PL011 UART            0x0900_0000    4 KiB         SPI 1, level    &lt;0 1 4&gt;        /pl011@9000000, /apb-pclk
 *  virtio-mmio slot n    0x0A00_0000    0x200 each    SPI 16+n, edge  &lt;0 16+n 1&gt;     /virtio_mmio@a000000+0x200n
 *                        + n * 0x200                  wired mode: the SPI; MSI mode: msi-parent &lt;&amp;its DeviceID&gt;
 *  RAM                   0x4000_0000    machine.memory                              /memory@40000000
 *  CPUs, PSCI, timer                                  PPIs 13 14 11 10, level     /cpus, /psci, /timer
 *  /chosen: bootargs, stdout-path = "/pl011@9000000", rng-seed, kaslr-seed, and with an initrd
 *           linux,initrd-start and linux,initrd-end (BootLoader places it)
 * </pre>
 *
 * <h2>Left out of QEMU's board, and why</h2>
 * The flash banks (0x0, no firmware runs here: the kernel is loaded directly), the PL031 RTC (no test guest reads
 * the time of day; a Linux guest falls back to the counter), fw_cfg (only firmware and QEMU's own tools read it),
 * the PL061 GPIO with its gpio-keys power button (no host-side power button), PCIe (jvmm's NICs are virtio-mmio), the
 * platform bus, and the PMU node (this CPU has no PMU: ID_AA64DFR0_EL1.PMUVer = 0). Each is absent from the device
 * tree too, so a guest does not look for it.
 *
 * <h2>MMIO outside devices</h2>
 * As on QEMU, a load or store where no device answers is a synchronous external abort: the board's bus is strict
 * unless the configuration writes {@code machine.strict-mmio: false}. Empty virtio-mmio slots answer as QEMU's do
 * (magic "virt", version 2, DeviceID 0) but are not in the device tree, which lists the slots that hold a device.
 */
final class VirtBoard implements AutoCloseable {

    // ---------------------------------------------------------------------------------- the memory map (virt.c)
    static final long GICD_BASE = MemoryMap.GICD_BASE;
    static final long GICD_SIZE = MemoryMap.GICD_SIZE;
    static final long ITS_SIZE = MemoryMap.ITS_SIZE;
    static final long GICR_BASE = MemoryMap.GICR_BASE;
    /** QEMU's VIRT_GIC_REDIST region: room for 123 redistributors of 128 KiB. */
    static final long GICR_REGION_SIZE = MemoryMap.GICR_WINDOW_END - MemoryMap.GICR_BASE;
    static final long UART_BASE = 0x0900_0000L;
    static final long UART_SIZE = Pl011.SIZE;
    static final int UART_SPI = 1;
    static final long VIRTIO_BASE = MemoryMap.VIRTIO_MMIO_BASE;
    static final long VIRTIO_SIZE = MemoryMap.VIRTIO_MMIO_STRIDE;
    static final int VIRTIO_SLOTS = MemoryMap.VIRTIO_MMIO_SLOTS;
    static final int VIRTIO_FIRST_SPI = MemoryMap.VIRTIO_MMIO_FIRST_SPI;
    static final long RAM_BASE = MemoryMap.RAM_BASE;
    /** The apb-pclk fixed clock of the PrimeCells (24 MHz, QEMU's "clk24mhz"). */
    static final int APB_PCLK_HZ = 24_000_000;

    // ---------------------------------------------------------------------------------- device-tree cells
    /** {@code interrupts} cell 0: GIC_FDT_IRQ_TYPE_SPI, GIC_FDT_IRQ_TYPE_PPI. */
    static final int FDT_SPI = 0;
    static final int FDT_PPI = 1;
    /** {@code interrupts} cell 2: GIC_FDT_IRQ_FLAGS_EDGE_LO_HI, GIC_FDT_IRQ_FLAGS_LEVEL_HI. */
    static final int FDT_EDGE_RISING = 1;
    static final int FDT_LEVEL_HIGH = 4;
    /** The architected timer's PPIs as virt.c lists them: secure, non-secure physical, virtual, hypervisor. */
    static final int[] TIMER_PPIS = {13, 14, 11, 10};
    /** QEMU's phandles start here (virt.c: "vms->clock_phandle = qemu_fdt_alloc_phandle", from 0x8000). */
    static final int FIRST_PHANDLE = 0x8000;
    /** The size QEMU's own tree has (create_device_tree's FDT_MAX_SIZE): the room it takes in RAM. */
    static final int FDT_SIZE = 0x10_0000;
    /** PSCI 0.1's function ids, given in the node as QEMU gives them for PSCI 0.2 and later (virt.c). */
    static final int PSCI_0_1_CPU_SUSPEND = Psci.CPU_SUSPEND_64;
    static final int PSCI_0_1_CPU_OFF = Psci.CPU_OFF;
    static final int PSCI_0_1_CPU_ON = Psci.CPU_ON_64;
    static final int PSCI_0_1_MIGRATE = Psci.MIGRATE_64;

    /** Everything a boot is made from; the same for every reset of one {@link VirtMachine}. */
    record Parts(VmConfig config, KernelConfig kernel, BootLoader.Kernel kernelFile, BootLoader.Initrd initrd,
                 UserDtb userDtb, SerialConsole console, MachineWiring wiring, Psci.SystemControl control,
                 Consumer<FatalReport> fatal) {
    }

    private final Parts parts;
    private final VmConfig config;
    private final RamRegion ram;
    private final Fdt fdt = new Fdt(FIRST_PHANDLE);
    private final Machine machine;
    private MachineContext context;
    private GicV3 gic;
    private int gicPhandle;
    private int[] itsPhandles;
    private Pl011 uart;
    private final List<VirtioNetDevice> nics = new ArrayList<>();
    private Arm64System system;
    private final Psci psci;
    private final byte[] dtb;
    private final BootLoader.Plan plan;

    /**
     * Builds the machine (nothing runs yet) and plans the boot; {@link #load()} then writes RAM and sets the CPUs.
     *
     * @throws BootException when the kernel cannot be placed in this machine's RAM
     */
    VirtBoard(Parts parts) {
        this.parts = parts;
        this.config = boardConfig(parts.config());
        this.ram = config.machine().memory().get(0);
        createRoot();
        Machine.Builder b = parts.wiring().machine(config)
                .interruptController(this::createGic)
                .devices(this::createUart)
                .devices(this::createVirtioTransports)
                .guest(this::createCpu);
        this.machine = b.build();
        try {
            this.psci = createFirmware();
            createMemory();
            createChosen();
            Fdt tree = parts.userDtb() != null ? userTree(parts.userDtb()) : fdt;
            int size = parts.userDtb() != null ? parts.userDtb().size() : FDT_SIZE;
            this.plan = BootLoader.plan(parts.kernelFile(), parts.initrd(), ram, (start, length) -> {
                if (length > 0) {
                    chosenInitrd(tree, start, length);
                }
                return tree.toBlob(size, 0);
            });
            this.dtb = plan.dtb();
        } catch (RuntimeException e) {
            machine.stop();
            throw e;
        }
    }

    /**
     * The configuration the board runs: the file's, with a strict bus (unassigned addresses abort, as on QEMU) unless
     * the file asked for {@code machine.strict-mmio: false}.
     */
    static VmConfig boardConfig(VmConfig config) {
        MachineConfig m = config.machine();
        if (!m.strictMmio() && !config.source().has("machine.strict-mmio")) {
            return config.withMachine(new MachineConfig(m.vcpus(), m.memory(), true));
        }
        return config;
    }

    // ---------------------------------------------------------------------------------- / (virt.c create_fdt)

    private void createRoot() {
        fdt.root().strings("compatible", "linux,dummy-virt")
                .cells("#address-cells", 2)
                .cells("#size-cells", 2)
                .strings("model", "linux,dummy-virt");
    }

    // ---------------------------------------------------------------------------------- GICv3 and its ITSes

    /** virt.c create_gic + fdt_add_gic_node: distributor, one redistributor per vCPU, the ITSes (vmm-gic). */
    private GicV3 createGic(MachineContext ctx) {
        context = ctx;
        gic = GicV3.create(ctx);
        gicPhandle = fdt.allocatePhandle();
        int vcpus = ctx.vcpuCount();
        // With more than one ITS, jvmm puts ITS 1.. after the last redistributor inside QEMU's window: the region
        // then ends at the last redistributor so that it covers no ITS frame.
        long gicrSize = gic.itsCount() > 1 ? vcpus * MemoryMap.GICR_STRIDE : GICR_REGION_SIZE;
        Fdt.Node intc = fdt.root().add(String.format("intc@%x", GICD_BASE))
                .phandle(gicPhandle)
                .reg64(GICD_BASE, GICD_SIZE, GICR_BASE, gicrSize)
                .cells("#redistributor-regions", 1)
                .strings("compatible", "arm,gic-v3")
                .empty("ranges")
                .cells("#size-cells", 2)
                .cells("#address-cells", 2)
                .empty("interrupt-controller")
                .cells("#interrupt-cells", 3);
        itsPhandles = new int[gic.itsCount()];
        for (int i = 0; i < gic.itsCount(); i++) {
            itsPhandles[i] = fdt.allocatePhandle();
            intc.add(String.format("its@%x", gic.itsBase(i)))
                    .phandle(itsPhandles[i])
                    .reg64(gic.itsBase(i), ITS_SIZE)
                    .cells("#msi-cells", 1)
                    .empty("msi-controller")
                    .strings("compatible", "arm,gic-v3-its");
        }
        fdt.root().cells("interrupt-parent", gicPhandle);
        return gic;
    }

    // ---------------------------------------------------------------------------------- PL011 (virt.c create_uart)

    private List<MachineDevice> createUart(MachineContext ctx) {
        int clock = fdt.allocatePhandle();
        fdt.root().add("apb-pclk")
                .phandle(clock)
                .strings("clock-output-names", "clk24mhz")
                .cells("clock-frequency", APB_PCLK_HZ)
                .cells("#clock-cells", 0)
                .strings("compatible", "fixed-clock");
        uart = new Pl011(parts.console(), gic.spiLine(32 + UART_SPI));
        ctx.bus().register("pl011", UART_BASE, UART_SIZE, uart);
        fdt.root().add(String.format("pl011@%x", UART_BASE))
                .strings("clock-names", "uartclk", "apb_pclk")
                .cells("clocks", clock, clock)
                .cells("interrupts", FDT_SPI, UART_SPI, FDT_LEVEL_HIGH)
                .reg64(UART_BASE, UART_SIZE)
                .strings("compatible", "arm,pl011", "arm,primecell");
        return List.of();
    }

    // ---------------------------------------------------------------------------------- virtio-mmio (create_virtio_devices)

    /**
     * The NICs of the {@code nics} section in their slots (vmm-net), and QEMU's empty transport in every other slot.
     * Slot n's wired interrupt is SPI 16 + n, edge-triggered, as QEMU's, and a NIC in wired mode
     * ({@code interrupt: wired}) raises it; a NIC in MSI mode (the default) raises MSIs through the ITS instead and gets
     * {@code msi-parent = <&its DeviceID>}, which is how the guest learns its DeviceID and that it should map it.
     */
    private List<MachineDevice> createVirtioTransports(MachineContext ctx) {
        List<MachineDevice> devices = new ArrayList<>();
        List<VirtioNetDevice> made = parts.wiring().nics().create(ctx);
        nics.addAll(made);
        devices.addAll(made);
        Set<Integer> used = new HashSet<>();
        for (VirtioNetDevice d : made) {
            NicConfig n = d.config();
            used.add(n.slot());
            Fdt.Node node = fdt.root().add(String.format("virtio_mmio@%x", d.mmioBase()))
                    .empty("dma-coherent")
                    .cells("interrupts", FDT_SPI, d.wiredIntid() - 32, FDT_EDGE_RISING)
                    .reg64(d.mmioBase(), VIRTIO_SIZE)
                    .strings("compatible", "virtio,mmio");
            if (d.interrupt() == NicConfig.NicInterrupt.MSI) {
                node.cells("msi-parent", itsPhandles[d.msiTarget().controller()], d.msiTarget().deviceId());
            }
        }
        for (int slot = 0; slot < VIRTIO_SLOTS; slot++) {
            if (!used.contains(slot)) {
                ctx.bus().register("virtio-mmio-" + slot, VIRTIO_BASE + slot * VIRTIO_SIZE, VIRTIO_SIZE,
                        EMPTY_VIRTIO_SLOT);
            }
        }
        return devices;
    }

    /**
     * QEMU's virtio-mmio transport with nothing plugged in (hw/virtio/virtio-mmio.c, virtio_mmio_read without a
     * device): magic "virt", version 2 (the modern transport, as jvmm's NICs), vendor "QEMU", DeviceID 0, the rest
     * reads as zero and ignores stores.
     */
    static final MmioDevice EMPTY_VIRTIO_SLOT = new MmioDevice() {
        @Override
        public long read(long offset, int size) {
            if (size != 4) {
                return 0;
            }
            switch ((int) offset) {
                case 0x000:
                    return 0x7472_6976L;                    // "virt"
                case 0x004:
                    return 2;
                case 0x00C:
                    return 0x554D_4551L;                    // "QEMU"
                default:
                    return 0;
            }
        }

        @Override
        public void write(long offset, int size, long value, int requesterId) {
        }
    };

    // ---------------------------------------------------------------------------------- CPUs (fdt_add_cpu_nodes ...)

    private Arm64Cpu createCpu(int index) {
        if (system == null) {
            system = new Arm64System(context.memory(), config.machine().vcpus());
        }
        return system.cpu(index);
    }

    /**
     * The CPUs' firmware and their nodes: /cpus with cpu-map (one socket, one cluster, a core per vCPU, as QEMU's
     * default -smp N topology), /psci, /timer. PSCI answers HVC, and SMC unless SMC is UNDEFINED.
     */
    private Psci createFirmware() {
        int n = config.machine().vcpus();
        Fdt.Node cpus = fdt.root().add("cpus").cells("#size-cells", 0).cells("#address-cells", 1);
        Fdt.Node cluster = cpus.add("cpu-map").add("socket0").add("cluster0");
        int[] phandles = new int[n];
        for (int i = n - 1; i >= 0; i--) {
            phandles[i] = fdt.allocatePhandle();       // QEMU allocates from the last CPU down
        }
        for (int i = 0; i < n; i++) {
            cluster.add("core" + i).cells("cpu", phandles[i]);
        }
        for (int i = 0; i < n; i++) {
            Arm64Cpu cpu = system.cpu(i);
            Fdt.Node node = cpus.add("cpu@" + i)
                    .phandle(phandles[i])
                    .cells("reg", (int) (cpu.mpidr() & Psci.MPIDR_AFFINITY));
            if (n > 1) {
                node.strings("enable-method", "psci");     // virt.c: only with more than one CPU
            }
            node.strings("compatible", "arm,cortex-a57").strings("device_type", "cpu");
        }
        psciNode(fdt.root());
        int[] timer = new int[3 * TIMER_PPIS.length];
        for (int i = 0; i < TIMER_PPIS.length; i++) {
            timer[3 * i] = FDT_PPI;
            timer[3 * i + 1] = TIMER_PPIS[i];
            timer[3 * i + 2] = FDT_LEVEL_HIGH;
        }
        fdt.root().add("timer")
                .cells("interrupts", timer)
                .empty("always-on")
                .strings("compatible", "arm,armv8-timer", "arm,armv7-timer");
        Psci p = new Psci(system, ram, parts.control());
        system.setHypervisorCall(p);
        system.setSmcUndefined(parts.kernel().smc() == KernelConfig.Smc.UNDEFINED);
        system.setFatalListener(parts.fatal());
        return p;
    }

    /**
     * boot.c fdt_add_psci_node, for the board's tree and a user's alike: "A pre-existing /psci node might specify
     * function ID values that don't match QEMU's PSCI implementation. Delete the whole node and put our own in
     * instead." PSCI 1.0 compatibles, the hvc method, and the PSCI 0.1 function ids as PSCI 0.2's SMC64 ones.
     */
    static void psciNode(Fdt.Node root) {
        Fdt.Node old = root.child("psci");
        if (old != null) {
            root.remove(old);
        }
        root.add("psci")
                .strings("compatible", "arm,psci-1.0", "arm,psci-0.2", "arm,psci")
                .strings("method", "hvc")
                .cells("cpu_suspend", PSCI_0_1_CPU_SUSPEND)
                .cells("cpu_off", PSCI_0_1_CPU_OFF)
                .cells("cpu_on", PSCI_0_1_CPU_ON)
                .cells("migrate", PSCI_0_1_MIGRATE);
    }

    // ---------------------------------------------------------------------------------- /memory, /chosen

    private void createMemory() {
        fdt.root().add(String.format("memory@%x", ram.base()))
                .reg64(ram.base(), ram.size())
                .strings("device_type", "memory");
    }

    private void createChosen() {
        Fdt.Node chosen = fdt.root().add("chosen");
        if (!parts.kernel().append().isEmpty()) {
            chosen.strings("bootargs", parts.kernel().append());
        }
        chosen.strings("stdout-path", String.format("/pl011@%x", UART_BASE));
        // Entropy for the guest's RNG and KASLR, fresh at every boot (QEMU: qemu_fdt_randomize_seeds at reset).
        SecureRandom r = new SecureRandom();
        int[] rng = new int[8];
        for (int i = 0; i < rng.length; i++) {
            rng[i] = r.nextInt();
        }
        chosen.cells("rng-seed", rng);
        chosen.cells("kaslr-seed", r.nextInt(), r.nextInt());
    }

    /**
     * arm_load_dtb: the initrd's range in /chosen, {@code linux,initrd-end} exclusive, one cell each whatever the
     * root's {@code #address-cells} (QEMU 7.2's qemu_fdt_setprop_cell; Linux reads either width). An initrd ending
     * above 4 GiB, which QEMU would truncate, is refused.
     */
    static void chosenInitrd(Fdt tree, long start, long length) {
        long end = start + length;
        if ((end >>> 32) != 0) {
            throw new BootException(String.format("the initrd ends at 0x%x, above the 4 GiB its device tree "
                    + "properties (one cell, as QEMU writes them) can name", end));
        }
        Fdt.Node chosen = tree.root().child("chosen");
        if (chosen == null) {
            chosen = tree.root().add("chosen");
        }
        chosen.cells("linux,initrd-start", (int) start).cells("linux,initrd-end", (int) end);
    }

    /**
     * A user's tree as QEMU's arm_load_dtb edits it: every /memory node replaced by one for this RAM, /chosen created
     * if missing, bootargs set when there are any, and QEMU's own /psci node.
     */
    private Fdt userTree(UserDtb user) {
        Fdt t = user.copy();
        Fdt.Node root = t.root();
        for (Fdt.Node m : root.childrenNamed("memory")) {
            root.remove(m);
        }
        root.add(String.format("memory@%x", ram.base())).strings("device_type", "memory")
                .reg64(ram.base(), ram.size());
        Fdt.Node chosen = root.child("chosen");
        if (chosen == null) {
            chosen = root.add("chosen");
        }
        if (!parts.kernel().append().isEmpty()) {
            chosen.strings("bootargs", parts.kernel().append());
        }
        psciNode(root);
        return t;
    }

    // ---------------------------------------------------------------------------------- boot

    /**
     * Writes the plan into RAM, sets the boot CPU to the plan's entry and the others off until CPU_ON, connects the
     * UART to the console and wires each CPU's waker to its vCPU. After a reset the RAM already holds the previous
     * boot's ({@link #copyRamTo}): QEMU's reset keeps RAM and copies only its ROM blobs (kernel, tree, stub) again.
     */
    void load() {
        plan.load(machine.memory());
        system.invalidateCode();
        List<Vcpu> vcpus = machine.vcpus();
        for (int i = 0; i < vcpus.size(); i++) {
            Arm64Cpu cpu = system.cpu(i);
            Vcpu v = vcpus.get(i);
            cpu.setWaker(v::kick);
            if (i == 0) {
                cpu.setBootState(plan.pc(), plan.x0(), 0, 0, 0);
            } else {
                cpu.startPoweredOff();
            }
        }
        uart.connect();
    }

    /** Copies this boot's RAM into {@code next}'s; this machine must be paused. */
    void copyRamTo(VirtBoard next) {
        var from = machine.memory();
        var to = next.machine.memory();
        long size = Math.min(from.size(), to.size());
        byte[] buf = new byte[1 << 20];
        for (long off = 0; off < size; off += buf.length) {
            int n = (int) Math.min(buf.length, size - off);
            from.read(ram.base() + off, buf, 0, n);
            to.write(ram.base() + off, buf, 0, n);
        }
    }

    /** Starts the devices and the vCPUs, with the counter at 0 now. */
    void start() {
        system.setCounterEpochNanos(System.nanoTime());
        machine.start();
    }

    List<String> stop() {
        return machine.stop();
    }

    @Override
    public void close() {
        stop();
    }

    // ---------------------------------------------------------------------------------- accessors

    Machine machine() {
        return machine;
    }

    VmConfig config() {
        return config;
    }

    GicV3 gic() {
        return gic;
    }

    List<VirtioNetDevice> nics() {
        return nics;
    }

    Arm64System system() {
        return system;
    }

    Psci psci() {
        return psci;
    }

    byte[] deviceTreeBlob() {
        return dtb.clone();
    }

    BootLoader.Plan plan() {
        return plan;
    }

    /** A user's {@code --dtb}: its tree and the room QEMU gives it (load_device_tree: (size + 10000) * 2). */
    record UserDtb(byte[] blob, Fdt tree) {
        static UserDtb parse(String name, byte[] blob) {
            try {
                return new UserDtb(blob.clone(), Fdt.parse(blob));
            } catch (Fdt.FormatException e) {
                throw new BootException(name + ": not a device tree blob: " + e.getMessage());
            }
        }

        int size() {
            return (blob.length + 10_000) * 2;
        }

        Fdt copy() {
            try {
                return Fdt.parse(blob);
            } catch (Fdt.FormatException e) {
                throw new IllegalStateException(e);         // parsed once already
            }
        }
    }
}
