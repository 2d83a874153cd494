package dev.jvmm.core.machine;

/**
 * The guest physical memory map: that of QEMU's arm {@code virt} machine, so that guest code written for it finds
 * the GIC, the ITS and the virtio-mmio slots where it expects them.
 *
 * <pre>
 *  0x0800_0000  GICD (distributor)                         64 KiB
 *  0x0808_0000  ITS 0 (control frame, translation frame)  128 KiB
 *  0x080A_0000  GICR 0, 1, ... (RD_base + SGI_base)         128 KiB each
 *     ...       ITS 1.. (after the last redistributor)     128 KiB each
 *  0x0900_0000  (end of the redistributor/ITS window)
 *  0x0A00_0000  virtio-mmio slot 0, 1, ... 31                512 B each   (wired: SPI 16 + slot, INTID 48 + slot)
 *  0x4000_0000  RAM
 * </pre>
 *
 * Only where each frame starts is the board's business; what lies inside a frame (the offset of GITS_TRANSLATER in
 * an ITS, say) is the device's, in its register descriptor. A device learns its MSI doorbell from the interrupt
 * controller ({@link dev.jvmm.core.irq.InterruptController#msiTarget}), never from this map.
 */
public final class MemoryMap {
    public static final long GICD_BASE = 0x0800_0000L;
    public static final long GICD_SIZE = 0x1_0000L;
    public static final long ITS_BASE = 0x0808_0000L;
    public static final long ITS_SIZE = 0x2_0000L;
    public static final long GICR_BASE = 0x080A_0000L;
    public static final long GICR_STRIDE = 0x2_0000L;
    /** The redistributors (and extra ITSes) must end below this address. */
    public static final long GICR_WINDOW_END = 0x0900_0000L;
    public static final long VIRTIO_MMIO_BASE = 0x0A00_0000L;
    public static final long VIRTIO_MMIO_STRIDE = 0x200L;
    public static final int VIRTIO_MMIO_SLOTS = 32;
    /**
     * The SPI of virtio-mmio slot 0; slot n has SPI {@code 16 + n}, which QEMU's device tree declares edge-rising
     * ({@code interrupts = <0 0x10+n 1>}; {@code hw/arm/virt.c}, {@code a15irqmap[VIRT_MMIO] = 16}).
     */
    public static final int VIRTIO_MMIO_FIRST_SPI = 16;
    /** INTID of SPI 0 (GICv3: INTIDs 32..1019 are SPIs). */
    public static final int FIRST_SPI_INTID = 32;
    public static final long RAM_BASE = 0x4000_0000L;

    private MemoryMap() {
    }

    /** RD_base of vCPU {@code n}'s redistributor. */
    public static long gicr(int vcpu) {
        return GICR_BASE + vcpu * GICR_STRIDE;
    }

    /** Base of ITS {@code index}: the first at 0x0808_0000, the others after the last redistributor. */
    public static long its(int index, int vcpus) {
        return index == 0 ? ITS_BASE : GICR_BASE + (vcpus + index - 1L) * GICR_STRIDE;
    }

    /** Base of virtio-mmio slot {@code n}. */
    public static long virtioSlot(int slot) {
        return VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_STRIDE;
    }

    /** The INTID of virtio-mmio slot {@code slot}'s wired interrupt: {@code 32 + 16 + slot} (48 for slot 0). */
    public static int virtioSlotIntid(int slot) {
        return FIRST_SPI_INTID + VIRTIO_MMIO_FIRST_SPI + slot;
    }

    /** How many vCPUs fit the redistributor window beside {@code itsCount} ITSes. */
    public static int maxVcpus(int itsCount) {
        return (int) ((GICR_WINDOW_END - GICR_BASE) / GICR_STRIDE) - Math.max(0, itsCount - 1);
    }
}
