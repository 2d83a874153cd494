package dev.jvmm.launcher;

import dev.jvmm.core.bus.MmioBus;
import dev.jvmm.core.config.IrqConfig;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.InjectionMode;
import dev.jvmm.core.irq.IrqStats;
import dev.jvmm.core.testing.SeedExtension;
import dev.jvmm.core.testing.SeededRandom;
import dev.jvmm.guest.GuestReport;
import dev.jvmm.guest.ToyGuestConfig;
import dev.jvmm.net.MacAddress;
import dev.jvmm.net.NicConfig;
import dev.jvmm.net.NicStats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import static dev.jvmm.launcher.TestSupport.await;
import static dev.jvmm.launcher.TestSupport.payload;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The toy guest on NICs in wired mode ({@code interrupt: wired}), as a guest written for QEMU's {@code virt} drives
 * virtio-mmio: real datagrams over loopback, the device sets InterruptStatus and signals its irqfd, an irqchip route
 * pulses SPI 16 + slot (inline, or through the injector thread), the distributor routes it by GICD_IROUTER to the
 * vCPU the guest chose, and the guest's handler reads InterruptStatus, writes InterruptACK and walks the rings.
 */
@ExtendWith(SeedExtension.class)
class WiredEndToEndTest {
    private static final Duration BOOT = Duration.ofSeconds(30);
    private static final long GICD = 0x0800_0000L;

    /** {@code config} with every NIC in wired mode. */
    private static VmConfig wired(VmConfig config) {
        return withNics(config, n -> n.toBuilder().interrupt(NicConfig.NicInterrupt.WIRED).build());
    }

    private static VmConfig withNics(VmConfig config, UnaryOperator<NicConfig> change) {
        List<NicConfig> nics = new ArrayList<>();
        for (NicConfig n : config.get(NicConfig.SECTION)) {
            nics.add(change.apply(n));
        }
        return config.with(NicConfig.SECTION, nics).validate();
    }

    private static VirtualMachine boot(VmConfig config) {
        VirtualMachine vm = VirtualMachine.builder(config).build();
        try {
            vm.start();
            vm.awaitGuestRunning(BOOT);
            return vm;
        } catch (RuntimeException | Error e) {
            vm.close();
            throw e;
        }
    }

    @Test
    void theToyGuestReceivesEveryDatagramOnItsWiredSpiInlineAndThroughTheInjector() throws Exception {
        for (InjectionMode mode : InjectionMode.values()) {
            VmConfig config = wired(TestSupport.shipped("toy-guest.yaml")).withIrq(IrqConfig.defaults().withMode(mode));
            try (VirtualMachine vm = boot(config); TestSupport.Sender s = new TestSupport.Sender()) {
                long crcSum = TestSupport.sendAndAwait(vm, s, 0, 600, 64, 1);
                crcSum += TestSupport.sendAndAwait(vm, s, 0, 40, 1400, 2);
                crcSum += TestSupport.sendAndAwait(vm, s, 0, 5, 9000, 3);
                GuestReport g = vm.guest();
                assertThat(g.counter(0, GuestReport.Counter.FRAMES)).as(mode + ": frames").isEqualTo(645);
                assertThat(g.counter(0, GuestReport.Counter.CRC_SUM)).as(mode + ": payload bytes").isEqualTo(crcSum);
                assertThat(g.counter(0, GuestReport.Counter.BAD)).as(mode + ": bad frames").isZero();
                assertThat(g.counter(0, GuestReport.Counter.IRQS)).as(mode + ": the NIC's interrupts").isPositive();
                IrqStats irq = vm.irqStats();
                assertThat(irq.irqchipRaised()).as(mode + ": edges on the SPI").isPositive();
                assertThat(irq.injected()).as(mode + ": no MSI at all").isZero();
                assertThat(irq.droppedTotal()).as(mode + ": nothing dropped").isZero();
                assertThat(vm.gicStats().lpisAcknowledged()).as(mode + ": no LPI").isZero();
                assertThat(vm.gicStats().wiredAcknowledged()).as(mode + ": the SPI taken")
                        .isGreaterThanOrEqualTo(g.counter(0, GuestReport.Counter.IRQS));
                assertThat(vm.nics().get(0).msiTarget()).isNull();
                NicStats n = vm.nicStats().get(0);
                assertThat(n.rxDropped()).isZero();
                assertThat(n.guestErrors()).as(mode + ": the driver broke no rule (InterruptACK included)").isZero();
                assertThat(vm.machine().vcpuFaults()).isEmpty();
                assertThat(vm.stop()).isEmpty();
            }
        }
    }

