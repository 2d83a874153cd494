package dev.jvmm.virt;

import dev.jvmm.core.config.VmConfig;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code bench-cpu} (the team's CoreMark-like guest) on jvmm's virt board, for figures beside QEMU's (guests/README.md,
 * "bench-cpu"): {@code java -cp ... dev.jvmm.virt.GuestBench [iterations] [rounds]}, from the repository root. Prints
 * the console, the guest instructions vCPU 0 retired, its thread's CPU time and the wall time.
 */
public final class GuestBench {
    public static void main(String[] args) throws Exception {
        int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 20000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int r = 0; r < rounds; r++) {
            VmConfig config = VmConfig.builder().vcpus(1).memorySize(128L << 20)
                    .with(KernelConfig.SECTION, KernelConfig.of(Path.of("guests", "bench-cpu", "bench-cpu.elf"))
                            .withAppend("iterations=" + iterations)).build();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            long t0 = System.nanoTime();
            try (VirtMachine vm = VirtMachine.builder(config).console(SerialConsole.of(null, out)).build()) {
                vm.start();
                long tid = vm.machine().vcpus().get(0).thread().getId();
                long cpu = 0;
                while (vm.awaitEnd(Duration.ofMillis(50)) == null) {
                    cpu = Math.max(cpu, threads.getThreadCpuTime(tid));
                }
                double wall = (System.nanoTime() - t0) / 1e9;
                long retired = vm.cpus().cpu(0).instructionsRetired();
                System.out.print(out.toString(StandardCharsets.UTF_8).replace("\r", ""));
                System.out.printf("round %d: %,d guest instructions, vCPU thread CPU time %.2f s (%,.0f instructions/s),"
                        + " wall %.2f s%n", r, retired, cpu / 1e9, retired / (cpu / 1e9), wall);
            }
        }
    }
}
