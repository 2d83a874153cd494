package dev.jvmm.guest;

import dev.jvmm.core.memory.RamRegion;

import java.util.List;

/**
 * What the toy guest is told at boot about its platform, the analogue of the device tree that QEMU's {@code virt}
 * machine passes to a kernel: how many CPUs, where RAM, the GIC's distributor, redistributors and ITSes are, and for
 * each virtio-mmio slot that holds a NIC, its wired interrupt (as {@code interrupts = <0 16+slot 1>} says), its MSI
 * parent when it has one (ITS and DeviceID, as {@code msi-parent = <&its DEVICEID>} says) and the addresses the
 * guest's network stack is configured with. Whoever wires the machine (the launcher)
 * builds it from the devices as built; the guest still probes each slot through MMIO.
 *
 * @param vcpus     CPUs
 * @param ram       the RAM the guest allocates from (the first region)
 * @param gicdBase  the distributor
 * @param gicrBases each vCPU's redistributor (RD_base)
 * @param itsBases  each ITS
 * @param nics      the virtio-mmio slots that hold a NIC
 */
public record GuestPlatform(int vcpus, RamRegion ram, long gicdBase, long[] gicrBases, long[] itsBases,
                            List<Nic> nics) {

    /**
     * A virtio-mmio slot with a NIC behind it.
     *
     * @param index     the NIC's index (its block in the report page)
     * @param mmioBase  the slot's registers
     * @param intid     the slot's wired interrupt, an edge-triggered SPI (INTID 48 + slot on QEMU's virt)
     * @param msi       whether the NIC has an MSI parent and interrupts with MSIs ({@code deviceId}, {@code its});
     *                  otherwise it raises {@code intid}
     * @param deviceId  the DeviceID its MSIs carry (with {@code msi})
     * @param its       the ITS its MSIs go to, an index into {@link #itsBases} (with {@code msi})
     * @param guestIp   the guest's IPv4 address, as a big-endian int
     * @param gatewayIp the gateway's IPv4 address
     * @param guestPort the UDP port the application listens on
     */
    public record Nic(int index, long mmioBase, int intid, boolean msi, int deviceId, int its, int guestIp,
                      int gatewayIp, int guestPort) {
    }

    public GuestPlatform {
        gicrBases = gicrBases.clone();
        itsBases = itsBases.clone();
        nics = List.copyOf(nics);
    }

    /** RD_base of vCPU {@code n}'s redistributor. */
    public long gicrBase(int n) {
        return gicrBases[n];
    }

    /** An IPv4 address as the guest's stack holds it: the four bytes, big-endian. */
    public static int ipv4(java.net.Inet4Address a) {
        byte[] b = a.getAddress();
        return ((b[0] & 0xFF) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
    }
}
