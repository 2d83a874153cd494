/*
 * A virtio-net driver on virtio-mmio (virtio 1.x, 4.2 "Virtio Over MMIO", 2.7 "Split Virtqueues", 5.1 "Network
 * Device"): the modern transport (Version 2) and the legacy one (Version 1, QEMU's default for virtio-mmio), split
 * virtqueues with VIRTIO_F_EVENT_IDX, and VIRTIO_NET_F_MRG_RXBUF receive buffers.
 */
#ifndef NET_VIRTIO_H
#define NET_VIRTIO_H

#include "rt.h"

/* virtio-mmio registers (virtio spec, "MMIO Device Register Layout"; "Legacy interface" where it differs). */
#define VIRTIO_MMIO_MAGIC 0x000
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_GUEST_PAGE_SIZE 0x028     /* legacy */
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_ALIGN 0x03c         /* legacy */
#define VIRTIO_MMIO_QUEUE_PFN 0x040           /* legacy */
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100
#define VIRTIO_MMIO_MAGIC_VALUE 0x74726976

#define VIRTIO_INT_USED_BUFFER 1
#define VIRTIO_INT_CONFIG 2

#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2

#define VIRTIO_ID_NET 1
#define NET_RX_QUEUE 0
#define NET_TX_QUEUE 1
#define NET_BUFFER_SIZE 2048
#define NET_MAX_FRAME (1514 + 4)

/* Split virtqueue descriptor (virtio spec, "The Virtqueue Descriptor Table"). */
struct virtq_desc {
    u64 addr;
    u32 len;
    u16 flags;
    u16 next;
};

/*
 * One split virtqueue in the legacy contiguous layout (virtio spec, "Legacy Interfaces: A Note on Virtqueue
 * Layout"), which the modern transport accepts too: descriptors, the available ring right after them, the used ring
 * at the next 4 KiB boundary.
 *
 *   avail: u16 flags, u16 idx, u16 ring[size], u16 used_event
 *   used:  u16 flags, u16 idx, {u32 id, u32 len} ring[size], u16 avail_event
 */
struct virtq {
    u16 index;
    u16 size;
    struct virtq_desc *desc;
    volatile u16 *avail;
    volatile u8 *used;
    u8 *buffers;          /* size x NET_BUFFER_SIZE, buffer i belongs to descriptor i */
    u16 last_used;        /* next used entry to take */
    u16 avail_idx;        /* the driver's copy of avail.idx */
    u16 *free;            /* free descriptor ids (transmit), a stack */
    u16 nfree;
    bool event_idx;
    u64 ring_pa;
    u64 kicks, suppressed;  /* notifications sent / made unnecessary by EVENT_IDX or NO_NOTIFY */
};

struct netdev;
typedef void (*frame_fn)(struct netdev *nd, u8 *frame, u32 len);

struct netdev {
    int index;
    u64 base;
    u32 version;          /* 1 legacy, 2 modern */
    u64 offered, features;
    u8 mac[6];
    u16 hdr_len;          /* virtio_net_hdr: 12 bytes (modern, or legacy with MRG_RXBUF), else 10 */
    bool mrg_rxbuf;
    int queues;           /* queues the device numbers (for the EventIDs): 2, 3 with CTRL_VQ, 2P+1 with MQ */
    u16 queue_limit;
    struct virtq rx, tx;
    u8 frame[NET_MAX_FRAME + 64];  /* a frame spread over merged buffers is gathered here */
    frame_fn on_frame;
    void *app;
    /*
     * Read InterruptStatus between re-arming the receive interrupt (the used_event store) and re-reading used.idx.
     * The DMB there orders the two on any Arm CPU, but QEMU's TCG with a single vCPU emits no host fence for guest
     * barriers, so its I/O thread can miss the store and never interrupt again (README.md, "QEMU notes"); an MMIO
     * access takes QEMU's big lock, which is a full fence. On by default in wired mode (QEMU's), off with MSIs.
     */
    bool mmio_fence;
    /* counters (owned by the CPU that takes this NIC's interrupts) */
    u64 rx_frames, rx_buffers, rx_bad_buffers, tx_frames, tx_full, resets, discarded;
};

/* Reads the transport's identification; returns false unless it is a virtio-net device (DeviceID 1). */
bool netdev_probe(u64 base, u32 *version, u32 *device_id);
/* Negotiates features, sets up the two queues (at most queue_limit entries each) and posts every receive buffer.
 * Does not set DRIVER_OK. Returns false (with a message) on failure. */
bool netdev_init(struct netdev *nd, u64 base, int index, u16 queue_limit);
/* DRIVER_OK and a first receive-queue notification. */
void netdev_start(struct netdev *nd);
/* Reset and bring up again on the same memory (DEVICE_NEEDS_RESET, or reset-after). */
void netdev_reinit(struct netdev *nd);
/* Takes every completed receive buffer, hands frames to nd->on_frame, re-posts; loops until no more (EVENT_IDX
 * re-armed). Returns frames received. */
u32 netdev_receive(struct netdev *nd);
void netdev_reclaim_tx(struct netdev *nd);
/* Sends a frame (copied); false when no transmit buffer is free. */
bool netdev_transmit(struct netdev *nd, const u8 *frame, u32 len);
u32 netdev_interrupt_status(struct netdev *nd);
void netdev_interrupt_ack(struct netdev *nd, u32 bits);
u32 netdev_status(struct netdev *nd);

#endif
