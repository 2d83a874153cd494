package dev.jvmm.virt;

import dev.jvmm.arm64.Arm64Cpu;
import dev.jvmm.arm64.Arm64System;
import dev.jvmm.arm64.HypervisorCall;
import dev.jvmm.core.memory.GuestMemory;
import dev.jvmm.core.memory.RamRegion;
import dev.jvmm.core.testing.HostileCases;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.jvmm.virt.Psci.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The board's PSCI firmware answering calls as a guest makes them (registers in, x0 out), every function against
 * PSCI 1.0 (DEN 0022D) and QEMU 7.2's answers, and hostile callers: random functions and arguments, CPU_ON of one CPU
 * by two callers at once.
 */
@ExtendWith(SeedExtension.class)
class PsciTest {
    static final long RAM = 0x4000_0000L;

    GuestMemory memory;
    Arm64System system;
    Psci psci;
    final List<String> control = new ArrayList<>();

    @BeforeEach
    void board() {
        memory = GuestMemory.create(RAM, 64L << 20);
        system = new Arm64System(memory, 4);
        for (int i = 1; i < 4; i++) {
            system.cpu(i).startPoweredOff();
        }
        psci = new Psci(system, new RamRegion(RAM, 64L << 20), new Psci.SystemControl() {
            @Override
            public void systemOff(int cpu) {
                control.add("off " + cpu);
            }

            @Override
            public void systemReset(int cpu) {
                control.add("reset " + cpu);
            }
        });
    }

    @AfterEach
    void close() {
        memory.close();
    }

    /** HVC #0 from {@code cpu} with x0..x3; returns x0. */
    long call(int cpu, long fn, long a1, long a2, long a3) {
        Arm64Cpu c = system.cpu(cpu);
        c.setX(0, fn);
        c.setX(1, a1);
        c.setX(2, a2);
        c.setX(3, a3);
        psci.call(c, HypervisorCall.Conduit.HVC, 0);
        return c.x(0);
    }

    long call(long fn, long a1, long a2, long a3) {
        return call(0, fn, a1, a2, a3);
    }

    @Test
    void versionFeaturesAndMigrationAreQemus() {
        assertThat(call(PSCI_VERSION, 0, 0, 0)).as("PSCI 1.1, as QEMU 7.2 answers").isEqualTo(0x1_0001L);
        for (int fn : new int[]{PSCI_VERSION, CPU_SUSPEND_32, CPU_SUSPEND_64, CPU_OFF, CPU_ON_32, CPU_ON_64,
            AFFINITY_INFO_32, AFFINITY_INFO_64, MIGRATE_INFO_TYPE, SYSTEM_OFF, SYSTEM_RESET, PSCI_FEATURES}) {
            assertThat(call(PSCI_FEATURES, fn, 0, 0)).as("PSCI_FEATURES(0x%x)", fn).isZero();
        }
        for (int fn : new int[]{MIGRATE_32, MIGRATE_64, 0x8400_0007, 0x8400_000B, 0x8400_0012, 0xC400_0012,
            0x8000_0000, 0x1234_5678}) {
            assertThat(call(PSCI_FEATURES, fn, 0, 0)).as("PSCI_FEATURES(0x%x)", fn).isEqualTo(NOT_SUPPORTED);
        }
        assertThat(call(MIGRATE_INFO_TYPE, 0, 0, 0)).isEqualTo(2);
        assertThat(call(MIGRATE_64, 1, 0, 0)).isEqualTo(NOT_SUPPORTED);
        assertThat(call(0x8400_ff00L, 0, 0, 0)).as("an unknown PSCI function").isEqualTo(NOT_SUPPORTED);
        assertThat(call(0xC600_0000L, 0, 0, 0)).as("another SMCCC service").isEqualTo(NOT_SUPPORTED);
        assertThat(call(0x1234_5678L, 0, 0, 0)).as("not an SMCCC id").isEqualTo(NOT_SUPPORTED);
        assertThat(call(0xFFFF_FFFF_8400_0000L, 0, 0, 0)).as("the function id is W0 (SMCCC)").isEqualTo(0x1_0001L);
    }

