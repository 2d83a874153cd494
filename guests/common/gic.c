/* GICv3 distributor, redistributors, CPU interface and LPI tables (IHI 0069). The ITS is in its.c. */
#include "gic.h"
#include "fdt.h"
#include "timer.h"

#define LPI_HANDLERS 1024

struct gic_info gic;
static volatile bool ready;
static u64 gicr_regions[4][2];
static int ngicr_regions;
static struct { irq_handler_t fn; void *arg; } handlers[1020], lpi_handlers[LPI_HANDLERS];
static u64 irq_counts[MAX_CPUS];
static u8 *lpi_config;
static u64 propbaser;

static void wait_rwp(u64 reg, u32 bit)
{
    u64 start = timer_now(), limit = ns_to_ticks(1000000000);
    while ((mmio_read32(reg) & bit) != 0) {
        if (timer_now() - start > limit) {
            panic("GIC: RWP stuck at 0x%lx", reg);
        }
        cpu_relax();
    }
}

static void find_gic(void)
{
    int node = fdt_find_compatible(-1, "arm,gic-v3");
    u64 size;
    if (node < 0 || !fdt_reg(node, 0, &gic.gicd, &size)) {
        panic("no GICv3 in the device tree");
    }
    u32 regions = fdt_prop_u32(node, "#redistributor-regions", 1);
    for (u32 i = 0; i < regions && i < ARRAY_SIZE(gicr_regions); i++) {
        if (fdt_reg(node, (int)(i + 1), &gicr_regions[i][0], &gicr_regions[i][1])) {
            ngicr_regions++;
        }
    }
    gic.gicr_base = gicr_regions[0][0];
    gic.gicr_size = gicr_regions[0][1];
    for (int c = fdt_first_child(node); c >= 0 && gic.nits < (int)ARRAY_SIZE(gic.its); c = fdt_next_sibling(c)) {
        u64 base;
        if (fdt_is_compatible(c, "arm,gic-v3-its") && fdt_reg(c, 0, &base, &size)) {
            gic.its[gic.nits++] = base;
        }
    }
}

u64 gic_find_redist(u64 mpidr)
{
    u64 aff = (mpidr & 0xffffff) | ((mpidr >> 8) & 0xff000000);  /* Aff3.Aff2.Aff1.Aff0 as in GICR_TYPER[63:32] */
    for (int r = 0; r < ngicr_regions; r++) {
        u64 end = gicr_regions[r][0] + gicr_regions[r][1];
        for (u64 rd = gicr_regions[r][0]; rd < end;) {
            u64 typer = mmio_read64(rd + GICR_TYPER);
            if ((typer >> 32) == aff) {
                return rd;
            }
            if ((typer & GICR_TYPER_LAST) != 0) {
                break;
            }
            /* Two 64 KiB frames per redistributor; four with GICv4 virtual LPIs. */
            rd += (typer & GICR_TYPER_VLPIS) != 0 ? 0x40000 : 0x20000;
        }
    }
    return 0;
}

