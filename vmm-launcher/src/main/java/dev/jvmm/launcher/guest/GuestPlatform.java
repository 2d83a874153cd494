package dev.jvmm.launcher.guest;

import dev.jvmm.core.config.NicConfig;
import dev.jvmm.core.config.VmConfig;
import dev.jvmm.core.machine.MemoryMap;
import dev.jvmm.core.memory.RamRegion;

import java.util.ArrayList;
import java.util.List;

/**
 * What the toy guest is told at boot about its platform, the analogue of the device tree that QEMU's {@code virt}
 * machine passes to a kernel: how many CPUs, where RAM, the GIC and the ITSes are, and for each virtio-mmio slot that
 * holds a NIC, its MSI parent (ITS and DeviceID, as {@code msi-parent = <&its DEVICEID>} says) and the addresses
 * the guest's network stack is configured with. The guest still probes each slot through MMIO.
 */
public record GuestPlatform(int vcpus, RamRegion ram, long gicdBase, long[] itsBases, List<Nic> nics) {

    /** A virtio-mmio slot with a NIC behind it. */
    public record Nic(int index, long mmioBase, int deviceId, int its, int guestIp, int gatewayIp, int guestPort) {
    }

    /** The platform description of a machine built from {@code config}. */
    public static GuestPlatform of(VmConfig config) {
        int vcpus = config.machine().vcpus();
        long[] its = new long[config.gic().itsCount()];
        for (int i = 0; i < its.length; i++) {
            its[i] = MemoryMap.its(i, vcpus);
        }
        List<Nic> nics = new ArrayList<>();
        for (int i = 0; i < config.nics().size(); i++) {
            NicConfig n = config.nics().get(i);
            nics.add(new Nic(i, MemoryMap.virtioSlot(n.slot()), n.deviceId(), n.its(), ipv4(n.guestIp()),
                    ipv4(n.gatewayIp()), n.guestPort()));
        }
        return new GuestPlatform(vcpus, config.machine().memory().get(0), MemoryMap.GICD_BASE, its, List.copyOf(nics));
    }

    private static int ipv4(java.net.Inet4Address a) {
        byte[] b = a.getAddress();
        return ((b[0] & 0xFF) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
    }

    /** RD_base of vCPU {@code n}'s redistributor. */
    public long gicrBase(int n) {
        return MemoryMap.gicr(n);
    }
}
