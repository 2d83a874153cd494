/*
 * udp-sink and udp-echo: find the virtio-net NICs in the device tree, bring up the GICv3 (and the ITS for NICs with
 * an msi-parent), drive each NIC from its interrupt (wired SPI, or one LPI per queue), run the UDP application on
 * every datagram, and print the counters every `interval` seconds from the virtual timer.
 *
 *   boot CPU: GIC (+ ITS, LPIs) ─ per NIC: probe, features, queues, interrupt set-up ─ secondaries ─
 *             DRIVER_OK ─ ARP for the gateway ─ timer ─ loop { WFI; print on each tick; off after `seconds` }
 *   NIC i's interrupts go to CPU (i % cpus); that CPU alone touches the NIC after start-up.
 *
 * Bootargs (README.md, "udp-sink and udp-echo"): seconds, interval, cpus, msi=off, sequence=iperf|none,
 * queue-size, work-per-frame, reset-after, ip, gateway, port.
 */
#include "rt.h"
#include "fdt.h"
#include "gic.h"
#include "timer.h"
#include "mmu.h"
#include "netapp.h"
#include "netstack.h"

#define MAX_NICS 16
#define LPIS_PER_NIC 32

struct nic {
    struct netdev nd;
    struct udp_app app;
    int cpu;
    u64 slot;
    bool msi;
    u32 intid;              /* wired: the SPI */
    u32 lpi_base;           /* MSI: LPI of EventID 0 */
    u32 devid;
    int events;
    struct its *its;
    u64 irqs, tx_irqs, config_irqs;
    u64 watch_irqs, stalls;  /* the watchdog's (boot CPU) */
    volatile bool kick;
    bool relay;             /* msi=relay */
    u64 last_irq, gap_sum, gap_count, gap_min, gap_max;  /* receive interrupt intervals, in counter ticks */
};

static struct nic *nics[MAX_NICS];
static int nnics;
static int ncpus = 1;
static struct udp_config cfg;
static volatile u64 ticks;
static u64 tick_period;
static volatile int cpus_ready;

static u32 parse_ip(const char *s, u32 dflt)
{
    if (s == NULL) {
        return dflt;
    }
    u32 ip = 0;
    for (int i = 0; i < 4; i++) {
        const char *end;
        u64 part = strtou64(s, &end);
        if (part > 255 || (i < 3 && *end != '.') || end == s) {
            return dflt;
        }
        ip = ip << 8 | (u32)part;
        s = end + 1;
    }
    return ip;
}

