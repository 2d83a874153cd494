/* virtio-mmio transport, split virtqueues and the virtio-net data path (net/virtio.h). */
#include "virtio.h"

static u32 rd(struct netdev *nd, u32 off)
{
    return mmio_read32(nd->base + off);
}

static void wr(struct netdev *nd, u32 off, u32 v)
{
    mmio_write32(nd->base + off, v);
}

bool netdev_probe(u64 base, u32 *version, u32 *device_id)
{
    if (mmio_read32(base + VIRTIO_MMIO_MAGIC) != VIRTIO_MMIO_MAGIC_VALUE) {
        return false;
    }
    *version = mmio_read32(base + VIRTIO_MMIO_VERSION);
    *device_id = mmio_read32(base + VIRTIO_MMIO_DEVICE_ID);
    return (*version == 1 || *version == 2) && *device_id == VIRTIO_ID_NET;
}

/* ---- split virtqueue (virtio spec, "Split Virtqueues") ---- */

static volatile u16 *used_idx_ptr(struct virtq *q)
{
    return (volatile u16 *)(q->used + 2);
}

static volatile u16 *avail_event_ptr(struct virtq *q)
{
    return (volatile u16 *)(q->used + 4 + 8 * (u64)q->size);
}

static volatile u16 *used_event_ptr(struct virtq *q)
{
    return &q->avail[2 + q->size];
}

static void vq_setup(struct virtq *q, u16 index, u16 size, bool device_writes, bool event_idx)
{
    u64 avail_off = 16 * (u64)size;
    u64 used_off = ALIGN_UP(avail_off + 6 + 2 * (u64)size, 4096);
    u64 bytes = used_off + ALIGN_UP(6 + 8 * (u64)size, 4096);
    if (q->ring_pa == 0 || q->size != size) {
        q->ring_pa = (u64)rt_alloc(bytes, 4096);
        q->buffers = rt_alloc((u64)size * NET_BUFFER_SIZE, 64);
        q->free = rt_alloc(sizeof(u16) * size, 16);
    }
    memset((void *)q->ring_pa, 0, bytes);
    q->index = index;
    q->size = size;
    q->desc = (struct virtq_desc *)q->ring_pa;
    q->avail = (volatile u16 *)(q->ring_pa + avail_off);
    q->used = (volatile u8 *)(q->ring_pa + used_off);
    q->last_used = 0;
    q->avail_idx = 0;
    q->event_idx = event_idx;
    q->nfree = 0;
    for (u16 i = 0; i < size; i++) {
        q->desc[i].addr = (u64)q->buffers + (u64)i * NET_BUFFER_SIZE;
        q->desc[i].len = NET_BUFFER_SIZE;
        q->desc[i].flags = device_writes ? VIRTQ_DESC_F_WRITE : 0;
        q->desc[i].next = 0;
        q->free[q->nfree++] = (u16)(size - 1 - i);
    }
}

static void vq_post(struct virtq *q, u16 id)
{
    q->avail[2 + (q->avail_idx & (q->size - 1))] = id;
    q->avail_idx++;
}

/* vring_need_event (virtio spec, "Used Buffer Notification Suppression"): whether event lies in [old, new). */
static bool need_event(u16 event, u16 new_idx, u16 old_idx)
{
    return (u16)(new_idx - event - 1) < (u16)(new_idx - old_idx);
}

/* Makes the entries posted since `old` visible; returns whether the device wants a notification. */
static bool vq_publish(struct virtq *q, u16 old)
{
    dmb(ishst);  /* ring entries before avail.idx */
    q->avail[1] = q->avail_idx;
    /* Our store of avail.idx before our load of avail_event (or flags): the device does the mirror image, so one
     * of the two sides sees the other's update (virtio spec, "Available Buffer Notification Suppression"). */
    dmb(ish);
    if (q->event_idx) {
        return need_event(*avail_event_ptr(q), q->avail_idx, old);
    }
    return (*(volatile u16 *)q->used & 1) == 0;  /* VIRTQ_USED_F_NO_NOTIFY */
}

static u16 vq_used_idx(struct virtq *q)
{
    u16 v = *used_idx_ptr(q);
    dmb(ishld);  /* used.idx before the entries it covers */
    return v;
}

static void vq_used_elem(struct virtq *q, u16 slot, u32 *id, u32 *len)
{
    volatile u32 *e = (volatile u32 *)(q->used + 4 + 8 * (u64)(slot & (q->size - 1)));
    *id = e[0];
    *len = e[1];
}

