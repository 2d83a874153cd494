package dev.jvmm.net.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Fails a test when Netty complained during it: a leaked {@code ByteBuf} (the leak detector runs at paranoid in
 * tests and reports through Netty's logger), or an exception that escaped into an event loop (Netty logs "A task
 * raised an exception" and unhandled pipeline exceptions as warnings). A module registers it for every test through
 * {@code META-INF/services/org.junit.jupiter.api.extension.Extension} and {@code junit-platform.properties}
 * ({@code junit.jupiter.extensions.autodetection.enabled=true}). Netty is told to log through java.util.logging in
 * tests, whatever SLF4J binding is on the class path, so that this check sees every report.
 *
 * <p>Leaks are reported only once the garbage collector has found the lost buffer and a later allocation polls for
 * it, so after each test this check collects garbage and allocates a few buffers before it looks.
 */
public final class NettyHealthCheck implements BeforeEachCallback, AfterEachCallback {
    private static final Logger NETTY = Logger.getLogger("io.netty");
    private static final List<String> PROBLEMS = new CopyOnWriteArrayList<>();
    private static final Handler HANDLER = new Handler() {
        @Override
        public void publish(LogRecord r) {
            if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                String m = r.getMessage();
                PROBLEMS.add(r.getLoggerName() + ": " + m + (r.getThrown() != null ? " (" + r.getThrown() + ")" : ""));
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    static {
        io.netty.util.internal.logging.InternalLoggerFactory.setDefaultFactory(
                io.netty.util.internal.logging.JdkLoggerFactory.INSTANCE);
        NETTY.addHandler(HANDLER);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        PROBLEMS.clear();
    }

    @Override
    public void afterEach(ExtensionContext context) throws InterruptedException {
        for (int i = 0; i < 3 && PROBLEMS.isEmpty(); i++) {
            System.gc();
            Thread.sleep(20);
            for (int k = 0; k < 4; k++) {
                ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(16);
                b.release();
            }
        }
        if (!PROBLEMS.isEmpty()) {
            List<String> p = List.copyOf(PROBLEMS);
            PROBLEMS.clear();
            throw new AssertionError("Netty reported problems during the test (leaks or exceptions in an event loop): "
                    + p);
        }
    }
}