void gic_init(void)
{
    find_gic();
    u64 d = gic.gicd;
    gic.typer = mmio_read32(d + GICD_TYPER);
    gic.max_intid = (int)(32 * (FIELD(gic.typer, 4, 0) + 1) - 1);
    if (gic.max_intid > 1019) {
        gic.max_intid = 1019;
    }
    gic.lpis = (gic.typer & BIT(17)) != 0;
    mmio_write32(d + GICD_CTLR, 0);
    wait_rwp(d + GICD_CTLR, GICD_CTLR_RWP);
    /* Every SPI: disabled, not pending, Group 1, level-sensitive, default priority, routed to this CPU. */
    u64 me = mpidr_affinity(read_sysreg(mpidr_el1));
    for (int i = 32; i <= gic.max_intid; i += 32) {
        mmio_write32(d + GICD_ICENABLER + (u64)i / 8, 0xffffffff);
        mmio_write32(d + GICD_ICPENDR + (u64)i / 8, 0xffffffff);
        mmio_write32(d + GICD_ICACTIVER + (u64)i / 8, 0xffffffff);
        mmio_write32(d + GICD_IGROUPR + (u64)i / 8, 0xffffffff);
        mmio_write32(d + GICD_IGRPMODR + (u64)i / 8, 0);
    }
    for (int i = 32; i <= gic.max_intid; i += 16) {
        mmio_write32(d + GICD_ICFGR + (u64)i / 4, 0);
    }
    for (int i = 32; i <= gic.max_intid; i++) {
        mmio_write8(d + GICD_IPRIORITYR + (u64)i, GIC_PRIO_DEFAULT);
        mmio_write64(d + GICD_IROUTER + 8 * (u64)i, me);
    }
    wait_rwp(d + GICD_CTLR, GICD_CTLR_RWP);
    mmio_write32(d + GICD_CTLR, GICD_CTLR_ARE | GICD_CTLR_ENABLE_G1);
    wait_rwp(d + GICD_CTLR, GICD_CTLR_RWP);
    rt_set_irq_hook(gic_handle_irq);
    gic_init_cpu();
    dsb(ish);
    ready = true;
}

bool gic_ready(void)
{
    return ready;
}

void gic_init_cpu(void)
{
    struct cpu *c = this_cpu();
    u64 rd = gic_find_redist(read_sysreg(mpidr_el1));
    if (rd == 0) {
        panic("no redistributor for MPIDR 0x%lx", read_sysreg(mpidr_el1));
    }
    c->gicr = rd;
    /* Wake the redistributor (IHI 0069, "Power management": GICR_WAKER). */
    mmio_write32(rd + GICR_WAKER, mmio_read32(rd + GICR_WAKER) & ~GICR_WAKER_PROCESSOR_SLEEP);
    u64 start = timer_now();
    while ((mmio_read32(rd + GICR_WAKER) & GICR_WAKER_CHILDREN_ASLEEP) != 0) {
        if (timer_now() - start > ns_to_ticks(1000000000)) {
            panic("GICR_WAKER.ChildrenAsleep stays set");
        }
        cpu_relax();
    }
    u64 sgi = rd + GICR_SGI_BASE;
    mmio_write32(sgi + GICD_ICENABLER, 0xffffffff);
    wait_rwp(rd + GICR_CTLR, GICR_CTLR_RWP);
    mmio_write32(sgi + GICD_ICPENDR, 0xffffffff);
    mmio_write32(sgi + GICD_ICACTIVER, 0xffffffff);
    mmio_write32(sgi + GICD_IGROUPR, 0xffffffff);
    mmio_write32(sgi + GICD_IGRPMODR, 0);
    mmio_write32(sgi + GICD_ICFGR + 4, 0);  /* PPIs level-sensitive */
    for (int i = 0; i < 32; i++) {
        mmio_write8(sgi + GICD_IPRIORITYR + (u64)i, GIC_PRIO_DEFAULT);
    }
    /* CPU interface (IHI 0069, the CPU interface system registers): no priority masking, no sub-priority, EOImode 0. */
    write_sysreg(icc_sre_el1, read_sysreg(icc_sre_el1) | 7);
    isb();
    write_sysreg(icc_pmr_el1, 0xff);
    write_sysreg(icc_bpr1_el1, 0);
    write_sysreg(icc_ctlr_el1, 0);
    write_sysreg(icc_igrpen1_el1, 1);
    isb();
}

static u64 reg_base(u32 intid)
{
    return intid < 32 ? this_cpu()->gicr + GICR_SGI_BASE : gic.gicd;
}

