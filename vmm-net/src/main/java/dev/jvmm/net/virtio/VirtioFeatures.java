package dev.jvmm.net.virtio;

/**
 * Feature bits as 64-bit masks (virtio 1.x, section 6 "Reserved Feature Bits" and 5.1.3 "Feature bits" of the
 * network device). Bits 0 to 23 are device-specific, 24 to 40 belong to the transport and the rings.
 */
public final class VirtioFeatures {
    /** Descriptors may point at an indirect descriptor table (section 2.7.5.3). */
    public static final long VIRTIO_F_INDIRECT_DESC = 1L << 28;
    /** used_event / avail_event notification suppression (section 2.7.7 and 2.7.10). */
    public static final long VIRTIO_F_EVENT_IDX = 1L << 29;
    /** The device complies with virtio 1.x; a device without it is legacy. Always offered here. */
    public static final long VIRTIO_F_VERSION_1 = 1L << 32;

    /** The device handles packets with partial checksum (not offered). */
    public static final long VIRTIO_NET_F_CSUM = 1L << 0;
    /** The driver handles packets with partial checksum (not offered). */
    public static final long VIRTIO_NET_F_GUEST_CSUM = 1L << 1;
    /** The mtu field of the configuration space is valid. */
    public static final long VIRTIO_NET_F_MTU = 1L << 3;
    /** The mac field of the configuration space is valid. */
    public static final long VIRTIO_NET_F_MAC = 1L << 5;
    /** The driver can merge receive buffers: one frame may span several buffers (num_buffers). */
    public static final long VIRTIO_NET_F_MRG_RXBUF = 1L << 15;
    /** The status field of the configuration space is valid. */
    public static final long VIRTIO_NET_F_STATUS = 1L << 16;
    /** A control virtqueue exists. */
    public static final long VIRTIO_NET_F_CTRL_VQ = 1L << 17;
    /** Several receive/transmit queue pairs; requires {@link #VIRTIO_NET_F_CTRL_VQ}. */
    public static final long VIRTIO_NET_F_MQ = 1L << 22;

    private VirtioFeatures() {
    }

    /** Whether every bit of {@code feature} is set in {@code features}. */
    public static boolean has(long features, long feature) {
        return (features & feature) == feature;
    }
}
