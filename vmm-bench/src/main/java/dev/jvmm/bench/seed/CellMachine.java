package dev.jvmm.bench.seed;

import dev.jvmm.bench.BenchFailure;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.machine.Machine;
import dev.jvmm.guest.GuestFailure;
import dev.jvmm.guest.GuestReport;
import dev.jvmm.net.NetBackend;
import dev.jvmm.net.NicStats;
import dev.jvmm.net.VirtioNetDevice;
import dev.jvmm.virt.BootException;
import dev.jvmm.virt.SerialConsole;
import dev.jvmm.virt.VirtMachine;

import java.io.OutputStream;
import java.time.Duration;
import java.util.List;

/**
 * The machine of one seed cell, whichever guest it runs: the Java toy guest (a core {@link Machine} the launcher
 * wires, its counters read from the guest's report in RAM) or a compiled udp-sink on the virt board (a
 * {@link VirtMachine}; its counters are the devices' and the probe's, the guest's own are printed once a second).
 * Either way the interrupt path, the probe and the figures t1 → t2 and t0 → t3 are the same: t3 is taken where the
 * GIC's CPU interface answers a read of ICC_IAR1_EL1 with an INTID, which the toy guest's driver and the compiled
 * guest's IRQ vector both do.
 */
interface CellMachine {
    Duration BOOT_TIMEOUT = Duration.ofSeconds(30);

    /** The core machine: interrupt router, vCPUs, interrupt controller, devices. */
    Machine machine();

    List<VirtioNetDevice> nics();

    void start();

    /** Waits until the guest takes traffic; a {@link BenchFailure} naming the cell when it does not. */
    void awaitReady(SeedCell cell);

    /** A {@link BenchFailure} naming the cell when the guest or a vCPU failed. */
    void check(SeedCell cell);

    /** Datagrams the guest received (see each kind). */
    long delivered();

    /** Gaps in iperf sequence numbers the guest saw; -1 when the guest does not say so here. */
    long guestLost();

    /** Receive interrupts the guest took for its NICs. */
    long guestIrqs();

    List<String> stop();

    /** A {@link BenchFailure} naming the cell when one of {@code m}'s vCPUs faulted. */
    private static void checkVcpus(Machine m, SeedCell cell) {
        List<String> faults = m.vcpuFaults();
        if (!faults.isEmpty()) {
            throw new BenchFailure("cell " + cell.configName() + ": a vCPU faulted: " + faults.get(0));
        }
    }

    /** The toy guest: its report in guest RAM counts frames, losses and interrupts exactly. */
    final class Toy implements CellMachine {
        private final Machine vm;
        private final GuestReport guest;
        private final List<VirtioNetDevice> nics;

        Toy(Machine vm) {
            this.vm = vm;
            this.guest = new GuestReport(vm.memory());
            this.nics = vm.devices().stream().filter(VirtioNetDevice.class::isInstance)
                    .map(VirtioNetDevice.class::cast).toList();
        }

        @Override
        public Machine machine() {
            return vm;
        }

        @Override
        public List<VirtioNetDevice> nics() {
            return nics;
        }

        @Override
        public void start() {
            vm.start();
        }

        @Override
        public void awaitReady(SeedCell cell) {
            try {
                guest.awaitRunning(vm, BOOT_TIMEOUT);
            } catch (GuestFailure e) {
                throw new BenchFailure("cell " + cell.configName() + ": " + e.getMessage());
            }
        }

        @Override
        public void check(SeedCell cell) {
            if (guest.state() == GuestReport.STATE_PANICKED) {
                throw new BenchFailure("cell " + cell.configName() + ": the guest panicked: " + guest.panicMessage());
            }
            checkVcpus(vm, cell);
        }

        @Override
        public long delivered() {
            return guest.total(GuestReport.Counter.FRAMES);
        }

        @Override
        public long guestLost() {
            return guest.total(GuestReport.Counter.LOST);
        }

        /** Interrupts the guest counted for its NICs. */
        @Override
        public long guestIrqs() {
            return guest.total(GuestReport.Counter.IRQS);
        }

        @Override
        public List<String> stop() {
            return vm.stop();
        }
    }

    /**
     * The compiled udp-sink on the virt board. Delivered datagrams are those the NICs placed in the guest's receive
     * rings (the device's count, exact at any moment; the guest's own count, printed once a second, trails it by the
     * frames it has not reaped yet); losses the guest saw are not read (they are in its once-a-second lines only);
     * its receive interrupts are the acknowledges the probe attributes to a NIC's receive INTID.
     */
    final class Board implements CellMachine {
        private final VirtMachine vm;
        private final EndToEndProbe probe;

        Board(VmConfig config, String name, EndToEndProbe probe, NetBackend.Factory backends) {
            this.probe = probe;
            try {
                vm = VirtMachine.builder(config).name(name).observer(probe).backends(backends)
                        .console(SerialConsole.of(null, OutputStream.nullOutputStream())).build();
            } catch (BootException e) {
                throw new BenchFailure("the compiled guest cannot boot: " + e.getMessage());
            }
        }

        @Override
        public Machine machine() {
            return vm.machine();
        }

        @Override
        public List<VirtioNetDevice> nics() {
            return vm.nics();
        }

        @Override
        public void start() {
            vm.start();
        }

        /** Every NIC's driver up (DRIVER_OK), the guest still running. */
        @Override
        public void awaitReady(SeedCell cell) {
            if (vm.awaitDrivers(BOOT_TIMEOUT)) {
                return;
            }
            VirtMachine.Outcome o = vm.outcome();
            if (o != null) {
                throw new BenchFailure("cell " + cell.configName() + ": the compiled guest ended before its NICs"
                        + " were up: " + o.message());
            }
            throw new BenchFailure("cell " + cell.configName() + ": the compiled guest did not bring up its"
                    + " NICs within " + BOOT_TIMEOUT.toSeconds() + " s");
        }

        @Override
        public void check(SeedCell cell) {
            VirtMachine.Outcome o = vm.awaitEnd(Duration.ofMillis(1));
            if (o != null) {
                throw new BenchFailure("cell " + cell.configName() + ": the compiled guest ended: " + o.message());
            }
            checkVcpus(vm.machine(), cell);
        }

        @Override
        public long delivered() {
            long n = 0;
            for (VirtioNetDevice d : vm.nics()) {
                NicStats s = d.stats();
                n += s.rxDelivered();
            }
            return n;
        }

        @Override
        public long guestLost() {
            return -1;
        }

        /** The NICs' receive interrupts the guest acknowledged (ICC_IAR1_EL1 returned their INTID), by the probe. */
        @Override
        public long guestIrqs() {
            return probe.receiveAcknowledges();
        }

        @Override
        public List<String> stop() {
            List<String> p = vm.stop();
            vm.close();
            return p;
        }
    }
}
