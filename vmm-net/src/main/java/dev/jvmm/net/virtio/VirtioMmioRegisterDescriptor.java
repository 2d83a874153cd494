package dev.jvmm.net.virtio;

/**
 * The register layout of a virtio-mmio version 2 device (virtio 1.x, section 4.2.2 "MMIO Device Register Layout"):
 * offsets from the base of the device's 512-byte window.
 *
 * <pre>
 *  0x000 ┌─────────────────────┐ MagicValue "virt"          R
 *  0x004 │ Version = 2         │                            R
 *  0x008 │ DeviceID            │ 1 = network                R
 *  0x00c │ VendorID            │                            R
 *  0x010 │ DeviceFeatures      │ 32-bit window ...          R
 *  0x014 │ DeviceFeaturesSel   │ ... chosen here            W
 *  0x020 │ DriverFeatures      │ 32-bit window ...          W
 *  0x024 │ DriverFeaturesSel   │ ... chosen here            W
 *  0x030 │ QueueSel            │                            W
 *  0x034 │ QueueNumMax         │ 0: no such queue           R
 *  0x038 │ QueueNum            │                            W
 *  0x044 │ QueueReady          │                            RW
 *  0x050 │ QueueNotify         │ value = queue index        W
 *  0x060 │ InterruptStatus     │ bit 0 used, bit 1 config   R
 *  0x064 │ InterruptACK        │                            W
 *  0x070 │ Status              │ 0 resets the device        RW
 *  0x080 │ QueueDescLow/High   │ descriptor table           W
 *  0x090 │ QueueDriverLow/High │ available ring             W
 *  0x0a0 │ QueueDeviceLow/High │ used ring                  W
 *  0x0fc │ ConfigGeneration    │                            R
 *  0x100 │ device configuration space ...                   RW
 *  0x200 └─────────────────────┘
 * </pre>
 *
 * Registers below {@link #CONFIG} take naturally aligned 32-bit accesses only; the configuration space takes 8-, 16-
 * and 32-bit accesses.
 */
public final class VirtioMmioRegisterDescriptor {
    /** The size of one virtio-mmio window. */
    public static final int WINDOW_SIZE = 0x200;

    public static final int MAGIC_VALUE = 0x000;
    public static final int VERSION = 0x004;
    public static final int DEVICE_ID = 0x008;
    public static final int VENDOR_ID = 0x00c;
    public static final int DEVICE_FEATURES = 0x010;
    public static final int DEVICE_FEATURES_SEL = 0x014;
    public static final int DRIVER_FEATURES = 0x020;
    public static final int DRIVER_FEATURES_SEL = 0x024;
    public static final int QUEUE_SEL = 0x030;
    public static final int QUEUE_NUM_MAX = 0x034;
    public static final int QUEUE_NUM = 0x038;
    public static final int QUEUE_READY = 0x044;
    public static final int QUEUE_NOTIFY = 0x050;
    public static final int INTERRUPT_STATUS = 0x060;
    public static final int INTERRUPT_ACK = 0x064;
    public static final int STATUS = 0x070;
    public static final int QUEUE_DESC_LOW = 0x080;
    public static final int QUEUE_DESC_HIGH = 0x084;
    public static final int QUEUE_DRIVER_LOW = 0x090;
    public static final int QUEUE_DRIVER_HIGH = 0x094;
    public static final int QUEUE_DEVICE_LOW = 0x0a0;
    public static final int QUEUE_DEVICE_HIGH = 0x0a4;
    public static final int CONFIG_GENERATION = 0x0fc;
    /** The first byte of the device-specific configuration space. */
    public static final int CONFIG = 0x100;

    /** The value of MagicValue: the little-endian ASCII "virt". */
    public static final int MAGIC = 0x7472_6976;
    /** The only transport version this device implements (version 1 is the legacy layout). */
    public static final int VERSION_2 = 2;
    /** The VendorID this project's devices report: ASCII "JVMM", little-endian. */
    public static final int VENDOR_JVMM = 0x4D4D_564A;

    /** InterruptStatus bit 0, "Used Buffer Notification" (Linux's name): a buffer was used in a virtqueue. */
    public static final int VIRTIO_MMIO_INT_VRING = 1;
    /** InterruptStatus bit 1, "Configuration Change Notification" (or DEVICE_NEEDS_RESET was set). */
    public static final int VIRTIO_MMIO_INT_CONFIG = 2;

    private VirtioMmioRegisterDescriptor() {
    }
}
