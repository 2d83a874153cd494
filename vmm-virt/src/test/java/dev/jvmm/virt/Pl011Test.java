package dev.jvmm.virt;

import dev.jvmm.core.irq.IrqLine;
import dev.jvmm.core.testing.Await;
import dev.jvmm.core.testing.HostileCases;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import static dev.jvmm.virt.Pl011.*;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The PL011 as a driver uses it, through its registers (PL011 TRM, DDI 0183), with QEMU 7.2's behaviour where the TRM
 * leaves room (receive interrupt at one byte, no receive timeout): identification, transmit to the console, receive
 * from it by polling and by interrupt, the FIFO switch, a host that does not keep up, and a hostile driver.
 */
@ExtendWith(SeedExtension.class)
class Pl011Test {

    /** The UART's interrupt line as the GIC sees it. */
    static final class Line implements IrqLine {
        volatile boolean high;
        int changes;

        @Override
        public int intid() {
            return 33;
        }

        @Override
        public synchronized void set(boolean h) {
            high = h;
            changes++;
        }

        @Override
        public void pulse() {
            set(true);
            set(false);
        }
    }

    static long r(Pl011 u, int reg) {
        return u.read(reg, 4);
    }

    static void w(Pl011 u, int reg, long v) {
        u.write(reg, 4, v, -1);
    }

