package dev.jvmm.arm64.oracle;

import static dev.jvmm.arm64.oracle.HostileCodeTest.CODE;
import static dev.jvmm.arm64.oracle.HostileCodeTest.RAM_BASE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.jvmm.arm64.Arm64Cpu;
import dev.jvmm.arm64.Arm64System;
import dev.jvmm.arm64.RunOptions;
import dev.jvmm.arm64.Stop;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * jvmm's translated blocks against its own interpreter, on code QEMU user mode cannot run: random words and valid
 * instructions at EL0 and EL1, over random translation tables and system registers, where faults, exception entry
 * and return, system instructions and MMIO happen in the middle of blocks. Each trial runs the same machine twice,
 * once with the block translator off and once on, {@link #PASSES} times from the same start (so that hot blocks are
 * translated in the second run), and compares the architectural state after every pass: the registers, PSTATE, the
 * exception registers, the instructions retired, the stop, and all of RAM.
 */
@ExtendWith(SeedExtension.class)
class TranslatedCodeTest {
    /** Enough passes for a block that runs once per pass to be translated and then run translated. */
    static final int PASSES = JvmmEmulator.COMPILE_THRESHOLD + 2;
    static final long PASS_INSTRUCTIONS = 400;
    static final long RAM_SIZE = 256 << 10;
    static final int TRIALS = 8;
    static final String[] REGISTERS = {"ESR_EL1", "ELR_EL1", "FAR_EL1", "SPSR_EL1", "PAR_EL1", "TPIDR_EL0",
        "TPIDR_EL1", "TPIDRRO_EL0", "VBAR_EL1", "SCTLR_EL1", "TCR_EL1", "TTBR0_EL1", "TTBR1_EL1", "MAIR_EL1",
        "CONTEXTIDR_EL1", "CPACR_EL1", "CNTV_CTL_EL0", "CNTV_CVAL_EL0", "CNTP_CTL_EL0", "CNTP_CVAL_EL0",
        "CNTKCTL_EL1", "MDSCR_EL1", "AMAIR_EL1", "AFSR0_EL1", "AFSR1_EL1", "CSSELR_EL1"};

    @Test
    void translatedBlocksAgreeWithTheInterpreter(SeededRandom random) {
        int trials = TRIALS * OracleTools.scale();
        List<String> problems = new ArrayList<>();
        int compared = 0;
        long retired = 0;
        for (int trial = 0; trial < trials && problems.size() < 5; trial++) {
            long seed = random.nextLong();
            List<Map<String, Long>> interpreted = run(seed, false);
            List<Map<String, Long>> translated = run(seed, true);
            compared++;
            retired += translated.get(PASSES - 1).get("retired");
            for (int p = 0; p < PASSES; p++) {
                if (!interpreted.get(p).equals(translated.get(p))) {
                    List<String> d = new ArrayList<>();
                    for (String k : interpreted.get(p).keySet()) {
                        if (!interpreted.get(p).get(k).equals(translated.get(p).get(k))) {
                            d.add(String.format("%s: interpreted %x, translated %x", k, interpreted.get(p).get(k),
                                    translated.get(p).get(k)));
                        }
                    }
                    problems.add(String.format("trial %d (trial seed %d): pass %d differs: %s; start PC %x", trial,
                            seed, p, d, interpreted.get(0).get("start pc")));
                    break;
                }
            }
        }
        System.out.printf("translated vs interpreted: seed %d, %d trials, %d passes of at most %d instructions each "
                + "(%d retired in the last passes)%n", random.seed(), compared, PASSES, PASS_INSTRUCTIONS, retired);
        assertThat(problems).as("passes where translated code and the interpreter disagree").isEmpty();
    }

