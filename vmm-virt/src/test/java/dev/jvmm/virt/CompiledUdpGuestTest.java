package dev.jvmm.virt;

import dev.jvmm.core.config.VmConfig;
import dev.jvmm.net.NicConfig;
import dev.jvmm.net.NicStats;
import dev.jvmm.net.VirtioNetDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The seed's path with real guest code: UDP datagrams on loopback → virtio-net → an MSI through the ITS (or the
 * slot's wired SPI) → the compiled {@code udp-sink}'s IRQ vector, which counts and checks each datagram. Its counts
 * must be the host's, and, fed the same datagrams, the same as the same binary's on QEMU (user networking with
 * {@code hostfwd}, wired: QEMU's virtio-mmio has no MSIs).
 */
class CompiledUdpGuestTest {
    static final Path SINK = GuestCase.GUESTS.resolve("udp-sink/udp-sink.elf");
    static final Path ECHO = GuestCase.GUESTS.resolve("udp-echo/udp-echo.elf");
    /** udp-sink's end-of-run line (guests/net/netapp.c). */
    static final Pattern SUMMARY = Pattern.compile("summary nic 0 after \\d+ s: datagrams (\\d+) \\(iperf (\\d+), "
            + "other payloads (\\d+), fin (\\d+)\\) bytes (\\d+) lost (\\d+) reordered (\\d+) bad (\\d+) other-frames "
            + "(\\d+) echoed (\\d+) tx-drops (\\d+) irqs (\\d+) crc (0x[0-9a-f]+)");

    /** What udp-sink counted, from its summary line. */
    record Counts(long datagrams, long iperf, long bytes, long lost, long bad, long otherFrames, long echoed,
                  long irqs, String crc) {
        static Counts parse(String console) {
            Matcher m = SUMMARY.matcher(console);
            assertThat(m.find()).as("udp-sink's summary in:%n%s", console).isTrue();
            return new Counts(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(5)),
                    Long.parseLong(m.group(6)), Long.parseLong(m.group(8)), Long.parseLong(m.group(9)),
                    Long.parseLong(m.group(10)), Long.parseLong(m.group(12)), m.group(13));
        }
    }

    /**
     * {@code count} iperf2-style datagrams (id, tv_sec, tv_usec big-endian, then bytes of a fixed seed) of
     * {@code length} bytes to every target, paced at {@code perSecond}: the same bytes to each.
     */
    static void send(List<InetSocketAddress> to, int count, int length, int perSecond) throws Exception {
        Random r = new Random(16);
        try (DatagramChannel ch = DatagramChannel.open()) {
            ByteBuffer b = ByteBuffer.allocate(length);
            long start = System.nanoTime();
            for (int i = 0; i < count; i++) {
                b.clear();
                b.putInt(i).putInt(i / 1000).putInt((i % 1000) * 1000);
                while (b.hasRemaining()) {
                    b.put((byte) r.nextInt());
                }
                for (InetSocketAddress a : to) {
                    b.flip();
                    ch.send(b, a);
                }
                long due = start + (i + 1) * 1_000_000_000L / perSecond;
                long now = System.nanoTime();
                if (due > now) {
                    TimeUnit.NANOSECONDS.sleep(due - now);
                }
            }
        }
    }

    static VmConfig config(Path kernel, NicConfig.NicInterrupt mode, String append) {
        NicConfig nic = NicConfig.builder(31).listen(new InetSocketAddress("127.0.0.1", 0)).guestPort(5001)
                .interrupt(mode).build();
        return VmConfig.builder().vcpus(1).memorySize(128L << 20).with(NicConfig.SECTION, List.of(nic))
                .with(KernelConfig.SECTION, KernelConfig.of(kernel).withAppend(append)).build();
    }

    /** A booted guest whose console is captured, its NIC up (DRIVER_OK). */
    static final class Running implements AutoCloseable {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final SerialConsole console = SerialConsole.of(null, out);
        final VirtMachine vm;

        Running(VmConfig config) {
            vm = VirtMachine.builder(config).name("udp-guest").console(console).build();
            vm.start();
            assertThat(vm.awaitDrivers(Duration.ofSeconds(20))).as("the guest's driver reaches DRIVER_OK (outcome: %s)",
                    vm.outcome()).isTrue();
        }

        InetSocketAddress address() {
            return new InetSocketAddress("127.0.0.1", vm.nicPort(0));
        }

        String console() {
            console.flush(5_000);
            return out.toString(StandardCharsets.UTF_8).replace("\r", "");
        }

        @Override
        public void close() {
            vm.close();
            console.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(NicConfig.NicInterrupt.class)
    @Timeout(120)
    void udpSinkCountsEveryDatagramTheHostDelivered(NicConfig.NicInterrupt mode) throws Exception {
        int count = 20_000;
        try (Running g = new Running(config(SINK, mode, "seconds=5 interval=0"))) {
            send(List.of(g.address()), count, 64, 10_000);
            VirtMachine.Outcome o = g.vm.awaitEnd(Duration.ofSeconds(60));
            assertThat(o).isNotNull().extracting(VirtMachine.Outcome::kind)
                    .isEqualTo(VirtMachine.Outcome.Kind.POWER_OFF);
            Counts c = Counts.parse(g.console());
            VirtioNetDevice nic = g.vm.nics().get(0);
            NicStats s = nic.stats();
            System.out.printf("%s: host received %d, delivered %d; the guest counted %d datagrams (%d lost), %d irqs%n",
                    mode, s.rxDatagrams(), s.rxDelivered(), c.datagrams(), c.lost(), c.irqs());
            assertThat(c.datagrams() + c.otherFrames()).as("the guest counts every frame the device delivered")
                    .isEqualTo(s.rxDelivered());
            assertThat(c.iperf()).isEqualTo(c.datagrams());
            assertThat(c.bad()).as("frames that failed the guest's checks").isZero();
            assertThat(c.bytes()).isEqualTo(64L * c.datagrams());
            assertThat(c.datagrams() + c.lost()).as("what the guest missed shows as iperf loss")
                    .isLessThanOrEqualTo(count);
            assertThat(c.datagrams()).as("most of the datagrams arrive").isGreaterThan(count / 2);
            assertThat(c.irqs()).as("the guest took receive interrupts (%s)", mode).isPositive();
            if (mode == NicConfig.NicInterrupt.MSI) {
                assertThat(g.vm.machine().irqRouter().stats().injected()).as("MSIs went through the ITS").isPositive();
            }
        }
    }

    /** udp-echo sends each datagram back to its sender through the gateway: the host's peer gets them. */
    @Test
    @Timeout(120)
    void udpEchoAnswersEveryDatagram() throws Exception {
        try (Running g = new Running(config(ECHO, NicConfig.NicInterrupt.MSI, "seconds=4 interval=0"));
             DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress("127.0.0.1", 0));
            ch.configureBlocking(false);
            int n = 200;
            ByteBuffer b = ByteBuffer.allocate(64);
            int got = 0;
            for (int i = 0; i < n; i++) {
                b.clear();
                b.putInt(i).putInt(0).putInt(i).put(new byte[52]).flip();
                ch.send(b, g.address());
                Thread.sleep(2);
                while (ch.receive(ByteBuffer.allocate(2048)) != null) {
                    got++;
                }
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (got < n && System.nanoTime() < deadline) {
                if (ch.receive(ByteBuffer.allocate(2048)) != null) {
                    got++;
                } else {
                    Thread.sleep(5);
                }
            }
            g.vm.awaitEnd(Duration.ofSeconds(30));
            Counts c = Counts.parse(g.console());
            assertThat(c.echoed()).isEqualTo(c.datagrams());
            assertThat(got).as("echoes back on the host").isEqualTo((int) c.echoed()).isEqualTo(n);
        }
    }

    /**
     * The same datagrams to udp-sink on QEMU (user networking, {@code hostfwd}) and on jvmm (wired, as QEMU): both
     * guests count them all, and the CRC-32 sums of what they received agree.
     */
    @Test
    @Timeout(180)
    void jvmmAndQemuCountTheSameDatagrams() throws Exception {
        assumeTrue(GuestCase.qemuInstalled(), "qemu-system-aarch64 is needed");
        int port;
        try (DatagramChannel probe = DatagramChannel.open()) {
            probe.bind(new InetSocketAddress("127.0.0.1", 0));
            port = ((InetSocketAddress) probe.getLocalAddress()).getPort();
        }
        String append = "seconds=8 interval=0 port=" + port;
        Process qemu = new ProcessBuilder(GuestCase.GUESTS.resolve("run-qemu.sh").toString(), "udp-sink", "--net",
                String.valueOf(port), "-append", append, "--timeout", "60").redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        ByteArrayOutputStream qemuOut = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> copy(qemu.getInputStream(), qemuOut), "qemu-console");
        reader.start();
        NicConfig nic = NicConfig.builder(31).listen(new InetSocketAddress("127.0.0.1", 0)).guestPort(port)
                .interrupt(NicConfig.NicInterrupt.WIRED).build();
        VmConfig cfg = VmConfig.builder().vcpus(1).memorySize(128L << 20).with(NicConfig.SECTION, List.of(nic))
                .with(KernelConfig.SECTION, KernelConfig.of(SINK).withAppend(append)).build();
        try (Running g = new Running(cfg)) {
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!text(qemuOut).contains("nic 0: virtio-mmio")) {
                assertThat(System.nanoTime()).as("udp-sink boots on QEMU").isLessThan(deadline);
                assertThat(qemu.isAlive()).as("QEMU runs").isTrue();
                Thread.sleep(20);
            }
            Thread.sleep(500);                               // the guest's ARP exchange with slirp
            int count = 1000;
            send(List.of(new InetSocketAddress("127.0.0.1", port), g.address()), count, 100, 400);
            assertThat(g.vm.awaitEnd(Duration.ofSeconds(60))).isNotNull();
            assertThat(qemu.waitFor(60, TimeUnit.SECONDS)).as("QEMU powers off").isTrue();
            reader.join(5_000);
            Counts onQemu = Counts.parse(text(qemuOut));
            Counts onJvmm = Counts.parse(g.console());
            System.out.printf("QEMU: %s%njvmm: %s%n", onQemu, onJvmm);
            assertThat(onJvmm.datagrams()).as("jvmm's guest counted every datagram").isEqualTo(count);
            assertThat(onQemu.datagrams()).as("QEMU's guest counted every datagram").isEqualTo(count);
            assertThat(onJvmm.crc()).as("both received the same bytes").isEqualTo(onQemu.crc());
            assertThat(onJvmm.bytes()).isEqualTo(onQemu.bytes());
            assertThat(onJvmm.lost()).isEqualTo(onQemu.lost()).isZero();
        } finally {
            qemu.destroyForcibly();
        }
    }

    private static String text(ByteArrayOutputStream b) {
        synchronized (b) {
            return b.toString(StandardCharsets.UTF_8).replace("\r", "");
        }
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        byte[] buf = new byte[4096];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                synchronized (out) {
                    out.write(buf, 0, n);
                }
            }
        } catch (IOException e) {
            // QEMU ended
        }
    }
}
