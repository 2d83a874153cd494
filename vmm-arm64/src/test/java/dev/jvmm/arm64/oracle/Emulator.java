package dev.jvmm.arm64.oracle;

import java.util.List;

/** Something that runs cases and returns the state each ends in: the oracle (QEMU) or the CPU under test. */
interface Emulator {
    /** The end state of each case, in order; the cases' code is laid out by {@link QemuHarness#layout}. */
    List<ArchState> run(List<TestCase> cases) throws Exception;

    /** How a report names this side ("qemu", "jvmm"). */
    String name();
}
