package dev.jvmm.core.irq;

import dev.jvmm.core.testing.Await;
import dev.jvmm.core.event.EventFd;
import dev.jvmm.core.testing.TestInterruptController;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class IrqRouterTest {
    private static final long DOORBELL = 0x0809_0040L;

    private IrqRouter router;
    private final AtomicInteger kicks = new AtomicInteger();
    private final TestInterruptController ic = new TestInterruptController(DOORBELL, 2, v -> kicks.incrementAndGet());

    @AfterEach
    void stop() {
        if (router != null) {
            router.close();
        }
    }


    @Test
    void workerModeHandsEverySignalToTheInjectorThread() throws Exception {
        router = new IrqRouter(ic, InjectionMode.WORKER, 0, IrqObserver.NONE, "t");
        router.start();
        ic.map(7, 1, 8200, 1);
        MsiRoute route = router.addRoute(DOORBELL, 1, 7);
        EventFd fd = new EventFd();
        router.bind(fd, route.gsi());
        fd.signal();
        Await.until(() -> router.stats().slowPath() == 1, "the slow-path injection");
        IrqStats s = router.stats();
        assertThat(s.fastPath()).isZero();
        assertThat(s.signals()).isEqualTo(1);
        assertThat(s.slowLatencyNanos().getTotalCount()).isEqualTo(1);
        assertThat(ic.readSystemRegister(1, dev.jvmm.core.vcpu.SystemRegister.ICC_IAR1_EL1)).isEqualTo(8200);
        assertThat(kicks.get()).isEqualTo(1);
    }

    @Test
    void inlineModeInjectsCachedTranslationsInTheSignallingThread() throws Exception {
        ConcurrentLinkedQueue<Boolean> paths = new ConcurrentLinkedQueue<>();
        IrqObserver obs = new IrqObserver() {
            @Override
            public void injected(MsiRoute route, long result, boolean fastPath, long signalNanos, long pendingNanos) {
                assertThat(pendingNanos).isGreaterThanOrEqualTo(signalNanos);
                paths.add(fastPath);
            }
        };
        router = new IrqRouter(ic, InjectionMode.INLINE, 0, obs, "t");
        router.start();
        ic.map(3, 0, 8192, 0);
        EventFd fd = new EventFd();
        router.bind(fd, router.addRoute(DOORBELL, 0, 3).gsi());
        fd.signal();
        // First signal: a miss, filled by the slow path on the injector.
        Await.until(() -> paths.size() == 1, "the first, slow injection");
        assertThat(router.stats().cacheMisses()).isEqualTo(1);
        fd.signal();
        // Second: the cached path ran synchronously inside signal().
        IrqStats s = router.stats();
        assertThat(s.fastPath()).isEqualTo(1);
        assertThat(s.injected()).isEqualTo(2);
        assertThat(paths).containsExactly(false, true);
    }

    @Test
    void signalsWithoutARouteOrTranslationAreCountedAsDropped() throws Exception {
        router = new IrqRouter(ic, InjectionMode.INLINE, 0, IrqObserver.NONE, "t");
        router.start();
        EventFd noRoute = new EventFd();
        router.bind(noRoute, 17);
        noRoute.signal();
        EventFd unmapped = new EventFd();
        router.bind(unmapped, router.addRoute(DOORBELL, 5, 9).gsi());
        unmapped.signal();
        Await.until(() -> router.stats().droppedTotal() == 2, "both drops");
        assertThat(router.stats().dropped(DropReason.NO_ROUTE)).isEqualTo(1);
        assertThat(router.stats().dropped(DropReason.EVENT_UNMAPPED)).isEqualTo(1);
    }

    @Test
    void signalsCoalesceWhileAnInjectionIsQueued() throws Exception {
        // No injector thread running: the queued injection waits, further signals coalesce into it.
        router = new IrqRouter(ic, InjectionMode.WORKER, 0, IrqObserver.NONE, "t");
        ic.map(1, 0, 8192, 0);
        EventFd fd = new EventFd();
        router.bind(fd, router.addRoute(DOORBELL, 0, 1).gsi());
        for (int i = 0; i < 5; i++) {
            fd.signal();
        }
        assertThat(router.stats().signals()).isEqualTo(5);
        assertThat(router.stats().coalesced()).isEqualTo(4);
        router.start();
        Await.until(() -> router.stats().slowPath() == 1, "the one injection");
        assertThat(fd.peek()).as("the irqfd consumed the eventfd's count").isZero();
    }

    @Test
    void theRoutingTableIsReplacedAsAWhole() {
        router = new IrqRouter(ic, InjectionMode.INLINE, 0, IrqObserver.NONE, "t");
        router.setRoutes(List.of(new MsiRoute(0, DOORBELL, 1, 2), new MsiRoute(5, DOORBELL, 3, 4)));
        assertThat(((MsiRoute) router.route(5)).deviceId()).isEqualTo(4);
        assertThat(router.route(1)).isNull();
        router.setRoutes(List.of(new MsiRoute(1, DOORBELL, 9, 9)));
        assertThat(router.route(5)).isNull();
        assertThat(router.routes()).extracting(IrqRoute::gsi).containsExactly(1);
        assertThat(router.addRoute(DOORBELL, 0, 0).gsi()).isZero();
        assertThatThrownBy(() -> router.setRoutes(List.of(new MsiRoute(2, 0, 0, 0), new MsiRoute(2, 0, 0, 0))))
                .hasMessageContaining("twice");
        assertThatThrownBy(() -> router.setRoute(new MsiRoute(IrqRouter.MAX_ROUTES, 0, 0, 0)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anEventFdBindsToOneRouteAndUnbindingStopsDelivery() throws Exception {
        router = new IrqRouter(ic, InjectionMode.WORKER, 0, IrqObserver.NONE, "t");
        router.start();
        ic.map(1, 0, 8192, 0);
        EventFd fd = new EventFd();
        IrqFd irqfd = router.bind(fd, router.addRoute(DOORBELL, 0, 1).gsi());
        assertThatThrownBy(() -> router.bind(fd, 0)).hasMessageContaining("already bound");
        irqfd.close();
        fd.signal();
        assertThat(fd.peek()).as("an unbound eventfd keeps its count").isEqualTo(1);
        assertThat(router.irqfds()).isEmpty();
        assertThat(router.stats().signals()).isZero();
    }

    @Test
    void manySignallersInBothModesDeliverEverySignalOrCoalesceIt() throws Exception {
        for (InjectionMode mode : InjectionMode.values()) {
            IrqRouter r = new IrqRouter(ic, mode, 10_000, IrqObserver.NONE, "t");
            r.start();
            try {
                int n = 4;
                EventFd[] fds = new EventFd[n];
                for (int i = 0; i < n; i++) {
                    ic.map(100 + i, 0, 9000 + i, i % 2);
                    fds[i] = new EventFd();
                    r.bind(fds[i], r.addRoute(DOORBELL, 0, 100 + i).gsi());
                }
                Thread[] ts = new Thread[n];
                for (int i = 0; i < n; i++) {
                    EventFd f = fds[i];
                    ts[i] = new Thread(() -> {
                        for (int k = 0; k < 20_000; k++) {
                            f.signal();
                        }
                    });
                    ts[i].start();
                }
                for (Thread t : ts) {
                    t.join();
                }
                Await.until(() -> {
                    IrqStats s = r.stats();
                    return s.injected() + s.coalesced() == s.signals();
                }, mode + ": every signal injected or coalesced");
                IrqStats s = r.stats();
                assertThat(s.signals()).isPositive().isLessThanOrEqualTo(n * 20_000L);
                assertThat(s.droppedTotal()).isZero();
                for (EventFd f : fds) {
                    assertThat(f.peek()).isZero();
                }
            } finally {
                r.close();
            }
        }
    }

    /**
     * KVM's irqchip route type (KVM_IRQ_ROUTING_IRQCHIP, pin = SPI - 32): inline, the signalling thread raises the SPI
     * (kvm_arch_set_irq_inatomic injects irqchip routes in atomic context); no translation, no injector.
     */
    @Test
    void inlineIrqchipRoutesRaiseTheSpiInTheSignallingThread() {
        ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
        IrqObserver obs = new IrqObserver() {
            @Override
            public void injected(IrqchipRoute route, long result, boolean inline, long signalNanos, long raisedNanos) {
                seen.add(route.intid() + " " + InjectResult.describe(result) + (inline ? " inline" : " injector"));
            }
        };
        router = new IrqRouter(ic, InjectionMode.INLINE, 0, obs, "t"); // no injector thread started at all
        IrqchipRoute route = router.addIrqchipRoute(48);
        assertThat(route.pin()).as("pin = SPI number").isEqualTo(16);
        EventFd fd = new EventFd();
        router.bind(fd, route.gsi());
        fd.signal();
        assertThat(ic.spiEdges.get()).as("raised within signal()").isEqualTo(1);
        assertThat(seen).containsExactly("48 raised INTID 48 inline");
        assertThat(ic.readSystemRegister(0, dev.jvmm.core.vcpu.SystemRegister.ICC_IAR1_EL1)).isEqualTo(48);
        IrqStats s = router.stats();
        assertThat(s.irqchipRaised()).isEqualTo(1);
        assertThat(s.irqchipLatencyNanos().getTotalCount()).isEqualTo(1);
        assertThat(s.injected()).as("not counted as an MSI").isZero();
        assertThat(fd.peek()).isZero();
    }

    /** Worker mode: the injector thread raises the SPI; signals queued meanwhile coalesce, as for MSIs. */
    @Test
    void workerIrqchipRoutesRaiseTheSpiOnTheInjector() throws Exception {
        router = new IrqRouter(ic, InjectionMode.WORKER, 0, IrqObserver.NONE, "t");
        router.setRoutes(List.of(new MsiRoute(0, DOORBELL, 0, 1), IrqchipRoute.forSpi(3, 40)));
        assertThat(router.route(3)).isEqualTo(new IrqchipRoute(3, 8));
        EventFd fd = new EventFd();
        router.bind(fd, 3);
        fd.signal();
        fd.signal();
        assertThat(ic.spiEdges.get()).as("nothing before the injector runs").isZero();
        router.start();
        Await.until(() -> router.stats().irqchipRaised() == 1, "the raise");
        assertThat(ic.spiEdges.get()).isEqualTo(1);
        assertThat(router.stats().coalesced()).isEqualTo(1);
        assertThat(ic.readSystemRegister(0, dev.jvmm.core.vcpu.SystemRegister.ICC_IAR1_EL1)).isEqualTo(40);
    }

    /** An irqchip route must name an SPI the controller has (KVM refuses the routing table with -EINVAL). */
    @Test
    void irqchipRoutesToMissingSpisAreRefused() {
        router = new IrqRouter(ic, InjectionMode.INLINE, 0, IrqObserver.NONE, "t");
        assertThatThrownBy(() -> router.addIrqchipRoute(300)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> router.setRoute(new IrqchipRoute(0, -1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> IrqchipRoute.forSpi(0, 16)).as("a PPI is no SPI")
                .isInstanceOf(IllegalArgumentException.class);
        IrqRouter plain = new IrqRouter(new InterruptController() {
            @Override
            public long tryInjectCached(long doorbell, int data, int deviceId, long signalNanos) {
                return InjectResult.MISS_RESULT;
            }

            @Override
            public long injectSlow(long doorbell, int data, int deviceId, long signalNanos) {
                return InjectResult.dropped(DropReason.NO_DOORBELL);
            }

            @Override
            public boolean hasPendingInterrupt(int vcpu) {
                return false;
            }

            @Override
            public long readSystemRegister(int vcpu, dev.jvmm.core.vcpu.SystemRegister register) {
                return 0;
            }

            @Override
            public void writeSystemRegister(int vcpu, dev.jvmm.core.vcpu.SystemRegister register, long value) {
            }
        }, InjectionMode.INLINE, 0, IrqObserver.NONE, "t");
        assertThatThrownBy(() -> plain.addIrqchipRoute(40)).as("a controller without wired interrupts")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no wired interrupts");
        assertThat(router.routes()).isEmpty();
    }
}
