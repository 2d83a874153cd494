/* Ethernet, ARP (RFC 826), IPv4 (RFC 791), UDP (RFC 768) and the udp-sink / udp-echo application. */
#include "netstack.h"
#include "timer.h"

#define ETH_HLEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define IPPROTO_UDP 17
#define MAX_ECHO_PAYLOAD (1500 - 20 - 8)

static u16 be16(const u8 *p)
{
    return (u16)(p[0] << 8 | p[1]);
}

static u32 be32(const u8 *p)
{
    return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static void put16(u8 *p, u32 v)
{
    p[0] = (u8)(v >> 8);
    p[1] = (u8)v;
}

static void put32(u8 *p, u32 v)
{
    p[0] = (u8)(v >> 24);
    p[1] = (u8)(v >> 16);
    p[2] = (u8)(v >> 8);
    p[3] = (u8)v;
}

/* The Internet checksum's running sum (RFC 1071): 16-bit big-endian words, a trailing odd byte padded. */
static u32 csum_add(u32 sum, const u8 *p, u32 len)
{
    u32 i = 0;
    for (; i + 1 < len; i += 2) {
        sum += (u32)(p[i] << 8 | p[i + 1]);
    }
    if (i < len) {
        sum += (u32)p[i] << 8;
    }
    return sum;
}

static u16 csum_fold(u32 sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (u16)sum;
}

/* The UDP checksum's sum over the pseudo-header (addresses, protocol, length) and the datagram. */
static u16 udp_sum(const u8 *ip, const u8 *udp, u32 udp_len)
{
    u32 sum = csum_add(0, ip + 12, 8) + IPPROTO_UDP + udp_len;
    return csum_fold(csum_add(sum, udp, udp_len));
}

static u32 crc_table[256];

u32 crc32_payload(const u8 *p, u32 n)
{
    if (crc_table[1] == 0) {
        for (u32 i = 0; i < 256; i++) {
            u32 c = i;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) != 0 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            }
            crc_table[i] = c;
        }
    }
    u32 crc = ~0u;
    for (u32 i = 0; i < n; i++) {
        crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    }
    return ~crc;
}

void udp_app_init(struct udp_app *app, struct netdev *nd, const struct udp_config *cfg)
{
    memset(app, 0, sizeof *app);
    app->nd = nd;
    app->cfg = cfg;
    nd->on_frame = udp_app_frame;
    nd->app = app;
}

void udp_app_resolve_gateway(struct udp_app *app)
{
    u8 *o = app->out;
    memset(o, 0xff, 6);
    memcpy(o + 6, app->nd->mac, 6);
    put16(o + 12, ETHERTYPE_ARP);
    u8 *a = o + ETH_HLEN;
    put16(a, 1);               /* hardware: Ethernet */
    put16(a + 2, ETHERTYPE_IPV4);
    a[4] = 6;
    a[5] = 4;
    put16(a + 6, 1);           /* request */
    memcpy(a + 8, app->nd->mac, 6);
    put32(a + 14, app->cfg->ip);
    memset(a + 18, 0, 6);
    put32(a + 24, app->cfg->gateway);
    if (!netdev_transmit(app->nd, o, ETH_HLEN + 28)) {
        app->c.tx_drops++;
    }
}

static void arp(struct udp_app *app, const u8 *f, u32 len)
{
    const u8 *a = f + ETH_HLEN;
    if (len < ETH_HLEN + 28 || be16(a) != 1 || be16(a + 2) != ETHERTYPE_IPV4) {
        app->c.bad++;
        return;
    }
    app->c.other++;
    u16 op = be16(a + 6);
    u32 sender = be32(a + 14), target = be32(a + 24);
    if (op == 2 && sender == app->cfg->gateway) {
        memcpy(app->gw_mac, a + 8, 6);
        app->gw_known = true;
    } else if (op == 1 && target == app->cfg->ip) {
        /* who-has our address: answer. */
        u8 *o = app->out;
        memcpy(o, f + 6, 6);
        memcpy(o + 6, app->nd->mac, 6);
        put16(o + 12, ETHERTYPE_ARP);
        u8 *r = o + ETH_HLEN;
        memcpy(r, a, 6);
        put16(r + 6, 2);
        memcpy(r + 8, app->nd->mac, 6);
        put32(r + 14, app->cfg->ip);
        memcpy(r + 18, a + 8, 10);  /* the requester's hardware and protocol address */
        if (netdev_transmit(app->nd, o, ETH_HLEN + 28)) {
            app->c.arp_replies++;
        } else {
            app->c.tx_drops++;
        }
        if (sender == app->cfg->gateway) {
            memcpy(app->gw_mac, a + 8, 6);
            app->gw_known = true;
        }
    }
}

/*
 * iperf2's UDP payload starts with struct UDP_datagram { int32 id; uint32 tv_sec; uint32 tv_usec; ... } in network
 * byte order; a negative id ends the test (the client repeats it until the server answers).
 */
static bool iperf_plausible(const u8 *p, u32 len)
{
    return len >= 16 && be32(p + 8) < 1000000;
}