void gic_set_handler(u32 intid, irq_handler_t fn, void *arg)
{
    if (intid < 1020) {
        handlers[intid].arg = arg;
        handlers[intid].fn = fn;
    } else if (intid >= LPI_BASE && intid < LPI_BASE + LPI_HANDLERS) {
        lpi_handlers[intid - LPI_BASE].arg = arg;
        lpi_handlers[intid - LPI_BASE].fn = fn;
    }
    dsb(ish);
}

static void bit_write(u64 base, u32 reg, u32 intid)
{
    mmio_write32(base + reg + (intid / 32) * 4, 1u << (intid % 32));
}

static bool bit_read(u64 base, u32 reg, u32 intid)
{
    return (mmio_read32(base + reg + (intid / 32) * 4) & (1u << (intid % 32))) != 0;
}

void gic_enable(u32 intid)
{
    bit_write(reg_base(intid), GICD_ISENABLER, intid);
}

void gic_disable(u32 intid)
{
    bit_write(reg_base(intid), GICD_ICENABLER, intid);
    if (intid < 32) {
        wait_rwp(this_cpu()->gicr + GICR_CTLR, GICR_CTLR_RWP);
    } else {
        wait_rwp(gic.gicd + GICD_CTLR, GICD_CTLR_RWP);
    }
}

void gic_set_priority(u32 intid, u8 prio)
{
    mmio_write8(reg_base(intid) + GICD_IPRIORITYR + intid, prio);
}

void gic_set_edge(u32 intid, bool edge)
{
    if (intid < 16) {
        return;
    }
    u64 reg = reg_base(intid) + GICD_ICFGR + (intid / 16) * 4;
    u32 shift = (intid % 16) * 2 + 1;
    u32 v = mmio_read32(reg);
    mmio_write32(reg, edge ? v | (1u << shift) : v & ~(1u << shift));
}

void gic_route(u32 intid, u64 mpidr, bool any)
{
    if (intid >= 32) {
        u64 aff = mpidr_affinity(mpidr);
        mmio_write64(gic.gicd + GICD_IROUTER + 8 * (u64)intid, any ? GICD_IROUTER_IRM : aff);
    }
}

void gic_set_pending(u32 intid)
{
    bit_write(reg_base(intid), GICD_ISPENDR, intid);
}

void gic_clear_pending(u32 intid)
{
    bit_write(reg_base(intid), GICD_ICPENDR, intid);
}

bool gic_is_pending(u32 intid)
{
    return bit_read(reg_base(intid), GICD_ISPENDR, intid);
}

bool gic_is_active(u32 intid)
{
    return bit_read(reg_base(intid), GICD_ISACTIVER, intid);
}

void gic_clear_active(u32 intid)
{
    bit_write(reg_base(intid), GICD_ICACTIVER, intid);
}

void gic_send_sgi(u32 intid, const u64 *mpidrs, int n, bool all_but_self)
{
    dsb(ishst);  /* memory written before the SGI is visible to its handler */
    if (all_but_self) {
        write_sysreg(icc_sgi1r_el1, (u64)intid << 24 | BIT(40));
        isb();
        return;
    }
    /* ICC_SGI1R_EL1 (IHI 0069): one write per Aff3.Aff2.Aff1 cluster and range of 16 Aff0 values. */
    bool done[MAX_CPUS] = { false };
    for (int i = 0; i < n && i < MAX_CPUS; i++) {
        if (done[i]) {
            continue;
        }
        u64 cluster = mpidrs[i] & 0xff00ffff00UL;
        u64 rs = (mpidrs[i] & 0xff) / 16;
        u64 list = 0;
        for (int j = i; j < n && j < MAX_CPUS; j++) {
            if ((mpidrs[j] & 0xff00ffff00UL) == cluster && (mpidrs[j] & 0xff) / 16 == rs) {
                list |= 1UL << (mpidrs[j] & 0xf);
                done[j] = true;
            }
        }
        u64 v = list | FIELD(cluster, 15, 8) << 16 | (u64)intid << 24 | FIELD(cluster, 23, 16) << 32
                | rs << 44 | FIELD(cluster, 39, 32) << 48;
        write_sysreg(icc_sgi1r_el1, v);
    }
    isb();
}

