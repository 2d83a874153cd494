/* The GICv3 ITS (IHI 0069 chapter 5 and 12.19): tables, command queue and the commands. */
#include "gic.h"
#include "fdt.h"
#include "timer.h"

#define BASER_TYPE(v) FIELD(v, 58, 56)
#define BASER_ENTRY_SIZE(v) (FIELD(v, 52, 48) + 1)
#define BASER_TYPE_DEVICE 1
#define BASER_TYPE_COLLECTION 4
#define BASER_VALID BIT(63)
/* Inner write-back read/write-allocate, inner shareable: the attributes Linux asks for (its_setup_baser). */
#define ITS_MEM_ATTRS (7UL << 59 | 1UL << 10)

static struct its its_list[4];

static u64 baser_setup(struct its *its, int n, u64 entries, int *entry_size)
{
    u64 reg = its->base + GITS_BASER + 8 * (u64)n;
    u64 v = mmio_read64(reg);
    u64 esz = BASER_ENTRY_SIZE(v);
    u64 bytes = ALIGN_UP(entries * esz, 0x1000);
    /* Page_Size 4K when the table fits in 256 pages (Size is 8 bits), else 64K; use what the ITS accepts. */
    u64 page = bytes <= 256 * 0x1000 ? 0x1000 : 0x10000;
    for (int attempt = 0; attempt < 3; attempt++) {
        u64 psz = page == 0x1000 ? 0 : page == 0x4000 ? 1 : 2;
        bytes = ALIGN_UP(entries * esz, page);
        if (bytes / page > 256) {
            bytes = 256 * page;
        }
        u64 pa = (u64)rt_alloc(bytes, page);
        u64 want = BASER_VALID | ITS_MEM_ATTRS | (pa & 0x0000fffffffff000UL) | psz << 8 | (bytes / page - 1);
        mmio_write64(reg, want);
        u64 got = mmio_read64(reg);
        if (FIELD(got, 9, 8) == psz) {
            *entry_size = (int)esz;
            return pa;
        }
        page = FIELD(got, 9, 8) == 0 ? 0x1000 : FIELD(got, 9, 8) == 1 ? 0x4000 : 0x10000;
    }
    printf("ITS: GITS_BASER%d does not keep a page size\n", n);
    return 0;
}

bool its_init(struct its *its, u64 base, int queue_pages)
{
    memset(its, 0, sizeof *its);
    its->base = base;
    its->typer = mmio_read64(base + GITS_TYPER);
    its->ite_size = (int)FIELD(its->typer, 7, 4) + 1;
    its->evbits = (int)FIELD(its->typer, 12, 8) + 1;
    its->devbits = (int)FIELD(its->typer, 17, 13) + 1;
    its->pta = (its->typer & BIT(19)) != 0;
    if ((its->typer & BIT(0)) == 0) {
        printf("ITS at 0x%lx: no physical LPIs (GITS_TYPER.Physical = 0)\n", base);
        return false;
    }
    /* The tables and the command queue can only be set up while the ITS is disabled and quiescent. */
    if ((mmio_read32(base + GITS_CTLR) & GITS_CTLR_ENABLED) != 0) {
        mmio_write32(base + GITS_CTLR, 0);
    }
    u64 start = timer_now();
    while ((mmio_read32(base + GITS_CTLR) & GITS_CTLR_QUIESCENT) == 0) {
        if (timer_now() - start > ns_to_ticks(1000000000)) {
            printf("ITS at 0x%lx: never quiescent\n", base);
            return false;
        }
    }
    for (int n = 0; n < 8; n++) {
        u64 v = mmio_read64(base + GITS_BASER + 8 * (u64)n);
        if (BASER_TYPE(v) == BASER_TYPE_DEVICE) {
            int bits = its->devbits > 16 ? 16 : its->devbits;
            its->device_table = baser_setup(its, n, 1UL << bits, &its->device_entry_size);
        } else if (BASER_TYPE(v) == BASER_TYPE_COLLECTION) {
            /* 16-bit ICIDs unless GITS_TYPER.CIL says fewer; the guests use a handful, one page is plenty. */
            its->collection_table = baser_setup(its, n, 0x1000 / BASER_ENTRY_SIZE(v), &its->collection_entry_size);
        }
    }
    if (its->device_table == 0 || its->collection_table == 0) {
        printf("ITS at 0x%lx: no device or collection table\n", base);
        return false;
    }
    its->cmdq_size = (u64)queue_pages * 0x1000;
    its->cmdq = rt_alloc(its->cmdq_size, 0x10000);
    mmio_write64(base + GITS_CBASER, BASER_VALID | ITS_MEM_ATTRS | (u64)its->cmdq | (u64)(queue_pages - 1));
    mmio_write64(base + GITS_CWRITER, 0);
    its->cwriter = 0;
    mmio_write32(base + GITS_CTLR, mmio_read32(base + GITS_CTLR) | GITS_CTLR_ENABLED);
    return true;
}

struct its *its_for_node(int node)
{
    u64 base, size;
    if (!fdt_reg(node, 0, &base, &size)) {
        return NULL;
    }
    for (int i = 0; i < (int)ARRAY_SIZE(its_list); i++) {
        if (its_list[i].base == base) {
            return &its_list[i];
        }
        if (its_list[i].base == 0) {
            return its_init(&its_list[i], base, 1) ? &its_list[i] : NULL;
        }
    }
    return NULL;
}