    @Test
    void cpuOnChecksItsTargetAndEntryAsTheSpecificationSays() {
        long entry = RAM + 0x1000;
        assertThat(call(CPU_ON_64, 0xFF, entry, 7)).as("no CPU has MPIDR 0xff").isEqualTo(INVALID_PARAMETERS);
        assertThat(call(CPU_ON_64, 0x8000_0001L, entry, 7)).as("bit 31 is not an affinity field")
                .isEqualTo(INVALID_PARAMETERS);
        assertThat(call(CPU_ON_64, 1, entry + 2, 7)).as("an entry that is not 4-byte aligned")
                .isEqualTo(INVALID_PARAMETERS);
        assertThat(call(CPU_ON_64, 1, 0x0900_0000L, 7)).as("an entry outside RAM").isEqualTo(INVALID_ADDRESS);
        assertThat(call(CPU_ON_64, 1, RAM + (64L << 20), 7)).as("just past RAM").isEqualTo(INVALID_ADDRESS);
        assertThat(call(CPU_ON_64, 1, -4, 7)).isEqualTo(INVALID_ADDRESS);
        assertThat(call(CPU_ON_64, 0, entry, 7)).as("the caller itself").isEqualTo(ALREADY_ON);
        assertThat(system.cpu(1).isPoweredOn() || system.cpu(1).isPowerOnPending()).as("no refused call started it")
                .isFalse();
        assertThat(call(CPU_ON_64, 1, entry, 7)).isEqualTo(SUCCESS);
        assertThat(system.cpu(1).isPowerOnPending()).isTrue();
        assertThat(call(CPU_ON_64, 1, entry, 8)).as("again, before it runs").isEqualTo(ON_PENDING);
        assertThat(call(AFFINITY_INFO_64, 1, 0, 0)).isEqualTo(AFFINITY_ON_PENDING);
        assertThat(call(CPU_ON_32, 0xFFFF_FFFF_0000_0002L, 0xFFFF_FFFF_0000_0000L | entry, 0)).as(
                "SMC32: 32-bit arguments (the upper halves ignored)").isEqualTo(SUCCESS);
        assertThat(system.cpu(2).isPowerOnPending()).isTrue();
    }

    @Test
    void affinityInfoAndCpuOff() {
        assertThat(call(AFFINITY_INFO_64, 0, 0, 0)).isEqualTo(AFFINITY_ON);
        assertThat(call(AFFINITY_INFO_64, 3, 0, 0)).isEqualTo(AFFINITY_OFF);
        assertThat(call(AFFINITY_INFO_32, 0x100, 0, 0)).as("no such CPU").isEqualTo(INVALID_PARAMETERS);
        assertThat(call(AFFINITY_INFO_64, 3, 1, 0)).as("level 1: the cluster is on").isEqualTo(AFFINITY_ON);
        assertThat(call(AFFINITY_INFO_64, 3, 3, 0)).isEqualTo(AFFINITY_ON);
        assertThat(call(AFFINITY_INFO_64, 3, 4, 0)).as("no affinity level 4").isEqualTo(INVALID_PARAMETERS);
        call(0, CPU_OFF, 0, 0, 0);
        assertThat(system.cpu(0).isPoweredOn()).as("CPU_OFF powers the caller off").isFalse();
        assertThat(call(1, AFFINITY_INFO_64, 0, 0, 0)).isEqualTo(AFFINITY_OFF);
        assertThat(call(1, CPU_ON_64, 0, RAM, 0)).as("and it may be started again").isEqualTo(SUCCESS);
    }

    @Test
    void systemOffAndResetStopTheCallerAndTellTheBoard() {
        call(2, SYSTEM_RESET, 0, 0, 0);
        assertThat(control).containsExactly("reset 2");
        assertThat(system.cpu(2).isPoweredOn()).as("SYSTEM_RESET never returns to the caller").isFalse();
        call(0, SYSTEM_OFF, 0, 0, 0);
        assertThat(control).containsExactly("reset 2", "off 0");
        assertThat(system.cpu(0).isPoweredOn()).isFalse();
    }

    @Test
    void cpuSuspendRefusesPowerStatesQemuDoesNotTake() {
        assertThat(call(CPU_SUSPEND_64, 0x2_0000, 0, 0)).isEqualTo(INVALID_PARAMETERS);
        assertThat(call(CPU_SUSPEND_32, 0x4000_0000L, 0, 0)).isEqualTo(INVALID_PARAMETERS);
        assertThat(psci.refused()).isEqualTo(2);
    }