    @Test
    void theGuestConfiguresEachSpiEdgeTriggeredGroup1AndRoutedToItsVcpu() throws Exception {
        VmConfig config = wired(TestSupport.shipped("seed-10nics.yaml"));
        try (VirtualMachine vm = boot(config); TestSupport.Sender s = new TestSupport.Sender()) {
            MmioBus bus = vm.machine().bus();
            for (int nic = 0; nic < 10; nic++) {
                int intid = vm.nics().get(nic).wiredIntid();
                assertThat(intid).isEqualTo(48 + vm.nics().get(nic).config().slot());
                String what = "NIC " + nic + ", INTID " + intid;
                long word = 4L * (intid / 32);
                int bit = 1 << (intid % 32);
                assertThat(bus.read(GICD + 0x0080 + word, 4) & bit).as(what + ": GICD_IGROUPR, Group 1").isNotZero();
                assertThat(bus.read(GICD + 0x0100 + word, 4) & bit).as(what + ": GICD_ISENABLER").isNotZero();
                assertThat(bus.read(GICD + 0x0400 + intid, 1)).as(what + ": GICD_IPRIORITYR").isEqualTo(0xA0);
                assertThat((bus.read(GICD + 0x0C00 + 4L * (intid / 16), 4) >>> (2 * (intid % 16))) & 0b10)
                        .as(what + ": GICD_ICFGR, edge-triggered as the device tree says").isNotZero();
                assertThat(bus.read(GICD + 0x6000 + 8L * intid, 8)).as(what + ": GICD_IROUTER, vCPU nic % 4")
                        .isEqualTo(nic % 4);
            }
            long[] crcs = TestSupport.tenNicRounds(vm, s, 10);
            for (int nic = 0; nic < 10; nic++) {
                assertThat(vm.guest().counter(nic, GuestReport.Counter.CRC_SUM)).as("NIC %d", nic).isEqualTo(crcs[nic]);
            }
            for (int v = 0; v < 4; v++) {
                assertThat(vm.guest().vcpuInterrupts(v)).as("vCPU %d took its NICs' SPIs", v).isPositive();
            }
        }
    }

    @Test
    void theEchoProgramAnswersThroughTheSharedSpi() throws Exception {
        VmConfig config = wired(TestSupport.shipped("echo.yaml"));
        try (VirtualMachine vm = boot(config)) {
            TestSupport.echoRoundTrips(vm, 300);
            assertThat(vm.guest().counter(0, GuestReport.Counter.ECHOED)).isEqualTo(300);
            assertThat(vm.guest().counter(0, GuestReport.Counter.TX_DROPS))
                    .as("transmit buffers reclaimed on the shared SPI (no transmit LPI in wired mode)").isZero();
        }
    }

    /**
     * The flood test of "no lost interrupt": bursts of random size sent as fast as the socket takes them, each
     * followed by silence. After the silence the guest must have taken every datagram the device placed in its ring,
     * with no later datagram to raise another interrupt; a notification whose interrupt went missing would leave its
     * used entries behind and fail the round. Two wired NICs share one vCPU with an MSI NIC (SPIs and LPIs
     * interleave in its CPU interface), in both irq modes, and with a guest that spends a few microseconds per
     * datagram, so that notifications keep landing inside the handler, between its InterruptStatus read and its
     * InterruptACK.
     */
    @Test
    void noInterruptIsLostUnderAFloodOfBursts(SeededRandom random) throws Exception {
        for (InjectionMode mode : InjectionMode.values()) {
            for (long work : new long[]{0, 3_000}) {
                VmConfig base = TestSupport.shipped("toy-guest.yaml");
                List<NicConfig> nics = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    nics.add(base.get(NicConfig.SECTION).get(0).toBuilder().id("net" + i).slot(i).deviceId(i)
                            .mac(MacAddress.qemuDefault(i)).listen(new InetSocketAddress("127.0.0.1", 0))
                            .interrupt(i == 1 ? NicConfig.NicInterrupt.MSI : NicConfig.NicInterrupt.WIRED).build());
                }
                VmConfig config = base.with(NicConfig.SECTION, nics)
                        .with(ToyGuestConfig.SECTION, ToyGuestConfig.of("udp-sink").withWorkPerFrameNanos(work))
                        .withIrq(IrqConfig.defaults().withMode(mode)).validate();
                String what = mode + ", " + work / 1000 + " us per datagram";
                try (VirtualMachine vm = boot(config); TestSupport.Sender s = new TestSupport.Sender()) {
                    long[] sent = new long[3];
                    for (int round = 0; round < 60; round++) {
                        for (int nic = 0; nic < 3; nic++) {
                            int burst = 1 + random.nextInt(48);
                            for (int k = 0; k < burst; k++) {
                                s.send(payload((int) sent[nic] + k, 64, nic), vm.nicPort(nic));
                            }
                            sent[nic] += burst;
                        }
                        for (int nic = 0; nic < 3; nic++) {
                            int n = nic;
                            long want = sent[nic];
                            // First the device takes the round from its socket (nothing for the guest to do with this)...
                            await(() -> vm.nicStats().get(n).rxDatagrams() >= want, 20_000,
                                    what + ": the device to read round " + round + " of NIC " + nic);
                            // ... then, in silence, the guest must take it all: only interrupts tell it to.
                            await(() -> vm.guest().counter(n, GuestReport.Counter.FRAMES) >= want, 10_000,
                                    what + ": the guest to take round " + round + " of NIC " + nic + " (a lost interrupt"
                                            + " leaves used entries behind)");
                        }
                    }
                    for (int nic = 0; nic < 3; nic++) {
                        assertThat(vm.guest().counter(nic, GuestReport.Counter.FRAMES)).as("%s: NIC %d", what, nic)
                                .isEqualTo(sent[nic]);
                        assertThat(vm.nicStats().get(nic).rxDropped()).as("%s: NIC %d", what, nic).isZero();
                    }
                    assertThat(vm.irqStats().irqchipRaised()).as(what).isPositive();
                    assertThat(vm.irqStats().injected()).as(what + ": the MSI NIC's LPIs").isPositive();
                    assertThat(vm.irqStats().droppedTotal()).as(what).isZero();
                }
            }
        }
    }
}
