/*
 * GICv3 driver (Arm IHI 0069, GIC architecture v3/v4): distributor, redistributors, the CPU interface through the
 * ICC_* system registers, LPIs and the ITS. Everything is Group 1 (non-secure); the guests run at EL1 with one
 * security state, as on QEMU's virt board without secure=on.
 */
#ifndef GUEST_GIC_H
#define GUEST_GIC_H

#include "rt.h"

/* Distributor (GICD_*) offsets, IHI 0069 "The GIC Distributor register descriptions". */
#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_IIDR 0x0008
#define GICD_IGROUPR 0x0080
#define GICD_ISENABLER 0x0100
#define GICD_ICENABLER 0x0180
#define GICD_ISPENDR 0x0200
#define GICD_ICPENDR 0x0280
#define GICD_ISACTIVER 0x0300
#define GICD_ICACTIVER 0x0380
#define GICD_IPRIORITYR 0x0400
#define GICD_ICFGR 0x0c00
#define GICD_IGRPMODR 0x0d00
#define GICD_IROUTER 0x6000
#define GICD_PIDR2 0xffe8
#define GICD_CTLR_ENABLE_G1 BIT(1)
#define GICD_CTLR_ARE BIT(4)
#define GICD_CTLR_DS BIT(6)
#define GICD_CTLR_RWP BIT(31)
#define GICD_IROUTER_IRM BIT(31)

/* Redistributor RD_base frame (GICR_*), IHI 0069 "The GIC Redistributor register descriptions". */
#define GICR_CTLR 0x0000
#define GICR_IIDR 0x0004
#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_PROPBASER 0x0070
#define GICR_PENDBASER 0x0078
#define GICR_PIDR2 0xffe8
#define GICR_CTLR_ENABLE_LPIS BIT(0)
#define GICR_CTLR_RWP BIT(3)
#define GICR_TYPER_PLPIS BIT(0)
#define GICR_TYPER_VLPIS BIT(1)
#define GICR_TYPER_LAST BIT(4)
#define GICR_WAKER_PROCESSOR_SLEEP BIT(1)
#define GICR_WAKER_CHILDREN_ASLEEP BIT(2)
/* SGI_base frame, 64 KiB after RD_base: the SGI and PPI registers, at the distributor's offsets. */
#define GICR_SGI_BASE 0x10000

/* ITS registers (IHI 0069 "The ITS register descriptions"). */
#define GITS_CTLR 0x0000
#define GITS_IIDR 0x0004
#define GITS_TYPER 0x0008
#define GITS_CBASER 0x0080
#define GITS_CWRITER 0x0088
#define GITS_CREADR 0x0090
#define GITS_BASER 0x0100
#define GITS_PIDR2 0xffe8
#define GITS_TRANSLATER 0x10040
#define GITS_CTLR_ENABLED BIT(0)
#define GITS_CTLR_QUIESCENT BIT(31)

#define INTID_SPURIOUS 1023
#define LPI_BASE 8192
/* LPIs the runtime configures: INTIDs 8192 .. 8192 + LPI_COUNT - 1 (GICR_PROPBASER.IDbits = 13). */
#define LPI_ID_BITS 14
#define LPI_COUNT 8192

#define GIC_PRIO_DEFAULT 0xa0

typedef void (*irq_handler_t)(u32 intid, void *arg);

struct gic_info {
    u64 gicd;
    u64 gicr_base, gicr_size;
    u64 its[4];
    int nits;
    u32 typer;
    int max_intid;      /* highest SPI INTID (GICD_TYPER.ITLinesNumber) */
    bool lpis;          /* GICD_TYPER.LPIS */
};
extern struct gic_info gic;

/* Reads the GICv3 node, initialises the distributor and this CPU's redistributor and CPU interface, and installs
 * gic_handle_irq as the runtime's IRQ hook. Secondaries started later with cpu_start run gic_init_cpu. */
void gic_init(void);
bool gic_ready(void);
void gic_init_cpu(void);
/* RD_base of the redistributor whose GICR_TYPER affinity is mpidr, or 0. */
u64 gic_find_redist(u64 mpidr);

void gic_set_handler(u32 intid, irq_handler_t fn, void *arg);
void gic_enable(u32 intid);
void gic_disable(u32 intid);
void gic_set_priority(u32 intid, u8 prio);
/* Edge (true) or level-sensitive (false); SGIs are always edge. */
void gic_set_edge(u32 intid, bool edge);
/* Routes an SPI to the CPU with this MPIDR affinity, or with any = true to one of all participating CPUs. */
void gic_route(u32 intid, u64 mpidr, bool any);
void gic_set_pending(u32 intid);
void gic_clear_pending(u32 intid);
bool gic_is_pending(u32 intid);
bool gic_is_active(u32 intid);
void gic_clear_active(u32 intid);
/* SGI `intid` (0..15) to the CPUs in `mpidrs` (same Aff3.Aff2.Aff1, Aff0 < 16) or, with all_but_self, to every
 * other CPU (ICC_SGI1R_EL1.IRM). */
