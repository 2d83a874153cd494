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
