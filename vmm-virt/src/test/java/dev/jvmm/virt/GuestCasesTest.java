package dev.jvmm.virt;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every test guest of {@code guests/} ({@code NAME/CASE.case}) booted on jvmm's {@code virt} board, its console
 * compared with QEMU's: live, against {@code qemu-system-aarch64} when it is installed, for the {@code exact} cases;
 * against the recorded {@code CASE.expected} otherwise, and always for the {@code arch} cases (the architecture's
 * behaviour where QEMU 7.2 departs from it). The {@code info} cases (facts of QEMU's machine that a machine
 * implementing less prints differently) must boot and power off; their differences are printed, not asserted.
 *
 * <p>Where jvmm departs from QEMU on purpose, the difference is written down here, text for text, and substituted
 * into QEMU's console before the comparison; nothing else may differ.
 */
class GuestCasesTest {

    /**
     * The CPU follows the Arm ARM where QEMU 7.2 does not: {QEMU's text, jvmm's}. QEMU's trap of MSR DAIFSet/DAIFClr
     * at EL0 (SCTLR_EL1.UMA = 0) swaps Op1 and Op2 in the ISS (its daif_check passes op1:op2's low bits as Op1); the
     * ISS of EC 0x18 holds the instruction's own fields: Op0 0, Op1 3, CRn 4, CRm = the immediate, Op2 6 or 7.
     */
    static final String[][] CPU_DEPARTURES = {
        {"ESR 0x6207d3e4 (EC 0x18 MSR/MRS/system instruction trap, ISS 0x007d3e4)\n"
                + "    trapped MSR/SYS Op0 0 Op1 7 CRn 4 CRm 2 Op2 3",
         "ESR 0x620ed3e4 (EC 0x18 MSR/MRS/system instruction trap, ISS 0x00ed3e4)\n"
                + "    trapped MSR/SYS Op0 0 Op1 3 CRn 4 CRm 2 Op2 7"},
    };

    /**
     * The board serves SMC like HVC by default (the choice, as KVM handles SMCCC calls on either conduit);
     * QEMU's virt, with no EL3 and the hvc conduit, makes SMC UNDEFINED. The {@code exceptions} guest checks QEMU's
     * behaviour, so by default it sees PSCI_VERSION answered and counts one failed check: {QEMU's text, jvmm's}.
     * With {@code smc: undefined} it prints QEMU's console exactly ({@link #smcUndefinedIsQemusBehaviour}).
     */
    static final String[][] SMC_AS_A_CALL = {
        {"  SMC #0 PSCI_VERSION: current EL with SPx sync, ESR 0x02000000 (EC 0x00 unknown reason, IL 1, ISS 0x0000000)\n"
                + "ok   - SMC #0 at EL1 with the hvc conduit and no EL3: UNDEFINED (EC 0)\n",
         "  SMC #0 PSCI_VERSION: no exception\n"
                + "FAIL - SMC #0 at EL1 with the hvc conduit and no EL3: UNDEFINED (EC 0)\n"},
        {"exceptions: 34 checks, 0 failed: PASS\nexit 0\n", "exceptions: 34 checks, 1 failed: FAIL\nexit 1\n"},
        {"exceptions: 38 checks, 0 failed: PASS\nexit 0\n", "exceptions: 38 checks, 1 failed: FAIL\nexit 1\n"},
    };

    static boolean qemu;

    @BeforeAll
    static void tools() {
        assumeTrue(Files.isDirectory(GuestCase.GUESTS), "guests/ is not in this checkout");
        qemu = GuestCase.qemuInstalled();
    }

    static List<GuestCase> compared() throws IOException {
        return GuestCase.all().stream().filter(c -> !c.compare().equals("info")).toList();
    }

    static List<GuestCase> informational() throws IOException {
        return GuestCase.all().stream().filter(c -> c.compare().equals("info")).toList();
    }

    static String substitute(String console, String[][] departures) {
        for (String[] d : departures) {
            console = console.replace(d[0], d[1]);
        }
        return console;
    }

