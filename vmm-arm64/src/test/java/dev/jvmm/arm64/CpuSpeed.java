package dev.jvmm.arm64;

import dev.jvmm.core.testing.ThreadAllocations;

/**
 * Prints guest instructions per second and bytes allocated per instruction on compute-bound loops (a manual
 * benchmark: {@code java -cp ... dev.jvmm.arm64.CpuSpeed}; {@code CpuSpeedTest} runs a short version).
 */
public final class CpuSpeed {
    /** An integer loop: ALU work, a load and a store per iteration, a conditional branch. */
    static final String LOOP = String.join("\n",
            "mov x0, #0",
            "mov x5, #0",
            "1: add x0, x0, x1",
            "eor x2, x0, x1, lsl #3",
            "ldr x4, [x6, x5]",
            "add x3, x2, x4",
            "str x3, [x6, x5]",
            "add x5, x5, #8",
            "and x5, x5, #0xff8",
            "madd x7, x3, x1, x0",
            "subs x1, x1, #1",
            "b.ne 1b",
            "brk #0");

    /** A call-heavy, branchy loop: a function call per iteration and a data-dependent branch (several blocks). */
    static final String CALLS = String.join("\n",
            "mov x0, #0",
            "1: mov x2, x1",
            "bl 3f",
            "tbz x1, #0, 2f",
            "eor x0, x0, x1, ror #7",
            "2: subs x1, x1, #1",
            "b.ne 1b",
            "brk #0",
            "3: add x0, x0, x2",
            "lsr x3, x0, #3",
            "add x0, x0, x3",
            "ret");

    /** ALU only: the ceiling of translated code. */
    static final String ALU = String.join("\n",
            "mov x0, #0",
            "1: add x0, x0, x1",
            "eor x2, x0, x1, lsl #3",
            "add x3, x2, #7",
            "orr x4, x3, x0, lsr #2",
            "sub x0, x4, x2",
            "subs x1, x1, #1",
            "b.ne 1b",
            "brk #0");

    public static void main(String[] args) {
        long iterations = args.length > 0 ? Long.parseLong(args[0]) : 100_000_000L;
        String only = args.length > 1 ? args[1] : null;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        for (String[] named : new String[][] {{"loop", LOOP}, {"calls", CALLS}, {"alu", ALU}}) {
            if (only != null && !only.equals(named[0])) {
                continue;
            }
            for (int round = 0; round < rounds; round++) {
                Result r = measure(named[1], iterations);
                System.out.printf("%s round %d: %,d instructions in %.3f s = %,.0f instructions/s, %.4f bytes/instruction%n",
                        named[0], round, r.instructions, r.seconds, r.instructions / r.seconds, r.bytesPerInstruction);
            }
        }
    }

    public static void mainOld(String[] args) {
        long iterations = args.length > 0 ? Long.parseLong(args[0]) : 100_000_000L;
        for (int round = 0; round < 5; round++) {
            Result r = measure(LOOP, iterations);
            System.out.printf("round %d: %,d instructions in %.3f s = %,.0f instructions/s, %.4f bytes/instruction%n",
                    round, r.instructions, r.seconds, r.instructions / r.seconds, r.bytesPerInstruction);
        }
    }

    record Result(long instructions, double seconds, double bytesPerInstruction) {
    }

    static Result measure(String code, long iterations) {
        try (BareMetal m = new BareMetal()) {
            m.assemble(BareMetal.CODE, code);
            IdentityMap.install(m, false);
            m.cpu.setX(1, iterations);
            m.cpu.setX(6, BareMetal.DATA);
            m.cpu.setPc(BareMetal.CODE);
            long[] retired = new long[1];
            long t0 = System.nanoTime();
            long bytes = ThreadAllocations.minimumOf(1, () -> {
                Stop s = m.run(Long.MAX_VALUE);
                retired[0] = s.instructions();
                if (s.reason() != StopReason.BREAKPOINT) {
                    throw new IllegalStateException("stopped: " + s + " " + m.cpu.fatal());
                }
            });
            double secs = (System.nanoTime() - t0) / 1e9;
            return new Result(retired[0], secs, (double) bytes / retired[0]);
        }
    }
}
