package dev.jvmm.net.virtio;

/**
 * The virtio-net layouts (virtio 1.x, section 5.1): the header in front of every frame ({@code struct
 * virtio_net_hdr}), the configuration space ({@code struct virtio_net_config}), the queue numbering and the control
 * queue's commands, with the specification's names for the constants.
 *
 * <pre>
 *  virtio_net_hdr (12 bytes with VIRTIO_F_VERSION_1):
 *    0       1          2         4          6            8             10            12
 *   ┌───────┬──────────┬─────────┬──────────┬────────────┬─────────────┬─────────────┐
 *   │ flags │ gso_type │ hdr_len │ gso_size │ csum_start │ csum_offset │ num_buffers │
 *   └───────┴──────────┴─────────┴──────────┴────────────┴─────────────┴─────────────┘
 *
 *  configuration space (at 0x100 of the MMIO window):
 *    0          6        8                     10     12
 *   ┌──────────┬────────┬─────────────────────┬──────┐
 *   │ mac[6]   │ status │ max_virtqueue_pairs │ mtu  │     status: VIRTIO_NET_S_LINK_UP
 *   └──────────┴────────┴─────────────────────┴──────┘
 *
 *  queues: receiveq1 = 0, transmitq1 = 1, receiveq2 = 2, transmitq2 = 3, ...,
 *          controlq = 2 * max_virtqueue_pairs with VIRTIO_NET_F_MQ, 2 with only VIRTIO_NET_F_CTRL_VQ
 * </pre>
 */
public final class VirtioNetDescriptor {
    /** The device type of a network card. */
    public static final int VIRTIO_ID_NET = 1;

    public static final int HDR_SIZE = 12;
    public static final int HDR_FLAGS = 0;
    public static final int HDR_GSO_TYPE = 1;
    public static final int HDR_HDR_LEN = 2;
    public static final int HDR_GSO_SIZE = 4;
    public static final int HDR_CSUM_START = 6;
    public static final int HDR_CSUM_OFFSET = 8;
    public static final int HDR_NUM_BUFFERS = 10;
    /** gso_type: not a GSO frame (the only type without offloads). */
    public static final int VIRTIO_NET_HDR_GSO_NONE = 0;

    public static final int CONFIG_MAC = 0;
    public static final int CONFIG_STATUS = 6;
    public static final int CONFIG_MAX_VIRTQUEUE_PAIRS = 8;
    public static final int CONFIG_MTU = 10;
    public static final int CONFIG_SIZE = 12;
    /** Configuration status bit 0: the link is up. */
    public static final int VIRTIO_NET_S_LINK_UP = 1;

    /** Without MRG_RXBUF a receive buffer holds at least this much: header + 1514-byte frame (section 5.1.6.3.1). */
    public static final int MIN_RX_BUFFER_WITHOUT_MRG = HDR_SIZE + 1514;

    // ---------------------------------------------------------------------------- control queue (5.1.6.5)
    /** The control command header: {u8 class, u8 command}, followed by command data, then a u8 ack (writable). */
    public static final int CTRL_HDR_CLASS = 0;
    public static final int CTRL_HDR_COMMAND = 1;
    public static final int CTRL_HDR_SIZE = 2;
    public static final int VIRTIO_NET_OK = 0;
    public static final int VIRTIO_NET_ERR = 1;
    /** Class of the multiqueue commands. */
    public static final int VIRTIO_NET_CTRL_MQ = 4;
    /** MQ command: set the number of queue pairs in use ({u16 virtqueue_pairs}). */
    public static final int VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET = 0;

    private VirtioNetDescriptor() {
    }

    /** The index of receiveq(pair + 1). */
    public static int rxQueue(int pair) {
        return 2 * pair;
    }

    /** The index of transmitq(pair + 1). */
    public static int txQueue(int pair) {
        return 2 * pair + 1;
    }
}
