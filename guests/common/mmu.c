#include "rt.h"
#include "mmu.h"

static struct mmu *active0, *active1;
static u64 active_tcr;

bool mmu_granule_supported(int shift)
{
    u64 mmfr0 = read_sysreg(id_aa64mmfr0_el1);
    switch (shift) {
    case 12: return FIELD(mmfr0, 31, 28) != 0xf;    /* TGran4: 0xf not implemented */
    case 14: return FIELD(mmfr0, 23, 20) != 0;      /* TGran16: 0 not implemented */
    case 16: return FIELD(mmfr0, 27, 24) != 0xf;    /* TGran64: 0xf not implemented */
    default: return false;
    }
}

static int level_shift(const struct mmu *m, int level)
{
    return m->shift + (3 - level) * (m->shift - 3);
}

u64 mmu_level_size(const struct mmu *m, int level)
{
    return 1UL << level_shift(m, level);
}

static u64 table_entries(const struct mmu *m, int level)
{
    if (level == m->start_level) {
        return 1UL << (m->va_bits - level_shift(m, level));
    }
    return 1UL << (m->shift - 3);
}

static u64 *new_table(const struct mmu *m, int level)
{
    u64 bytes = table_entries(m, level) * 8;
    return rt_alloc(bytes, bytes < (1UL << m->shift) ? 64 : (1UL << m->shift));
}

void mmu_init(struct mmu *m, int shift, int va_bits)
{
    m->shift = shift;
    m->va_bits = va_bits;
    int levels = (va_bits - shift + (shift - 3) - 1) / (shift - 3);
    m->start_level = 4 - levels;
    m->blocks = true;
    /* The root table is aligned to its size (at least 64 bytes), as TTBR_ELx.BADDR requires. */
    u64 bytes = table_entries(m, m->start_level) * 8;
    m->root = rt_alloc(bytes, bytes < 64 ? 64 : bytes);
}

static bool block_allowed(const struct mmu *m, int level)
{
    /* Block descriptors: level 1 and 2 with 4K; level 2 with 16K and 64K (without FEAT_LPA). */
    return m->blocks && (level == 2 || (level == 1 && m->shift == 12));
}

static u64 out_addr(const struct mmu *m, u64 desc)
{
    return desc & 0x0000fffffffff000UL & ~((1UL << m->shift) - 1);
}

static u64 index_of(const struct mmu *m, u64 va, int level)
{
    return (va >> level_shift(m, level)) & (table_entries(m, level) - 1);
}

u64 *mmu_table(struct mmu *m, u64 va, int level)
{
    u64 *t = m->root;
    for (int l = m->start_level; l < level + 1; l++) {
        u64 *e = &t[index_of(m, va, l)];
        if (l == level) {
            if ((*e & 3) == 3) {
                return (u64 *)out_addr(m, *e);
            }
            u64 *next = new_table(m, l + 1);
            if ((*e & 3) == 1) {
                /* Split a block into next-level entries with the same attributes. */
                u64 attrs = *e & ~0x0000fffffffff000UL & ~3UL;
                u64 base = out_addr(m, *e) & ~(mmu_level_size(m, l) - 1);
                u64 step = mmu_level_size(m, l + 1);
                u64 type = l + 1 == 3 ? 3 : 1;
                for (u64 i = 0; i < table_entries(m, l + 1); i++) {
                    next[i] = (base + i * step) | attrs | type;
                }
            }
            dsb(ishst);
            *e = (u64)next | 3;
            dsb(ishst);
            return next;
        }
        if ((*e & 3) != 3) {
            return NULL;
        }
        t = (u64 *)out_addr(m, *e);
    }
    return NULL;
}

u64 *mmu_pte(struct mmu *m, u64 va, int *level)
{
    u64 *t = m->root;
    for (int l = m->start_level; l <= 3; l++) {
        u64 *e = &t[index_of(m, va, l)];
        if (l == 3 || (*e & 3) != 3) {
            *level = l;
            return e;
        }
        t = (u64 *)out_addr(m, *e);
    }
    return NULL;
}

static void map_level(struct mmu *m, u64 *table, int level, u64 va, u64 pa, u64 size, u64 attrs)
{
    u64 step = mmu_level_size(m, level);
    while (size > 0) {
        u64 *e = &table[index_of(m, va, level)];
        u64 chunk = step - (va & (step - 1));
        if (chunk > size) {
            chunk = size;
        }
        if (level == 3) {
            *e = pa | attrs | 3;
        } else if (chunk == step && (pa & (step - 1)) == 0 && block_allowed(m, level) && (*e & 3) != 3) {
            *e = pa | attrs | 1;
        } else {
            u64 *next = mmu_table(m, va, level);
            map_level(m, next, level + 1, va, pa, chunk, attrs);
        }
        va += chunk;
        pa += chunk;
        size -= chunk;
    }
}

