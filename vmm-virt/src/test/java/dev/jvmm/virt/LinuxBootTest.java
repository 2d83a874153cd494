package dev.jvmm.virt;

import dev.jvmm.core.config.VmConfig;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 16's promise with a real kernel: Debian bookworm's arm64 Linux (guests/linux/fetch-kernel.sh puts it in the
 * cache) boots on the virt board with two vCPUs and guests/linux/initramfs.cpio, runs the init in userspace and powers
 * the machine off through PSCI SYSTEM_OFF. Skipped when the kernel is not in the cache (CI without network). With
 * QEMU installed, the init's facts (every line of it but the time) must be QEMU's for the same files.
 *
 * <p>The kernel is {@code $JVMM_LINUX_KERNEL}, else {@code vmlinuz} in {@code $JVMM_LINUX_CACHE}, else in
 * {@code ~/.cache/jvmm/linux} (fetch-kernel.sh's folders).
 */
class LinuxBootTest {
    static final String APPEND = "console=ttyAMA0 earlycon=pl011,0x09000000 panic=-1";
    static final Duration LIMIT = Duration.ofMinutes(6);

    static Path kernel() {
        String file = System.getenv("JVMM_LINUX_KERNEL");
        if (file != null && !file.isEmpty()) {
            return Path.of(file);
        }
        String cache = System.getenv("JVMM_LINUX_CACHE");
        if (cache == null || cache.isEmpty()) {
            String xdg = System.getenv("XDG_CACHE_HOME");
            Path base = xdg == null || xdg.isEmpty() ? Path.of(System.getProperty("user.home"), ".cache")
                    : Path.of(xdg);
            return base.resolve("jvmm/linux/vmlinuz");
        }
        return Path.of(cache, "vmlinuz");
    }

    @Test
    void debiansKernelBootsToItsInitAndPowersOff() throws Exception {
        Path kernel = kernel();
        assumeTrue(Files.isRegularFile(kernel), kernel + " is not there: run guests/linux/fetch-kernel.sh");
        Path initrd = GuestCase.GUESTS.resolve("linux/initramfs.cpio");
        VmConfig c = VmConfig.builder().vcpus(2).memorySize(512L << 20)
                .with(KernelConfig.SECTION, KernelConfig.of(kernel).withInitrd(initrd.toString()).withAppend(APPEND)
                        .withNoReboot(true)).build();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SerialConsole console = SerialConsole.of(new ByteArrayInputStream(new byte[0]), out);
        VirtMachine.Outcome outcome;
        long retired = 0;
        long t0 = System.nanoTime();
        try (VirtMachine vm = VirtMachine.builder(c).name("linux").console(console).build()) {
            vm.start();
            outcome = vm.awaitEnd(LIMIT);
            for (int i = 0; i < vm.cpus().cpuCount(); i++) {
                retired += vm.cpus().cpu(i).instructionsRetired();
            }
        } finally {
            console.close();
        }
        long millis = (System.nanoTime() - t0) / 1_000_000;
        String text = out.toString(StandardCharsets.UTF_8).replace("\r", "");
        List<String> lines = text.lines().toList();
        String tail = String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        System.out.printf("LinuxBootTest: %s booted to SYSTEM_OFF in %.1f s wall, %,d instructions retired "
                + "(2 vCPUs); init's line: %s%n", kernel.toRealPath().getFileName(), millis / 1000.0, retired,
                lines.stream().filter(l -> l.startsWith("jvmm-init: CLOCK_BOOTTIME ")).findFirst().orElse("none"));
        assertThat(text).as("the kernel reached userspace; the console's last lines:\n%s", tail)
                .contains("Run /init as init process")
                .contains("jvmm-init: hello from userspace")
                .contains("jvmm-init: sysname Linux")
                .contains("jvmm-init: machine aarch64")
                .contains("jvmm-init: cpus online 2")
                .contains("reboot: Power down");
        assertThat(text).as("no oops, warning or panic on the way; the console's last lines:\n%s", tail)
                .doesNotContain("Internal error:").doesNotContain("WARNING:").doesNotContain("Kernel panic")
                .doesNotContain("BUG:");
        assertThat(outcome.kind()).as("%s; the console's last lines:\n%s", outcome, tail)
                .isEqualTo(VirtMachine.Outcome.Kind.POWER_OFF);
        if (GuestCase.qemuInstalled()) {
            assertThat(initFacts(text)).as("the init's facts on jvmm and on QEMU")
                    .isEqualTo(initFacts(onQemu(kernel, initrd, 2, "512M")));
        }
    }

    /** The init's lines, but the one with a time. */
    static List<String> initFacts(String console) {
        return console.lines().filter(l -> l.startsWith("jvmm-init: "))
                .filter(l -> !l.startsWith("jvmm-init: CLOCK_BOOTTIME ")).toList();
    }

    static String onQemu(Path kernel, Path initrd, int smp, String memory) throws Exception {
        Process p = new ProcessBuilder("qemu-system-aarch64", "-M", "virt,gic-version=3", "-cpu", "cortex-a57",
                "-nographic", "-no-reboot", "-smp", String.valueOf(smp), "-m", memory, "-kernel", kernel.toString(),
                "-initrd", initrd.toString(), "-append", APPEND).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.PIPE).start();
        p.getOutputStream().close();
        java.util.concurrent.CompletableFuture<byte[]> out = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return p.getInputStream().readAllBytes();
            } catch (java.io.IOException e) {
                return new byte[0];
            }
        });
        if (!p.waitFor(3, java.util.concurrent.TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("QEMU did not power off within 3 minutes");
        }
        return new String(out.get(), StandardCharsets.UTF_8).replace("\r", "");
    }
}
