/*
 * mmu: stage 1 translation with each granule the CPU implements (ID_AA64MMFR0_EL1): identity maps, aliases, the
 * upper VA range through TTBR1, blocks and pages, AT S1E1R, TLB maintenance, ASIDs, instruction fetch through the
 * MMU with instruction-cache maintenance, SCTLR_EL1.WXN, and turning the MMU off again.
 */
#include "rt.h"
#include "check.h"
#include "mmu.h"

#define ALIAS_VA 0x0000001000000000UL   /* 64 GiB: inside a 39-bit and a 42-bit TTBR0 range, outside RAM */

static const char *granule_name(int shift)
{
    return shift == 12 ? "4K" : shift == 14 ? "16K" : "64K";
}

static void print_par(const char *what, u64 par)
{
    if (par & 1) {
        printf("  PAR_EL1 for %s: F 1, FST 0x%02lx (fault)\n", what, FIELD(par, 6, 1));
    } else {
        printf("  PAR_EL1 for %s: F 0, PA 0x%lx, ATTR 0x%02lx\n", what, par & 0x0000fffffffff000UL, par >> 56);
    }
}

/* "mov w0, #imm; ret" */
static void write_code(u32 *p, u16 imm)
{
    p[0] = 0x52800000u | (u32)imm << 5;
    p[1] = 0xd65f03c0u;
}

static void sync_icache(void *p, u64 size)
{
    for (u64 a = (u64)p; a < (u64)p + size; a += 4) {
        __asm__ volatile("dc cvau, %0" : : "r"(a) : "memory");
    }
    dsb(ish);
    for (u64 a = (u64)p; a < (u64)p + size; a += 4) {
        __asm__ volatile("ic ivau, %0" : : "r"(a) : "memory");
    }
    dsb(ish);
    isb();
}

static void test_granule(int shift)
{
    u64 page = 1UL << shift;
    int va_bits = shift == 16 ? 42 : 39;
    printf("granule %s, %d-bit VA\n", granule_name(shift), va_bits);
    struct mmu m, upper;
    mmu_init(&m, shift, va_bits);
    printf("  start level %d\n", m.start_level);
    mmu_map_identity(&m);
    /* Two physical pages for the aliases, and a code page. */
    u8 *p1 = rt_alloc(page, page), *p2 = rt_alloc(page, page);
    u32 *code = rt_alloc(page, page);
    mmu_map(&m, ALIAS_VA, (u64)p1, page, PROT_NORMAL_XN);
    mmu_map(&m, ALIAS_VA + page, (u64)code, page, PROT_NORMAL | PTE_AP_RO);
    /* The upper range: TTBR1 maps its lowest page to p2. */
    mmu_init(&upper, shift, va_bits);
    u64 upper_va = 0UL - (1UL << va_bits);
    mmu_map(&upper, upper_va, (u64)p2, page, PROT_NORMAL_XN);

    ((volatile u64 *)p1)[0] = 0x1111;
    ((volatile u64 *)p2)[0] = 0x2222;
    write_code(code, 42);
    sync_icache(code, 8);
    mmu_enable(&m, &upper);
    u64 tcr = read_sysreg(tcr_el1);
    printf("  TCR_EL1 0x%lx (T0SZ %lu, TG0 %lu, T1SZ %lu, TG1 %lu, IPS %lu)\n", tcr, FIELD(tcr, 5, 0),
           FIELD(tcr, 15, 14), FIELD(tcr, 21, 16), FIELD(tcr, 31, 30), FIELD(tcr, 34, 32));
    check(mmu_enabled(), "SCTLR_EL1.M = 1, running from the identity map (text read-only), the UART as Device");

    volatile u64 *alias = (volatile u64 *)ALIAS_VA;
    check(alias[0] == 0x1111, "an alias VA reads its physical page");
    alias[1] = 0xabcd;
    check(((volatile u64 *)p1)[1] == 0xabcd, "a write through the alias lands in the physical page");
    volatile u64 *hi = (volatile u64 *)upper_va;
    check(hi[0] == 0x2222, "TTBR1: VA 0x%lx reads its page", upper_va);

    u64 par = mmu_at_s1e1r(ALIAS_VA + 8);
    print_par("the alias", par);
    check((par & 1) == 0 && (par & 0x0000fffffffff000UL) == (u64)p1 && (par >> 56) == 0xff && FIELD(par, 8, 7) == 3,
          "AT S1E1R: PA of the alias, Normal write-back (0xff), inner shareable");
    par = mmu_at_s1e1r(0x9000000);
    print_par("the UART", par);
    check((par & 1) == 0 && (par >> 56) == 0x04, "AT S1E1R on a Device page: attribute 0x04 (Device-nGnRE)");
    par = mmu_at_s1e1r(ALIAS_VA + 8 * page);
    print_par("an unmapped VA", par);
    check((par & 1) == 1, "AT S1E1R on an unmapped VA: PAR_EL1.F = 1");

    /* Remap the alias to p2; after TLBI the new mapping is seen. */
    u64 *pte;
    int level;
    pte = mmu_pte(&m, ALIAS_VA, &level);
    check(level == 3, "the alias is a level 3 page descriptor");
    *pte = (u64)p2 | PROT_NORMAL_XN | 3;
    tlb_flush_va(ALIAS_VA);
    check(alias[0] == 0x2222, "after a page table change and TLBI VAAE1IS the alias reads the new page");
    /* Unmap: a translation fault. */
    *pte = 0;
    tlb_flush_va(ALIAS_VA);
    trap_arm(RESUME_LR);
    trap_x0 = 0xdead;
    u64 v = probe_load64(ALIAS_VA);
    check(last_trap.count == 1 && v == 0xdead && (last_trap.esr & 0x3f) == 0x07,
          "invalidated descriptor + TLBI: translation fault, level 3 (DFSC 0x%02lx)", last_trap.esr & 0x3f);
    trap_disarm();

    /* Code through the MMU: call the code page through its alias, rewrite it, IC IVAU, call again. */
    u64 (*fn)(void) = (u64 (*)(void))(ALIAS_VA + page);
    check(fn() == 42, "instruction fetch through an alias VA");
    write_code(code, 43);
    sync_icache(code, 8);
    sync_icache((void *)(ALIAS_VA + page), 8);
    check(fn() == 43, "code rewritten through another VA runs after DC CVAU + IC IVAU");
    write_code(code, 44);
    dsb(ish);
    __asm__ volatile("ic iallu" : : : "memory");
    dsb(ish);
    isb();
    check(fn() == 44, "... and after IC IALLU");

    /* WXN: writable memory is execute-never. */
    write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | SCTLR_WXN);
    isb();
    tlb_flush_all();
    trap_arm(RESUME_LR);
    probe_exec((u64)code);
    trap_print("call into a writable page with SCTLR_EL1.WXN = 1");
    check(last_trap.count == 1 && ESR_EC(last_trap.esr) == EC_IABT_CUR && (last_trap.esr & 0x3f) >= 0x0d
          && (last_trap.esr & 0x3f) <= 0x0f, "WXN: instruction abort, permission fault");
    trap_arm(RESUME_LR);
    v = fn();
    check(last_trap.count == 0 && v == 44, "WXN: the read-only alias of the same code still runs");
    trap_disarm();
    write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) & ~SCTLR_WXN);
    isb();
    tlb_flush_all();

    /* Turn the MMU off: physical addresses again. */
    alias = NULL;
    mmu_disable();
    check(!mmu_enabled() && ((volatile u64 *)p1)[1] == 0xabcd, "MMU off: the data written through the alias stays");
}