    /** The state after each pass of a trial, with the translator on or off. */
    private static List<Map<String, Long>> run(long seed, boolean translate) {
        try (GuestMemory memory = GuestMemory.create(RAM_BASE, RAM_SIZE)) {
            Random r = new Random(seed);
            Arm64System system = new Arm64System(memory, 1);
            system.setCompilerEnabled(translate);
            system.setCounterEpochNanos(0);
            Arm64Cpu cpu = system.cpu(0);
            RecordingGuestCpu io = new RecordingGuestCpu(memory, null);
            io.fixClock(1_000_000);
            cpu.setBootState(CODE, 0, 0, 0, 0);
            cpu.run(io, RunOptions.instructions(0));    // the fixed clock is the timer registers' from now on
            HostileCodeTest.randomMachine(r, memory, cpu, new HostileCodeTest.Totals(), "trial", 85,
                    HostileCodeTest.Mode.MMU_OFF, HostileCodeTest.Mode.MMU_IDENTITY);
            Map<String, Long> start = state(cpu, null);
            byte[] ram = new byte[(int) RAM_SIZE];
            memory.read(RAM_BASE, ram, 0, ram.length);
            byte[] now = new byte[ram.length];
            List<Map<String, Long>> passes = new ArrayList<>(PASSES);
            RunOptions options = RunOptions.instructions(PASS_INSTRUCTIONS).withBreakpoint(RunOptions.NO_BRK);
            for (int p = 0; p < PASSES; p++) {
                restore(cpu, start);
                Stop s = cpu.run(io, options);
                Map<String, Long> after = state(cpu, s);
                after.put("start pc", start.get("pc"));
                after.put("ram written", restoreRam(memory, ram, now));
                passes.add(after);
            }
            return passes;
        }
    }

    /** Registers, PSTATE, exception registers and the stop. */
    private static Map<String, Long> state(Arm64Cpu cpu, Stop stop) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < 31; i++) {
            m.put("x" + i, cpu.x(i));
        }
        m.put("sp_el0", cpu.spEl0());
        m.put("sp_el1", cpu.spEl1());
        m.put("pc", cpu.pc());
        m.put("pstate", cpu.pstate());
        m.put("el", (long) cpu.el());
        m.put("spsel", (long) cpu.spSel());
        m.put("daif", (long) cpu.daif());
        m.put("nzcv", (long) cpu.nzcv());
        for (String r : REGISTERS) {
            m.put(r, cpu.readSystemRegister(r));
        }
        if (stop != null) {
            m.put("stop", (long) stop.reason().ordinal());
            m.put("retired", stop.instructions());
        }
        return m;
    }

    /**
     * Puts back the pages of RAM that the pass changed ({@code ram} holds the start, {@code now} is scratch) and
     * returns a hash of what the pass wrote: which pages, with what.
     */
    private static long restoreRam(GuestMemory memory, byte[] ram, byte[] now) {
        memory.read(RAM_BASE, now, 0, now.length);
        long hash = 0;
        for (int page = 0; page < ram.length; page += 4096) {
            if (Arrays.mismatch(ram, page, page + 4096, now, page, page + 4096) >= 0) {
                hash = hash * 31 + page;
                for (int i = page; i < page + 4096; i++) {
                    hash = hash * 31 + now[i];
                }
                memory.write(RAM_BASE + page, ram, page, 4096);
            }
        }
        return hash;
    }

    /** Puts the start's registers and PSTATE back. */
    private static void restore(Arm64Cpu cpu, Map<String, Long> start) {
        for (String r : REGISTERS) {
            try {
                cpu.writeSystemRegister(r, start.get(r));
            } catch (IllegalArgumentException e) {
                // read-only here; it cannot have changed
            }
        }
        for (int i = 0; i < 31; i++) {
            cpu.setX(i, start.get("x" + i));
        }
        cpu.setSpEl0(start.get("sp_el0"));
        cpu.setSpEl1(start.get("sp_el1"));
        cpu.setElAndSpSel(start.get("el").intValue(), start.get("spsel").intValue());
        cpu.setDaif(start.get("daif").intValue());
        cpu.setNzcv(start.get("nzcv").intValue());
        cpu.setPc(start.get("pc"));
    }
}
