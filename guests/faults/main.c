/*
 * faults: MMU faults at each level with their syndromes (Arm ARM, the AArch64 Virtual Memory System Architecture;
 * ESR_EL1 DFSC/IFSC encodings): translation, access flag and permission faults on tables, blocks and pages, a VA
 * outside the TTBR0 range, an external abort on a translation table walk, an address size fault, and PAR_EL1 after
 * AT for the same addresses. 4K granule with 39- and 48-bit VA, and the 64K granule.
 */
#include "rt.h"
#include "check.h"
#include "mmu.h"

#define TEST_VA 0x0000004000000000UL  /* 256 GiB: its own level 1 entry in a 39-bit space (no level 0) */

static u64 hole(void)
{
    return ram_base() + ram_size() + 0x100000;  /* physical addresses with nothing behind them */
}

struct fault_case {
    const char *what;
    bool write, exec;
    u64 va;
    u32 fsc;  /* expected DFSC/IFSC */
};

static void run_case(const struct fault_case *c)
{
    trap_arm(RESUME_LR);
    trap_x0 = 0xdead;
    if (c->exec) {
        probe_exec(c->va);
    } else if (c->write) {
        probe_store64(c->va, 1);
    } else {
        probe_load64(c->va);
    }
    u64 esr = last_trap.esr;
    u32 fsc = (u32)(esr & 0x3f);
    u32 ec = (u32)ESR_EC(esr);
    if (last_trap.count == 0) {
        check(c->fsc == 0xff, "%s: no fault", c->what);
        trap_disarm();
        return;
    }
    printf("  %s: ESR 0x%08lx (EC 0x%02x, %s 0x%02x, WnR %lu), FAR %s\n", c->what, esr, ec, c->exec ? "IFSC" : "DFSC",
           fsc, c->exec ? 0 : FIELD(esr, 6, 6), last_trap.far == c->va ? "= VA" : "!= VA");
    bool ok = last_trap.count == 1 && ec == (c->exec ? EC_IABT_CUR : EC_DABT_CUR) && fsc == c->fsc
              && last_trap.far == c->va && (c->exec || FIELD(esr, 6, 6) == (u64)c->write);
    check(ok, "%s: FSC 0x%02x", c->what, c->fsc);
    trap_disarm();
    if (!c->exec) {
        /* The same translation by AT: PAR_EL1.F and FST. */
        u64 par;
        trap_arm(RESUME_NEXT);
        if (c->write) {
            __asm__ volatile("at s1e1w, %0" : : "r"(c->va) : "memory");
        } else {
            __asm__ volatile("at s1e1r, %0" : : "r"(c->va) : "memory");
        }
        isb();
        par = read_sysreg(par_el1);
        trap_disarm();
        if (last_trap.count > 0) {
            /* A synchronous external abort on the walk of an AT instruction is taken as a Data Abort with
             * ESR_EL1.CM = 1 rather than reported in PAR_EL1 (QEMU does so; the Arm ARM allows it). */
            printf("  AT S1E1%c: data abort, ESR 0x%08lx\n", c->write ? 'W' : 'R', last_trap.esr);
            check(ESR_EC(last_trap.esr) == EC_DABT_CUR && (last_trap.esr & BIT(8)) != 0
                  && (last_trap.esr & 0x3f) == fsc, "  AT S1E1%c: synchronous external abort taken, CM = 1",
                  c->write ? 'W' : 'R');
        } else {
            check((par & 1) == 1 && FIELD(par, 6, 1) == fsc, "  AT S1E1%c: PAR_EL1.F = 1, FST 0x%02lx",
                  c->write ? 'W' : 'R', FIELD(par, 6, 1));
        }
    }
}

/* A page-sized RET for instruction fetch tests. */
static u64 code_page(u64 page)
{
    u32 *p = rt_alloc(page, page);
    p[0] = 0xd65f03c0;
    __asm__ volatile("dc cvau, %0\n dsb ish\n ic ivau, %0\n dsb ish\n isb" : : "r"(p) : "memory");
    return (u64)p;
}

