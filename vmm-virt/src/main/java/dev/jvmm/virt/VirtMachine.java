package dev.jvmm.virt;

import dev.jvmm.arm64.FatalReport;
import dev.jvmm.core.config.ConfigSection;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.machine.Machine;
import dev.jvmm.core.vcpu.Vcpu;
import dev.jvmm.core.vcpu.VcpuState;
import dev.jvmm.gic.GicConfig;
import dev.jvmm.gic.GicV3;
import dev.jvmm.net.NetConfig;
import dev.jvmm.net.NicConfig;
import dev.jvmm.net.VirtioNetDevice;
import dev.jvmm.net.virtio.VirtioStatus;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A compiled guest on QEMU's {@code virt} board, from boot to power-off, across resets: what {@code vmm boot} runs and
 * what a benchmark drives. It reads the kernel (and a {@code --dtb}) once, builds the board ({@link VirtBoard}), and
 * watches for how the run ends.
 *
 * <pre>{@code
 * VmConfig config = VirtMachine.configLoader().load(Path.of("configs/arm64-guest.yaml"));  // guest.kernel: ...
 * try (VirtMachine vm = VirtMachine.builder(config).console(SerialConsole.of(null, System.out)).build()) {
 *     vm.start();
 *     VirtMachine.Outcome end = vm.awaitEnd(Duration.ofSeconds(30));   // null: still running after 30 s
 * }
 * }</pre>
 *
 * <h2>How a run ends</h2>
 * <pre>
 *  PSCI SYSTEM_OFF                       POWER_OFF      exit status 0
 *  PSCI SYSTEM_RESET                     the board is rebuilt and boots again (RAM kept, kernel, tree and stub
 *                                        copied again, GIC and devices new, CPUs in their boot state), or
 *                                        RESET with no-reboot: exit status 0, as QEMU's -no-reboot
 *  an exception no vector can handle     FATAL          exit status 1, with the CPU's report
 *  a vCPU thread that ended or failed    VCPU_STOPPED   exit status 1
 *  {@link #requestStop()} (Ctrl-C)             STOPPED        exit status 0
 * </pre>
 *
 * <h2>Threads</h2>
 * The board's (vCPUs, the NICs' event loops, the injector) and the console's; {@link #awaitEnd} runs on the caller's
 * thread and does the resets there. The accessors return the current boot's parts, which a reset replaces.
 */
public final class VirtMachine implements AutoCloseable {

    /** The sections a board machine reads besides core's: the GIC, the network, the NICs and the kernel. */
    public static final List<ConfigSection<?>> SECTIONS = List.of(GicConfig.SECTION, NetConfig.SECTION,
            NicConfig.SECTION, KernelConfig.SECTION);

    /** The largest kernel file read (QEMU's loader reads files into memory too). */
    static final long MAX_KERNEL_FILE = 1L << 30;

    /** A loader of every section a board machine reads. */
    public static dev.jvmm.core.config.ConfigLoader configLoader() {
        return dev.jvmm.core.config.ConfigLoader.of(SECTIONS);
    }

    /** How a run ended. */
    public record Outcome(Kind kind, String message) {
        public enum Kind { POWER_OFF, RESET, FATAL, VCPU_STOPPED, STOPPED }

        /** The exit status QEMU's users expect: 0 for a power-off, a refused reset or a stop; 1 for a failure. */
        public int exitStatus() {
            return kind == Kind.FATAL || kind == Kind.VCPU_STOPPED ? 1 : 0;
        }
    }

    private enum EventKind { OFF, RESET, FATAL, STOP }

    private record Event(EventKind kind, int cpu, FatalReport report) {
    }

    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final VirtBoard.Parts parts;
    private final SerialConsole console;
    private final boolean ownsConsole;
    private volatile VirtBoard board;
    private volatile int resets;
    private volatile boolean started;
    private volatile Outcome outcome;