u64 its_rdbase(struct its *its, int cpu)
{
    u64 rd = cpus[cpu].gicr != 0 ? cpus[cpu].gicr : gic_find_redist(cpus[cpu].mpidr);
    if (its->pta) {
        return rd >> 16;
    }
    return FIELD(mmio_read64(rd + GICR_TYPER), 23, 8);  /* Processor_Number */
}

bool its_cmd(struct its *its, const u64 cmd[4])
{
    spin_lock(&its->lock);
    u64 *slot = (u64 *)(its->cmdq + its->cwriter);
    for (int i = 0; i < 4; i++) {
        slot[i] = cmd[i];
    }
    its->cwriter = (its->cwriter + 32) % its->cmdq_size;
    its->commands++;
    dsb(ishst);  /* the command is in memory before the ITS sees CWRITER move */
    mmio_write64(its->base + GITS_CWRITER, its->cwriter);
    u64 start = timer_now(), limit = ns_to_ticks(1000000000);
    bool ok = true;
    for (;;) {
        u64 creadr = mmio_read64(its->base + GITS_CREADR);
        if ((creadr & 1) != 0) {
            printf("ITS: command queue stalled at 0x%lx (opcode 0x%02lx)\n", creadr & ~1UL, cmd[0] & 0xff);
            ok = false;
            break;
        }
        if ((creadr & 0xfffe0) == its->cwriter) {
            break;
        }
        if (timer_now() - start > limit) {
            printf("ITS: command 0x%02lx not consumed (CREADR 0x%lx CWRITER 0x%lx)\n", cmd[0] & 0xff, creadr,
                   its->cwriter);
            ok = false;
            break;
        }
        cpu_relax();
    }
    spin_unlock(&its->lock);
    return ok;
}

static bool cmd4(struct its *its, u64 op, u32 devid, u64 dw1, u64 dw2, u64 dw3)
{
    u64 c[4] = { op | (u64)devid << 32, dw1, dw2, dw3 };
    return its_cmd(its, c);
}

bool its_mapd(struct its *its, u32 devid, int event_bits, bool valid)
{
    u64 itt = 0;
    if (valid) {
        u64 bytes = ((u64)its->ite_size << event_bits);
        itt = (u64)rt_alloc(bytes < 256 ? 256 : bytes, 256);
    }
    return cmd4(its, ITS_MAPD, devid, (u64)(event_bits - 1) & 0x1f, (valid ? BIT(63) : 0) | (itt & 0xfffffffffff00UL),
                0);
}

bool its_mapc(struct its *its, u16 icid, int cpu, bool valid)
{
    return cmd4(its, ITS_MAPC, 0, 0, (valid ? BIT(63) : 0) | its_rdbase(its, cpu) << 16 | icid, 0);
}

bool its_mapti(struct its *its, u32 devid, u32 event, u32 intid, u16 icid)
{
    return cmd4(its, ITS_MAPTI, devid, event | (u64)intid << 32, icid, 0);
}

bool its_mapi(struct its *its, u32 devid, u32 event, u16 icid)
{
    return cmd4(its, ITS_MAPI, devid, event, icid, 0);
}

bool its_int(struct its *its, u32 devid, u32 event)
{
    return cmd4(its, ITS_INT, devid, event, 0, 0);
}

bool its_clear(struct its *its, u32 devid, u32 event)
{
    return cmd4(its, ITS_CLEAR, devid, event, 0, 0);
}

bool its_inv(struct its *its, u32 devid, u32 event)
{
    return cmd4(its, ITS_INV, devid, event, 0, 0);
}

bool its_invall(struct its *its, u16 icid)
{
    return cmd4(its, ITS_INVALL, 0, 0, icid, 0);
}

bool its_sync(struct its *its, int cpu)
{
    return cmd4(its, ITS_SYNC, 0, 0, its_rdbase(its, cpu) << 16, 0);
}

bool its_discard(struct its *its, u32 devid, u32 event)
{
    return cmd4(its, ITS_DISCARD, devid, event, 0, 0);
}

bool its_movi(struct its *its, u32 devid, u32 event, u16 icid)
{
    return cmd4(its, ITS_MOVI, devid, event, icid, 0);
}

bool its_movall(struct its *its, int from_cpu, int to_cpu)
{
    return cmd4(its, ITS_MOVALL, 0, 0, its_rdbase(its, from_cpu) << 16, its_rdbase(its, to_cpu) << 16);
}

void its_translater_write(struct its *its, u32 event)
{
    dsb(ishst);
    mmio_write32(its->base + GITS_TRANSLATER, event);
}

bool its_map_device_events(struct its *its, u32 devid, int events, u32 first_lpi, u16 icid, int cpu, u8 prio)
{
    int bits = 1;
    while ((1 << bits) < events) {
        bits++;
    }
    bool ok = its_mapd(its, devid, bits, true) && its_mapc(its, icid, cpu, true);
    for (int e = 0; ok && e < events; e++) {
        gic_lpi_config(first_lpi + (u32)e, prio, true);
        ok = its_mapti(its, devid, (u32)e, first_lpi + (u32)e, icid) && its_inv(its, devid, (u32)e);
    }
    return ok && its_sync(its, cpu);
}
