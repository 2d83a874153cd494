package dev.jvmm.virt;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The host side of the board's serial port, as QEMU's character backend ({@code -serial stdio|none|file:PATH}): it
 * outlives each boot (a guest reset makes a new UART and plugs it in here), takes what the UART transmits without
 * ever blocking the vCPU, and hands the UART what the host types or pipes in.
 *
 * <pre>
 *  vCPU: UARTDR store ─▶ {@link #offer} ─▶ transmit ring (64 KiB) ─▶ writer thread ─▶ stdout / file (flushed)
 *                         full? false: the UART shows UARTFR.TXFF, {@link Listener#transmitRoom} when it drains
 *  reader thread (from the first UART plugged in): stdin ─▶ receive ring (4 KiB; the reader waits while it is full)
 *                                                                                  ─▶ {@link Listener#inputReady}
 *                                                   UART fills its FIFO with {@link #poll} ◀─┘
 * </pre>
 *
 * <p>A terminal on standard input is switched to character-at-a-time without echo ({@code stty -icanon -echo}) while
 * the console is open, so the guest sees each key and does its own echo; Ctrl-C still reaches jvmm (the terminal's
 * signals stay on), and the previous settings are restored on {@link #close()} and at JVM exit.
 */
public final class SerialConsole implements AutoCloseable {
    static final int TRANSMIT_CAPACITY = 64 * 1024;
    static final int RECEIVE_CAPACITY = 4096;

    /** What the UART wants to hear from its host side (called from the console's threads). */
    interface Listener {
        /** Input is waiting in {@link #poll}. */
        void inputReady();

        /** The transmit ring had been full and has room again. */
        void transmitRoom();
    }

    private static final Listener NOBODY = new Listener() {
        @Override
        public void inputReady() {
        }

        @Override
        public void transmitRoom() {
        }
    };

    private final String name;
    private final OutputStream out;
    private final boolean closeOut;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition outputReady = lock.newCondition();
    private final Condition drained = lock.newCondition();
    private final Condition inputRoom = lock.newCondition();
    private final byte[] tx = new byte[TRANSMIT_CAPACITY];
    private int txHead;
    private int txCount;
    private boolean txWasFull;
    private final byte[] rx = new byte[RECEIVE_CAPACITY];
    private int rxHead;
    private int rxCount;
    private volatile Listener listener = NOBODY;
    private volatile boolean closed;
    private final AtomicBoolean closing = new AtomicBoolean();
    private final AtomicBoolean readerStarted = new AtomicBoolean();
    private final Thread writer;
    private final Thread reader;
    private final Runnable restoreTerminal;
    private volatile long dropped;
    private volatile long transmitted;
    private volatile IOException outputError;

    private SerialConsole(String name, InputStream in, OutputStream out, boolean closeOut, Runnable restoreTerminal) {
        this.name = name;
        this.out = out;
        this.closeOut = closeOut;
        this.restoreTerminal = restoreTerminal;
        if (out != null) {
            writer = new Thread(this::writeLoop, "serial-" + name + "-out");
            writer.setDaemon(true);
            writer.start();
        } else {
            writer = null;
        }
        if (in != null) {
            // Daemon: a read of the JVM's standard input cannot be interrupted, so the thread may outlive close().
            // It starts when a UART is plugged in: a machine that never boots reads no input.
            reader = new Thread(() -> readLoop(in), "serial-" + name + "-in");
            reader.setDaemon(true);
        } else {
            reader = null;
        }
    }

    /** Output to {@code out} (never closed here), input from {@code in}; either may be null (none). */
    public static SerialConsole of(InputStream in, OutputStream out) {
        return new SerialConsole("custom", in, out, false, null);
    }

    /** {@code -serial none}: what the guest writes is discarded, nothing arrives. */
    public static SerialConsole none() {
        return new SerialConsole("none", null, null, false, null);
    }

    /** {@code -serial file:PATH}: output to a file (created or truncated), no input. */
    public static SerialConsole file(Path path) throws IOException {
        return new SerialConsole("file", null, new FileOutputStream(path.toFile()), true, null);
    }

    /**
     * {@code -serial stdio}: output to standard output, input from standard input (a terminal, a pipe or a file;
     * a terminal is put in character mode while the console is open).
     */
    public static SerialConsole stdio() {
        Runnable restore = TerminalMode.enterCharacterMode();
        return new SerialConsole("stdio", System.in, System.out, false, restore);
    }

    /**
     * The console a {@code --serial} / {@code guest.serial} value names: {@code stdio}, {@code none} or
     * {@code file:PATH}.
     *
     * @throws IllegalArgumentException for another value, IOException when the file cannot be created
     */
    public static SerialConsole open(String spec) throws IOException {
        if (spec.equals("stdio")) {
            return stdio();
        }
        if (spec.equals("none")) {
            return none();
        }
        if (spec.startsWith("file:") && spec.length() > 5) {
            return file(Path.of(spec.substring(5)));
        }
        throw new IllegalArgumentException("must be stdio, none or file:PATH, got '" + spec + "'");
    }

    /** Whether {@code spec} is a value {@link #open} takes. */
    public static boolean isValidSpec(String spec) {
        return spec.equals("stdio") || spec.equals("none") || spec.startsWith("file:") && spec.length() > 5;
    }

    void setListener(Listener l) {
        listener = l == null ? NOBODY : l;
        if (l != null && reader != null && readerStarted.compareAndSet(false, true)) {
            reader.start();
        }
        if (l != null && hasInput()) {
            l.inputReady();
        }
    }

    // ------------------------------------------------------------------------------------------------ transmit

    /**
     * Takes one transmitted byte; never blocks. Returns false (and counts a drop) when the ring is full: the host
     * does not keep up, and the UART reports UARTFR.TXFF until {@link Listener#transmitRoom}.
     */
    boolean offer(byte b) {
        if (out == null) {
            transmitted++;
            return true;                                     // -serial none: "sent" at once
        }
        lock.lock();
        try {
            if (txCount == tx.length || closed) {
                txWasFull = true;
                dropped++;
                return false;
            }
            tx[(txHead + txCount) % tx.length] = b;
            txCount++;
            transmitted++;
            if (txCount == 1) {
                outputReady.signal();
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Whether the transmit ring is full (UARTFR.TXFF). */
    boolean transmitFull() {
        if (out == null) {
            return false;
        }
        lock.lock();
        try {
            return txCount == tx.length;
        } finally {
            lock.unlock();
        }
    }

    private void writeLoop() {
        byte[] chunk = new byte[8192];
        while (true) {
            int n;
            int from;
            lock.lock();
            try {
                while (txCount == 0 && !closed) {
                    drained.signalAll();
                    outputReady.awaitUninterruptibly();
                }
                if (txCount == 0) {
                    drained.signalAll();
                    return;
                }
                n = Math.min(chunk.length, txCount);
                from = txHead;
                for (int i = 0; i < n; i++) {
                    chunk[i] = tx[(from + i) % tx.length];
                }
            } finally {
                lock.unlock();
            }
            try {
                out.write(chunk, 0, n);
                out.flush();
            } catch (IOException e) {
                outputError = e;                             // a closed pipe: keep draining, as into nothing
            }
            boolean room;
            lock.lock();
            try {
                txHead = (txHead + n) % tx.length;
                txCount -= n;
                room = txWasFull;
                txWasFull = false;
            } finally {
                lock.unlock();
            }
            if (room) {
                listener.transmitRoom();
            }
        }
    }

    /** Waits until everything offered so far is written out (bounded by {@code timeoutMillis}). */
    public boolean flush(long timeoutMillis) {
        if (out == null) {
            return true;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        lock.lock();
        try {
            while (txCount > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !writer.isAlive()) {
                    return false;
                }
                try {
                    drained.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------ receive

    private void readLoop(InputStream in) {
        byte[] buf = new byte[512];
        try {
            while (!closed) {
                int n = in.read(buf);
                if (n < 0) {
                    return;                                  // end of input: the guest simply gets no more
                }
                for (int i = 0; i < n && !closed; ) {
                    lock.lock();
                    try {
                        while (rxCount == rx.length && !closed) {
                            inputRoom.awaitUninterruptibly();
                        }
                        while (i < n && rxCount < rx.length) {
                            rx[(rxHead + rxCount) % rx.length] = buf[i++];
                            rxCount++;
                        }
                    } finally {
                        lock.unlock();
                    }
                    listener.inputReady();
                }
            }
        } catch (IOException e) {
            // standard input closed under us: no more input
        }
    }

    /** The next received byte, or -1 when none is waiting. */
    int poll() {
        lock.lock();
        try {
            if (rxCount == 0) {
                return -1;
            }
            int b = rx[rxHead] & 0xFF;
            rxHead = (rxHead + 1) % rx.length;
            rxCount--;
            if (rxCount == rx.length - 1) {
                inputRoom.signalAll();
            }
            return b;
        } finally {
            lock.unlock();
        }
    }

    boolean hasInput() {
        lock.lock();
        try {
            return rxCount > 0;
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------ life

    /** Bytes the guest transmitted that the console took. */
    public long transmitted() {
        return transmitted;
    }

    /** Bytes the guest transmitted while the ring was full (lost, as a full hardware FIFO loses them). */
    public long dropped() {
        return dropped;
    }

    /**
     * Writes out what is left (for up to 5 s), stops the writer, restores the terminal and closes a file. The
     * reader of the JVM's standard input, blocked in a read, is left to end with the JVM (a daemon thread).
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        flush(5_000);
        lock.lock();
        try {
            closed = true;
            outputReady.signalAll();
            inputRoom.signalAll();
        } finally {
            lock.unlock();
        }
        if (writer != null) {
            try {
                writer.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (restoreTerminal != null) {
            restoreTerminal.run();
        }
        if (closeOut) {
            try {
                out.close();
            } catch (IOException ignored) {
                // nothing left to tell anyone
            }
        }
    }

    @Override
    public String toString() {
        return "SerialConsole[" + name + "]";
    }

    /** {@code stty} on the JVM's own terminal: the only portable way from Java to leave line mode. */
    static final class TerminalMode {
        private TerminalMode() {
        }

        /** When standard input is a terminal: character mode, no echo; returns what restores it (never null). */
        static Runnable enterCharacterMode() {
            String saved = stty(List.of("-g"));
            if (saved == null || saved.isBlank()) {
                return () -> { };                           // not a terminal (a pipe, a file, /dev/null)
            }
            if (stty(List.of("-icanon", "-echo", "min", "1")) == null) {
                return () -> { };
            }
            AtomicBoolean restored = new AtomicBoolean();
            Runnable restore = () -> {
                if (restored.compareAndSet(false, true)) {
                    stty(List.of(saved.trim()));
                }
            };
            try {
                Runtime.getRuntime().addShutdownHook(new Thread(restore, "serial-terminal-restore"));
            } catch (IllegalStateException shuttingDown) {
                restore.run();
            }
            return restore;
        }

        private static String stty(List<String> args) {
            try {
                java.util.ArrayList<String> cmd = new java.util.ArrayList<>();
                cmd.add("stty");
                cmd.addAll(args);
                Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.INHERIT)
                        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
                String text = new String(p.getInputStream().readAllBytes());
                if (!p.waitFor(5, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    return null;
                }
                return text.isEmpty() ? " " : text;
            } catch (IOException e) {
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }
}
