package dev.jvmm.bench.board;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the committed guest binaries are: {@code guests/NAME/NAME.elf} in the working folder or a parent of it. */
public final class GuestFiles {
    private GuestFiles() {
    }

    /**
     * {@code guests/NAME/NAME.elf} under the working folder or the nearest parent that has it (a test runs in a
     * module's folder, the command line at the project's root); null when none has it.
     */
    public static Path find(String name) {
        Path rel = Path.of("guests", name, name + ".elf");
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path p = dir.resolve(rel);
            if (Files.isRegularFile(p)) {
                return p.normalize();
            }
        }
        return null;
    }
}
