package dev.jvmm.launcher.faults;

import dev.jvmm.guest.ToyGuestConfig;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.irq.DropReason;
import dev.jvmm.core.irq.InjectResult;
import dev.jvmm.launcher.TestSupport;
import dev.jvmm.launcher.VirtualMachine;
import dev.jvmm.guest.GuestReport;
import dev.jvmm.bench.traffic.UdpSender;
import dev.jvmm.net.NicStats;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static dev.jvmm.launcher.TestSupport.await;
import static dev.jvmm.launcher.TestSupport.payload;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Faults in the middle of traffic, each ending in a counted state the machine recovers from, with nothing escaping a
 * thread, nothing hanging and nothing leaking.
 */
class FaultsTest {
    private static final Duration BOOT = Duration.ofSeconds(30);
    private static final long GITS_CTLR = 0x0;
    private static final long GICR_CTLR = 0x0;

    private static long frames(VirtualMachine vm) {
        return vm.guest().counter(0, GuestReport.Counter.FRAMES);
    }

    /** Sends {@code n} datagrams paced in batches of 16, waiting for the guest only when {@code await} is set. */
    private static void send(VirtualMachine vm, TestSupport.Sender s, int first, int n, boolean await) throws Exception {
        for (int i = 0; i < n; i++) {
            s.send(payload(first + i, 64, 0), vm.nicPort(0));
            if (await && i % 16 == 15) {
                long want = first + i + 1;
                await(() -> frames(vm) >= want, 20_000, "datagram " + want);
            }
        }
    }

    /**
     * The VMM's own recovery kick after an interrupt path came back: an MSI on the NIC's receive EventID, raised as
     * {@code KVM_SIGNAL_MSI} would raise it. The guest's handler reaps whatever the ring holds.
     */
    private static long kickReceiveInterrupt(VirtualMachine vm) {
        var target = vm.nics().get(0).msiTarget();
        return vm.machine().irqRouter().injectMsi(target.doorbell(), vm.nics().get(0).queueEventId(0),
                target.deviceId());
    }

    @Test
    void theItsDisabledMidTrafficDropsCountedMsisAndRecoversWhenEnabled() throws Exception {
        try (VirtualMachine vm = TestSupport.bootedToyGuest(); TestSupport.Sender s = new TestSupport.Sender()) {
            send(vm, s, 0, 64, true);
            long its = vm.gic().itsBase(0);
            vm.machine().bus().write(its + GITS_CTLR, 4, 0);     // a guest store: GITS_CTLR.Enabled = 0
            send(vm, s, 64, 64, false);
            await(() -> vm.irqStats().dropped(DropReason.ITS_DISABLED) > 0, 10_000, "an MSI dropped at the disabled ITS");
            assertThat(vm.gicStats().cache().flushes()).as("disabling the ITS flushes its cache").isPositive();
            vm.machine().bus().write(its + GITS_CTLR, 4, 1);
            assertThat(InjectResult.isDelivered(kickReceiveInterrupt(vm))).isTrue();
            await(() -> frames(vm) == 128, 20_000, "the guest to catch up after the ITS came back");
            send(vm, s, 128, 64, true);
            assertThat(frames(vm)).isEqualTo(192);
            assertThat(vm.guest().counter(0, GuestReport.Counter.LOST)).isZero();
            assertThat(vm.machine().vcpuFaults()).isEmpty();
            assertThat(vm.stop()).isEmpty();
        }
    }

    @Test
    void lpisDisabledOnTheRedistributorMidTrafficAreCountedAndRecover() throws Exception {
        try (VirtualMachine vm = TestSupport.bootedToyGuest(); TestSupport.Sender s = new TestSupport.Sender()) {
            send(vm, s, 0, 64, true);
            long rd = vm.gic().redistributorBase(0);
            vm.machine().bus().write(rd + GICR_CTLR, 4, 0);      // EnableLPIs 1 -> 0
            send(vm, s, 64, 64, false);
            await(() -> vm.irqStats().dropped(DropReason.LPIS_DISABLED) > 0, 10_000,
                    "an MSI dropped at the redistributor with LPIs off");
            vm.machine().bus().write(rd + GICR_CTLR, 4, 1);
            assertThat(InjectResult.isDelivered(kickReceiveInterrupt(vm))).isTrue();
            await(() -> frames(vm) == 128, 20_000, "the guest to catch up after LPIs came back");
            send(vm, s, 128, 32, true);
            assertThat(frames(vm)).isEqualTo(160);
            assertThat(vm.machine().vcpuFaults()).isEmpty();
        }
    }

