package dev.jvmm.launcher;

import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.gic.GicConfig;
import dev.jvmm.gic.ItsRegisterDescriptor;
import dev.jvmm.guest.ToyGuestConfig;
import dev.jvmm.net.NetConfig;
import dev.jvmm.net.NicConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;

/** {@code vmm check CONFIG}: validate a configuration and print the machine it describes, without running it. */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Validate CONFIG and print the machine it describes (memory map, NICs, interrupts).")
final class CheckCommand extends VmmCommand {

    @Parameters(index = "0", paramLabel = "CONFIG")
    Path config;

    @Override
    public Integer call() {
        VmConfig c = VirtualMachine.configLoader().load(config);
        GicConfig gic = c.get(GicConfig.SECTION);
        NetConfig net = c.get(NetConfig.SECTION);
        PrintWriter out = out();
        int v = c.machine().vcpus();
        out.printf("%s: valid%n", config);
        out.printf("  %d vCPU(s), RAM %s%n", v, c.machine().memory());
        out.printf("  GICD 0x%08x, GICR 0x%08x..0x%08x%n", MemoryMap.GICD_BASE, MemoryMap.gicr(0),
                MemoryMap.gicr(v) - 1);
        for (int i = 0; i < gic.itsCount(); i++) {
            out.printf("  ITS %d at 0x%08x (GITS_TRANSLATER 0x%08x)%n", i, MemoryMap.its(i, v),
                    MemoryMap.its(i, v) + ItsRegisterDescriptor.GITS_TRANSLATER);
        }
        out.printf("  irq mode %s, halt-poll %d ns (%s, %s), translation cache %s%n", c.irq().mode().configName(),
                c.irq().haltPollNanos(), c.irq().haltPollAdaptive() ? "adaptive" : "fixed",
                c.irq().haltPollYield() ? "yielding" : "spinning", gic.cache().configName());
        out.printf("  net transport %s, %d event loop thread(s), socket receive buffer %s%n",
                net.transport().configName(), net.eventLoopThreads(),
                net.socketReceiveBuffer() == 0 ? "the kernel's default" : net.socketReceiveBuffer() + " bytes");
        for (NicConfig n : c.get(NicConfig.SECTION)) {
            out.printf("  %s: %s on %s, virtio-mmio slot %d at 0x%08x, DeviceID %d on ITS %d, MAC %s%n", n.id(),
                    n.backend().configName(), n.listen().getHostString() + ":" + n.listen().getPort(), n.slot(), MemoryMap.virtioSlot(n.slot()), n.deviceId(),
                    n.its(), n.mac());
        }
        var kernel = c.find(dev.jvmm.virt.KernelConfig.SECTION);
        if (kernel.isPresent()) {
            var k = kernel.get();
            out.printf("  guest kernel %s on the virt board%s%s, serial %s%n", k.kernelPath(c),
                    k.initrd() == null ? "" : ", initrd " + k.initrdPath(c),
                    k.append().isEmpty() ? "" : ", bootargs \"" + k.append() + "\"", k.serial());
        } else {
            out.printf("  guest program %s%n", c.get(ToyGuestConfig.SECTION).program());
        }
        return Main.EXIT_OK;
    }
}