    private VirtMachine(Builder b) {
        VmConfig config = b.config().validate();
        KernelConfig kernel = config.find(KernelConfig.SECTION).orElseThrow(() -> new BootException(
                "this configuration's guest is not a kernel: give one with --kernel FILE or guest.kernel"));
        if (kernel.kernel() == null) {
            throw new BootException("no kernel to boot: give one with --kernel FILE or guest.kernel");
        }
        BootLoader.Kernel file = new BootLoader.Kernel(kernel.kernelPath(config).toString(),
                readFile("kernel", kernel.kernelPath(config)));
        BootLoader.Initrd initrd = null;
        if (kernel.initrd() != null) {
            Path p = kernel.initrdPath(config);
            // Refused before it is read: an initrd larger than RAM can never be loaded (QEMU: "too big to fit").
            long ram = config.machine().memory().get(0).size();
            initrd = new BootLoader.Initrd(p.toString(), readFile("initrd", p, Math.min(ram, MAX_KERNEL_FILE),
                    "is too big to fit into RAM (" + ram + " bytes)"));
        }
        VirtBoard.UserDtb dtb = null;
        if (kernel.dtb() != null) {
            Path p = kernel.dtbPath(config);
            dtb = VirtBoard.UserDtb.parse(p.toString(), readFile("device tree", p));
        }
        SerialConsole c = b.console;
        boolean owns = false;
        if (c == null) {
            try {
                c = SerialConsole.open(kernel.serial());
            } catch (IOException e) {
                throw new BootException("serial " + kernel.serial() + ": " + e.getMessage());
            }
            owns = true;
        }
        this.console = c;
        this.ownsConsole = owns;
        this.parts = new VirtBoard.Parts(config, kernel, file, initrd, dtb, c, b.wiring(), new Psci.SystemControl() {
            @Override
            public void systemOff(int cpu) {
                events.add(new Event(EventKind.OFF, cpu, null));
            }

            @Override
            public void systemReset(int cpu) {
                events.add(new Event(EventKind.RESET, cpu, null));
            }
        }, r -> events.add(new Event(EventKind.FATAL, r.cpu(), r)));
        try {
            this.board = new VirtBoard(parts);
            board.load();
        } catch (RuntimeException e) {
            if (owns) {
                c.close();
            }
            throw e;
        }
    }

    static byte[] readFile(String what, Path p) {
        return readFile(what, p, MAX_KERNEL_FILE, "is too big (at most 1 GiB)");
    }

    /** The file's bytes, refused with {@code tooBig} (after its size) when it is longer than {@code max}. */
    static byte[] readFile(String what, Path p, long max, String tooBig) {
        try {
            if (Files.isDirectory(p)) {
                throw new BootException(p + ": the " + what + " is a directory, not a file");
            }
            long size = Files.size(p);
            if (size > max) {
                throw new BootException(p + ": the " + what + " file (" + size + " bytes) " + tooBig);
            }
            return Files.readAllBytes(p);
        } catch (NoSuchFileException e) {
            throw new BootException(p + ": no such " + what + " file");
        } catch (AccessDeniedException e) {
            throw new BootException(p + ": cannot read the " + what + " file: permission denied");
        } catch (IOException e) {
            throw new BootException(p + ": cannot read the " + what + " file: " + e.getMessage());
        }
    }

    /** A machine for {@code config}, whose guest section must be a {@link KernelConfig}. */
    public static Builder builder(VmConfig config) {
        return new Builder(config);
    }

    // ------------------------------------------------------------------------------------------------ life

    /** Starts the devices (binding the NICs' sockets) and the boot CPU. */
    public synchronized void start() {
        if (started) {
            throw new IllegalStateException("already started");
        }
        started = true;
        board.start();
    }