    /** What jvmm must print for {@code c}: QEMU's console (live when possible), with the recorded departures. */
    static String reference(GuestCase c, boolean smcAsCall) throws Exception {
        String ref = c.compare().equals("exact") && qemu ? c.runOnQemu() : c.expected();
        ref = substitute(ref, CPU_DEPARTURES);
        return smcAsCall ? substitute(ref, SMC_AS_A_CALL) : ref;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("compared")
    void printsQemusConsole(GuestCase c) throws Exception {
        GuestCase.Run run = c.runOnJvmm();
        String expected = reference(c, true);
        System.out.printf("%s: %d ms on jvmm, compared with %s%n", c.name(), run.millis(),
                c.compare().equals("exact") && qemu ? "qemu-system-aarch64 (live)" : c.expectedFile().getFileName());
        assertThat(run.outcome()).as("how guests/%s ended on jvmm", c.name()).isNotNull()
                .extracting(VirtMachine.Outcome::kind).isEqualTo(VirtMachine.Outcome.Kind.POWER_OFF);
        assertThat(run.console()).as("console of guests/%s on jvmm's virt board", c.name()).isEqualTo(expected);
    }

    /** With {@code smc: undefined}, SMC at EL1 is UNDEFINED as on QEMU, and the exceptions guest prints QEMU's console. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("smcCases")
    void smcUndefinedIsQemusBehaviour(String name) throws Exception {
        GuestCase c = GuestCase.named(name);
        GuestCase.Run run = c.runOnJvmm(k -> k.withSmc(KernelConfig.Smc.UNDEFINED));
        assertThat(run.console()).as("console of guests/%s with smc: undefined", name)
                .isEqualTo(reference(c, false));
    }

    static List<String> smcCases() {
        return List.of("exceptions", "exceptions-strict");
    }

    /**
     * PSCI 1.0's INVALID_ADDRESS for a CPU_ON whose entry is outside RAM: the psci guest checks it with the bootarg
     * {@code invalid-entry}, which only jvmm can run (QEMU 7.2 starts the CPU there and aborts when it fetches from
     * the GIC's frame). One line more than QEMU's console: {QEMU's text, jvmm's}.
     */
    static final String[] INVALID_ENTRY = {
        "ok   - AFFINITY_INFO(cpu 1) after refused CPU_ONs: OFF (1)\n",
        "ok   - AFFINITY_INFO(cpu 1) after refused CPU_ONs: OFF (1)\n"
                + "ok   - CPU_ON with an entry outside RAM (0x8000000): INVALID_ADDRESS\n"};

    @Test
    void cpuOnWithAnEntryOutsideRamIsRefused() throws Exception {
        GuestCase c = GuestCase.named("psci");
        GuestCase.Run run = c.runOnJvmm(k -> k.withAppend("invalid-entry"));
        assertThat(run.console()).isEqualTo(substitute(c.expected(), new String[][]{INVALID_ENTRY}));
    }

    /** The informational cases boot, run and power off with "exit 0"; what differs from QEMU is printed. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("informational")
    void informationalCasesBootAndPowerOff(GuestCase c) throws Exception {
        GuestCase.Run run = c.runOnJvmm();
        System.out.printf("%s (informational, %d ms): jvmm's console%n%s%n--- QEMU's (%s)%n%s%n", c.name(),
                run.millis(), run.console(), c.expectedFile().getFileName(), c.expected());
        assertThat(run.outcome()).isNotNull().extracting(VirtMachine.Outcome::kind)
                .isEqualTo(VirtMachine.Outcome.Kind.POWER_OFF);
        assertThat(run.console()).as("guests/%s ends cleanly on jvmm", c.name()).endsWith("exit 0\n");
    }

    /** The cases this test knows about are the ones in guests/ (a new case is picked up, never silently skipped). */
    @Test
    void everyCaseIsRun() throws IOException {
        assertThat(GuestCase.all()).hasSizeGreaterThanOrEqualTo(20)
                .allSatisfy(c -> assertThat(c.compare()).isIn("exact", "arch", "info"));
    }
}
