package dev.jvmm.virt;

import dev.jvmm.core.config.ConfigNode;
import dev.jvmm.core.config.ConfigSection;
import dev.jvmm.core.config.ConfigSource;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.RamRegion;
import dev.jvmm.gic.GicConfig;

import java.nio.file.Path;
import java.util.List;

/**
 * The {@code guest} section when the guest is a compiled kernel that the {@code virt} board boots, owned by vmm-virt
 * and selected by its {@code kernel} key (see {@link ConfigSection}: {@code program} selects the Java toy guest
 * instead). Each key is one of QEMU's options:
 *
 * <pre>
 * guest:
 *   kernel: ../guests/udp-sink/udp-sink.elf   # -kernel: an ELF, an arm64 Image or a raw binary (gzip allowed);
 *                                             #   relative paths start at the configuration file's folder
 *   append: "seconds=10"                      # -append: /chosen/bootargs
 *   initrd: initramfs.cpio                    # -initrd: loaded in RAM for a Linux Image or raw binary (never for
 *                                             #   an ELF, as QEMU), its range in /chosen linux,initrd-start/-end
 *   dtb: my.dtb                               # -dtb: a device tree to pass instead of the board's (QEMU still sets
 *                                             #   its memory node and bootargs)
 *   serial: stdio                             # -serial stdio | none | file:PATH
 *   no-reboot: false                          # -no-reboot: a guest reset ends the run instead of restarting
 *   smc: psci                                 # psci: SMC is a PSCI/SMCCC call like HVC (KVM); undefined: SMC is
 *                                             #   UNDEFINED at EL1 (QEMU's virt without EL3)
 * </pre>
 *
 * @param kernel   the kernel file as written (null when a command line gives it)
 * @param append   the kernel command line ("" for none)
 * @param initrd   an initrd (initramfs) file as written, or null for none
 * @param dtb      a device tree file as written, or null for the board's own
 * @param serial   {@code stdio}, {@code none} or {@code file:PATH}
 * @param noReboot whether a guest's SYSTEM_RESET ends the run
 * @param smc      what SMC does at EL1
 */
public record KernelConfig(String kernel, String append, String initrd, String dtb, String serial, boolean noReboot,
                           Smc smc) {

    /** SMC at EL1: a call like HVC, or UNDEFINED. */
    public enum Smc {
        /** SMC is served like HVC (KVM handles SMCCC calls on either conduit): the default. */
        PSCI,
        /** SMC is UNDEFINED at EL1, ESR 0x02000000, as on QEMU's virt (no EL3, PSCI conduit HVC). */
        UNDEFINED;

        public String configName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The {@code guest} section of a board machine; selected by {@code kernel}. */
    public static final ConfigSection<KernelConfig> SECTION = ConfigSection.selectedBy("guest", "kernel",
            KernelConfig::defaults, KernelConfig::parse, KernelConfig::validate);

    public KernelConfig {
        append = append == null ? "" : append;
        serial = serial == null ? "stdio" : serial;
        smc = smc == null ? Smc.PSCI : smc;
    }

    /** No kernel yet (a command line gives it), no bootargs, the board's tree, serial on stdio, SMC as a call. */
    public static KernelConfig defaults() {
        return new KernelConfig(null, "", null, null, "stdio", false, Smc.PSCI);
    }

    /** A kernel with the defaults of every other key. */
    public static KernelConfig of(Path kernel) {
        return defaults().withKernel(kernel.toString());
    }

    public KernelConfig withKernel(String k) {
        return new KernelConfig(k, append, initrd, dtb, serial, noReboot, smc);
    }

    public KernelConfig withAppend(String a) {
        return new KernelConfig(kernel, a, initrd, dtb, serial, noReboot, smc);
    }

    public KernelConfig withInitrd(String i) {
        return new KernelConfig(kernel, append, i, dtb, serial, noReboot, smc);
    }

    public KernelConfig withDtb(String d) {
        return new KernelConfig(kernel, append, initrd, d, serial, noReboot, smc);
    }

    public KernelConfig withSerial(String s) {
        return new KernelConfig(kernel, append, initrd, dtb, s, noReboot, smc);
    }

    public KernelConfig withNoReboot(boolean n) {
        return new KernelConfig(kernel, append, initrd, dtb, serial, n, smc);
    }

    public KernelConfig withSmc(Smc s) {
        return new KernelConfig(kernel, append, initrd, dtb, serial, noReboot, s);
    }

    /** The kernel file: relative to the configuration file's folder when the configuration came from a file. */
    public Path kernelPath(VmConfig config) {
        return resolve(config, kernel);
    }

    /** The initrd file, or null. */
    public Path initrdPath(VmConfig config) {
        return initrd == null ? null : resolve(config, initrd);
    }

    /** The device tree file, or null. */
    public Path dtbPath(VmConfig config) {
        return dtb == null ? null : resolve(config, dtb);
    }

    private static Path resolve(VmConfig config, String file) {
        Path p = Path.of(file);
        String from = config.source().file();
        if (p.isAbsolute() || from == null) {
            return p;
        }
        Path dir = Path.of(from).toAbsolutePath().getParent();
        return dir == null ? p : dir.resolve(p).normalize();
    }

    static KernelConfig parse(ConfigNode s) {
        KernelConfig d = defaults();
        String kernel = s.string("kernel", null);
        if (kernel != null && kernel.isEmpty()) {
            throw s.error("kernel", "must name a kernel file");
        }
        String append = s.string("append", d.append());
        String initrd = s.string("initrd", null);
        if (initrd != null && initrd.isEmpty()) {
            throw s.error("initrd", "must name an initrd file (leave the key out for none)");
        }
        String dtb = s.string("dtb", null);
        String serial = s.value("serial", d.serial(), v -> {
            if (!SerialConsole.isValidSpec(v)) {
                throw new IllegalArgumentException("must be stdio, none or file:PATH, got '" + v + "'");
            }
            return v;
        });
        boolean noReboot = s.bool("no-reboot", d.noReboot());
        String smc = s.choice("smc", "psci", "psci", "undefined");
        return new KernelConfig(kernel, append, initrd, dtb, serial, noReboot,
                Smc.valueOf(smc.toUpperCase(java.util.Locale.ROOT)));
    }

    /**
     * Checks the section and what the board needs of the rest: at least one vCPU, and one RAM region at 0x4000_0000
     * (QEMU's virt has one). Whether the kernel exists is the board's to find out when it boots.
     */
    static void validate(KernelConfig k, VmConfig config) {
        ConfigSource s = config.source();
        if (!SerialConsole.isValidSpec(k.serial())) {
            throw s.error("guest.serial", "must be stdio, none or file:PATH, got '" + k.serial() + "'");
        }
        if (config.machine().vcpus() < 1) {
            throw s.error("machine.vcpus", "the virt board boots its kernel on vCPU 0: at least one vCPU is needed");
        }
        int max = MemoryMap.maxVcpus(config.get(GicConfig.SECTION).itsCount());
        if (config.machine().vcpus() > max) {
            throw s.error("machine.vcpus", "must be between 1 and " + max + " (the redistributors of QEMU's virt "
                    + "memory map), got " + config.machine().vcpus());
        }
        List<RamRegion> ram = config.machine().memory();
        if (ram.size() != 1 || ram.get(0).base() != MemoryMap.RAM_BASE) {
            throw s.error("machine.memory", "the virt board has one RAM region at 0x40000000 (give memory as a size)");
        }
    }
}