static void sequence(struct udp_app *app, u32 src_ip, u16 src_port, s32 id)
{
    if (id < 0) {
        app->c.fins++;
        return;
    }
    struct flow *f = NULL, *victim = &app->flows[0];
    for (int i = 0; i < MAX_FLOWS; i++) {
        struct flow *x = &app->flows[i];
        if (x->used && x->ip == src_ip && x->port == src_port) {
            f = x;
            break;
        }
        if (!x->used || (victim->used && x->last < victim->last)) {
            victim = x;
        }
    }
    if (f == NULL) {
        /* A flow's first datagram sets the count going (iperf 2.0 numbers from 0, 2.1 from 1: a loss before the
         * first arrival cannot be told from a late start). */
        f = victim;
        f->used = true;
        f->ip = src_ip;
        f->port = src_port;
        f->next = (u32)id + 1;
        f->last = app->c.datagrams;
        return;
    }
    f->last = app->c.datagrams;
    if ((u32)id == f->next) {
        f->next++;
    } else if ((u32)id > f->next) {
        app->c.lost += (u32)id - f->next;
        f->next = (u32)id + 1;
    } else {
        app->c.reordered++;
        if (app->c.lost > 0) {
            app->c.lost--;
        }
    }
}

static void echo(struct udp_app *app, const u8 *f, u32 dst_ip, u16 dst_port, u16 my_port, const u8 *payload,
                 u32 plen)
{
    if (plen > MAX_ECHO_PAYLOAD) {
        app->c.tx_drops++;
        return;
    }
    u8 *o = app->out;
    memcpy(o, app->gw_known ? app->gw_mac : f + 6, 6);
    memcpy(o + 6, app->nd->mac, 6);
    put16(o + 12, ETHERTYPE_IPV4);
    u8 *ip = o + ETH_HLEN;
    u32 total = 20 + 8 + plen;
    ip[0] = 0x45;
    ip[1] = 0;
    put16(ip + 2, total);
    put16(ip + 4, (u32)app->c.echoed);
    put16(ip + 6, 0x4000);  /* don't fragment */
    ip[8] = 64;
    ip[9] = IPPROTO_UDP;
    put16(ip + 10, 0);
    put32(ip + 12, app->cfg->ip);
    put32(ip + 16, dst_ip);
    put16(ip + 10, (u16)~csum_fold(csum_add(0, ip, 20)));
    u8 *u = ip + 20;
    put16(u, my_port);
    put16(u + 2, dst_port);
    put16(u + 4, 8 + plen);
    put16(u + 6, 0);
    memcpy(u + 8, payload, plen);
    u16 sum = (u16)~udp_sum(ip, u, 8 + plen);
    put16(u + 6, sum == 0 ? 0xffff : sum);
    if (netdev_transmit(app->nd, o, ETH_HLEN + total)) {
        app->c.echoed++;
    } else {
        app->c.tx_drops++;
    }
}

void udp_app_frame(struct netdev *nd, u8 *f, u32 len)
{
    struct udp_app *app = nd->app;
    const struct udp_config *cfg = app->cfg;
    if (len < ETH_HLEN) {
        app->c.bad++;
        return;
    }
    bool to_me = memcmp(f, nd->mac, 6) == 0;
    bool broadcast = f[0] == 0xff && f[1] == 0xff && f[2] == 0xff && f[3] == 0xff && f[4] == 0xff && f[5] == 0xff;
    if (!to_me && !broadcast) {
        app->c.other++;
        return;
    }
    u16 type = be16(f + 12);
    if (type == ETHERTYPE_ARP) {
        arp(app, f, len);
        return;
    }
    if (type != ETHERTYPE_IPV4) {
        app->c.other++;
        return;
    }
    const u8 *ip = f + ETH_HLEN;
    if (len < ETH_HLEN + 20 || (ip[0] & 0xf0) != 0x40) {
        app->c.bad++;
        return;
    }
    u32 ihl = (ip[0] & 0x0fu) * 4;
    u32 total = be16(ip + 2);
    if (ihl < 20 || total < ihl + 8 || ETH_HLEN + total > len) {
        app->c.bad++;
        return;
    }
    if (csum_fold(csum_add(0, ip, ihl)) != 0xffff) {
        app->c.bad++;  /* IPv4 header checksum */
        return;
    }
    if ((be16(ip + 6) & 0x3fff) != 0 || ip[9] != IPPROTO_UDP || be32(ip + 16) != cfg->ip) {
        app->c.other++;  /* a fragment, not UDP, or not to us */
        return;
    }
    const u8 *u = ip + ihl;
    u32 udp_len = be16(u + 4);
    if (udp_len < 8 || ihl + udp_len > total) {
        app->c.bad++;
        return;
    }
    if (be16(u + 6) != 0 && udp_sum(ip, u, udp_len) != 0xffff) {
        app->c.bad++;  /* UDP checksum (0: not computed by the sender) */
        return;
    }
    u16 dst_port = be16(u + 2);
    if (cfg->port != 0 && dst_port != cfg->port) {
        app->c.other++;
        return;
    }
    if (!app->gw_known) {
        /* It came through the gateway: its source MAC is the gateway's. */
        memcpy(app->gw_mac, f + 6, 6);
        app->gw_known = true;
    }
    const u8 *payload = u + 8;
    u32 plen = udp_len - 8;
    u32 src_ip = be32(ip + 12);
    u16 src_port = be16(u);
    app->c.datagrams++;
    app->c.bytes += plen;
    app->c.crc_sum += crc32_payload(payload, plen);
    if (cfg->iperf) {
        if (iperf_plausible(payload, plen)) {
            app->c.iperf++;
            sequence(app, src_ip, src_port, (s32)be32(payload));
        } else {
            app->c.non_iperf++;
        }
    }
    if (cfg->echo) {
        echo(app, f, src_ip, src_port, dst_port, payload, plen);
    }
    if (cfg->work_ticks > 0) {
        ndelay_ticks(cfg->work_ticks);
    }
    if (cfg->reset_after > 0 && app->c.datagrams == cfg->reset_after) {
        app->reset_due = true;
    }
}