static void test_asids(void)
{
    printf("ASIDs (4K granule, non-global pages)\n");
    struct mmu a, b;
    u64 *pa = rt_alloc(4096, 4096), *pb = rt_alloc(4096, 4096);
    pa[0] = 0xaaaa;
    pb[0] = 0xbbbb;
    mmu_init(&a, 12, 39);
    mmu_init(&b, 12, 39);
    for (int i = 0; i < 2; i++) {
        struct mmu *m = i == 0 ? &a : &b;
        mmu_map_identity(m);
        mmu_map(m, ALIAS_VA, (u64)(i == 0 ? pa : pb), 4096, PROT_NORMAL_XN | PTE_NG);
    }
    mmu_enable(&a, NULL);
    volatile u64 *alias = (volatile u64 *)ALIAS_VA;
    u64 ttbr_a = (u64)a.root | 1UL << 48, ttbr_b = (u64)b.root | 2UL << 48;
    u64 seen[4];
    for (int i = 0; i < 4; i++) {
        write_sysreg(ttbr0_el1, (i & 1) ? ttbr_b : ttbr_a);
        isb();
        seen[i] = alias[0];
    }
    check(seen[0] == 0xaaaa && seen[1] == 0xbbbb && seen[2] == 0xaaaa && seen[3] == 0xbbbb,
          "switching TTBR0_EL1 between ASID 1 and 2 without TLBI: each ASID sees its own page");
    __asm__ volatile("tlbi aside1is, %0\n dsb ish\n isb" : : "r"(1UL << 48) : "memory");
    write_sysreg(ttbr0_el1, ttbr_a);
    isb();
    check(alias[0] == 0xaaaa, "TLBI ASIDE1IS, then ASID 1 again");
    mmu_disable();
}

int main(void)
{
    printf("mmu: stage 1 translation\n");
    u64 mmfr0 = read_sysreg(id_aa64mmfr0_el1);
    printf("ID_AA64MMFR0_EL1: PARange %lu, ASIDBits %lu, TGran4 %lu, TGran16 %lu, TGran64 %lu\n", FIELD(mmfr0, 3, 0),
           FIELD(mmfr0, 7, 4), FIELD(mmfr0, 31, 28), FIELD(mmfr0, 23, 20), FIELD(mmfr0, 27, 24));
    static const int shifts[] = { 12, 14, 16 };
    for (unsigned i = 0; i < ARRAY_SIZE(shifts); i++) {
        if (!mmu_granule_supported(shifts[i])) {
            printf("granule %s: not implemented\n", granule_name(shifts[i]));
            continue;
        }
        test_granule(shifts[i]);
    }
    test_asids();
    return check_summary("mmu");
}
