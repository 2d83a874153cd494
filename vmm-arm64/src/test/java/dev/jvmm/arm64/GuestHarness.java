package dev.jvmm.arm64;

import dev.jvmm.core.memory.GuestMemory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Runs one of the team's bare-metal guests ({@code guests/NAME/NAME.elf}) on this CPU with the least of QEMU's
 * {@code virt} board those guests need when they use no interrupt controller: the ELF loaded at its physical
 * addresses, QEMU's own device tree (from {@code dumpdtb}) at the base of RAM, a PL011 that prints, and PSCI over HVC
 * (SMC UNDEFINED, as on QEMU). The board issue builds the real thing; this is how the CPU meets compiled code early.
 */
final class GuestHarness {
    static final long RAM_BASE = 0x4000_0000L;
    static final long PL011 = 0x0900_0000L;

    private GuestHarness() {
    }

    /** QEMU's device tree for {@code virt,gic-version=3} with this RAM size and CPU count. */
    static byte[] qemuDeviceTree(String memory, int cpus, String append, Path kernel)
            throws IOException, InterruptedException {
        Path f = Files.createTempFile("virt", ".dtb");
        try {
            java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("qemu-system-aarch64", "-M",
                    "virt,gic-version=3,dumpdtb=" + f, "-cpu", "cortex-a57", "-m", memory, "-smp",
                    String.valueOf(cpus), "-nographic"));
            if (append != null && !append.isEmpty()) {
                cmd.add("-kernel");                  // QEMU takes -append only with -kernel
                cmd.add(kernel.toString());
                cmd.add("-append");
                cmd.add(append);
            }
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("qemu-system-aarch64 dumpdtb failed: " + String.join(" ", cmd) + "\n" + out);
            }
            return Files.readAllBytes(f);
        } finally {
            Files.deleteIfExists(f);
        }
    }

    /** Loads the ELF's PT_LOAD segments; returns the entry point. */
    static long loadElf(GuestMemory memory, byte[] elf) {
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        long entry = b.getLong(24);
        long phoff = b.getLong(32);
        int phentsize = b.getShort(54) & 0xFFFF;
        int phnum = b.getShort(56) & 0xFFFF;
        for (int i = 0; i < phnum; i++) {
            int at = (int) phoff + i * phentsize;
            if (b.getInt(at) != 1) {
                continue;
            }
            long offset = b.getLong(at + 8);
            long paddr = b.getLong(at + 24);
            long filesz = b.getLong(at + 32);
            long memsz = b.getLong(at + 40);
            memory.write(paddr, elf, (int) offset, (int) filesz);
            if (memsz > filesz) {
                memory.fill(paddr + filesz, memsz - filesz, (byte) 0);
            }
        }
        return entry;
    }

    /** The console output (carriage returns dropped) of running the guest until it powers off or {@code budget}. */
    static String run(Path elfFile, int cpus, String append, long budget) throws Exception {
        return run(elfFile, cpus, append, budget, new long[1]);
    }

    /** As {@link #run(Path, int, String, long)}, also giving the instructions CPU 0 retired in {@code retired[0]}. */
    static String run(Path elfFile, int cpus, String append, long budget, long[] retired) throws Exception {
        byte[] elf = Files.readAllBytes(elfFile);
        GuestMemory memory = GuestMemory.create(RAM_BASE, 128L << 20);
        try {
            Arm64System system = new Arm64System(memory, cpus);
            system.setSmcUndefined(true);
            long entry = loadElf(memory, elf);
            byte[] dtb = qemuDeviceTree("128M", cpus, append, elfFile);
            memory.write(RAM_BASE, dtb, 0, dtb.length);
            StringBuilder console = new StringBuilder();
            java.util.concurrent.atomic.AtomicBoolean off = new java.util.concurrent.atomic.AtomicBoolean();
            system.setHypervisorCall((cpu, conduit, imm) -> psci(system, cpu, off));
            Arm64Cpu cpu = system.cpu(0);
            cpu.setBootState(entry, 0, 0, 0, 0);
            for (int i = 1; i < cpus; i++) {
                system.cpu(i).startPoweredOff();
            }
            system.setCounterEpochNanos(System.nanoTime());
            TestGuestCpu.Mmio uart = new TestGuestCpu.Mmio() {
                @Override
                public long read(long address, int size) {
                    if (address == PL011 + 0x18) {
                        return 0x90;                         // FR: RXFE, TXFE
                    }
                    if (address == PL011 + 0x30) {
                        return 0x301;                        // CR: UARTEN, TXE, RXE
                    }
                    if (address >= PL011 && address < PL011 + 0x1000) {
                        return 0;
                    }
                    throw new dev.jvmm.core.bus.MmioFault(address, size, false);
                }

                @Override
                public void write(long address, int size, long value) {
                    if (address == PL011) {
                        char c = (char) (value & 0xFF);
                        if (c != '\r') {
                            synchronized (console) {
                                console.append(c);
                            }
                        }
                        return;
                    }
                    if (address >= PL011 && address < PL011 + 0x1000) {
                        return;
                    }
                    throw new dev.jvmm.core.bus.MmioFault(address, size, true);
                }
            };
            long deadline = System.nanoTime() + 120_000_000_000L;
            Thread[] threads = new Thread[cpus];
            Throwable[] failure = new Throwable[1];
            for (int i = 0; i < cpus; i++) {
                Arm64Cpu c = system.cpu(i);
                TestGuestCpu io = new TestGuestCpu(memory, i, cpus);
                io.useHostClock = true;
                io.mmio = uart;
                threads[i] = new Thread(() -> {
                    try {
                        while (!off.get() && System.nanoTime() < deadline) {
                            if (!c.isPoweredOn() && !c.isPowerOnPending()) {
                                Thread.onSpinWait();
                                Thread.yield();
                                continue;
                            }
                            Stop st = c.run(io, RunOptions.instructions(budget).withBreakpoint(RunOptions.NO_BRK));
                            if (st.reason() == StopReason.FATAL) {
                                synchronized (console) {
                                    console.append("\n[FATAL ").append(c.fatal()).append("]\n");
                                }
                                off.set(true);
                            }
                        }
                    } catch (Throwable t) {
                        failure[0] = t;
                        off.set(true);
                    }
                }, "guest-cpu-" + i);
                threads[i].start();
            }
            for (Thread t : threads) {
                t.join(130_000);
            }
            if (failure[0] != null) {
                throw new AssertionError("a CPU thread failed", failure[0]);
            }
            retired[0] = cpu.instructionsRetired();
            synchronized (console) {
                return finish(console.toString(), cpu, retired);
            }
        } finally {
            memory.close();
        }
    }

    private static String finish(String console, Arm64Cpu cpu, long[] retired) {
        {
            if (retired.length > 2) {
                retired[1] = cpu.blocksEntered();
                retired[2] = cpu.blocksInterpreted();
            }
            return console;
        }
    }

    /** PSCI 1.1 as QEMU 7.2 answers it (Arm DEN 0022, the functions the guests call). */
    private static void psci(Arm64System system, Arm64Cpu cpu, java.util.concurrent.atomic.AtomicBoolean off) {
        long fn = cpu.x(0);
        if (fn == 0x8400_0000L) {
            cpu.setX(0, 0x1_0001L);                         // PSCI_VERSION 1.1
        } else if (fn == 0x8400_0008L) {
            off.set(true);                                   // SYSTEM_OFF
            cpu.powerOff();
        } else if (fn == 0x8400_0002L) {
            cpu.powerOff();                                  // CPU_OFF
        } else if (fn == 0x8400_0006L) {
            cpu.setX(0, 2);                                  // MIGRATE_INFO_TYPE: no migration needed
        } else if (fn == 0xC400_0003L || fn == 0x8400_0003L) {
            Arm64Cpu target = byMpidr(system, cpu.x(1));     // CPU_ON
            if (target == null) {
                cpu.setX(0, -2);
            } else if (!target.powerOn(cpu.x(2), cpu.x(3))) {
                cpu.setX(0, -4);
            } else {
                cpu.setX(0, 0);
            }
        } else if (fn == 0xC400_0004L || fn == 0x8400_0004L) {
            Arm64Cpu target = byMpidr(system, cpu.x(1));     // AFFINITY_INFO
            cpu.setX(0, target == null ? -2 : target.isPoweredOn() ? 0 : target.isPowerOnPending() ? 2 : 1);
        } else if (fn == 0x8400_000AL) {
            long q = cpu.x(1);
            cpu.setX(0, q == 0x8400_0000L || q == 0x8400_0008L || q == 0x8400_0002L || q == 0xC400_0003L
                    || q == 0xC400_0004L ? 0 : -1);
        } else {
            cpu.setX(0, HypervisorCall.SMCCC_NOT_SUPPORTED);
        }
    }

    private static Arm64Cpu byMpidr(Arm64System system, long mpidr) {
        for (int i = 0; i < system.cpuCount(); i++) {
            if ((system.cpu(i).mpidr() & 0xFF_00FF_FFFFL) == (mpidr & 0xFF_00FF_FFFFL)) {
                return system.cpu(i);
            }
        }
        return null;
    }
}
