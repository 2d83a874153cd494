/**
 * The CPU's oracle: jvmm's AArch64 CPU checked instruction by instruction against QEMU, and against hostile code.
 *
 * <pre>
 *  seeded generator ──► TestCase (code Snippet + registers, SP, NZCV, scratch memory)
 *        │                 │
 *        │                 ├─► QemuHarness: one static ELF per batch (written here, no compiler), run by
 *        │                 │   qemu-aarch64 -cpu cortex-a57; a driver loads each case's state, runs it, stores the
 *        │                 │   end state (or the signal it died of) and writes all records with write(1, ...)
 *        │                 └─► JvmmEmulator: the same code at the same addresses on Arm64Cpu, at EL0 with an
 *        │                     identity map, stopped at the epilogue; exceptions mapped to Linux's signals
 *        └─► Differential: compares, bisects a mismatch to its first differing instruction, reports it
 * </pre>
 *
 * <ul>
 *   <li>{@link dev.jvmm.arm64.oracle.DifferentialTest}: random cases over every {@link
 *       dev.jvmm.arm64.oracle.EncodingClass} (100,000 instructions under test per default run), directed corner
 *       cases ({@link dev.jvmm.arm64.oracle.DirectedCases}), both again with every block translated to JVM code,
 *       random words that must be UNDEFINED exactly where QEMU says so, and cases that end in a fault
 *       ({@link dev.jvmm.arm64.oracle.FaultClass}). Needs {@code qemu-aarch64}; skipped without it.</li>
 *   <li>{@link dev.jvmm.arm64.oracle.HostileCodeTest}: random words at EL0 and EL1 over random translation tables
 *       and system registers; pause and stop on real vCPUs.</li>
 *   <li>{@link dev.jvmm.arm64.oracle.TranslatedCodeTest}: translated blocks against the interpreter on random code
 *       with faults.</li>
 * </ul>
 *
 * <p>Replay a failure with the seed it prints: {@code mvn -B -o test -pl vmm-arm64 -am -Dtest=DifferentialTest#<method>
 * -Dsurefire.failIfNoSpecifiedTests=false -Djvmm.seed=<seed>}. Run more: {@code -Djvmm.arm64.scale=10} multiplies
 * every count. Reports of mismatches go to {@code vmm-arm64/target/oracle-report-*.txt}. Other QEMU or objdump
 * binaries: {@code -Djvmm.qemu.aarch64=...}, {@code -Djvmm.objdump=...}.
 */
package dev.jvmm.arm64.oracle;
