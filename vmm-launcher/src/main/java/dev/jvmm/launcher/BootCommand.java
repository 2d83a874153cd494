package dev.jvmm.launcher;

import dev.jvmm.core.config.MachineConfig;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.RamRegion;
import dev.jvmm.guest.ToyGuestConfig;
import dev.jvmm.virt.KernelConfig;
import dev.jvmm.virt.SerialConsole;
import dev.jvmm.virt.VirtMachine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code vmm boot --kernel FILE [CONFIG]}: boots a kernel built for QEMU's {@code virt} board, with QEMU's flags
 * ({@code -kernel}, {@code -append}, {@code -initrd}, {@code -smp}, {@code -m}, {@code -dtb}, {@code -serial},
 * {@code -no-reboot}). The guest's console is standard output (and standard input feeds it); a flag overrides its key
 * of CONFIG's {@code machine} and {@code guest} sections.
 */
@Command(name = "boot", mixinStandardHelpOptions = true,
        description = {"Boot a kernel (ELF, arm64 Image or raw binary) on QEMU's virt board: GICv3 with ITS, PL011 "
                + "console, PSCI, virtio-net NICs from CONFIG.",
            "The guest's console is standard output; PSCI SYSTEM_OFF ends the run (exit status 0), a guest that "
                + "faults beyond its vectors ends it with status 1, Ctrl-C stops it."})
final class BootCommand extends VmmCommand {
    /** QEMU's default RAM for the virt board. */
    static final long DEFAULT_MEMORY = 128L << 20;

    @Parameters(index = "0", arity = "0..1", paramLabel = "CONFIG",
            description = "A machine configuration (YAML) for the NICs, the GIC and the keys the flags stand for.")
    Path config;

    @Option(names = "--kernel", paramLabel = "FILE", description = "The kernel (QEMU's -kernel); guest.kernel.")
    Path kernel;

    @Option(names = "--append", paramLabel = "ARGS", description = "The kernel command line (-append); guest.append.")
    String append;

    @Option(names = "--initrd", paramLabel = "FILE",
            description = "An initrd (initramfs) for a Linux kernel (-initrd); guest.initrd.")
    Path initrd;

    @Option(names = "--smp", paramLabel = "N", description = "vCPUs (-smp; default 1); machine.vcpus.")
    Integer smp;

    @Option(names = "--memory", paramLabel = "SIZE", converter = Converters.SizeConverter.class,
            description = "RAM at 0x40000000 (-m; default 128M); machine.memory.")
    Long memory;

    @Option(names = "--dtb", paramLabel = "FILE", description = "A device tree to pass instead of the board's (-dtb); guest.dtb.")
    Path dtb;

    @Option(names = "--serial", paramLabel = "stdio|none|file:PATH",
            description = "Where the console goes (-serial; default stdio); guest.serial.")
    String serial;

    @Option(names = "--no-reboot", description = "A guest reset ends the run instead of restarting it (-no-reboot).")
    boolean noReboot;

    @Option(names = "--smc", paramLabel = "psci|undefined",
            description = "SMC at EL1: a PSCI/SMCCC call like HVC (default, as KVM), or UNDEFINED as on QEMU's virt; guest.smc.")
    String smc;

    @Option(names = "--duration", paramLabel = "D", converter = Converters.DurationConverter.class,
            description = "Stop after this long (10s, 2m, ...); default: until the guest powers off or Ctrl-C.")
    Duration duration;

    @Override
    public Integer call() throws Exception {
        VmConfig cfg = config();
        KernelConfig k = cfg.get(KernelConfig.SECTION);
        SerialConsole console;
        try {
            console = SerialConsole.open(k.serial());
        } catch (IOException e) {
            throw new Main.UsageException("--serial " + k.serial() + ": " + e.getMessage());
        }
        VirtMachine vm = BoardRun.build(cfg, console);
        try {
            return BoardRun.run(vm, out(), err(),
                    new BoardRun.Options(duration, null, false, false, Duration.ofSeconds(20)), null);
        } finally {
            console.close();
        }
    }

    /** CONFIG (or QEMU's defaults: one vCPU, 128 MiB) with the flags applied, validated. */
    VmConfig config() {
        VmConfig cfg;
        if (config != null) {
            cfg = BoardRun.bootLoader().load(config);
            if (cfg.find(ToyGuestConfig.SECTION).isPresent()) {
                throw new Main.UsageException(config + ": its guest is the Java toy guest (guest.program); vmm boot "
                        + "boots a kernel: use 'vmm run " + config + "', or write guest.kernel");
            }
        } else {
            cfg = VmConfig.builder().memorySize(DEFAULT_MEMORY).with(KernelConfig.SECTION, KernelConfig.defaults())
                    .build();
        }
        MachineConfig m = cfg.machine();
        int maxSmp = MemoryMap.maxVcpus(1);
        if (smp != null && (smp < 1 || smp > maxSmp)) {
            throw new Main.UsageException("--smp: must be between 1 and " + maxSmp + ", got " + smp);
        }
        if (serial != null && !SerialConsole.isValidSpec(serial)) {
            throw new Main.UsageException("--serial: must be stdio, none or file:PATH, got '" + serial + "'");
        }
        if (smp != null) {
            m = m.withVcpus(smp);
        }
        if (memory != null) {
            if (memory <= 0 || memory % RamRegion.PAGE_SIZE != 0) {
                throw new Main.UsageException("--memory: must be a positive multiple of 4 KiB, got " + memory);
            }
            m = new MachineConfig(m.vcpus(), List.of(new RamRegion(MemoryMap.RAM_BASE, memory)), m.strictMmio());
        }
        KernelConfig k = cfg.find(KernelConfig.SECTION).orElse(KernelConfig.defaults());
        if (kernel != null) {
            k = k.withKernel(BoardRun.absolute(kernel).toString());
        }
        if (append != null) {
            k = k.withAppend(append);
        }
        if (initrd != null) {
            k = k.withInitrd(BoardRun.absolute(initrd).toString());
        }
        if (dtb != null) {
            k = k.withDtb(BoardRun.absolute(dtb).toString());
        }
        if (serial != null) {
            k = k.withSerial(serial);
        }
        if (noReboot) {
            k = k.withNoReboot(true);
        }
        if (smc != null) {
            if (!smc.equals("psci") && !smc.equals("undefined")) {
                throw new Main.UsageException("--smc: must be psci or undefined, got '" + smc + "'");
            }
            k = k.withSmc(smc.equals("psci") ? KernelConfig.Smc.PSCI : KernelConfig.Smc.UNDEFINED);
        }
        if (k.kernel() == null) {
            throw new Main.UsageException("no kernel: give --kernel FILE (or guest.kernel in CONFIG)");
        }
        return cfg.withMachine(m).with(KernelConfig.SECTION, k).validate();
    }
}
