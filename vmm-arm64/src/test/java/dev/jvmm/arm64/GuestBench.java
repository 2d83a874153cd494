package dev.jvmm.arm64;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;

/**
 * {@code bench-cpu} (the team's CoreMark-like guest) on this CPU, for figures beside QEMU's (guests/README.md,
 * "bench-cpu"): {@code java -cp ... dev.jvmm.arm64.GuestBench [iterations] [rounds]}. Prints the console, the guest
 * instructions retired, the vCPU thread's CPU time and the wall time.
 */
public final class GuestBench {
    public static void main(String[] args) throws Exception {
        int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 20000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int r = 0; r < rounds; r++) {
            long[] retired = new long[3];
            long cpu0 = threads.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            String console = GuestHarness.run(Path.of("guests", "bench-cpu", "bench-cpu.elf"), 1,
                    "iterations=" + iterations, 50_000_000, retired);
            double wall = (System.nanoTime() - t0) / 1e9;
            double cpu = (threads.getCurrentThreadCpuTime() - cpu0) / 1e9;
            System.out.print(console);
            System.out.printf("round %d: %,d guest instructions, vCPU thread CPU time %.2f s (%,.0f instructions/s),"
                    + " wall %.2f s; %,d blocks entered (%.1f instructions each), %,d interpreted%n", r, retired[0], cpu,
                    retired[0] / cpu, wall, retired[1], (double) retired[0] / retired[1], retired[2]);
        }
    }
}