    /**
     * Waits until the run ends, doing the guest's resets on the way; returns how it ended, or null when it still runs
     * after {@code timeout}. The machine is stopped when this returns an outcome.
     */
    public Outcome awaitEnd(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (outcome == null) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            Event e;
            try {
                // Power-off, reset and fatal stops arrive as events; a vCPU thread that ended some other way is
                // looked for once a second (a ten-times-a-second look was a third of what an idle guest cost).
                e = events.poll(Math.min(left, TimeUnit.SECONDS.toNanos(1)), TimeUnit.NANOSECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return null;
            }
            if (e == null) {
                String stopped = stoppedVcpu();
                if (stopped != null) {
                    end(new Outcome(Outcome.Kind.VCPU_STOPPED, stopped));
                }
                continue;
            }
            switch (e.kind()) {
                case OFF:
                    end(new Outcome(Outcome.Kind.POWER_OFF, "the guest powered off (PSCI SYSTEM_OFF on vCPU "
                            + e.cpu() + ")"));
                    break;
                case RESET:
                    if (parts.kernel().noReboot()) {
                        end(new Outcome(Outcome.Kind.RESET, "the guest asked for a reset (PSCI SYSTEM_RESET on vCPU "
                                + e.cpu() + "); not rebooting (no-reboot)"));
                    } else {
                        reboot();
                    }
                    break;
                case FATAL:
                    end(new Outcome(Outcome.Kind.FATAL, "the guest stopped: " + e.report()));
                    break;
                case STOP:
                    end(new Outcome(Outcome.Kind.STOPPED, "stopped"));
                    break;
                default:
                    break;
            }
        }
        return outcome;
    }

