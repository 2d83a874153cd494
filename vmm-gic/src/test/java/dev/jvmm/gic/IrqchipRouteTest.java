package dev.jvmm.gic;

import dev.jvmm.gic.cache.CacheStrategy;
import dev.jvmm.core.event.EventFd;
import dev.jvmm.core.irq.InjectionMode;
import dev.jvmm.core.irq.IrqObserver;
import dev.jvmm.core.irq.IrqRouter;
import dev.jvmm.core.irq.IrqchipRoute;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An irqfd on an irqchip route (KVM_IRQ_ROUTING_IRQCHIP) raises an SPI of this GIC: what a virtio-mmio device in
 * wired mode does on QEMU's virt board (slot n: SPI 16 + n, INTID 48 + n, edge-triggered), in both injection modes.
 */
class IrqchipRouteTest {

    @ParameterizedTest
    @EnumSource(InjectionMode.class)
    void anIrqfdOnAnIrqchipRouteRaisesItsSpi(InjectionMode mode) throws Exception {
        try (GicRig rig = GicRig.booted(2, CacheStrategy.PER_ITS);
             IrqRouter router = new IrqRouter(rig.gic, mode, 0, IrqObserver.NONE, "t")) {
            router.start();
            rig.enableDistributor();
            rig.enableSpi(48, 0xA0, 1);
            rig.makeEdge(48);
            IrqchipRoute route = router.addIrqchipRoute(48);
            EventFd fd = new EventFd();
            router.bind(fd, route.gsi());
            int kicks = rig.kicks.get(1);
            fd.signal();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!rig.gic.hasPendingInterrupt(1) && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertThat(rig.kicks.get(1)).as("%s: the target vCPU was kicked", mode).isGreaterThan(kicks);
            assertThat(rig.iar1(1)).isEqualTo(48);
            rig.eoi1(1, 48);
            assertThat(rig.iar1(1)).as("one signal, one interrupt").isEqualTo(1023);
            assertThat(router.stats().irqchipRaised()).isEqualTo(1);
        }
    }
}