    @Test
    void identificationAndResetValuesAreQemus() {
        try (SerialConsole c = SerialConsole.none()) {
            Pl011 u = new Pl011(c, new Line());
            int[] id = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};
            for (int i = 0; i < 8; i++) {
                assertThat(r(u, ID_BASE + 4 * i)).as("ID register %d", i).isEqualTo(id[i]);
                assertThat(u.read(ID_BASE + 4 * i, 1)).as("byte access").isEqualTo(id[i]);
            }
            assertThat(r(u, UARTFR)).as("TXFE | RXFE").isEqualTo(0x90);
            assertThat(r(u, UARTCR)).as("TXE | RXE").isEqualTo(0x300);
            assertThat(r(u, UARTIFLS)).isEqualTo(0x12);
            assertThat(r(u, UARTLCR_H) | r(u, UARTIMSC) | r(u, UARTRIS) | r(u, UARTMIS) | r(u, UARTIBRD)).isZero();
            w(u, UARTIBRD, 0x12345);
            w(u, UARTFBRD, 0xff);
            assertThat(r(u, UARTIBRD)).as("16-bit divisor").isEqualTo(0x2345);
            assertThat(r(u, UARTFBRD)).as("6-bit fraction").isEqualTo(0x3f);
            w(u, UARTFR, 0);
            w(u, 0x1C, 5);
            assertThat(r(u, 0x1C)).isZero();
            assertThat(u.unknownAccesses()).isEqualTo(3);
        }
    }

    @Test
    void transmittedBytesReachTheConsoleAndRaiseTheTransmitInterrupt() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Line line = new Line();
        try (SerialConsole c = SerialConsole.of(null, out)) {
            Pl011 u = new Pl011(c, line);
            w(u, UARTIMSC, INT_TX);
            for (byte b : "hello\r\n".getBytes(StandardCharsets.US_ASCII)) {
                assertThat(r(u, UARTFR) & FR_TXFF).isZero();
                w(u, UARTDR, b);
            }
            assertThat(r(u, UARTRIS) & INT_TX).as("TXRIS after a store to UARTDR").isNotZero();
            assertThat(line.high).as("TXIM unmasked: the line is up").isTrue();
            w(u, UARTICR, INT_TX);
            assertThat(r(u, UARTMIS)).isZero();
            assertThat(line.high).isFalse();
            c.flush(5_000);
            assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo("hello\r\n");
        }
    }

    @Test
    void receivedBytesArriveOneAtATimeWithoutFifosAndSixteenWithThem() throws Exception {
        Line line = new Line();
        PipedOutputStream host = new PipedOutputStream();
        PipedInputStream in = new PipedInputStream(host, 4096);
        try (SerialConsole c = SerialConsole.of(in, null)) {
            Pl011 u = new Pl011(c, line);
            u.connect();
            w(u, UARTIMSC, INT_RX);
            host.write("abc".getBytes(StandardCharsets.US_ASCII));
            host.flush();
            Await.until(() -> (r(u, UARTFR) & FR_RXFE) == 0, Duration.ofSeconds(5), "a byte arrives");
            assertThat(r(u, UARTFR) & FR_RXFF).as("FIFOs off: one byte fills it").isNotZero();
            assertThat(r(u, UARTRIS) & INT_RX).as("RXRIS at the first byte (QEMU's trigger level)").isNotZero();
            assertThat(line.high).isTrue();
            assertThat(r(u, UARTDR)).isEqualTo('a');
            assertThat(r(u, UARTDR)).as("the next byte moves in as the FIFO empties").isEqualTo('b');
            assertThat(r(u, UARTDR)).isEqualTo('c');
            assertThat(r(u, UARTFR) & FR_RXFE).isNotZero();
            assertThat(r(u, UARTRIS) & INT_RX).as("RXRIS falls when UARTDR empties the FIFO").isZero();
            assertThat(line.high).isFalse();

            w(u, UARTLCR_H, LCR_H_FEN);
            host.write("0123456789abcdefXYZ".getBytes(StandardCharsets.US_ASCII));
            host.flush();
            Await.until(() -> (r(u, UARTFR) & FR_RXFF) != 0, Duration.ofSeconds(5), "sixteen bytes arrive");
            StringBuilder got = new StringBuilder();
            while ((r(u, UARTFR) & FR_RXFE) == 0 || got.length() < 19) {
                if ((r(u, UARTFR) & FR_RXFE) == 0) {
                    got.append((char) r(u, UARTDR));
                }
            }
            assertThat(got.toString()).isEqualTo("0123456789abcdefXYZ");
            host.write("lost".getBytes(StandardCharsets.US_ASCII));
            host.flush();
            Await.until(() -> (r(u, UARTFR) & FR_RXFF) != 0 || (r(u, UARTFR) & FR_RXFE) == 0, Duration.ofSeconds(5),
                    "bytes arrive");
            Await.until(() -> !c.hasInput(), Duration.ofSeconds(5), "the FIFO takes all four");
            w(u, UARTLCR_H, 0);
            assertThat(r(u, UARTFR) & FR_RXFE).as("switching FEN empties the FIFO (TRM, UARTLCR_H)").isNotZero();
            assertThat(r(u, UARTRIS) & INT_RX).isZero();
        }
    }

    /** An output that takes nothing until released: the host console does not keep up. */
    static final class StuckOutput extends OutputStream {
        final CountDownLatch release = new CountDownLatch(1);
        final ByteArrayOutputStream got = new ByteArrayOutputStream();

        @Override
        public void write(int b) throws IOException {
            write(new byte[]{(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            synchronized (got) {
                got.write(b, off, len);
            }
        }
    }

    /**
     * A guest that writes without pause into a console that takes nothing: every store returns at once, UARTFR shows
     * TXFF once the ring is full, what does not fit is dropped and counted, and the transmit interrupt rises again
     * when the host drains it.
     */
    @Test
    @Timeout(60)
    void aHostThatDoesNotKeepUpNeverBlocksTheGuest() {
        StuckOutput out = new StuckOutput();
        Line line = new Line();
        try (SerialConsole c = SerialConsole.of(null, out)) {
            Pl011 u = new Pl011(c, line);
            u.connect();
            w(u, UARTIMSC, INT_TX);
            int n = 4 * SerialConsole.TRANSMIT_CAPACITY;
            for (int i = 0; i < n; i++) {
                w(u, UARTDR, 'x');
            }
            assertThat(r(u, UARTFR) & (FR_TXFF | FR_TXFE)).as("TXFF, not TXFE").isEqualTo(FR_TXFF);
            assertThat(c.dropped()).as("bytes beyond the ring (and the writer's chunk) are lost")
                    .isBetween((long) n - SerialConsole.TRANSMIT_CAPACITY - 8192, (long) n - SerialConsole.TRANSMIT_CAPACITY);
            w(u, UARTICR, INT_TX);
            assertThat(line.high).isFalse();
            out.release.countDown();
            Await.until(() -> (r(u, UARTFR) & FR_TXFF) == 0, Duration.ofSeconds(10), "the ring drains");
            Await.until(() -> line.high, Duration.ofSeconds(10), "TXRIS rises again once there is room");
            c.flush(10_000);
            assertThat(out.got.size() + c.dropped()).isEqualTo(n);
        }
    }

    /** Any register, any size, any value, from several threads at once: no exception, IDs intact. */
    @Test
    void aHostileDriverBreaksNothing(SeededRandom random) throws Exception {
        try (SerialConsole c = SerialConsole.of(new ByteArrayInputStream(new byte[10_000]), OutputStream.nullOutputStream())) {
            Pl011 u = new Pl011(c, new Line());
            u.connect();
            Thread[] threads = new Thread[3];
            Throwable[] failed = new Throwable[1];
            for (int t = 0; t < threads.length; t++) {
                long seed = random.nextLong();
                threads[t] = new Thread(() -> {
                    java.util.Random rnd = new java.util.Random(seed);
                    try {
                        for (int i = 0; i < HostileCases.cases(50_000); i++) {
                            long off = rnd.nextInt(8) == 0 ? rnd.nextInt(0x1000) : 4L * rnd.nextInt(0x14);
                            int size = 1 << rnd.nextInt(4);
                            off = Math.min(off, 0x1000 - size);
                            if (rnd.nextBoolean()) {
                                u.read(off, size);
                            } else {
                                u.write(off, size, rnd.nextLong(), -1);
                            }
                        }
                    } catch (Throwable e) {
                        failed[0] = e;
                    }
                });
                threads[t].start();
            }
            for (Thread t : threads) {
                t.join();
            }
            assertThat(failed[0]).isNull();
            assertThat(r(u, ID_BASE + 0x1C)).isEqualTo(0xb1);
        }
    }
}