/* Asks for an interrupt at the next used entry; returns true when entries arrived meanwhile (process them). */
static bool vq_enable_interrupts(struct netdev *nd, struct virtq *q)
{
    if (q->event_idx) {
        *used_event_ptr(q) = q->last_used;
    } else {
        q->avail[0] = 0;
    }
    /* Our store of used_event before our load of used.idx; the device stores used.idx, then loads used_event. */
    dmb(ish);
    if (nd->mmio_fence) {
        (void)rd(nd, VIRTIO_MMIO_INTERRUPT_STATUS);
    }
    return vq_used_idx(q) != q->last_used;
}

/* No interrupts for this queue (the transmit queue is reclaimed when receiving or when it runs full). */
static void vq_disable_interrupts(struct virtq *q)
{
    if (q->event_idx) {
        /* last_used - 1 is never in [old, new) of a device update: used.idx never falls below last_used. */
        *used_event_ptr(q) = (u16)(q->last_used - 1);
    } else {
        q->avail[0] = 1;  /* VIRTQ_AVAIL_F_NO_INTERRUPT */
    }
}

static void notify(struct netdev *nd, struct virtq *q)
{
    dsb(ishst);  /* ring updates reach memory before the device is told (MMIO write) */
    wr(nd, VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
    q->kicks++;
}

/* ---- device initialisation (virtio spec, "Driver Requirements: Device Initialization"; MMIO legacy interface) ---- */

static bool setup_queue(struct netdev *nd, struct virtq *q, u16 index, bool device_writes)
{
    wr(nd, VIRTIO_MMIO_QUEUE_SEL, index);
    if ((nd->version == 2 ? rd(nd, VIRTIO_MMIO_QUEUE_READY) : rd(nd, VIRTIO_MMIO_QUEUE_PFN)) != 0) {
        printf("nic %d: queue %u already in use before set-up\n", nd->index, index);
        return false;
    }
    u32 max = rd(nd, VIRTIO_MMIO_QUEUE_NUM_MAX);
    if (max == 0) {
        printf("nic %d: queue %u does not exist\n", nd->index, index);
        return false;
    }
    u32 limit = max < nd->queue_limit ? max : nd->queue_limit;
    u16 size = 1;
    while ((u32)size * 2 <= limit) {
        size = (u16)(size * 2);
    }
    vq_setup(q, index, size, device_writes, (nd->features & BIT(VIRTIO_F_EVENT_IDX)) != 0);
    wr(nd, VIRTIO_MMIO_QUEUE_NUM, size);
    if (nd->version == 2) {
        u64 avail = (u64)q->avail, used = (u64)q->used;
        wr(nd, VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)q->ring_pa);
        wr(nd, VIRTIO_MMIO_QUEUE_DESC_HIGH, (u32)(q->ring_pa >> 32));
        wr(nd, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (u32)avail);
        wr(nd, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (u32)(avail >> 32));
        wr(nd, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (u32)used);
        wr(nd, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (u32)(used >> 32));
        wr(nd, VIRTIO_MMIO_QUEUE_READY, 1);
    } else {
        wr(nd, VIRTIO_MMIO_QUEUE_ALIGN, 4096);
        wr(nd, VIRTIO_MMIO_QUEUE_PFN, (u32)(q->ring_pa >> 12));
    }
    return true;
}

static void read_mac(struct netdev *nd)
{
    if ((nd->features & BIT(VIRTIO_NET_F_MAC)) == 0) {
        /* A locally administered address derived from the NIC's index. */
        static const u8 local[6] = { 0x02, 0, 0, 0, 0, 0 };
        memcpy(nd->mac, local, 6);
        nd->mac[5] = (u8)nd->index;
        return;
    }
    u32 gen;
    do {
        gen = nd->version == 2 ? rd(nd, VIRTIO_MMIO_CONFIG_GENERATION) : 0;
        for (int i = 0; i < 6; i++) {
            nd->mac[i] = mmio_read8(nd->base + VIRTIO_MMIO_CONFIG + (u64)i);
        }
    } while (nd->version == 2 && gen != rd(nd, VIRTIO_MMIO_CONFIG_GENERATION));
}