    /**
     * Waits until the guest's driver of every NIC is up (DRIVER_OK, virtio 1.x 3.1.1), so that traffic starts when the
     * guest can take it, doing resets on the way as {@link #awaitEnd} does. Returns true when they are up; false when
     * the run ended first ({@link #outcome()} says how) or {@code timeout} passed.
     */
    public boolean awaitDrivers(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean up = true;
            for (VirtioNetDevice d : board.nics()) {
                up &= (d.status() & VirtioStatus.DRIVER_OK) != 0;
            }
            if (up) {
                return true;
            }
            if (awaitEnd(Duration.ofMillis(20)) != null || System.nanoTime() - deadline > 0) {
                return false;
            }
        }
    }

    /** The first vCPU whose thread ended (a CPU never returns on its own) or threw, in words; null when none. */
    private String stoppedVcpu() {
        for (Vcpu v : board.machine().vcpus()) {
            VcpuState s = v.state();
            if (s == VcpuState.FAULTED) {
                return "vCPU " + v.index() + " failed: " + v.fault();
            }
            if (s == VcpuState.FINISHED || s == VcpuState.STOPPED) {
                return "vCPU " + v.index() + " stopped";
            }
        }
        return null;
    }

    private void end(Outcome o) {
        board.stop();
        outcome = o;
    }

    /** QEMU's qemu_system_reset: a fresh board from the same parts, RAM carried over, the boot CPU at its entry. */
    private void reboot() {
        VirtBoard old = board;
        VirtBoard next;
        try {
            next = new VirtBoard(keepPorts(parts, old));
        } catch (RuntimeException e) {
            end(new Outcome(Outcome.Kind.VCPU_STOPPED, "the reset failed: " + e.getMessage()));
            return;
        }
        // Every vCPU parked and the devices quiet, the old RAM is the new RAM's starting point; then the old boot
        // goes (its sockets closed before the new one binds them).
        old.machine().pause();
        old.copyRamTo(next);
        List<String> problems = old.stop();
        events.removeIf(ev -> ev.kind() != EventKind.STOP);   // what the old boot's CPUs said after the reset
        if (!problems.isEmpty()) {
            next.stop();
            end(new Outcome(Outcome.Kind.VCPU_STOPPED, "the reset failed: " + String.join("; ", problems)));
            return;
        }
        try {
            next.load();
            board = next;
            resets++;
            next.start();
        } catch (RuntimeException e) {
            board = next;
            end(new Outcome(Outcome.Kind.VCPU_STOPPED, "the reset failed: " + e.getMessage()));
        }
    }

    /** NICs that bound any free port keep the port they got, so that senders need not follow a reset. */
    private static VirtBoard.Parts keepPorts(VirtBoard.Parts p, VirtBoard old) {
        List<NicConfig> nics = new ArrayList<>(p.config().get(NicConfig.SECTION));
        boolean changed = false;
        for (VirtioNetDevice d : old.nics()) {
            int i = nics.indexOf(d.config());
            if (i >= 0 && d.config().listen().getPort() == 0 && d.boundPort() > 0) {
                InetSocketAddress a = new InetSocketAddress(d.config().listen().getAddress(), d.boundPort());
                nics.set(i, d.config().toBuilder().listen(a).build());
                changed = true;
            }
        }
        if (!changed) {
            return p;
        }
        return new VirtBoard.Parts(p.config().with(NicConfig.SECTION, nics), p.kernel(), p.kernelFile(),
                p.initrd(), p.userDtb(), p.console(), p.wiring(), p.control(), p.fatal());
    }

    /** Ends the run as Ctrl-C does: {@link #awaitEnd} returns STOPPED. Any thread. */
    public void requestStop() {
        events.add(new Event(EventKind.STOP, -1, null));
    }

    /** Stops the machine (idempotent) and returns the problems met; the console stays open. */
    public List<String> stop() {
        return board.stop();
    }

    /** Stops the machine and closes the console when the machine opened it. */
    @Override
    public void close() {
        stop();
        if (ownsConsole) {
            console.close();
        } else {
            console.flush(5_000);
        }
    }

    // ------------------------------------------------------------------------------------------------ accessors

    /** The configuration the board runs (a strict bus unless the file said otherwise). */
    public VmConfig config() {
        return board.config();
    }

    /** The current boot's machine (a reset makes a new one). */
    public Machine machine() {
        return board.machine();
    }

    public GicV3 gic() {
        return board.gic();
    }

    public List<VirtioNetDevice> nics() {
        return board.nics();
    }

    /** The host port NIC {@code i} is bound to. */
    public int nicPort(int i) {
        return board.nics().get(i).boundPort();
    }

    /** The CPUs of the current boot (registers, instructions retired: what a benchmark reads). */
    public dev.jvmm.arm64.Arm64System cpus() {
        return board.system();
    }

    public SerialConsole console() {
        return console;
    }

    /** How many times the guest was reset. */
    public int resets() {
        return resets;
    }

    /** The outcome, once the run has ended; null while it runs. */
    public Outcome outcome() {
        return outcome;
    }

    /** The device tree blob of the current boot, as the guest finds it. */
    public byte[] deviceTree() {
        return board.deviceTreeBlob();
    }

    /**
     * Where the current boot put things, in words ("ELF, entry 0x40200000, device tree at 0x40000000"; with an
     * initrd: "arm64 Image, entry 0x40200000, initrd at 0x48000000 (5288 bytes), device tree at 0x48200000").
     */
    public String bootSummary() {
        BootLoader.Plan p = board.plan();
        return String.format("%s, entry 0x%x, %s%s", p.format().description, p.entry(),
                p.initrdSize() == 0 ? "" : String.format("initrd at 0x%x (%d bytes), ", p.initrdStart(),
                        p.initrdSize()),
                p.dtbAddress() < 0 ? "no device tree in memory (no room below the ELF)"
                        : String.format("device tree at 0x%x", p.dtbAddress()));
    }

    /** PSCI calls served so far in this boot, and those answered with an error code. */
    public long psciCalls() {
        return board.psci().calls();
    }

    public long psciErrors() {
        return board.psci().refused();
    }

    // ------------------------------------------------------------------------------------------------ builder

    /** Assembles a {@link VirtMachine}; {@link #build()} reads the kernel and fails with {@link BootException}. */
    public static final class Builder extends MachineBuilder<Builder> {
        private SerialConsole console;

        private Builder(VmConfig config) {
            super(config, "virt");
        }

        /** The serial port's host side (default: what {@code guest.serial} names, owned by the machine). */
        public Builder console(SerialConsole c) {
            console = c;
            return this;
        }

        /**
         * Reads the kernel, builds the board and loads it (nothing runs until {@link VirtMachine#start()}).
         *
         * @throws BootException for a kernel or device tree that cannot be booted, with what is wrong
         */
        public VirtMachine build() {
            return new VirtMachine(this);
        }
    }
}
