package dev.jvmm.bench.board;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class QemuProcessTest {

    @Test
    void cpuTimeComesFromUtimeAndStimeAfterTheCommandName(@TempDir Path dir) throws Exception {
        // A command name with spaces and a parenthesis: the fields are counted from the last ')'.
        Path stat = Files.writeString(dir.resolve("stat"), "4242 (qemu (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0"
                + " 250 30 0 0 20 0 3 0 100 0 0\n");
        assertThat(QemuProcess.cpuFromProc(stat)).isEqualTo(280 * 10_000_000L);
        assertThat(QemuProcess.cpuFromProc(dir.resolve("missing"))).isEqualTo(-1);
        assertThat(QemuProcess.cpuFromProc(Files.writeString(dir.resolve("short"), "1 (x) S"))).isEqualTo(-1);
    }

    @Test
    void theCommandLineIsRunQemuShs() {
        List<String> c = QemuProcess.command(Path.of("/usr/bin/qemu-system-aarch64"), Path.of("/g/k.elf"), "a=1", 2,
                "256M", List.of("-icount", "shift=0"));
        assertThat(String.join(" ", c)).isEqualTo("/usr/bin/qemu-system-aarch64 -M virt,gic-version=3 -cpu cortex-a57"
                + " -accel tcg -nographic -m 256M -smp 2 -global virtio-mmio.force-legacy=false -kernel /g/k.elf"
                + " -append a=1 -icount shift=0");
    }
}
