package dev.jvmm.virt;

import dev.jvmm.core.config.VmConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * How a run ends, with tiny raw guests (loaded at RAM base + 0x80000 behind QEMU's boot stub): a power-off after
 * resets that keep RAM, a refused reset, an exception no vector can handle, a stop while the guest spins, and a
 * guest that writes the UART without pause into a console that takes nothing.
 */
class VirtMachineTest {
    /** Counts its boots in RAM at 0x4100_0000 (outside its image): PSCI SYSTEM_RESET twice, then SYSTEM_OFF. */
    static final int[] RESET_TWICE = {0xd2a82001, 0xf9400022, 0x91000442, 0xf9000022, 0xf1000c5f, 0x5400008a,
        0xd2b08000, 0xf2800120, 0xd4000002, 0xd2b08000, 0xf2800100, 0xd4000002, 0x14000000};
    /** movz x1, #0x0900, lsl 16; mov w2, #'x'; 1: str w2, [x1]; b 1b: UARTDR stores without pause. */
    static final int[] UART_FLOOD = {0xd2a12001, 0x52800f02, 0xb9000022, 0x17ffffff};
    /** UDF #0 with VBAR_EL1 = 0 (nothing there): every exception faults again at its vector. */
    static final int[] UNDEFINED_WITHOUT_VECTORS = {0x00000000};
    /** b . */
    static final int[] SPIN = {0x14000000};

    Path dir;

    @BeforeEach
    void dir() throws Exception {
        dir = Files.createTempDirectory("raw-guests");
    }

    @AfterEach
    void clean() throws Exception {
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    Path raw(String name, int... insns) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(insns.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i : insns) {
            b.putInt(i);
        }
        Path p = dir.resolve(name + ".bin");
        Files.write(p, b.array());
        return p;
    }

    static VmConfig config(Path kernel, UnaryOperator<KernelConfig> options) {
        return VmConfig.builder().vcpus(1).memorySize(64L << 20)
                .with(KernelConfig.SECTION, options.apply(KernelConfig.of(kernel))).build();
    }

    /** A machine for {@code kernel} whose console takes nothing. */
    static VirtMachine.Builder silent(Path kernel, UnaryOperator<KernelConfig> options) {
        return VirtMachine.builder(config(kernel, options)).console(SerialConsole.none());
    }

    /** Starts {@code vm} and returns how its run ended, waiting at most 30 s. */
    static VirtMachine.Outcome runToEnd(VirtMachine vm) {
        vm.start();
        return vm.awaitEnd(Duration.ofSeconds(30));
    }

    @Test
    @Timeout(60)
    void aResetBootsTheGuestAgainWithItsRamKept() throws Exception {
        try (VirtMachine vm = silent(raw("reset", RESET_TWICE), k -> k).build()) {
            VirtMachine.Outcome o = runToEnd(vm);
            assertThat(o).isNotNull();
            assertThat(o.kind()).as(o.message()).isEqualTo(VirtMachine.Outcome.Kind.POWER_OFF);
            assertThat(o.exitStatus()).isZero();
            assertThat(vm.resets()).as("two resets: the boot count in RAM survived each (QEMU keeps RAM)")
                    .isEqualTo(2);
        }
    }

    @Test
    @Timeout(60)
    void noRebootEndsTheRunAtTheFirstReset() throws Exception {
        try (VirtMachine vm = silent(raw("reset", RESET_TWICE), k -> k.withNoReboot(true)).build()) {
            VirtMachine.Outcome o = runToEnd(vm);
            assertThat(o.kind()).isEqualTo(VirtMachine.Outcome.Kind.RESET);
            assertThat(o.message()).contains("SYSTEM_RESET").contains("no-reboot");
            assertThat(o.exitStatus()).as("as QEMU's -no-reboot").isZero();
            assertThat(vm.resets()).isZero();
        }
    }

    @Test
    @Timeout(60)
    void anExceptionNoVectorCanHandleEndsTheRunWithOneMessage() throws Exception {
        try (VirtMachine vm = silent(raw("udf", UNDEFINED_WITHOUT_VECTORS), k -> k).build()) {
            VirtMachine.Outcome o = runToEnd(vm);
            assertThat(o.kind()).isEqualTo(VirtMachine.Outcome.Kind.FATAL);
            assertThat(o.exitStatus()).isEqualTo(1);
            assertThat(o.message()).startsWith("the guest stopped: vCPU 0: every exception faults again")
                    .contains("VBAR_EL1 0x0");
        }
    }

    @Test
    @Timeout(60)
    void aStopEndsASpinningGuest() throws Exception {
        try (VirtMachine vm = silent(raw("spin", SPIN), k -> k).build()) {
            vm.start();
            assertThat(vm.awaitEnd(Duration.ofMillis(300))).as("still running").isNull();
            vm.requestStop();
            VirtMachine.Outcome o = vm.awaitEnd(Duration.ofSeconds(10));
            assertThat(o.kind()).isEqualTo(VirtMachine.Outcome.Kind.STOPPED);
            assertThat(vm.machine().vcpus().get(0).thread().isAlive()).isFalse();
        }
    }

    /** A guest storing to UARTDR without pause while the host takes nothing: the run stays in the host's hands. */
    @Test
    @Timeout(60)
    void aGuestFloodingTheUartKeepsTheHostResponsive() throws Exception {
        Pl011Test.StuckOutput stuck = new Pl011Test.StuckOutput();
        try (SerialConsole console = SerialConsole.of(null, stuck);
             VirtMachine vm = VirtMachine.builder(config(raw("flood", UART_FLOOD), k -> k)).console(console)
                     .build()) {
            vm.start();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (console.dropped() < 1_000_000 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(console.dropped()).as("the guest keeps storing; what the console cannot take is dropped")
                    .isGreaterThanOrEqualTo(1_000_000);
            vm.requestStop();
            assertThat(vm.awaitEnd(Duration.ofSeconds(10))).extracting(VirtMachine.Outcome::kind)
                    .isEqualTo(VirtMachine.Outcome.Kind.STOPPED);
            stuck.release.countDown();
        }
    }

    @Test
    void kernelsThatCannotBeBootedFailTheBuildWithOneMessage() throws Exception {
        Path empty = dir.resolve("empty.bin");
        Files.write(empty, new byte[0]);
        assertThatThrownBy(() -> silent(dir.resolve("missing.elf"), k -> k).build()).isInstanceOf(BootException.class)
                .hasMessageEndingWith("missing.elf: no such kernel file");
        assertThatThrownBy(() -> silent(empty, k -> k).build()).isInstanceOf(BootException.class)
                .hasMessageEndingWith("the kernel file is empty");
        Path notDtb = raw("not-a-dtb", SPIN);
        assertThatThrownBy(() -> silent(raw("spin", SPIN), k -> k.withDtb(notDtb.toString())).build())
                .isInstanceOf(BootException.class)
                .hasMessageContaining("not a device tree blob: too short for a device tree header");
        VmConfig noKernel = VmConfig.builder().vcpus(1).with(KernelConfig.SECTION, KernelConfig.defaults()).build();
        assertThatThrownBy(() -> VirtMachine.builder(noKernel).console(SerialConsole.none()).build())
                .isInstanceOf(BootException.class).hasMessageContaining("no kernel to boot");
    }

    /** The accessors a benchmark reads, and the board's summary of where things went. */
    @Test
    void theBootIsDescribed() throws Exception {
        try (VirtMachine vm = VirtMachine.builder(config(raw("spin", SPIN), k -> k)).console(SerialConsole.of(null,
                OutputStream.nullOutputStream())).build()) {
            assertThat(vm.bootSummary()).isEqualTo("raw binary, entry 0x40080000, device tree at 0x42000000");
            assertThat(vm.config().machine().strictMmio()).as("unassigned addresses abort, as on QEMU").isTrue();
            assertThat(vm.cpus().cpuCount()).isEqualTo(1);
        }
    }
}
