package dev.jvmm.launcher;

import dev.jvmm.core.testing.Await;
import dev.jvmm.net.NicConfig;
import dev.jvmm.core.config.VmConfig;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32;

/** Helpers for the launcher's end-to-end tests. */
public final class TestSupport {
    private TestSupport() {
    }

    /** The repository's {@code configs/} directory (tests run in vmm-launcher/). */
    public static Path configs() {
        Path here = Path.of("").toAbsolutePath();
        Path p = here.resolve("configs");
        return p.toFile().isDirectory() ? p : here.getParent().resolve("configs");
    }

    /** A shipped config with every NIC moved to a free port (so tests never collide with a running vmm). */
    public static VmConfig shipped(String name) {
        VmConfig c = VirtualMachine.configLoader().load(configs().resolve(name));
        List<NicConfig> nics = new ArrayList<>();
        for (NicConfig n : c.get(NicConfig.SECTION)) {
            nics.add(n.toBuilder().listen(new InetSocketAddress("127.0.0.1", 0)).build());
        }
        return c.with(NicConfig.SECTION, nics).validate();
    }

    /** The shipped toy-guest machine on free ports, started and booted (30 s at most). */
    public static VirtualMachine bootedToyGuest() {
        VirtualMachine vm = VirtualMachine.builder(shipped("toy-guest.yaml")).build();
        try {
            vm.start();
            vm.awaitGuestRunning(java.time.Duration.ofSeconds(30));
            return vm;
        } catch (RuntimeException | Error e) {
            vm.close();
            throw e;
        }
    }

    /** Waits for {@code condition} ({@link Await}, the one await helper of every module's tests). */
    public static void await(BooleanSupplier condition, long millis, String what) {
        Await.until(condition, java.time.Duration.ofMillis(millis), what);
    }

    /** An iperf2-style payload: id (big-endian) first, then bytes derived from the id and a salt. */
    public static byte[] payload(int id, int length, int salt) {
        byte[] b = new byte[length];
        ByteBuffer.wrap(b).putInt(0, id);
        for (int i = 16; i < length; i++) {
            b[i] = (byte) (id * 31 + i * 7 + salt);
        }
        return b;
    }

    public static long crc(byte[] b) {
        CRC32 c = new CRC32();
        c.update(b);
        return c.getValue();
    }

    /** Receives one datagram on a non-blocking channel, waiting up to {@code millis}; null when none came. */
    public static java.net.SocketAddress receive(DatagramChannel ch, ByteBuffer into, long millis) throws Exception {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (System.nanoTime() < deadline) {
            java.net.SocketAddress from = ch.receive(into);
            if (from != null) {
                return from;
            }
            Thread.sleep(1);
        }
        return null;
    }

    /** Sends datagrams from one socket; closes with the test. */
    public static final class Sender implements AutoCloseable {
        final DatagramChannel channel;

        public Sender() throws IOException {
            channel = DatagramChannel.open();
            channel.bind(new InetSocketAddress("127.0.0.1", 0));
        }

        public void send(byte[] payload, int port) throws IOException {
            channel.send(ByteBuffer.wrap(payload), new InetSocketAddress("127.0.0.1", port));
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
