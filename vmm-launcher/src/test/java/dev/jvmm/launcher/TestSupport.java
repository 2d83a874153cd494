package dev.jvmm.launcher;

import dev.jvmm.core.testing.Await;
import dev.jvmm.guest.GuestReport;
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

import static org.assertj.core.api.Assertions.assertThat;

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

    /**
     * Sends {@code count} datagrams of {@code length} bytes ({@link #payload}) to NIC {@code nic}, never more than 32
     * or 64 KiB in flight (the host socket's receive buffer must not overflow: these tests are about correctness,
     * not rate), and waits until the guest counted them all; returns their CRC-32 sum.
     */
    public static long sendAndAwait(VirtualMachine vm, Sender s, int nic, int count, int length, int salt)
            throws IOException {
        long crcSum = 0;
        long before = vm.guest().counter(nic, GuestReport.Counter.FRAMES);
        for (int i = 0; i < count; i++) {
            byte[] p = payload(i, length, salt);
            crcSum += crc(p);
            s.send(p, vm.nicPort(nic));
            if (i % 32 == 31 || (long) (i % 32 + 1) * length > 64 * 1024) {
                long want = before + i + 1;
                await(() -> vm.guest().counter(nic, GuestReport.Counter.FRAMES) >= want, 20_000,
                        "the guest to take datagram " + i + " on NIC " + nic);
            }
        }
        long want = before + count;
        await(() -> vm.guest().counter(nic, GuestReport.Counter.FRAMES) >= want, 20_000, "all datagrams on NIC " + nic);
        return crcSum;
    }

    /**
     * {@code rounds} rounds of 10 datagrams to each of the first 10 NICs at once, each round waited for; returns each
     * NIC's CRC-32 sum.
     */
    public static long[] tenNicRounds(VirtualMachine vm, Sender s, int rounds) throws IOException {
        long[] crcs = new long[10];
        long before = vm.guest().total(GuestReport.Counter.FRAMES);
        for (int round = 0; round < rounds; round++) {
            for (int nic = 0; nic < 10; nic++) {
                for (int k = 0; k < 10; k++) {
                    byte[] p = payload(round * 10 + k, 64, nic);
                    crcs[nic] += crc(p);
                    s.send(p, vm.nicPort(nic));
                }
            }
            long want = before + (round + 1) * 100L;
            await(() -> vm.guest().total(GuestReport.Counter.FRAMES) == want, 20_000, "round " + round);
        }
        return crcs;
    }

    /** Sends {@code count} datagrams of varied lengths to NIC 0 one at a time; each must come back unchanged. */
    public static void echoRoundTrips(VirtualMachine vm, int count) throws Exception {
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress("127.0.0.1", 0));
            ch.configureBlocking(false);
            InetSocketAddress nic = new InetSocketAddress("127.0.0.1", vm.nicPort(0));
            ByteBuffer in = ByteBuffer.allocate(2048);
            for (int i = 0; i < count; i++) {
                byte[] p = payload(i, 16 + (i * 13) % 1400, 9);
                ch.send(ByteBuffer.wrap(p), nic);
                in.clear();
                assertThat(receive(ch, in, 10_000)).as("echo %d", i).isEqualTo(nic);
                in.flip();
                byte[] got = new byte[in.remaining()];
                in.get(got);
                assertThat(got).as("echo %d", i).isEqualTo(p);
            }
        }
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