    /**
     * Random functions and arguments (the ones that stop or suspend the caller excepted): every answer is one PSCI
     * defines, nothing escapes, and a CPU is started only by a CPU_ON that returned SUCCESS.
     */
    @Test
    void hostileCallersGetTheSpecificationsAnswers(SeededRandom random) {
        // SUCCESS doubles as AFFINITY_INFO's ON, AFFINITY_ON_PENDING as MIGRATE_INFO_TYPE's answer.
        Set<Long> answers = Set.of(SUCCESS, NOT_SUPPORTED, INVALID_PARAMETERS, ALREADY_ON, ON_PENDING, INVALID_ADDRESS,
                AFFINITY_OFF, AFFINITY_ON_PENDING, VERSION_1_1);
        long[] ids = {PSCI_VERSION, CPU_SUSPEND_32, CPU_SUSPEND_64, CPU_ON_32, CPU_ON_64, AFFINITY_INFO_32,
            AFFINITY_INFO_64, MIGRATE_32, MIGRATE_64, MIGRATE_INFO_TYPE, PSCI_FEATURES, 0x8400_0007, 0x8400_000C,
            0xC400_0012L, 0x8000_0000L};
        for (int i = 0; i < HostileCases.cases(20_000); i++) {
            long fn = random.nextInt(4) == 0 ? random.edgyLong() : ids[random.nextInt(ids.length)];
            int w0 = (int) fn;
            if (w0 == CPU_OFF || w0 == SYSTEM_OFF || w0 == SYSTEM_RESET
                    || (w0 == CPU_SUSPEND_32 || w0 == CPU_SUSPEND_64) && random.nextBoolean()) {
                continue;
            }
            long a1 = random.nextInt(3) == 0 ? random.nextInt(5) : random.edgyLong();
            long a2 = random.nextBoolean() ? RAM + 4L * random.nextInt(1 << 20) : random.edgyLong();
            long a3 = random.edgyLong();
            if ((w0 == CPU_SUSPEND_32 || w0 == CPU_SUSPEND_64) && (a1 & SUSPEND_UNSUPPORTED_BITS) == 0) {
                continue;                                    // a valid suspend waits for an interrupt
            }
            boolean[] before = new boolean[4];
            for (int c = 0; c < 4; c++) {
                before[c] = system.cpu(c).isPoweredOn() || system.cpu(c).isPowerOnPending();
            }
            long r = call(random.nextInt(4) == 0 ? 1 : 0, fn, a1, a2, a3);
            assertThat(answers).as("answer to 0x%x(0x%x, 0x%x, 0x%x)", fn, a1, a2, a3).contains(r);
            for (int c = 1; c < 4; c++) {
                boolean now = system.cpu(c).isPoweredOn() || system.cpu(c).isPowerOnPending();
                if (now && !before[c]) {
                    assertThat(w0 == CPU_ON_32 || w0 == CPU_ON_64).isTrue();
                    assertThat(r).as("CPU %d started only by a successful CPU_ON", c).isEqualTo(SUCCESS);
                    system.cpu(c).startPoweredOff();
                }
            }
        }
    }

    /** Two CPUs race to start the same one: exactly one SUCCESS, the other ON_PENDING (or ALREADY_ON). */
    @Test
    void cpuOnRacesHaveOneWinner() throws Exception {
        int rounds = 2_000;
        CyclicBarrier barrier = new CyclicBarrier(2);
        AtomicInteger wins = new AtomicInteger();
        Throwable[] failed = new Throwable[1];
        Runnable caller = () -> {
            try {
                for (int r = 0; r < rounds; r++) {
                    barrier.await();
                    int me = Thread.currentThread().getName().equals("a") ? 0 : 1;
                    Arm64Cpu c = system.cpu(me);
                    long res;
                    synchronized (c) {
                        c.setX(0, CPU_ON_64);
                        c.setX(1, 3);
                        c.setX(2, RAM);
                        c.setX(3, me);
                        psci.call(c, HypervisorCall.Conduit.HVC, 0);
                        res = c.x(0);
                    }
                    if (res == SUCCESS) {
                        wins.incrementAndGet();
                    } else if (res != ON_PENDING && res != ALREADY_ON) {
                        throw new AssertionError("round " + r + ": " + res);
                    }
                    barrier.await();
                    if (me == 0) {
                        system.cpu(3).startPoweredOff();
                    }
                    barrier.await();
                }
            } catch (Throwable t) {
                failed[0] = t;
                barrier.reset();
            }
        };
        system.cpu(1).setBootState(0, 0, 0, 0, 0);
        Thread a = new Thread(caller, "a");
        Thread b = new Thread(caller, "b");
        a.start();
        b.start();
        a.join(60_000);
        b.join(60_000);
        assertThat(failed[0]).isNull();
        assertThat(wins.get()).as("one SUCCESS per round").isEqualTo(rounds);
    }
}
