package dev.jvmm.arm64.oracle;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** What the oracle tests need from the machine, and the scale of a run. */
final class OracleTools {
    private OracleTools() {
    }

    /** Skips the calling test, saying why, when {@code qemu-aarch64} is not installed (CI installs it). */
    static void assumeQemu() {
        boolean ok = QemuHarness.available();
        if (!ok) {
            System.err.println("SKIPPED: " + QemuHarness.QEMU + " is not installed; the differential test needs it "
                    + "(Debian: apt-get install qemu-user; or -Djvmm.qemu.aarch64=/path/to/qemu-aarch64)");
        }
        assumeTrue(ok, QemuHarness.QEMU + " is not installed: the differential test against QEMU is skipped "
                + "(Debian: apt-get install qemu-user)");
    }

    static void assumeObjdump() {
        assumeTrue(Objdump.available(), Objdump.OBJDUMP + " is not installed (Debian: binutils-aarch64-linux-gnu)");
    }

    /** The multiplier of random-case counts: {@code -Djvmm.arm64.scale=10} runs ten times as many. */
    static int scale() {
        return Math.max(1, Integer.getInteger("jvmm.arm64.scale", 1));
    }
}