static void print_ip(const char *label, u32 ip)
{
    printf("%s %u.%u.%u.%u", label, ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

/* ---- interrupts ---- */

static void receive(struct nic *n)
{
    u64 now = timer_now();
    if (n->last_irq != 0) {
        u64 gap = now - n->last_irq;
        n->gap_sum += gap;
        n->gap_count++;
        if (n->gap_min == 0 || gap < n->gap_min) {
            n->gap_min = gap;
        }
        if (gap > n->gap_max) {
            n->gap_max = gap;
        }
    }
    n->last_irq = now;
    n->irqs++;
    netdev_receive(&n->nd);
    netdev_reclaim_tx(&n->nd);
    if (n->app.reset_due) {
        n->app.reset_due = false;
        netdev_reinit(&n->nd);
    }
}

static void config_changed(struct nic *n)
{
    n->config_irqs++;
    if ((netdev_status(&n->nd) & VIRTIO_STATUS_NEEDS_RESET) != 0) {
        netdev_reinit(&n->nd);
    }
}

/* Wired: one SPI per NIC; InterruptStatus says why (virtio spec, "Notifications" of virtio over MMIO). */
static void wired_handler(u32 intid, void *arg)
{
    struct nic *n = arg;
    u32 isr = netdev_interrupt_status(&n->nd);
    netdev_interrupt_ack(&n->nd, isr);
    if ((isr & VIRTIO_INT_CONFIG) != 0) {
        config_changed(n);
    }
    receive(n);
}

/* MSI: the LPI says which queue; InterruptStatus is read only for a configuration change. */
static void msi_handler(u32 intid, void *arg)
{
    struct nic *n = arg;
    u32 event = intid - n->lpi_base;
    if (event == NET_RX_QUEUE) {
        receive(n);
    } else if (event == NET_TX_QUEUE) {
        n->tx_irqs++;
        netdev_reclaim_tx(&n->nd);
    } else if ((int)event == n->nd.queues) {
        u32 isr = netdev_interrupt_status(&n->nd);
        netdev_interrupt_ack(&n->nd, isr & VIRTIO_INT_CONFIG);
        config_changed(n);
    }
}

/*
 * The watchdog, on the boot CPU at every tick: a NIC with completed receive buffers and no interrupt for a whole
 * tick lost a notification. It is counted (stalls, in the report) and its interrupt raised by hand: the SPI made
 * pending in the distributor, or for an MSI NIC an SGI to its CPU, whose handler then looks at its rings.
 */
#define WATCHDOG_SGI 0

static void watchdog(void)
{
    for (int i = 0; i < nnics; i++) {
        struct nic *n = nics[i];
        struct virtq *q = &n->nd.rx;
        u64 irqs = READ_ONCE(n->irqs);
        u16 used = *(volatile u16 *)(q->used + 2);
        if (used != READ_ONCE(q->last_used) && irqs == n->watch_irqs) {
            n->stalls++;
            if (!n->msi || n->relay) {
                gic_set_pending(n->intid);
            } else {
                n->kick = true;
                dsb(ish);
                gic_send_sgi(WATCHDOG_SGI, &cpus[n->cpu].mpidr, 1, false);
            }
        }
        n->watch_irqs = irqs;
    }
}

static void watchdog_sgi(u32 intid, void *arg)
{
    int me = this_cpu()->index;
    for (int i = 0; i < nnics; i++) {
        struct nic *n = nics[i];
        if (n->cpu == me && n->kick) {
            n->kick = false;
            receive(n);
        }
    }
}

static void tick_handler(u32 intid, void *arg)
{
    write_sysreg(cntv_cval_el0, read_sysreg(cntv_cval_el0) + tick_period);
    ticks++;
    watchdog();
}

/* ---- set-up ---- */

static bool fence_option(bool dflt)
{
    const char *f = bootarg("mmio-fence");
    return f == NULL ? dflt : strcmp(f, "on") == 0;
}

/* MSI mode: EventID q -> LPI lpi_base + q for every queue the device numbers, and the configuration change. */
static void setup_msi(struct nic *n, struct its *its, u32 devid)
{
    n->msi = true;
    n->its = its;
    n->devid = devid;
    n->events = n->nd.queues + 1;
    n->lpi_base = LPI_BASE + (u32)n->nd.index * LPIS_PER_NIC;
    for (int e = 0; e < n->events; e++) {
        gic_set_handler(n->lpi_base + (u32)e, msi_handler, n);
    }
    if (!its_map_device_events(its, devid, n->events, n->lpi_base, (u16)n->cpu, n->cpu, 0xa0)) {
        panic("nic %d: the ITS refused the MSI mapping", n->nd.index);
    }
}

static void setup_wired(struct nic *n, int node, irq_handler_t handler)
{
    int len;
    const u32 *irq = fdt_prop(node, "interrupts", &len);
    if (irq == NULL || len < 12) {
        panic("nic %d: no interrupts in the device tree", n->nd.index);
    }
    n->intid = fdt32(&irq[1]) + (fdt32(&irq[0]) == 1 ? 16 : 32);
    gic_set_handler(n->intid, handler, n);
    gic_set_edge(n->intid, (fdt32(&irq[2]) & 0xf) == 1);  /* flags 1: edge rising, 4: level high */
    gic_route(n->intid, cpus[n->cpu].mpidr, false);
    gic_enable(n->intid);
}

/*
 * msi=relay (a test of the MSI path on QEMU, whose virtio-mmio has no MSIs): the first NIC's wired interrupt
 * handler writes the EventID that a device in MSI mode would send to GITS_TRANSLATER, where a CPU's write carries
 * DeviceID 0; the NIC is mapped as DeviceID 0, and its work is done in the LPI handler.
 */
static void relay_handler(u32 intid, void *arg)
{
    struct nic *n = arg;
    u32 isr = netdev_interrupt_status(&n->nd);
    netdev_interrupt_ack(&n->nd, isr);
    if ((isr & VIRTIO_INT_USED_BUFFER) != 0) {
        its_translater_write(n->its, NET_RX_QUEUE);
    }
    if ((isr & VIRTIO_INT_CONFIG) != 0) {
        its_translater_write(n->its, (u32)n->nd.queues);
    }
}

static void setup_interrupts(struct nic *n, int node)
{
    int len;
    const u32 *msi = fdt_prop(node, "msi-parent", &len);
    const char *m = bootarg("msi");
    bool off = m != NULL && strcmp(m, "off") == 0, relay = m != NULL && strcmp(m, "relay") == 0;
    if (msi != NULL && len >= 8 && !off) {
        struct its *its = its_for_node(fdt_by_phandle(fdt32(&msi[0])));
        if (its != NULL) {
            setup_msi(n, its, fdt32(&msi[1]));
            n->nd.mmio_fence = fence_option(false);
            return;
        }
        printf("nic %d: msi-parent is not a usable ITS; using the wired interrupt\n", n->nd.index);
    }
    if (relay && n->nd.index == 0) {
        struct its *its = its_for_node(fdt_find_compatible(-1, "arm,gic-v3-its"));
        if (its == NULL) {
            panic("msi=relay: no ITS");
        }
        setup_msi(n, its, 0);
        n->relay = true;
        n->nd.mmio_fence = fence_option(true);
        setup_wired(n, node, relay_handler);
        return;
    }
    n->nd.mmio_fence = fence_option(true);
    setup_wired(n, node, wired_handler);
}

static void discover(u16 queue_limit)
{
    for (int node = fdt_find_compatible(-1, "virtio,mmio"); node >= 0 && nnics < MAX_NICS;
         node = fdt_find_compatible(node, "virtio,mmio")) {
        u64 base, size;
        u32 version, id;
        if (!fdt_reg(node, 0, &base, &size) || !netdev_probe(base, &version, &id)) {
            continue;
        }
        struct nic *n = rt_alloc(sizeof *n, 64);
        n->slot = base;
        n->cpu = nnics % ncpus;
        if (!netdev_init(&n->nd, base, nnics, queue_limit)) {
            continue;
        }
        udp_app_init(&n->app, &n->nd, &cfg);
        setup_interrupts(n, node);
        nics[nnics++] = n;
    }
}

static void secondary(void *arg)
{
    if (gic.lpis && gic.nits > 0) {
        gic_lpi_enable_cpu(NULL);
    }
    gic_enable(WATCHDOG_SGI);
    __atomic_add_fetch(&cpus_ready, 1, __ATOMIC_RELEASE);
    irq_enable();
    for (;;) {
        wfi();
    }
}

/* ---- output ---- */

static void print_nic(const struct nic *n)
{
    const struct netdev *nd = &n->nd;
    printf("nic %d: virtio-mmio 0x%lx (version %u), MAC %02x:%02x:%02x:%02x:%02x:%02x, offered 0x%lx, accepted 0x%lx",
           nd->index, n->slot, nd->version, nd->mac[0], nd->mac[1], nd->mac[2], nd->mac[3], nd->mac[4], nd->mac[5],
           nd->offered, nd->features);
    printf(" (MRG_RXBUF %d, EVENT_IDX %d), queues %u/%u", nd->mrg_rxbuf, (nd->features & BIT(VIRTIO_F_EVENT_IDX)) != 0,
           nd->rx.size, nd->tx.size);
    if (n->msi) {
        printf(", MSI%s: DeviceID %u, EventIDs 0..%d -> LPIs %u..%u on cpu %d\n",
               n->relay ? " (relayed from INTID)" : "", n->devid, n->events - 1, n->lpi_base,
               n->lpi_base + (u32)n->events - 1, n->cpu);
    } else {
        printf(", wired INTID %u -> cpu %d\n", n->intid, n->cpu);
    }
}

struct snapshot {
    struct udp_counters c;
    u64 irqs, gap_sum, gap_count, gap_min, gap_max, resets, stalls;
};

static void snap(struct nic *n, struct snapshot *s)
{
    /* Another CPU may be updating these: each 64-bit load is single-copy atomic, which is all a report needs. */
    u64 daif = irq_save();
    s->c = n->app.c;
    s->irqs = READ_ONCE(n->irqs);
    s->gap_sum = n->gap_sum;
    s->gap_count = n->gap_count;
    s->gap_min = n->gap_min;
    s->gap_max = n->gap_max;
    s->resets = n->nd.resets;
    s->stalls = n->stalls;
    irq_restore(daif);
}

static u64 us(u64 t)
{
    return ticks_to_ns(t) / 1000;
}

static void print_line(u64 t, struct nic *n, struct snapshot *prev, bool summary)
{
    struct snapshot s;
    snap(n, &s);
    u64 gaps = s.gap_count - prev->gap_count;
    u64 avg = gaps > 0 ? us((s.gap_sum - prev->gap_sum) / gaps) : 0;
    if (summary) {
        printf("summary nic %d after %lu s: datagrams %lu (iperf %lu, other payloads %lu, fin %lu) bytes %lu lost %lu "
               "reordered %lu bad %lu other-frames %lu echoed %lu tx-drops %lu irqs %lu crc 0x%lx resets %lu "
               "stalls %lu\n",
               n->nd.index, t, s.c.datagrams, s.c.iperf, s.c.non_iperf, s.c.fins, s.c.bytes, s.c.lost,
               s.c.reordered, s.c.bad, s.c.other, s.c.echoed, s.c.tx_drops, s.irqs, s.c.crc_sum, s.resets, s.stalls);
        printf("summary nic %d: receive interrupt interval avg %lu us (min %lu us, max %lu us) over %lu intervals\n",
               n->nd.index, s.gap_count > 0 ? us(s.gap_sum / s.gap_count) : 0, us(s.gap_min), us(s.gap_max),
               s.gap_count);
        return;
    }
    printf("[%lu s] nic %d: datagrams %lu (+%lu) lost %lu reord %lu non-iperf %lu bad %lu other %lu echoed %lu "
           "tx-drops %lu irqs %lu (+%lu) irq-interval %lu us\n", t, n->nd.index, s.c.datagrams,
           s.c.datagrams - prev->c.datagrams, s.c.lost, s.c.reordered, s.c.non_iperf, s.c.bad, s.c.other, s.c.echoed,
           s.c.tx_drops, s.irqs, s.irqs - prev->irqs, avg);
    *prev = s;
}

/* bootarg debug: the receive ring's indices, the device's InterruptStatus and the wired SPI's GIC state. */
static void print_rings(struct nic *n)
{
    struct virtq *q = &n->nd.rx;
    printf("  rx: avail %u last_used %u used.idx %u used_event %u avail_event %u buffers %lu bad %lu kicks %lu "
           "suppressed %lu ISR %u pending %d active %d\n", q->avail_idx, q->last_used, *(volatile u16 *)(q->used + 2),
           q->avail[2 + q->size], *(volatile u16 *)(q->used + 4 + 8 * (u64)q->size), n->nd.rx_buffers,
           n->nd.rx_bad_buffers, q->kicks, q->suppressed, netdev_interrupt_status(&n->nd),
           n->msi ? -1 : gic_is_pending(n->intid), n->msi ? -1 : gic_is_active(n->intid));
}

int net_main(bool echo)
{
    const char *name = echo ? "udp-echo" : "udp-sink";
    cfg.echo = echo;
    const char *seq = bootarg("sequence");
    cfg.iperf = seq == NULL || strcmp(seq, "none") != 0;
    cfg.ip = parse_ip(bootarg("ip"), 0x0a00020f);        /* 10.0.2.15: QEMU's user networking, jvmm's default */
    cfg.gateway = parse_ip(bootarg("gateway"), 0x0a000202);
    cfg.port = (u16)bootarg_u64("port", 0);
    cfg.work_ticks = ns_to_ticks(bootarg_ns("work-per-frame", 0));
    cfg.reset_after = bootarg_u64("reset-after", 0);
    u64 seconds = bootarg_u64("seconds", 0);
    bool debug = bootarg("debug") != NULL;
    u64 interval = bootarg_u64("interval", 1);
    u64 qlimit = bootarg_u64("queue-size", 256);
    if (qlimit < 2 || qlimit > 32768 || (qlimit & (qlimit - 1)) != 0) {
        printf("queue-size=%lu: must be a power of two from 2 to 32768\n", qlimit);
        return 2;
    }
    ncpus = (int)bootarg_u64("cpus", (u64)cpu_count());
    if (ncpus < 1 || ncpus > cpu_count()) {
        ncpus = cpu_count();
    }

    mmu_identity_on(12);
    gic_init();
    gic_set_handler(WATCHDOG_SGI, watchdog_sgi, NULL);
    gic_enable(WATCHDOG_SGI);
    bool lpis = gic.lpis && gic.nits > 0;
    if (lpis) {
        gic_lpi_init();
        gic_lpi_enable_cpu(NULL);
    }
    discover((u16)qlimit);
    printf("%s: %d NIC%s, %d CPU%s, ", name, nnics, nnics == 1 ? "" : "s", ncpus, ncpus == 1 ? "" : "s");
    print_ip("guest", cfg.ip);
    print_ip(", gateway", cfg.gateway);
    printf(", port %s, sequence %s, seconds %lu, bootargs \"%s\"\n", cfg.port == 0 ? "any" : "set",
           cfg.iperf ? "iperf" : "none", seconds, bootargs());
    for (int i = 0; i < nnics; i++) {
        print_nic(nics[i]);
    }
    if (nnics == 0) {
        printf("%s: no virtio-net device found\n", name);
    }
    for (int c = 1; c < ncpus; c++) {
        cpu_start(c, secondary, NULL);
    }
    u64 start = timer_now();
    while (READ_ONCE(cpus_ready) < ncpus - 1 && timer_now() - start < ns_to_ticks(2000000000ULL)) {
        cpu_relax();
    }
    for (int i = 0; i < nnics; i++) {
        netdev_start(&nics[i]->nd);
        udp_app_resolve_gateway(&nics[i]->app);
    }

    /* The report clock: the virtual timer, every `interval` seconds (1 s when printing is off). */
    tick_period = timer_freq() * (interval > 0 ? interval : 1);
    u32 vt = (u32)timer_virt_intid();
    gic_set_handler(vt, tick_handler, NULL);
    gic_enable(vt);
    write_sysreg(cntv_cval_el0, timer_now() + tick_period);
    write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE);
    struct snapshot prev[MAX_NICS];
    memset(prev, 0, sizeof prev);
    u64 seen = 0;
    irq_enable();
    for (;;) {
        wfi();
        u64 t = READ_ONCE(ticks);
        if (t == seen) {
            continue;
        }
        seen = t;
        u64 elapsed = t * (interval > 0 ? interval : 1);
        if (interval > 0) {
            for (int i = 0; i < nnics; i++) {
                print_line(elapsed, nics[i], &prev[i], false);
                if (debug) {
                    print_rings(nics[i]);
                }
            }
        }
        if (seconds > 0 && elapsed >= seconds) {
            break;
        }
    }
    irq_disable();
    write_sysreg(cntv_ctl_el0, 0);
    u64 total = 0;
    for (int i = 0; i < nnics; i++) {
        print_line(seconds, nics[i], &prev[i], true);
        total += nics[i]->app.c.datagrams;
    }
    printf("%s: %lu datagrams in %lu s\n", name, total, seconds);
    return 0;
}