void gic_send_sgi(u32 intid, const u64 *mpidrs, int n, bool all_but_self);

/* The runtime's IRQ hook: acknowledges with ICC_IAR1_EL1, calls the handler, ends with ICC_EOIR1_EL1 (and
 * ICC_DIR_EL1 when ICC_CTLR_EL1.EOImode is 1), until ICC_IAR1_EL1 reads 1023. */
void gic_handle_irq(struct frame *f);
/* Per-CPU counts of interrupts taken / spurious acknowledges. */
u64 gic_irq_count(int cpu);

/* ---- LPIs ---- */
/* Allocates the shared LPI configuration table (all LPIs disabled, priority 0xa0). */
void gic_lpi_init(void);
/* This CPU's pending table and GICR_PROPBASER/PENDBASER, then GICR_CTLR.EnableLPIs. With `pending` non-NULL the
 * table is that memory (64 KiB aligned, PTZ = 0: bits already set are pending), else a fresh zeroed one (PTZ = 1). */
void gic_lpi_enable_cpu(void *pending);
/* Writes the configuration byte of an LPI (priority and enable); an ITS INV or INVALL makes it take effect. */
void gic_lpi_config(u32 intid, u8 prio, bool enable);
u8 *gic_lpi_config_table(void);

/* ---- ITS ---- */
struct its {
    u64 base;
    u64 typer;
    int devbits, evbits, ite_size;
    bool pta;           /* GITS_TYPER.PTA: RDbase is a physical address (else a processor number) */
    u8 *cmdq;
    u64 cmdq_size;
    u64 cwriter;
    u64 device_table, collection_table;
    int device_entry_size, collection_entry_size;
    u64 commands;       /* commands sent */
    spinlock_t lock;
};

/* ITS command opcodes (IHI 0069 "ITS commands"). */
#define ITS_MOVI 0x01
#define ITS_INT 0x03
#define ITS_CLEAR 0x04
#define ITS_SYNC 0x05
#define ITS_MAPD 0x08
#define ITS_MAPC 0x09
#define ITS_MAPTI 0x0a
#define ITS_MAPI 0x0b
#define ITS_INV 0x0c
#define ITS_INVALL 0x0d
#define ITS_MOVALL 0x0e
#define ITS_DISCARD 0x0f

/* Finds the tables (GITS_BASER<n> types Device and Collection), the command queue (`queue_pages` 4K pages) and
 * enables the ITS. Returns false (with a message) if it is not usable. */
bool its_init(struct its *its, u64 base, int queue_pages);
/* The ITS whose device tree node is `node` (by base address among gic.its[]), initialised on first use. */
struct its *its_for_node(int node);
/* RDbase field for a CPU: its redistributor's physical address or processor number, as GITS_TYPER.PTA says. */
u64 its_rdbase(struct its *its, int cpu);
/* Queues one command (four 64-bit words) and waits until the ITS has consumed it. Returns false on a timeout or
 * a stalled queue. */
bool its_cmd(struct its *its, const u64 cmd[4]);
bool its_mapd(struct its *its, u32 devid, int event_bits, bool valid);
bool its_mapc(struct its *its, u16 icid, int cpu, bool valid);
bool its_mapti(struct its *its, u32 devid, u32 event, u32 intid, u16 icid);
bool its_mapi(struct its *its, u32 devid, u32 event, u16 icid);
bool its_int(struct its *its, u32 devid, u32 event);
bool its_clear(struct its *its, u32 devid, u32 event);
bool its_inv(struct its *its, u32 devid, u32 event);
bool its_invall(struct its *its, u16 icid);
bool its_sync(struct its *its, int cpu);
bool its_discard(struct its *its, u32 devid, u32 event);
bool its_movi(struct its *its, u32 devid, u32 event, u16 icid);
bool its_movall(struct its *its, int from_cpu, int to_cpu);
/* An MSI as a device sends it: EventID written to GITS_TRANSLATER (the DeviceID comes from the bus). */
void its_translater_write(struct its *its, u32 event);

/*
 * The MSI set-up of a device with `events` EventIDs (0 .. events-1) on `its`: MAPD (enough event bits), MAPC of
 * collection `icid` to `cpu`, MAPTI EventID e -> LPI first_lpi + e, each LPI configured (priority, enabled) and
 * invalidated, then SYNC. This is what udp-sink/udp-echo do for a NIC with an msi-parent.
 */
bool its_map_device_events(struct its *its, u32 devid, int events, u32 first_lpi, u16 icid, int cpu, u8 prio);

#endif
