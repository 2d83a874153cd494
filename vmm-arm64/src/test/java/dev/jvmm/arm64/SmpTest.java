package dev.jvmm.arm64;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** Exclusives across CPUs (the global monitor), WFE/SEV and the event register. */
@NeedsAssembler
class SmpTest {
    @Test
    void anotherCpusStoreToTheGranuleFailsStxr() {
        try (BareMetal m = new BareMetal(2)) {
            m.assemble(BareMetal.CODE, "ldxr x0, [x1]\n add x0, x0, #1\n stxr w2, x0, [x1]\n brk #0\n");
            m.assemble(BareMetal.CODE + 0x100, "str x3, [x1, #8]\n brk #0\n");
            Arm64Cpu a = m.cpu;
            Arm64Cpu b = m.system.cpu(1);
            TestGuestCpu bio = new TestGuestCpu(m.memory, 1, 2);
            a.setX(1, BareMetal.DATA);
            a.setPc(BareMetal.CODE);
            assertThat(a.run(m.io, RunOptions.instructions(1)).reason()).isEqualTo(StopReason.INSTRUCTION_LIMIT);
            b.setX(1, BareMetal.DATA);
            b.setPc(BareMetal.CODE + 0x100);
            assertThat(b.run(bio, RunOptions.instructions(10)).reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(a.run(m.io, RunOptions.instructions(10)).reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(a.x(2)).as("STXR status after another CPU stored to the reservation granule").isEqualTo(1);
            assertThat(m.memory.read64(BareMetal.DATA)).isZero();
            assertThat(a.st.event).as("the cleared reservation is a WFE wake-up event").isTrue();

            a.setPc(BareMetal.CODE);
            assertThat(a.run(m.io, RunOptions.instructions(10)).reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(a.x(2)).as("undisturbed: STXR succeeds").isZero();
            assertThat(m.memory.read64(BareMetal.DATA)).isEqualTo(1);
        }
    }

    @Test
    void atomicIncrementsFromTwoThreadsAllCount() throws Exception {
        int perCpu = 200_000;
        try (BareMetal m = new BareMetal(2)) {
            m.assemble(BareMetal.CODE, String.join("\n",
                    "1: ldaxr x0, [x1]",
                    "add x0, x0, #1",
                    "stlxr w3, x0, [x1]",
                    "cbnz w3, 1b",
                    "ldxrh w4, [x5]",          // a halfword counter beside it, in the same granule
                    "add w4, w4, #1",
                    "stxrh w6, w4, [x5]",
                    "cbnz w6, 1b",
                    "subs x2, x2, #1",
                    "b.ne 1b",
                    "brk #0"));
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread[] threads = new Thread[2];
            for (int c = 0; c < 2; c++) {
                Arm64Cpu cpu = m.system.cpu(c);
                TestGuestCpu io = new TestGuestCpu(m.memory, c, 2);
                cpu.setX(1, BareMetal.DATA);
                cpu.setX(5, BareMetal.DATA + 8);
                cpu.setX(2, perCpu);
                cpu.setPc(BareMetal.CODE);
                threads[c] = new Thread(() -> {
                    try {
                        Stop s = cpu.run(io, RunOptions.instructions(Long.MAX_VALUE));
                        if (s.reason() != StopReason.BREAKPOINT) {
                            failure.set(new AssertionError("cpu stopped: " + s));
                        }
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                });
            }
            for (Thread t : threads) {
                t.start();
            }
            for (Thread t : threads) {
                t.join(60_000);
            }
            assertThat(failure.get()).isNull();
            // The halfword increment retries from the top, so each loop iteration adds one to each counter only
            // when both exclusives succeed in a row; the doubleword counter counts every attempt's success.
            assertThat(m.memory.read64(BareMetal.DATA + 8) & 0xFFFF).as("halfword counter")
                    .isEqualTo((2L * perCpu) & 0xFFFF);
            assertThat(m.memory.read64(BareMetal.DATA)).as("no increment lost").isGreaterThanOrEqualTo(2L * perCpu);
        }
    }

    @Test
    void sevlWfeAndSev() {
        try (BareMetal m = new BareMetal(2)) {
            m.assemble(BareMetal.CODE, "sevl\n wfe\n wfe\n brk #0\n");
            m.cpu.setPc(BareMetal.CODE);
            assertThat(m.run(10).reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(m.io.wfiDeadlines).as("the first WFE consumed SEVL's event, the second waited").hasSize(1);

            m.assemble(BareMetal.CODE + 0x100, "sev\n brk #0\n");
            Arm64Cpu b = m.system.cpu(1);
            b.setPc(BareMetal.CODE + 0x100);
            boolean[] woken = new boolean[1];
            m.cpu.setWaker(() -> woken[0] = true);
            assertThat(b.run(new TestGuestCpu(m.memory, 1, 2), RunOptions.instructions(10)).reason())
                    .isEqualTo(StopReason.BREAKPOINT);
            assertThat(woken[0]).as("SEV kicks the other vCPU").isTrue();
            m.io.wfiDeadlines.clear();
            m.cpu.setPc(BareMetal.CODE + 4);
            assertThat(m.run(10).reason()).isEqualTo(StopReason.BREAKPOINT);
            assertThat(m.io.wfiDeadlines).as("SEV's event let the first WFE through").hasSize(1);
        }
    }
}
