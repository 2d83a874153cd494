package dev.jvmm.arm64;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The team's bare-metal test guests that need no interrupt controller, on this CPU: their console must be QEMU's
 * (the {@code .expected} files recorded on {@code qemu-system-aarch64 -M virt,gic-version=3 -cpu cortex-a57}), or,
 * for cases where QEMU departs from the architecture, the {@code -strict} expectation.
 */
class CompiledGuestsTest {
    static final Path GUESTS = Path.of("..", "guests");

    @BeforeAll
    static void tools() throws Exception {
        assumeTrue(Files.isDirectory(GUESTS), "guests/ is not in this checkout");
        Process p = new ProcessBuilder("qemu-system-aarch64", "--version").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assumeTrue(p.waitFor() == 0, "qemu-system-aarch64 (for its device tree) is not installed");
    }

    /**
     * Where QEMU 7.2 departs from the architecture in these guests' output, and this CPU follows the architecture:
     * {QEMU's text, the architecture's text}. QEMU's MSR DAIFSet/DAIFClr trap (SCTLR_EL1.UMA = 0 at EL0) swaps Op1
     * and Op2 in the ISS (its daif_check passes op1:op2's low bits as Op1); the Arm ARM's ISS for EC 0x18 holds the
     * instruction's own fields: Op0 0, Op1 3, CRn 4, CRm = the immediate, Op2 6 (DAIFSet) or 7 (DAIFClr).
     */
    static final String[][] QEMU_DEPARTURES = {
        {"ESR 0x6207d3e4 (EC 0x18 MSR/MRS/system instruction trap, ISS 0x007d3e4)\n"
                + "    trapped MSR/SYS Op0 0 Op1 7 CRn 4 CRm 2 Op2 3",
         "ESR 0x620ed3e4 (EC 0x18 MSR/MRS/system instruction trap, ISS 0x00ed3e4)\n"
                + "    trapped MSR/SYS Op0 0 Op1 3 CRn 4 CRm 2 Op2 7"},
    };

    @ParameterizedTest
    @ValueSource(strings = {"exceptions", "el0", "mmu", "faults"})
    void printsWhatQemuPrints(String name) throws Exception {
        Path dir = GUESTS.resolve(name);
        String expected = Files.readString(dir.resolve(name + ".expected"));
        for (String[] d : QEMU_DEPARTURES) {
            expected = expected.replace(d[0], d[1]);
        }
        String actual = GuestHarness.run(dir.resolve(name + ".elf"), 1, null, 2_000_000);
        assertThat(actual).as("console of guests/%s on jvmm's CPU", name).isEqualTo(expected);
    }

    /** PSCI CPU_ON/CPU_OFF/AFFINITY_INFO, exclusives and the global monitor, WFE/SEV, on four vCPU threads. */
    @org.junit.jupiter.api.Test
    void smpGuestOnFourCpus() throws Exception {
        Path dir = GUESTS.resolve("smp");
        String expected = Files.readString(dir.resolve("smp.expected"));
        String actual = GuestHarness.run(dir.resolve("smp.elf"), 4, null, 200_000);
        assertThat(actual).isEqualTo(expected);
    }

    /** The compute benchmark guest: its checksums prove every instruction class of compiled C ran right. */
    @org.junit.jupiter.api.Test
    void benchCpuComputesQemusChecksums() throws Exception {
        Path dir = GUESTS.resolve("bench-cpu");
        String expected = Files.readString(dir.resolve("bench-cpu.expected"));
        String actual = GuestHarness.run(dir.resolve("bench-cpu.elf"), 1, "iterations=200", 2_000_000);
        assertThat(actual).isEqualTo(expected);
    }

    /**
     * The {@code -strict} cases (bootarg {@code strict}): their {@code .expected} file is the architecture's
     * behaviour where QEMU 7.2 departs from it (the {@code .arch.diff} beside it shows QEMU's console against it).
     */
    @ParameterizedTest
    @ValueSource(strings = {"exceptions", "el0"})
    void strictCasesPrintWhatTheArchitectureRequires(String name) throws Exception {
        Path dir = GUESTS.resolve(name);
        String expected = Files.readString(dir.resolve(name + "-strict.expected"));
        for (String[] d : QEMU_DEPARTURES) {
            expected = expected.replace(d[0], d[1]);
        }
        String actual = GuestHarness.run(dir.resolve(name + ".elf"), 1, "strict", 2_000_000);
        assertThat(actual).as("console of guests/%s-strict on jvmm's CPU", name).isEqualTo(expected);
    }
}
