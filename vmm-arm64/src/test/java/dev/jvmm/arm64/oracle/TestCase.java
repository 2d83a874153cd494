package dev.jvmm.arm64.oracle;

import java.util.HexFormat;

/**
 * One differential case: a code {@link Snippet} and the state it starts from. Both the QEMU harness and the jvmm
 * runner execute {@link Snippet#image} from {@link Snippet#entryOffset()} until the PC reaches
 * {@link Snippet#endOffset()}, then compare {@link ArchState}s.
 *
 * @param name    how a report names the case ("random 412", "ADDS (shifted register) x1=..."), unique in a run
 * @param snippet the code
 * @param initial the registers, flags and scratch memory before the first instruction (x30 is also in the code)
 */
record TestCase(String name, Snippet snippet, ArchState initial) {

    /** The inputs a report shows: the registers the snippet can read, SP, the flags and the scratch memory. */
    String describeInputs() {
        StringBuilder b = new StringBuilder();
        long[] x = initial.x();
        for (int i = 0; i < 31; i++) {
            b.append(String.format("x%-2d=%016x%s", i, x[i], i % 4 == 3 ? "\n" : "  "));
        }
        b.append(String.format("sp =%016x  nzcv=%s\n", initial.sp(), ArchState.flags(initial.nzcv())));
        b.append("scratch at ").append(Long.toHexString(HarnessDescriptor.SCRATCH)).append(": ")
                .append(HexFormat.of().formatHex(initial.scratch()));
        return b.toString();
    }

    /** The same case with only the first {@code k} body instructions (the rest branch to the end). */
    TestCase prefix(int k) {
        return new TestCase(name + " (first " + k + " instructions)", snippet.prefix(k), initial);
    }
}