void mmu_map(struct mmu *m, u64 va, u64 pa, u64 size, u64 attrs)
{
    map_level(m, m->root, m->start_level, va, pa, size, attrs);
    dsb(ishst);
}

u64 mmu_tcr(const struct mmu *t0, const struct mmu *t1)
{
    static const u64 tg0[] = { [12] = 0, [14] = 2, [16] = 1 };
    static const u64 tg1[] = { [12] = 2, [14] = 1, [16] = 3 };
    u64 parange = FIELD(read_sysreg(id_aa64mmfr0_el1), 3, 0);
    if (parange > 5) {
        parange = 5; /* 48 bits: no 52-bit output addresses here */
    }
    /* Walks: inner and outer write-back write-allocate, inner shareable (Arm ARM, TCR_EL1). */
    u64 tcr = (u64)(64 - t0->va_bits) | 1UL << 8 | 1UL << 10 | 3UL << 12 | tg0[t0->shift] << 14;
    if (t1 != NULL) {
        tcr |= (u64)(64 - t1->va_bits) << 16 | 1UL << 24 | 1UL << 26 | 3UL << 28 | tg1[t1->shift] << 30;
    } else {
        tcr |= BIT(23) | tg1[t0->shift] << 30; /* EPD1: no walks through TTBR1 */
    }
    return tcr | parange << 32;
}

void tlb_flush_all(void)
{
    dsb(ishst);
    __asm__ volatile("tlbi vmalle1is" : : : "memory");
    dsb(ish);
    isb();
}

void tlb_flush_va(u64 va)
{
    dsb(ishst);
    __asm__ volatile("tlbi vaae1is, %0" : : "r"(va >> 12) : "memory");
    dsb(ish);
    isb();
}

static void enable_with(u64 tcr, u64 ttbr0, u64 ttbr1)
{
    write_sysreg(mair_el1, MAIR_VALUE);
    write_sysreg(tcr_el1, tcr);
    write_sysreg(ttbr0_el1, ttbr0);
    write_sysreg(ttbr1_el1, ttbr1);
    isb();
    __asm__ volatile("tlbi vmalle1" : : : "memory");
    dsb(nsh);
    isb();
    write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | SCTLR_M | SCTLR_C | SCTLR_I);
    isb();
}

void mmu_enable(struct mmu *t0, struct mmu *t1)
{
    active_tcr = mmu_tcr(t0, t1);
    active0 = t0;
    active1 = t1;
    dsb(ish);
    enable_with(active_tcr, (u64)t0->root, t1 != NULL ? (u64)t1->root : 0);
}

void mmu_disable(void)
{
    /*
     * With the caches off, data accesses are Device-nGnRnE and bypass the caches. The emulators these guests run
     * on keep memory coherent; on real hardware the caches would have to be cleaned first.
     */
    write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) & ~(SCTLR_M | SCTLR_C));
    isb();
    __asm__ volatile("ic iallu\n tlbi vmalle1" : : : "memory");
    dsb(nsh);
    isb();
    active0 = NULL;
    active1 = NULL;
}

bool mmu_enabled(void)
{
    return (read_sysreg(sctlr_el1) & SCTLR_M) != 0;
}

void mmu_secondary_enable(void)
{
    if (active0 != NULL) {
        enable_with(active_tcr, (u64)active0->root, active1 != NULL ? (u64)active1->root : 0);
    }
}

void mmu_map_identity(struct mmu *m)
{
    u64 text = (u64)_start, etext = (u64)_etext, end = ram_base() + ram_size();
    mmu_map(m, 0, 0, ram_base(), PROT_DEVICE);
    mmu_map(m, ram_base(), ram_base(), text - ram_base(), PROT_NORMAL_XN);
    mmu_map(m, text, text, etext - text, PROT_NORMAL | PTE_AP_RO | PTE_UXN);
    mmu_map(m, etext, etext, end - etext, PROT_NORMAL_XN);
}

void mmu_identity_on(int shift)
{
    static struct mmu identity;
    int va_bits = shift == 16 ? 42 : shift == 14 ? 47 : 39;
    mmu_init(&identity, shift, va_bits);
    mmu_map_identity(&identity);
    mmu_enable(&identity, NULL);
}

u64 mmu_at_s1e1r(u64 va)
{
    __asm__ volatile("at s1e1r, %0" : : "r"(va) : "memory");
    isb();
    return read_sysreg(par_el1);
}
