package dev.jvmm.launcher;

import dev.jvmm.gic.GicConfig;
import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.config.IrqConfig;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.InjectionMode;
import dev.jvmm.guest.GuestReport;
import dev.jvmm.net.NicStats;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static dev.jvmm.launcher.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole data path with the shipped configurations: real datagrams from a separate socket, through Netty, the
 * virtio-net receive ring, an MSI through the irqfd and the ITS, to the toy guest, whose own counters (read from its
 * report page in guest RAM) must match what was sent, byte for byte (a CRC-32 per datagram, summed).
 */
class ToyGuestEndToEndTest {

    private static final Duration BOOT = Duration.ofSeconds(30);

    @Test
    void theToyGuestReceivesEveryDatagramByteForByte() throws Exception {
        try (VirtualMachine vm = TestSupport.bootedToyGuest(); TestSupport.Sender s = new TestSupport.Sender()) {
            long crcSum = TestSupport.sendAndAwait(vm, s, 0, 1000, 64, 1);
            crcSum += TestSupport.sendAndAwait(vm, s, 0, 50, 1400, 2);
            GuestReport g = vm.guest();
            assertThat(g.counter(0, GuestReport.Counter.FRAMES)).isEqualTo(1050);
            assertThat(g.counter(0, GuestReport.Counter.BAD)).as("frames failing a header or checksum check").isZero();
            assertThat(g.counter(0, GuestReport.Counter.CRC_SUM)).as("payload bytes as the guest saw them").isEqualTo(crcSum);
            assertThat(g.counter(0, GuestReport.Counter.BYTES)).isEqualTo(1000 * 64 + 50 * 1400);
            NicStats n = vm.nicStats().get(0);
            assertThat(n.rxDatagrams()).isEqualTo(1050);
            assertThat(n.rxDelivered()).as("the datagrams and the gateway's ARP reply").isEqualTo(1050 + n.arpReplies());
            assertThat(n.arpReplies()).isEqualTo(1);
            assertThat(n.rxDropped()).isZero();
            assertThat(vm.irqStats().injected()).as("MSIs that reached the vCPU").isPositive();
            assertThat(g.counter(0, GuestReport.Counter.IRQS)).isPositive();
            assertThat(vm.gicStats().cache().hits()).as("the cached path was used").isPositive();
            assertThat(vm.stop()).isEmpty();
        }
    }

