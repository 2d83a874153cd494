package dev.jvmm.virt;

import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.config.ConfigValues;
import dev.jvmm.core.testing.HostTools;
import dev.jvmm.net.MacAddress;
import dev.jvmm.net.NicConfig;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * One recorded run of a guest of {@code guests/} ({@code NAME/CASE.case}, README.md "Test cases"): the kernel, its
 * -smp, -m, -append, console input and NICs, how long it may take, and how jvmm's console compares with the expected
 * one. Runs it on jvmm's board ({@link #runOnJvmm}) and on QEMU ({@link #runOnQemu}, through guests/run-qemu.sh).
 *
 * @param compare {@code exact}, {@code arch} or {@code info}
 */
record GuestCase(Path file, String name, Path kernel, int smp, String memory, String append, Path input, int nics,
                 int timeoutSeconds, String compare) {

    static final Path GUESTS = Path.of("..", "guests").toAbsolutePath().normalize();

    /** Every {@code guests/*}{@code /*.case}, by name. */
    static List<GuestCase> all() throws IOException {
        List<GuestCase> out = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(GUESTS)) {
            for (Path d : dirs.sorted().toList()) {
                if (!Files.isDirectory(d)) {
                    continue;
                }
                try (Stream<Path> files = Files.list(d)) {
                    for (Path f : files.sorted().toList()) {
                        if (f.getFileName().toString().endsWith(".case")) {
                            out.add(read(f));
                        }
                    }
                }
            }
        }
        return out;
    }

    static GuestCase named(String name) throws IOException {
        for (GuestCase c : all()) {
            if (c.name().equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException("no guests case " + name);
    }

    static GuestCase read(Path f) throws IOException {
        Map<String, String> kv = new LinkedHashMap<>();
        for (String line : Files.readAllLines(f)) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            int eq = l.indexOf('=');
            kv.put(l.substring(0, eq), l.substring(eq + 1));
        }
        Path dir = f.getParent();
        String name = f.getFileName().toString().replaceFirst("\\.case$", "");
        return new GuestCase(f, name, dir.resolve(kv.get("kernel")), Integer.parseInt(kv.getOrDefault("smp", "1")),
                kv.getOrDefault("memory", "128M"), kv.getOrDefault("append", ""),
                kv.containsKey("input") ? dir.resolve(kv.get("input")) : null,
                Integer.parseInt(kv.getOrDefault("nics", "0")), Integer.parseInt(kv.getOrDefault("timeout", "60")),
                kv.getOrDefault("compare", "exact"));
    }

    Path expectedFile() {
        return file.resolveSibling(name + ".expected");
    }

    String expected() throws IOException {
        return Files.readString(expectedFile());
    }

    /**
     * The machine of this case: its vCPUs and RAM, the kernel and bootargs, and for {@code nics=N} as many NICs on
     * loopback ports the system picks, as QEMU has them: in slot 31, then 30 (what {@code -device virtio-net-device}
     * takes), with QEMU's MACs, wired (QEMU's virtio-mmio has no MSIs).
     */
    VmConfig config(UnaryOperator<KernelConfig> kernelOptions) {
        List<NicConfig> list = new ArrayList<>();
        for (int i = 0; i < nics; i++) {
            list.add(NicConfig.builder(31 - i).listen(new InetSocketAddress("127.0.0.1", 0)).guestPort(5001 + i)
                    .mac(MacAddress.qemuDefault(i)).interrupt(NicConfig.NicInterrupt.WIRED).build());
        }
        KernelConfig k = kernelOptions.apply(KernelConfig.of(kernel).withAppend(append));
        return VmConfig.builder().vcpus(smp).memorySize(ConfigValues.sizeBytes(memory))
                .with(NicConfig.SECTION, list)
                .with(KernelConfig.SECTION, k).build();
    }

    /** What a run on jvmm printed and how it ended. */
    record Run(String console, VirtMachine.Outcome outcome, long millis) {
    }

    Run runOnJvmm() throws IOException {
        return runOnJvmm(UnaryOperator.identity());
    }

    /** Boots the case on jvmm's board, its input file on the console; the console without carriage returns. */
    Run runOnJvmm(UnaryOperator<KernelConfig> kernelOptions) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] in = input == null ? new byte[0] : Files.readAllBytes(input);
        long t0 = System.nanoTime();
        SerialConsole console = SerialConsole.of(new ByteArrayInputStream(in), out);
        VirtMachine.Outcome o;
        try (VirtMachine vm = VirtMachine.builder(config(kernelOptions)).name("guest-" + name).console(console)
                .build()) {
            vm.start();
            o = vm.awaitEnd(Duration.ofSeconds(timeoutSeconds));
        } finally {
            console.close();
        }
        String text = out.toString(StandardCharsets.UTF_8).replace("\r", "");
        return new Run(text, o, (System.nanoTime() - t0) / 1_000_000);
    }

    /** Whether qemu-system-aarch64 can be run here. */
    static boolean qemuInstalled() {
        return HostTools.installed("qemu-system-aarch64");
    }

    /** The case on QEMU (guests/run-qemu.sh), console without carriage returns. */
    String runOnQemu() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(GUESTS.resolve("run-qemu.sh").toString(), file.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds + 30L, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("QEMU did not end for case " + name);
        }
        if (p.exitValue() != 0) {
            throw new IOException("QEMU ended case " + name + " with status " + p.exitValue());
        }
        return new String(out, StandardCharsets.UTF_8).replace("\r", "");
    }

    @Override
    public String toString() {
        return name;
    }
}