void gic_handle_irq(struct frame *f)
{
    (void)f;
    int cpu = this_cpu()->index;
    for (;;) {
        u32 intid = (u32)read_sysreg(icc_iar1_el1) & 0xffffff;
        if (intid >= 1020 && intid < LPI_BASE) {
            break;  /* 1023: nothing pending (1020..1022 do not occur for Group 1 at EL1) */
        }
        irq_counts[cpu]++;
        irq_handler_t fn = NULL;
        void *arg = NULL;
        if (intid < 1020) {
            fn = handlers[intid].fn;
            arg = handlers[intid].arg;
        } else if (intid - LPI_BASE < LPI_HANDLERS) {
            fn = lpi_handlers[intid - LPI_BASE].fn;
            arg = lpi_handlers[intid - LPI_BASE].arg;
        }
        if (fn == NULL) {
            panic("cpu %d: interrupt %u without a handler", cpu, intid);
        }
        fn(intid, arg);
        write_sysreg(icc_eoir1_el1, intid);
        if ((read_sysreg(icc_ctlr_el1) & BIT(1)) != 0 && intid < LPI_BASE) {
            write_sysreg(icc_dir_el1, intid);  /* EOImode 1: EOIR dropped the priority, DIR deactivates */
        }
        isb();
    }
}

u64 gic_irq_count(int cpu)
{
    return irq_counts[cpu];
}

/* ---- LPIs (IHI 0069, "LPIs") ---- */

void gic_lpi_init(void)
{
    if (lpi_config != NULL) {
        return;
    }
    lpi_config = rt_alloc(LPI_COUNT, 0x10000);
    for (int i = 0; i < LPI_COUNT; i++) {
        lpi_config[i] = GIC_PRIO_DEFAULT | BIT(1);  /* bit 1 is RES1 in the configuration byte */
    }
    dsb(ishst);
    int idbits = LPI_ID_BITS;
    int max = (int)FIELD(gic.typer, 23, 19) + 1;
    if (idbits > max) {
        panic("GICD_TYPER.IDbits %d: no room for LPIs", max);
    }
    /* PROPBASER: PA, IDbits - 1, inner shareable, inner write-back (as Linux's its_cpu_init_lpis). */
    propbaser = (u64)lpi_config | (u64)(idbits - 1) | 7UL << 7 | 1UL << 10;
}

u8 *gic_lpi_config_table(void)
{
    return lpi_config;
}

void gic_lpi_enable_cpu(void *pending)
{
    u64 rd = this_cpu()->gicr;
    if ((mmio_read64(rd + GICR_TYPER) & GICR_TYPER_PLPIS) == 0) {
        panic("redistributor without physical LPIs");
    }
    gic_lpi_init();
    bool ptz = pending == NULL;
    if (ptz) {
        pending = rt_alloc((1UL << LPI_ID_BITS) / 8, 0x10000);
    }
    dsb(ishst);
    mmio_write64(rd + GICR_PROPBASER, propbaser);
    mmio_write64(rd + GICR_PENDBASER, (u64)pending | (ptz ? BIT(62) : 0) | 7UL << 7 | 1UL << 10);
    mmio_write32(rd + GICR_CTLR, mmio_read32(rd + GICR_CTLR) | GICR_CTLR_ENABLE_LPIS);
    dsb(sy);
    isb();
}

void gic_lpi_config(u32 intid, u8 prio, bool enable)
{
    if (intid < LPI_BASE || intid >= LPI_BASE + LPI_COUNT) {
        panic("LPI %u out of range", intid);
    }
    lpi_config[intid - LPI_BASE] = (u8)((prio & 0xfc) | BIT(1) | (enable ? 1 : 0));
    dsb(ishst);
}