    @Test
    void theGuestResettingItsNicMidTrafficLosesOnlyWhatTheDeviceCounted() throws Exception {
        VmConfig base = TestSupport.shipped("toy-guest.yaml");
        VmConfig config = base.with(ToyGuestConfig.SECTION, ToyGuestConfig.of("udp-sink").withResetAfter(100));
        try (VirtualMachine vm = VirtualMachine.builder(config).build(); TestSupport.Sender s = new TestSupport.Sender()) {
            vm.start();
            vm.awaitGuestRunning(BOOT);
            int sent = 0;
            for (int batch = 0; batch < 20; batch++) {
                for (int k = 0; k < 16; k++) {
                    s.send(payload(sent++, 64, 0), vm.nicPort(0));
                }
                int want = sent;
                try {
                    await(() -> frames(vm) + vm.guest().counter(0, GuestReport.Counter.DISCARDED)
                            + vm.nicStats().get(0).rxDropped() >= want, 20_000, "batch " + batch);
                } catch (AssertionError e) {
                    throw new AssertionError(e.getMessage() + ": guest frames " + frames(vm) + ", resets "
                            + vm.guest().counter(0, GuestReport.Counter.RESETS) + ", irqs "
                            + vm.guest().counter(0, GuestReport.Counter.IRQS) + ", injected " + vm.irqStats().injected()
                            + " coalesced " + vm.irqStats().coalesced() + " dropped " + vm.irqStats().droppedTotal()
                            + ", pending LPIs " + vm.gicStats().lpisPending() + ", acked " + vm.gicStats().lpisAcknowledged()
                            + ", vcpu " + vm.machine().vcpus().get(0).stats() + ", " + vm.nicStats().get(0), e);
                }
            }
            NicStats n = vm.nicStats().get(0);
            assertThat(vm.guest().counter(0, GuestReport.Counter.RESETS)).as("the guest reset its NIC once").isEqualTo(1);
            assertThat(n.rxDatagrams()).isEqualTo(sent);
            long discarded = vm.guest().counter(0, GuestReport.Counter.DISCARDED);
            assertThat(frames(vm) + discarded + n.rxDropped())
                    .as("every datagram received, or thrown away with the reset rings, or dropped by the device")
                    .isEqualTo(sent);
            assertThat(discarded + n.rxDropped()).as("the reset costs at most the frames in flight").isLessThan(64);
            assertThat(vm.guest().counter(0, GuestReport.Counter.BAD)).isZero();
            assertThat(n.needsReset()).isFalse();
            assertThat(vm.machine().vcpuFaults()).isEmpty();
        }
    }

    @Test
    void stoppingWhileMsisAreInFlightJoinsEveryThreadAndReleasesEverything() throws Exception {
        Set<String> before = Thread.getAllStackTraces().keySet().stream().map(Thread::getName).collect(Collectors.toSet());
        VmConfig config = TestSupport.shipped("seed-10nics.yaml");
        VirtualMachine vm = VirtualMachine.builder(config).name("inflight").build();
        UdpSender sender = null;
        try {
            vm.start();
            vm.awaitGuestRunning(BOOT);
            List<InetSocketAddress> to = new java.util.ArrayList<>();
            for (int i = 0; i < 10; i++) {
                to.add(new InetSocketAddress("127.0.0.1", vm.nicPort(i)));
            }
            sender = new UdpSender(to, 0, 64, 10_000_000_000L, "flood").start();
            long start = vm.irqStats().injected();
            await(() -> vm.irqStats().injected() > start + 1000, 20_000, "MSIs to flow");
            assertThat(vm.stop()).as("a clean stop in the middle of traffic").isEmpty();
        } finally {
            if (sender != null) {
                sender.close();
            }
            vm.stop();
        }
        assertThat(vm.machine().memory().isClosed()).isTrue();
        assertThat(vm.machine().vcpuFaults()).isEmpty();
        await(() -> Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().startsWith("inflight-")),
                10_000, "every machine thread to end");
        Set<String> after = Thread.getAllStackTraces().keySet().stream().map(Thread::getName).collect(Collectors.toSet());
        after.removeAll(before);
        assertThat(after).as("threads left behind").noneMatch(n -> n.startsWith("inflight"));
    }

    @Test
    void socketsBindTheLoopbackAddressUnlessTheConfigNamesAnother() throws Exception {
        VmConfig config = TestSupport.shipped("toy-guest.yaml");
        try (VirtualMachine vm = VirtualMachine.builder(config).build()) {
            vm.start();
            assertThat(vm.nics().get(0).localAddress().getAddress().isLoopbackAddress()).isTrue();
        }
        VmConfig bare = VirtualMachine.configLoader().parse("nics:\n  - listen: 0\nguest:\n  program: idle\n", "bare.yaml");
        assertThat(bare.get(dev.jvmm.net.NicConfig.SECTION).get(0).listen().getAddress().getHostAddress()).as("a bare port binds loopback")
                .isEqualTo("127.0.0.1");
    }
}