static bool init_device(struct netdev *nd)
{
    wr(nd, VIRTIO_MMIO_STATUS, 0);
    if (rd(nd, VIRTIO_MMIO_STATUS) != 0) {
        printf("nic %d: Status did not reset to 0\n", nd->index);
        return false;
    }
    wr(nd, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    wr(nd, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(nd, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    nd->offered = rd(nd, VIRTIO_MMIO_DEVICE_FEATURES);
    if (nd->version == 2) {
        wr(nd, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
        nd->offered |= (u64)rd(nd, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
        if ((nd->offered & BIT(VIRTIO_F_VERSION_1)) == 0) {
            wr(nd, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FAILED);
            printf("nic %d: the device does not offer VIRTIO_F_VERSION_1\n", nd->index);
            return false;
        }
    }
    /* The device numbers its EventIDs by queue whatever we use: count the queues it has (VirtioNetDevice). */
    nd->queues = 2;
    if ((nd->offered & BIT(VIRTIO_NET_F_MQ)) != 0) {
        u16 pairs = mmio_read16(nd->base + VIRTIO_MMIO_CONFIG + 8);
        nd->queues = 2 * (pairs > 0 ? pairs : 1) + 1;
    } else if ((nd->offered & BIT(VIRTIO_NET_F_CTRL_VQ)) != 0) {
        nd->queues = 3;
    }
    u64 wanted = BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_MRG_RXBUF)
                 | BIT(VIRTIO_F_EVENT_IDX) | (nd->version == 2 ? BIT(VIRTIO_F_VERSION_1) : 0);
    if (bootarg("event-idx") != NULL && strcmp(bootarg("event-idx"), "off") == 0) {
        wanted &= ~BIT(VIRTIO_F_EVENT_IDX);
    }
    nd->features = nd->offered & wanted;
    nd->mrg_rxbuf = (nd->features & BIT(VIRTIO_NET_F_MRG_RXBUF)) != 0;
    /* virtio_net_hdr: num_buffers is there with VERSION_1 or MRG_RXBUF (virtio spec, network device, "Device
     * Operation", and its legacy note). */
    nd->hdr_len = nd->version == 2 || nd->mrg_rxbuf ? 12 : 10;
    wr(nd, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(nd, VIRTIO_MMIO_DRIVER_FEATURES, (u32)nd->features);
    if (nd->version == 2) {
        wr(nd, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
        wr(nd, VIRTIO_MMIO_DRIVER_FEATURES, (u32)(nd->features >> 32));
        wr(nd, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
        if ((rd(nd, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK) == 0) {
            wr(nd, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FAILED);
            printf("nic %d: the device refused features 0x%lx\n", nd->index, nd->features);
            return false;
        }
    } else {
        wr(nd, VIRTIO_MMIO_GUEST_PAGE_SIZE, 4096);
    }
    read_mac(nd);
    if (!setup_queue(nd, &nd->rx, NET_RX_QUEUE, true) || !setup_queue(nd, &nd->tx, NET_TX_QUEUE, false)) {
        wr(nd, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FAILED);
        return false;
    }
    /* Every receive buffer posted before DRIVER_OK; the receive queue interrupts, the transmit queue does not. */
    struct virtq *rx = &nd->rx;
    for (u16 i = 0; i < rx->size; i++) {
        vq_post(rx, i);
    }
    rx->nfree = 0;
    vq_publish(rx, 0);
    vq_enable_interrupts(nd, rx);
    vq_disable_interrupts(&nd->tx);
    return true;
}

bool netdev_init(struct netdev *nd, u64 base, int index, u16 queue_limit)
{
    nd->base = base;
    nd->index = index;
    nd->version = mmio_read32(base + VIRTIO_MMIO_VERSION);
    nd->queue_limit = queue_limit;
    return init_device(nd);
}

void netdev_start(struct netdev *nd)
{
    u32 status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK
                 | (nd->version == 2 ? VIRTIO_STATUS_FEATURES_OK : 0);
    wr(nd, VIRTIO_MMIO_STATUS, status);
    notify(nd, &nd->rx);
}

void netdev_reinit(struct netdev *nd)
{
    wr(nd, VIRTIO_MMIO_STATUS, 0);
    /* After the reset the device writes no more: what it completed that we did not take is lost; count it. */
    nd->discarded += (u16)(*used_idx_ptr(&nd->rx) - nd->rx.last_used);
    if (init_device(nd)) {
        netdev_start(nd);
    }
    nd->resets++;
}

u32 netdev_receive(struct netdev *nd)
{
    struct virtq *q = &nd->rx;
    u32 frames = 0;
    u16 old = q->avail_idx;
    do {
        u16 used = vq_used_idx(q);
        while (q->last_used != used) {
            u32 id, len;
            vq_used_elem(q, q->last_used, &id, &len);
            q->last_used++;
            nd->rx_buffers++;
            if (id >= q->size || len > NET_BUFFER_SIZE || len < nd->hdr_len) {
                nd->rx_bad_buffers++;
                if (id < q->size) {
                    vq_post(q, (u16)id);
                }
                continue;
            }
            u8 *buf = q->buffers + (u64)id * NET_BUFFER_SIZE;
            u16 nbuf = nd->mrg_rxbuf ? (u16)(buf[10] | buf[11] << 8) : 1;
            u8 *frame = buf + nd->hdr_len;
            u32 flen = len - nd->hdr_len;
            bool ok = true;
            if (nbuf > 1) {
                /* MRG_RXBUF: the frame continues in the next used entries (virtio spec, "Processing of Incoming
                 * Packets"). */
                memcpy(nd->frame, frame, flen);
                frame = nd->frame;
                for (u16 b = 1; b < nbuf; b++) {
                    if (q->last_used == used) {
                        used = vq_used_idx(q);
                        if (q->last_used == used) {
                            ok = false;
                            break;
                        }
                    }
                    u32 nid, nlen;
                    vq_used_elem(q, q->last_used, &nid, &nlen);
                    q->last_used++;
                    nd->rx_buffers++;
                    if (nid >= q->size || nlen > NET_BUFFER_SIZE || flen + nlen > sizeof nd->frame) {
                        ok = false;
                        if (nid < q->size) {
                            vq_post(q, (u16)nid);
                        }
                        continue;
                    }
                    memcpy(nd->frame + flen, q->buffers + (u64)nid * NET_BUFFER_SIZE, nlen);
                    flen += nlen;
                    vq_post(q, (u16)nid);
                }
            }
            if (ok) {
                nd->rx_frames++;
                frames++;
                nd->on_frame(nd, frame, flen);
            } else {
                nd->rx_bad_buffers++;
            }
            vq_post(q, (u16)id);
        }
        /* Give the buffers back before re-arming, so that a burst never starves the device. */
        if (q->avail_idx != old) {
            if (vq_publish(q, old)) {
                notify(nd, q);
            } else {
                q->suppressed++;
            }
            old = q->avail_idx;
        }
    } while (vq_enable_interrupts(nd, q));
    return frames;
}

void netdev_reclaim_tx(struct netdev *nd)
{
    struct virtq *q = &nd->tx;
    u16 used = vq_used_idx(q);
    while (q->last_used != used) {
        u32 id, len;
        vq_used_elem(q, q->last_used, &id, &len);
        q->last_used++;
        if (id < q->size && q->nfree < q->size) {
            q->free[q->nfree++] = (u16)id;
        }
    }
    vq_disable_interrupts(q);
}

bool netdev_transmit(struct netdev *nd, const u8 *frame, u32 len)
{
    struct virtq *q = &nd->tx;
    if (q->nfree == 0) {
        netdev_reclaim_tx(nd);
    }
    if (q->nfree == 0 || nd->hdr_len + len > NET_BUFFER_SIZE) {
        nd->tx_full++;
        return false;
    }
    u16 id = q->free[--q->nfree];
    u8 *buf = q->buffers + (u64)id * NET_BUFFER_SIZE;
    memset(buf, 0, nd->hdr_len);  /* no offloads: flags 0, gso_type NONE */
    memcpy(buf + nd->hdr_len, frame, len);
    q->desc[id].len = nd->hdr_len + len;
    u16 old = q->avail_idx;
    vq_post(q, id);
    if (vq_publish(q, old)) {
        notify(nd, q);
    } else {
        q->suppressed++;
    }
    nd->tx_frames++;
    return true;
}

u32 netdev_interrupt_status(struct netdev *nd)
{
    return rd(nd, VIRTIO_MMIO_INTERRUPT_STATUS);
}

void netdev_interrupt_ack(struct netdev *nd, u32 bits)
{
    wr(nd, VIRTIO_MMIO_INTERRUPT_ACK, bits);
}

u32 netdev_status(struct netdev *nd)
{
    return rd(nd, VIRTIO_MMIO_STATUS);
}
