/*
 * The guests' network stack for one NIC and the application on it: Ethernet, ARP, IPv4 and UDP with every header
 * check and checksum, then udp-sink (count, follow iperf2 sequence numbers) or udp-echo (send each datagram back
 * to its sender). The same rules as the Java toy guest's UdpApplication, so both count the same datagrams alike.
 */
#ifndef NET_NETSTACK_H
#define NET_NETSTACK_H

#include "virtio.h"

#define MAX_FLOWS 16

struct udp_config {
    bool echo;
    bool iperf;             /* follow iperf2 sequence numbers (sequence=iperf, the default) */
    u32 ip, gateway;        /* host byte order */
    u16 port;               /* 0: any destination port */
    u64 work_ticks;         /* spin this long per datagram (work-per-frame) */
    u64 reset_after;        /* reset the NIC once after this many datagrams (0: never) */
};

struct flow {
    u32 ip;
    u16 port;
    bool used;
    u32 next;               /* next expected iperf id */
    u64 last;               /* datagram count when last seen (for replacement) */
};

struct udp_counters {
    u64 datagrams, bytes;   /* UDP datagrams to us that passed every check */
    u64 iperf, non_iperf;   /* of those, with a plausible iperf2 header / without */
    u64 lost, reordered, fins;
    u64 bad;                /* failed a header check or a checksum */
    u64 other;              /* not for us, not IPv4/UDP, ARP */
    u64 echoed, tx_drops;
    u64 crc_sum;            /* sum of the CRC-32 of every payload */
    u64 arp_replies;
};

struct udp_app {
    struct netdev *nd;
    const struct udp_config *cfg;
    u8 gw_mac[6];
    bool gw_known;
    bool reset_due;
    struct udp_counters c;
    struct flow flows[MAX_FLOWS];
    u8 out[1600];
};

void udp_app_init(struct udp_app *app, struct netdev *nd, const struct udp_config *cfg);
/* Broadcasts an ARP request for the gateway: it teaches the gateway our address and tells us its. */
void udp_app_resolve_gateway(struct udp_app *app);
/* The NIC's frame callback (netdev.on_frame; netdev.app is the udp_app). */
void udp_app_frame(struct netdev *nd, u8 *frame, u32 len);
u32 crc32_payload(const u8 *p, u32 n);

#endif