static void test_4k(void)
{
    printf("4K granule, 39-bit VA (levels 1..3)\n");
    struct mmu m;
    mmu_init(&m, 12, 39);
    mmu_map_identity(&m);
    u64 data = (u64)rt_alloc(0x400000, 0x200000);  /* 4 MiB of RAM, 2 MiB aligned */
    u64 code = code_page(0x1000);
    /* Level 1 entry TEST_VA: a table; in it, 2 MiB blocks and a level 3 table, each with one defect. */
    u64 blk = TEST_VA, blk_ro = TEST_VA + 0x200000, blk_noaf = TEST_VA + 0x400000;
    u64 pages = TEST_VA + 0x600000;
    mmu_map(&m, blk, data, 0x200000, PROT_NORMAL_XN);
    mmu_map(&m, blk_ro, data, 0x200000, PROT_NORMAL_XN | PTE_AP_RO);
    mmu_map(&m, blk_noaf, data, 0x200000, PROT_NORMAL_XN & ~PTE_AF);
    mmu_map(&m, pages, data, 0x1000, PROT_NORMAL_XN);
    mmu_map(&m, pages + 0x1000, data, 0x1000, PROT_NORMAL_XN | PTE_AP_RO);
    mmu_map(&m, pages + 0x2000, data, 0x1000, PROT_NORMAL_XN & ~PTE_AF);
    mmu_map(&m, pages + 0x3000, code, 0x1000, PROT_NORMAL | PTE_AP_RO);
    mmu_map(&m, pages + 0x4000, code, 0x1000, (PROT_NORMAL | PTE_AP_RO) | PTE_PXN);
    /* pages + 0x5000: invalid level 3 entry. */
    /* A 1 GiB block without the access flag, and one read-only. */
    u64 gb_noaf = TEST_VA + 0x40000000, gb_ro = TEST_VA + 0x80000000;
    mmu_map(&m, gb_noaf, ram_base(), 0x40000000, PROT_NORMAL_XN & ~PTE_AF);
    mmu_map(&m, gb_ro, ram_base(), 0x40000000, PROT_NORMAL_XN | PTE_AP_RO);
    /* A level 2 table descriptor whose level 3 table lies where no memory is: external abort on the walk. */
    u64 walk_ea = TEST_VA + 0x800000;
    int lvl;
    u64 *l2 = mmu_table(&m, walk_ea, 1);
    l2[(walk_ea >> 21) & 511] = hole() | 3;
    /* A level 2 table descriptor with an output address above the 44-bit physical range (IPS): address size fault. */
    u64 addr_size = TEST_VA + 0xa00000;
    l2[(addr_size >> 21) & 511] = (1UL << 46) | 3;
    (void)lvl;
    mmu_enable(&m, NULL);

    const struct fault_case cases[] = {
        { "read, mapped 2 MiB block", false, false, blk + 8, 0xff },
        { "read, unmapped level 1 entry", false, false, TEST_VA + 0x100000000UL, 0x05 },
        { "read, unmapped level 2 entry", false, false, TEST_VA + 0x3fe00000, 0x06 },
        { "read, unmapped level 3 entry", false, false, pages + 0x5000, 0x07 },
        { "read, 1 GiB block without AF", false, false, gb_noaf + 0x10, 0x09 },
        { "read, 2 MiB block without AF", false, false, blk_noaf + 0x10, 0x0a },
        { "read, 4K page without AF", false, false, pages + 0x2010, 0x0b },
        { "write, read-only 1 GiB block", true, false, gb_ro + 0x20, 0x0d },
        { "write, read-only 2 MiB block", true, false, blk_ro + 0x20, 0x0e },
        { "write, read-only 4K page", true, false, pages + 0x1020, 0x0f },
        { "write, 4K page without AF", true, false, pages + 0x2018, 0x0b },
        { "read, VA above the 39-bit TTBR0 range", false, false, 1UL << 40, 0x04 },
        { "read, VA in the TTBR1 range with EPD1 = 1", false, false, 0xffffff8000001000UL, 0x04 },
        { "read, external abort on the level 3 table walk", false, false, walk_ea, 0x17 },
        { "read, table address beyond the PA range", false, false, addr_size, 0x02 },
        { "exec, read-only page", false, true, pages + 0x3000, 0xff },
        { "exec, PXN page", false, true, pages + 0x4000, 0x0f },
        { "exec, unmapped level 3 entry", false, true, pages + 0x5000, 0x07 },
        { "exec, XN block", false, true, blk, 0x0e },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        run_case(&cases[i]);
    }

    /* Set the access flag in software and retry: the access succeeds (no hardware AF update in ARMv8.0). */
    u64 *pte = mmu_pte(&m, pages + 0x2000, &lvl);
    *pte |= PTE_AF;
    tlb_flush_va(pages + 0x2000);
    trap_arm(RESUME_LR);
    probe_load64(pages + 0x2010);
    check(last_trap.count == 0, "after setting AF and TLBI, the access succeeds");
    trap_disarm();
    mmu_disable();
}

static void test_4k_48(void)
{
    printf("4K granule, 48-bit VA (levels 0..3)\n");
    struct mmu m;
    mmu_init(&m, 12, 48);
    mmu_map_identity(&m);
    printf("  start level %d\n", m.start_level);
    mmu_enable(&m, NULL);
    const struct fault_case cases[] = {
        { "read, unmapped level 0 entry", false, false, 0x0000800000000000UL - 0x1000, 0x04 },
        { "read, unmapped level 1 entry", false, false, 0x0000000800000000UL, 0x05 },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        run_case(&cases[i]);
    }
    mmu_disable();
}

static void test_64k(void)
{
    printf("64K granule, 42-bit VA (levels 2..3)\n");
    if (!mmu_granule_supported(16)) {
        printf("  not implemented\n");
        return;
    }
    struct mmu m;
    mmu_init(&m, 16, 42);
    mmu_map_identity(&m);
    u64 data = (u64)rt_alloc(0x20000, 0x10000);
    u64 base = 0x0000010000000000UL;  /* 1 TiB: inside 42 bits, its own level 2 entry */
    mmu_map(&m, base, data, 0x10000, PROT_NORMAL_XN);
    mmu_map(&m, base + 0x10000, data, 0x10000, PROT_NORMAL_XN | PTE_AP_RO);
    mmu_map(&m, base + 0x20000, data, 0x10000, PROT_NORMAL_XN & ~PTE_AF);
    mmu_enable(&m, NULL);
    const struct fault_case cases[] = {
        { "read, mapped 64K page", false, false, base + 0x100, 0xff },
        { "read, unmapped level 2 entry", false, false, base + 0x20000000, 0x06 },
        { "read, unmapped level 3 entry", false, false, base + 0x30000, 0x07 },
        { "write, read-only 64K page", true, false, base + 0x10008, 0x0f },
        { "read, 64K page without AF", false, false, base + 0x20008, 0x0b },
        { "read, VA above the 42-bit TTBR0 range", false, false, 1UL << 42, 0x04 },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        run_case(&cases[i]);
    }
    mmu_disable();
}

int main(void)
{
    printf("faults: MMU faults and their syndromes\n");
    test_4k();
    test_4k_48();
    test_64k();
    return check_summary("faults");
}
