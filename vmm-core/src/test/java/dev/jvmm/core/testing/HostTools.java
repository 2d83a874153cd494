package dev.jvmm.core.testing;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** The host programs tests call (binutils, qemu-aarch64, qemu-system-aarch64, dtc): whether one is installed here. */
public final class HostTools {
    private HostTools() {
    }

    /** Whether {@code command --version} runs and succeeds here. */
    public static boolean installed(String command) {
        try {
            Process p = new ProcessBuilder(command, "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
