package dev.jvmm.virt;

import dev.jvmm.core.config.ConfigException;
import dev.jvmm.core.config.ConfigLoader;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.gic.GicConfig;
import dev.jvmm.net.NicConfig;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The {@code guest} section of a board machine (selected by {@code kernel}) as a file gives it, every error naming
 * the file, the line and the key; and the device tree of a machine with two ITSes, which QEMU's virt cannot build.
 */
class KernelConfigTest {
    static final ConfigLoader LOADER = VirtMachine.configLoader();

    @Test
    void everyKeyIsReadAndPathsStartAtTheFilesFolder() {
        VmConfig c = LOADER.parse("machine: {vcpus: 2, memory: 256M}\nguest:\n  kernel: ../k.elf\n  append: a=1 b\n"
                + "  initrd: initramfs.cpio\n  dtb: t.dtb\n  serial: file:/tmp/console\n  no-reboot: true\n"
                + "  smc: undefined\n",
                "/etc/jvmm/m.yaml");
        KernelConfig k = c.get(KernelConfig.SECTION);
        assertThat(k.kernelPath(c)).isEqualTo(Path.of("/etc/k.elf"));
        assertThat(k.dtbPath(c)).isEqualTo(Path.of("/etc/jvmm/t.dtb"));
        assertThat(k.initrdPath(c)).isEqualTo(Path.of("/etc/jvmm/initramfs.cpio"));
        assertThat(k.append()).isEqualTo("a=1 b");
        assertThat(k.serial()).isEqualTo("file:/tmp/console");
        assertThat(k.noReboot()).isTrue();
        assertThat(k.smc()).isEqualTo(KernelConfig.Smc.UNDEFINED);
        VmConfig d = LOADER.parse("guest:\n  kernel: /k.elf\n", "d.yaml");
        assertThat(d.get(KernelConfig.SECTION)).isEqualTo(KernelConfig.of(Path.of("/k.elf")));
        assertThat(d.get(KernelConfig.SECTION).initrdPath(d)).as("no initrd unless given").isNull();
    }

    @Test
    void mistakesNameTheFileTheLineAndTheKey() {
        assertThatThrownBy(() -> LOADER.parse("guest:\n  kernel: k.elf\n  serial: tty\n", "m.yaml"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("m.yaml:3: guest.serial: must be stdio, none or file:PATH, got 'tty'");
        assertThatThrownBy(() -> LOADER.parse("guest:\n  kernel: k.elf\n  smc: maybe\n", "m.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("m.yaml:3: guest.smc: must be one of psci, "
                        + "undefined");
        assertThatThrownBy(() -> LOADER.parse("guest:\n  kernel: k.elf\n  bios: b.bin\n", "m.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("m.yaml:3: guest.bios: unknown key");
        assertThatThrownBy(() -> LOADER.parse("guest:\n  kernel: k.elf\n  initrd: ''\n", "m.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("m.yaml:3: guest.initrd: must name an "
                        + "initrd file");
        assertThatThrownBy(() -> LOADER.parse("machine:\n  vcpus: 0\nguest:\n  kernel: k.elf\n", "m.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("m.yaml:2: machine.vcpus: the virt board");
        assertThatThrownBy(() -> LOADER.parse("machine:\n  memory: [{base: 0x40000000, size: 64M}, "
                + "{base: 0x80000000, size: 64M}]\nguest:\n  kernel: k.elf\n", "m.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("one RAM region at 0x40000000");
        assertThatThrownBy(() -> LOADER.parse("machine:\n  vcpus: 124\nguest:\n  kernel: k.elf\n", "m.yaml"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("machine.vcpus: must be between");
    }

    /**
     * jvmm's GIC takes up to four ITSes (the second after the last redistributor): one node each, the redistributor
     * region ending at the last redistributor, and each NIC's msi-parent naming its own ITS and DeviceID.
     */
    @Test
    void eachItsHasItsNodeAndEachNicNamesItsOwn() throws Exception {
        List<NicConfig> nics = List.of(
                NicConfig.builder(0).listen(new java.net.InetSocketAddress("127.0.0.1", 0)).guestPort(5001).build(),
                NicConfig.builder(1).listen(new java.net.InetSocketAddress("127.0.0.1", 0)).guestPort(5001).its(1)
                        .deviceId(7).build());
        VmConfig c = VmConfig.builder().vcpus(2).memorySize(64L << 20)
                .with(GicConfig.SECTION, GicConfig.defaults().withItsCount(2)).with(NicConfig.SECTION, nics)
                .with(KernelConfig.SECTION, KernelConfig.of(GuestCase.GUESTS.resolve("boot-info/boot-info.elf")))
                .build();
        byte[] blob;
        try (VirtMachine vm = VirtMachine.builder(c).console(SerialConsole.none()).build()) {
            blob = vm.deviceTree();
        }
        Fdt t = Fdt.parse(blob);
        Fdt.Node intc = t.node("/intc@8000000");
        assertThat(intc.childrenNamed("its")).extracting(n -> n.name)
                .containsExactly("its@8080000", "its@80e0000");
        java.nio.ByteBuffer reg = java.nio.ByteBuffer.wrap(intc.get("reg"));
        assertThat(reg.getLong(24)).as("the redistributor region: two, not QEMU's 123").isEqualTo(2 * 0x2_0000L);
        int its1 = java.nio.ByteBuffer.wrap(t.node("/intc@8000000/its@80e0000").get("phandle")).getInt();
        java.nio.ByteBuffer parent = java.nio.ByteBuffer.wrap(t.node("/virtio_mmio@a000200").get("msi-parent"));
        assertThat(parent.getInt(0)).isEqualTo(its1);
        assertThat(parent.getInt(4)).as("DeviceID").isEqualTo(7);
        assertThat(new String(t.node("/chosen").get("stdout-path"), StandardCharsets.US_ASCII))
                .isEqualTo("/pl011@9000000\0");
    }
}
