package dev.jvmm.launcher;

import dev.jvmm.core.config.VmConfig;
import dev.jvmm.virt.KernelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.jvmm.launcher.CommandLineTest.vmm;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code vmm boot} and {@code vmm run} of a kernel as a user meets them: QEMU's flags, the guest's console, exit
 * statuses, and one message (never a stack trace) for a kernel that cannot be booted.
 */
class BootCommandTest {
    static final Path GUESTS = Path.of("..", "guests").toAbsolutePath().normalize();

    static Path raw(Path dir, String name, int... insns) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(insns.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i : insns) {
            b.putInt(i);
        }
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    @Test
    void bootPrintsTheGuestsConsoleAndEndsWithItsPowerOff(@TempDir Path dir) throws Exception {
        Path console = dir.resolve("console.txt");
        CommandLineTest.Result r = vmm("boot", "--kernel", GUESTS.resolve("boot-info/boot-info.img").toString(),
                "--smp", "2", "--append", "first=1 second=two flag", "--serial", "file:" + console);
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(Files.readString(console).replace("\r", ""))
                .isEqualTo(Files.readString(GUESTS.resolve("boot-info/boot-info-img.expected")));
    }

    @Test
    void kernelsThatCannotBeBootedExitTwoWithOneMessage(@TempDir Path dir) throws Exception {
        Path empty = dir.resolve("empty.bin");
        Files.write(empty, new byte[0]);
        Path truncated = dir.resolve("truncated.elf");
        byte[] elf = Files.readAllBytes(GUESTS.resolve("boot-info/boot-info.elf"));
        Files.write(truncated, java.util.Arrays.copyOf(elf, 200));
        Path huge = dir.resolve("huge.cpio");                // sparse: never read, its size alone is refused
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength((128L << 20) + 1);
        }
        Path nineMib = dir.resolve("nine.cpio");
        Files.write(nineMib, new byte[9 << 20]);
        String img = GUESTS.resolve("boot-info/boot-info.img").toString();
        String[][] cases = {
            {"--kernel", dir.resolve("missing.elf").toString()}, {"no such kernel file"},
            {"--kernel", empty.toString()}, {"the kernel file is empty"},
            {"--kernel", truncated.toString()}, {"truncated ELF"},
            {"--kernel", GUESTS.resolve("boot-info/boot-info.elf").toString(), "--memory", "1M"}, {"is outside RAM"},
            {"--kernel", GUESTS.resolve("boot-info/boot-info.img").toString(), "--memory", "64K"},
            {"kernel is too large to fit in RAM"},
            {"--smp", "1"}, {"no kernel: give --kernel FILE"},
            {"--kernel", empty.toString(), "--serial", "tty"}, {"--serial: must be stdio, none or file:PATH"},
            {"--kernel", img, "--initrd", dir.resolve("missing.cpio").toString()}, {"no such initrd file"},
            {"--kernel", img, "--initrd", dir.toString()}, {"the initrd is a directory"},
            {"--kernel", img, "--initrd", huge.toString()}, {"bytes) is too big to fit into RAM (134217728 bytes)"},
            {"--kernel", img, "--initrd", nineMib.toString(), "--memory", "16M"},
            {"the initrd (9437184 bytes) is too big to fit into RAM after the kernel (it would go at 0x40800000"},
        };
        for (int i = 0; i < cases.length; i += 2) {
            String[] args = new String[cases[i].length + 3];
            args[0] = "boot";
            System.arraycopy(cases[i], 0, args, 1, cases[i].length);
            args[args.length - 2] = "--duration";
            args[args.length - 1] = "5s";
            CommandLineTest.Result r = vmm(args);
            assertThat(r.status()).as("vmm %s: %s", String.join(" ", args), r.err()).isEqualTo(2);
            assertThat(r.err().lines()).as("one message").hasSize(1);
            assertThat(r.err()).startsWith("vmm: ").contains(cases[i + 1][0]).doesNotContain("\tat ")
                    .doesNotContain("Exception");
        }
    }

    /** A guest whose every exception faults again: one message naming the CPU, PC and syndrome, status 1. */
    @Test
    void aGuestThatFaultsBeyondItsVectorsExitsOne(@TempDir Path dir) throws Exception {
        Path udf = raw(dir, "udf.bin", 0);
        CommandLineTest.Result r = vmm("boot", "--kernel", udf.toString(), "--serial", "none", "--duration", "30s");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err().strip()).startsWith("vmm: the guest stopped: vCPU 0: every exception faults again")
                .doesNotContain("\n");
    }

    @Test
    void resetsRestartTheGuestUnlessNoReboot(@TempDir Path dir) throws Exception {
        Path reset = raw(dir, "reset.bin", 0xd2a82001, 0xf9400022, 0x91000442, 0xf9000022, 0xf1000c5f, 0x5400008a,
                0xd2b08000, 0xf2800120, 0xd4000002, 0xd2b08000, 0xf2800100, 0xd4000002, 0x14000000);
        CommandLineTest.Result again = vmm("boot", "--kernel", reset.toString(), "--serial", "none", "--duration",
                "30s");
        assertThat(again.status()).as("reset twice, then SYSTEM_OFF: %s", again.err()).isZero();
        CommandLineTest.Result once = vmm("boot", "--kernel", reset.toString(), "--serial", "none", "--no-reboot",
                "--duration", "30s");
        assertThat(once.status()).isZero();
        assertThat(once.err().strip()).isEqualTo("vmm: the guest asked for a reset (PSCI SYSTEM_RESET on vCPU 0); "
                + "not rebooting (no-reboot)");
    }

    /** CONFIG's guest section with the flags over it: guest.kernel relative to the file, --append replacing append. */
    @Test
    void flagsOverrideTheConfigsKeys(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("k.yaml");
        Files.copy(GUESTS.resolve("boot-info/boot-info.elf"), dir.resolve("k.elf"));
        Files.writeString(cfg, "machine:\n  vcpus: 2\n  memory: 256M\nguest:\n  kernel: k.elf\n  append: from-file\n"
                + "  smc: undefined\n");
        BootCommand b = new BootCommand();
        picocli.CommandLine cl = new picocli.CommandLine(b);
        cl.parseArgs(cfg.toString(), "--append", "from-flag", "--smp", "1");
        VmConfig c = b.config();
        KernelConfig k = c.get(KernelConfig.SECTION);
        assertThat(k.kernelPath(c)).isEqualTo(dir.resolve("k.elf").toAbsolutePath().normalize());
        assertThat(k.append()).isEqualTo("from-flag");
        assertThat(k.smc()).isEqualTo(KernelConfig.Smc.UNDEFINED);
        assertThat(c.machine().vcpus()).isEqualTo(1);
        assertThat(c.machine().memory().get(0).size()).isEqualTo(256L << 20);
        CommandLineTest.Result toy = vmm("boot", "../configs/toy-guest.yaml");
        assertThat(toy.status()).isEqualTo(2);
        assertThat(toy.err()).contains("its guest is the Java toy guest");
    }

    /** The shipped configuration of the compiled guest is valid, and check says what it boots. */
    @Test
    void theShippedArm64ConfigurationChecks() {
        CommandLineTest.Result r = vmm("check", TestSupport.configs().resolve("arm64-guest.yaml").toString());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("net0: udp on 127.0.0.1:5001, virtio-mmio slot 31 at 0x0a003e00, DeviceID 31")
                .contains("guest kernel " + GUESTS.resolve("udp-sink/udp-sink.elf") + " on the virt board, bootargs "
                        + "\"interval=1\"");
    }

    /** {@code vmm run} of a kernel configuration: the guest's console lines, the status lines and the summary. */
    @Test
    void runShowsTheGuestsCountersBesideTheHosts(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("sink.yaml");
        Files.writeString(cfg, "nics:\n  - listen: 127.0.0.1:0\n    guest-port: 5001\n    slot: 31\n"
                + "guest:\n  kernel: " + GUESTS.resolve("udp-sink/udp-sink.elf") + "\n  append: interval=1\n");
        CommandLineTest.Result r = vmm("run", cfg.toString(), "--traffic", "1m", "--duration", "3s");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("guest: udp-sink: 1 NIC").contains("guest: [1 s] nic 0: datagrams")
                .contains("| net0 in ").contains("summary after").contains("built-in sender:")
                .contains("the guest's last counters:");
        // Where any datagram was lost, as `vmm run` of the toy guest says it: 1 Mbit/s is far below what the guest takes.
        assertThat(r.out()).containsPattern("loss: kernel (\\d+|\\?), device 0, guest 0: none");
        assertThat(r.err()).contains("net0: udp 127.0.0.1:");
    }
}