    /**
     * With {@code sequence: iperf} (the shipped default) only datagrams with a plausible iperf2 header take part in
     * the loss and reordering figures, by the compiled guests' rule (guests/net/netstack.c, iperf_plausible: 16
     * bytes at least and tv_usec below 10^6): {@code echo hi | nc -u} is one datagram received and none lost, random
     * payloads leave the loss figure alone, and an iperf stream beside them is still measured exactly.
     */
    @Test
    void trafficThatIsNotIperfLeavesTheLossFigureAlone() throws Exception {
        try (VirtualMachine vm = TestSupport.bootedToyGuest(); TestSupport.Sender s = new TestSupport.Sender()) {
            GuestReport g = vm.guest();
            s.send("hi\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII), vm.nicPort(0));
            await(() -> g.counter(0, GuestReport.Counter.FRAMES) == 1, 20_000, "the guest to take 'hi'");
            assertThat(g.counter(0, GuestReport.Counter.LOST)).as("lost after 'hi'").isZero();
            assertThat(g.counter(0, GuestReport.Counter.NOT_IPERF)).as("'hi' is not iperf").isEqualTo(1);

            // 301 random payloads (tv_usec, bytes 8..11, at least 2^28: no iperf2 header), in paced batches.
            java.util.Random random = new java.util.Random(301);
            for (int i = 0; i < 301; i++) {
                byte[] p = new byte[16 + random.nextInt(1400)];
                random.nextBytes(p);
                p[8] |= 0x10;
                s.send(p, vm.nicPort(0));
                if (i % 32 == 31) {
                    long want = 2 + i;
                    await(() -> g.counter(0, GuestReport.Counter.FRAMES) >= want, 20_000, "random datagram " + i);
                }
            }
            await(() -> g.counter(0, GuestReport.Counter.FRAMES) == 302, 20_000, "the random datagrams");
            assertThat(g.counter(0, GuestReport.Counter.LOST)).as("lost after random payloads").isZero();
            assertThat(g.counter(0, GuestReport.Counter.REORDERED)).as("reordered after random payloads").isZero();
            assertThat(g.counter(0, GuestReport.Counter.NOT_IPERF)).isEqualTo(302);
            assertThat(g.counter(0, GuestReport.Counter.IPERF)).isZero();

            // An iperf stream with ids 500..509 missing: exactly 10 lost, whatever came before.
            for (int id = 0; id < 1000; id++) {
                if (id < 500 || id >= 510) {
                    s.send(TestSupport.payload(id, 64, 7), vm.nicPort(0));
                }
                if (id % 32 == 31) {
                    long want = 302 + id + 1 - (id >= 510 ? 10 : id >= 500 ? id - 499 : 0);
                    await(() -> g.counter(0, GuestReport.Counter.FRAMES) >= want, 20_000, "iperf datagram " + id);
                }
            }
            await(() -> g.counter(0, GuestReport.Counter.FRAMES) == 302 + 990, 20_000, "the iperf stream");
            assertThat(g.counter(0, GuestReport.Counter.IPERF)).isEqualTo(990);
            assertThat(g.counter(0, GuestReport.Counter.LOST)).as("ids 500..509 missing").isEqualTo(10);
            assertThat(g.counter(0, GuestReport.Counter.NOT_IPERF)).isEqualTo(302);
        }
    }

    @Test
    void datagramsLargerThanOneBufferSpreadOverMergeableBuffers() throws Exception {
        try (VirtualMachine vm = TestSupport.bootedToyGuest(); TestSupport.Sender s = new TestSupport.Sender()) {
            long crcSum = TestSupport.sendAndAwait(vm, s, 0, 20, 9000, 3);
            crcSum += TestSupport.sendAndAwait(vm, s, 0, 3, 60000, 4);
            assertThat(vm.guest().counter(0, GuestReport.Counter.CRC_SUM)).isEqualTo(crcSum);
            assertThat(vm.guest().counter(0, GuestReport.Counter.BAD)).isZero();
        }
    }

    @Test
    void theWorkerPathAndEveryCacheDeliverToo() throws Exception {
        for (CacheStrategy cache : CacheStrategy.values()) {
            for (InjectionMode mode : InjectionMode.values()) {
                VmConfig config = TestSupport.shipped("toy-guest.yaml")
                        .with(GicConfig.SECTION, GicConfig.defaults().withCache(cache))
                        .withIrq(IrqConfig.defaults().withMode(mode));
                try (VirtualMachine vm = VirtualMachine.builder(config).build();
                     TestSupport.Sender s = new TestSupport.Sender()) {
                    vm.start();
                    vm.awaitGuestRunning(BOOT);
                    long crcSum = TestSupport.sendAndAwait(vm, s, 0, 200, 64, 5);
                    assertThat(vm.guest().counter(0, GuestReport.Counter.CRC_SUM)).as(cache + "/" + mode).isEqualTo(crcSum);
                    if (mode == InjectionMode.WORKER) {
                        assertThat(vm.irqStats().fastPath()).as("worker mode never takes the fast path").isZero();
                    }
                }
            }
        }
    }

    @Test
    void theEchoConfigReturnsEveryDatagramUnchanged() throws Exception {
        VmConfig config = TestSupport.shipped("echo.yaml");
        try (VirtualMachine vm = VirtualMachine.builder(config).build()) {
            vm.start();
            vm.awaitGuestRunning(BOOT);
            TestSupport.echoRoundTrips(vm, 100);
            assertThat(vm.guest().counter(0, GuestReport.Counter.ECHOED)).isEqualTo(100);
            assertThat(vm.nicStats().get(0).txDatagrams()).isGreaterThanOrEqualTo(100);
        }
    }

    @Test
    void tenNicsReceiveAtTheSameTimeAndEachGetsItsOwn() throws Exception {
        VmConfig config = TestSupport.shipped("seed-10nics.yaml");
        try (VirtualMachine vm = VirtualMachine.builder(config).build(); TestSupport.Sender s = new TestSupport.Sender()) {
            vm.start();
            vm.awaitGuestRunning(BOOT);
            long[] crcs = TestSupport.tenNicRounds(vm, s, 20);
            for (int nic = 0; nic < 10; nic++) {
                assertThat(vm.guest().counter(nic, GuestReport.Counter.FRAMES)).as("NIC %d", nic).isEqualTo(200);
                assertThat(vm.guest().counter(nic, GuestReport.Counter.CRC_SUM)).as("NIC %d", nic).isEqualTo(crcs[nic]);
                assertThat(vm.guest().counter(nic, GuestReport.Counter.LOST)).as("NIC %d", nic).isZero();
            }
            // NIC n's interrupts go to vCPU n % 4: every vCPU took some.
            for (int v = 0; v < 4; v++) {
                assertThat(vm.guest().vcpuInterrupts(v)).as("vCPU %d", v).isPositive();
            }
        }
    }
}
