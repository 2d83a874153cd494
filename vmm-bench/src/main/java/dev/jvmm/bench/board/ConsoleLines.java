package dev.jvmm.bench.board;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A guest's console as whole lines (carriage returns dropped): what jvmm's serial console or QEMU's standard output
 * receives, kept in order and handed to a listener as each line ends. Lines longer than 4 KiB are cut there; at most
 * {@value #MAX_LINES} lines are kept (the first ones), so that a guest printing without pause cannot fill the heap.
 * Thread-safe.
 */
public final class ConsoleLines extends OutputStream {
    static final int MAX_LINES = 100_000;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final List<String> lines = new ArrayList<>();
    private final Consumer<String> listener;
    private long dropped;

    /** @param listener sees every line as it ends, on the writing thread (null: none) */
    public ConsoleLines(Consumer<String> listener) {
        this.listener = listener;
    }

    @Override
    public synchronized void write(int b) {
        if (b == '\n') {
            end();
        } else if (b != '\r') {
            line.write(b);
            if (line.size() >= 4096) {
                end();
            }
        }
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        for (int i = 0; i < len; i++) {
            write(b[off + i]);
        }
    }

    private void end() {
        String l = line.toString(StandardCharsets.UTF_8);
        line.reset();
        if (lines.size() < MAX_LINES) {
            lines.add(l);
        } else {
            dropped++;
        }
        if (listener != null) {
            listener.accept(l);
        }
    }

    /** Every complete line so far, and the unfinished one if any. */
    public synchronized List<String> lines() {
        List<String> all = new ArrayList<>(lines);
        if (line.size() > 0) {
            all.add(line.toString(StandardCharsets.UTF_8));
        }
        return all;
    }

    /** The first line starting with {@code prefix}, or null. */
    public synchronized String find(String prefix) {
        for (String l : lines) {
            if (l.startsWith(prefix)) {
                return l;
            }
        }
        return null;
    }

    /** The whole console so far, a line each, for a message. */
    public String text() {
        return String.join("\n", lines());
    }
}
