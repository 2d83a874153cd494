/*
 * el0: code at EL0 entered with ERET, making SVCs; what EL0 may and may not do (Arm ARM, the AArch64 exception
 * model and the SCTLR_EL1 / CNTKCTL_EL1 traps), exceptions from a lower EL (VBAR_EL1 + 0x400), and with the MMU on,
 * EL0 and EL1 permissions (AP, UXN, PXN, implicit PXN of EL0-writable memory).
 */
#include "rt.h"
#include "check.h"
#include "mmu.h"

#define EL0(name) extern char name[]
EL0(el0_exit_stub); EL0(el0_svc); EL0(el0_svc_many); EL0(el0_currentel); EL0(el0_sctlr); EL0(el0_cntvct);
EL0(el0_cntfrq); EL0(el0_ctr); EL0(el0_dczva); EL0(el0_wfi); EL0(el0_wfe); EL0(el0_daif); EL0(el0_nzcv);
EL0(el0_brk); EL0(el0_udf); EL0(el0_hvc); EL0(el0_smc); EL0(el0_eret); EL0(el0_load); EL0(el0_store);
EL0(el0_branch); EL0(el0_tpidr); EL0(el0_sp_align); EL0(el0_regs); EL0(el0_ret_insn);
extern char __el0_text_start[], __el0_text_end[], __el0_data_start[], __el0_data_end[];

/* EL0's stack and data, on the EL0 data pages. */
__section(".el0.data") __aligned(64) u8 el0_area[0x4000];
#define EL0_STACK_TOP ((u64)el0_area + sizeof el0_area)
#define EL0_DATA ((u64)el0_area)   /* first 64 bytes: a DC ZVA block */

static u64 el1_secret __aligned(4096) = 0x5ec7e7;
static struct trap seen;  /* the last exception from EL0 (SVCs included); seen.count: all but the SVCs */
static int svcs;
static u64 resume_at;

static bool el0_hook(struct frame *f)
{
    u32 ec = (u32)ESR_EC(f->esr);
    if (f->vector == VEC_LOWER64 + VEC_SYNC && ec == EC_SVC64) {
        u64 imm = ESR_ISS(f->esr) & 0xffff;
        if (imm == 0xff) {
            el0_exit(f, f->x[0]);
            return true;
        }
        svcs++;
        trap_record(&seen, f);
        if (imm == 1) {
            f->x[0] += 1;
        } else if (imm == 2) {
            for (int i = 1; i < 29; i++) {
                if (i >= 19) {
                    continue;
                }
                f->x[i] = 0xbad;  /* caller-saved registers are the handler's to change */
            }
        }
        return true;  /* ELR is already the instruction after the SVC */
    }
    seen.count++;
    trap_record(&seen, f);
    f->elr = resume_at != 0 ? resume_at : f->elr + 4;
    return true;
}

static u64 run(char *entry, u64 arg)
{
    memset(&seen, 0, sizeof seen);
    svcs = 0;
    rt_set_sync_hook(el0_hook);
    u64 r = el0_call((u64)entry, EL0_STACK_TOP, arg, 0 /* EL0t, DAIF clear */);
    rt_set_sync_hook(NULL);
    return r;
}

static void print_seen(const char *what)
{
    if (seen.count == 0) {
        printf("  %s: no exception\n", what);
        return;
    }
    u32 ec = (u32)ESR_EC(seen.esr);
    printf("  %s: %s, ESR 0x%08lx (EC 0x%02x %s, ISS 0x%07lx)\n", what, vector_name(seen.vector), seen.esr, ec,
           ec_name(ec), ESR_ISS(seen.esr));
    if (ec == EC_SYSREG) {
        u64 iss = ESR_ISS(seen.esr);
        printf("    trapped %s Op0 %lu Op1 %lu CRn %lu CRm %lu Op2 %lu Rt %lu\n", (iss & 1) ? "MRS" : "MSR/SYS",
               FIELD(iss, 21, 20), FIELD(iss, 16, 14), FIELD(iss, 13, 10), FIELD(iss, 4, 1), FIELD(iss, 19, 17),
               FIELD(iss, 9, 5));
    }
}

static bool trapped(u32 ec)
{
    return seen.count == 1 && ESR_EC(seen.esr) == ec && seen.vector == VEC_LOWER64 + VEC_SYNC;
}

static void set_sctlr(u64 set, u64 clear)
{
    write_sysreg(sctlr_el1, (read_sysreg(sctlr_el1) | set) & ~clear);
    isb();
}

static void test_basics(const char *mode)
{
    printf("EL0 basics (%s)\n", mode);
    u64 r = run(el0_svc, 41);
    check(r == 42 && svcs == 1 && seen.esr == 0x56000001, "ERET to EL0, SVC #1 returns 41 + 1 (ESR 0x%08lx)",
          seen.esr);
    check(seen.vector == VEC_LOWER64 + VEC_SYNC, "SVC from EL0: vector \"lower EL AArch64\" (VBAR_EL1 + 0x400)");
    check((seen.spsr & 0x3ff) == 0, "SPSR_EL1 of an EL0t context with DAIF clear: M = 0 (0x%lx)", seen.spsr & 0x3ff);
    check(seen.elr == (u64)el0_svc + 4, "ELR_EL1 is the instruction after the SVC");
    r = run(el0_svc_many, 0);
    check(r == 1000 && svcs == 1000, "1000 SVCs from EL0: %lu", r);
    r = run(el0_regs, 0);
    check(r == 19 + 20 + 28, "x19, x20, x28 survive an SVC (%lu)", r);
    r = run(el0_nzcv, 0);
    check(r == 0x90000000, "NZCV at EL0 (0x%lx)", r);
}

static void test_undefined(void)
{
    printf("UNDEFINED at EL0\n");
    static const struct { const char *what; char *entry; } cases[] = {
        { "MRS CurrentEL", el0_currentel }, { "MRS SCTLR_EL1", el0_sctlr }, { "UDF #7", el0_udf },
        { "HVC #0", el0_hvc }, { "SMC #0", el0_smc }, { "ERET", el0_eret },
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        run(cases[i].entry, 0);
        print_seen(cases[i].what);
        check(trapped(EC_UNKNOWN) && seen.esr == 0x02000000 && seen.elr == (u64)cases[i].entry,
              "%s at EL0: UNDEFINED (ESR 0x02000000), ELR at the instruction", cases[i].what);
    }
    run(el0_brk, 0);
    print_seen("BRK #3");
    check(trapped(EC_BRK64) && seen.esr == 0xf2000003, "BRK #3 at EL0: ESR 0xf2000003");
}

static void test_traps(void)
{
    printf("EL0 access controls\n");
    u64 cntkctl = read_sysreg(cntkctl_el1);
    write_sysreg(cntkctl_el1, cntkctl | BIT(1) | BIT(0));  /* EL0VCTEN, EL0PCTEN */
    isb();
    u64 r = run(el0_cntvct, 0);
    check(r == 1 && seen.count == 0, "CNTKCTL_EL1.EL0VCTEN = 1: MRS CNTVCT_EL0 works at EL0");
    write_sysreg(cntkctl_el1, cntkctl & ~(BIT(1) | BIT(0) | BIT(9) | BIT(8)));
    isb();
    run(el0_cntvct, 0);
    print_seen("MRS CNTVCT_EL0, EL0VCTEN = 0");
    check(trapped(EC_SYSREG) && seen.esr == 0x6234f821,
          "CNTKCTL_EL1.EL0VCTEN = 0: MRS CNTVCT_EL0 trapped, EC 0x18, ISS names the register and Rt");
    r = run(el0_cntfrq, 0);
    print_seen("MRS CNTFRQ_EL0, EL0VCTEN = EL0PCTEN = 0");
    check(trapped(EC_SYSREG), "CNTFRQ_EL0 at EL0 with EL0PCTEN = EL0VCTEN = 0: trapped");
    write_sysreg(cntkctl_el1, cntkctl);
    isb();

    set_sctlr(SCTLR_UCT, 0);
    r = run(el0_ctr, 0);
    check(seen.count == 0 && r == read_sysreg(ctr_el0), "SCTLR_EL1.UCT = 1: CTR_EL0 readable at EL0 (0x%lx)", r);
    set_sctlr(0, SCTLR_UCT);
    run(el0_ctr, 0);
    print_seen("MRS CTR_EL0, UCT = 0");
    check(trapped(EC_SYSREG), "SCTLR_EL1.UCT = 0: MRS CTR_EL0 trapped (EC 0x18)");

    set_sctlr(SCTLR_DZE, 0);
    memset(el0_area, 0xee, 64);
    r = run(el0_dczva, EL0_DATA);
    u64 block = 4UL << FIELD(read_sysreg(dczid_el0), 3, 0);
    bool zeroed = true;
    for (u64 i = 0; i < block && i < 64; i++) {
        zeroed &= el0_area[i] == 0;
    }
    check(seen.count == 0 && r == 1 && zeroed, "SCTLR_EL1.DZE = 1: DC ZVA at EL0 zeroes a %lu-byte block", block);
    set_sctlr(0, SCTLR_DZE);
    run(el0_dczva, EL0_DATA);
    print_seen("DC ZVA, DZE = 0");
    check(trapped(EC_SYSREG), "SCTLR_EL1.DZE = 0: DC ZVA at EL0 trapped (EC 0x18)");

    set_sctlr(0, SCTLR_NTWI | SCTLR_NTWE);
    run(el0_wfi, 0);
    print_seen("WFI, nTWI = 0");
    check(trapped(EC_WFX) && (seen.esr & 1) == 0, "SCTLR_EL1.nTWI = 0: WFI at EL0 trapped (EC 0x01, TI 0)");
    /* WFE traps only when it would wait; after ERET (an event) or SEVL it does not, so it is not checked. */
    set_sctlr(SCTLR_NTWE, 0);
    run(el0_wfe, 0);
    check(seen.count == 0, "SCTLR_EL1.nTWE = 1: SEVL; WFE at EL0 does not wait or trap");
    set_sctlr(SCTLR_NTWI | SCTLR_NTWE, 0);

    set_sctlr(SCTLR_UMA, 0);
    r = run(el0_daif, 0);
    check(seen.count == 0 && r == 0x80, "SCTLR_EL1.UMA = 1: EL0 masks IRQs (DAIF 0x%lx)", r);
    set_sctlr(0, SCTLR_UMA);
    run(el0_daif, 0);
    print_seen("MSR DAIFSet, UMA = 0");
    check(seen.count >= 1 && ESR_EC(seen.esr) == EC_SYSREG, "SCTLR_EL1.UMA = 0: MSR DAIFSet/MRS DAIF trapped (%d)",
          seen.count);

    write_sysreg(tpidrro_el0, 0x1000);
    r = run(el0_tpidr, 0x22);
    print_seen("MSR TPIDRRO_EL0");
    check(r == 0x1022 && trapped(EC_UNKNOWN), "TPIDR_EL0 read/write and TPIDRRO_EL0 read at EL0; writing "
          "TPIDRRO_EL0 is UNDEFINED");
    check(read_sysreg(tpidr_el0) == 0x22, "EL1 sees EL0's TPIDR_EL0");
}

static void test_aborts_mmu_off(void)
{
    printf("EL0 aborts, MMU off\n");
    u64 hole = ram_base() + ram_size() + 0x20000;
    run(el0_load, hole);
    print_seen("LDR from after RAM");
    check(trapped(EC_DABT_LOW) && (seen.esr & 0x3f) == 0x10 && seen.far == hole,
          "EL0 load from unbacked memory: data abort from a lower EL (EC 0x24), DFSC 0x10, FAR");
    resume_at = (u64)el0_exit_stub;
    run(el0_branch, (u64)el0_ret_insn + 1);
    print_seen("BR to a misaligned address");
    check(trapped(EC_PC_ALIGN) && seen.far == (u64)el0_ret_insn + 1, "EL0 PC alignment fault, FAR = target");
    resume_at = 0;
}

static void test_permissions(void)
{
    printf("EL0 and EL1 permissions, MMU on (4K granule)\n");
    static struct mmu m;
    mmu_init(&m, 12, 39);
    u64 text = (u64)__el0_text_start, text_end = (u64)__el0_text_end;
    u64 data = (u64)__el0_data_start, data_end = (u64)__el0_data_end;
    mmu_map(&m, 0, 0, ram_base(), PROT_DEVICE);
    /* RAM: EL1 only, not executable at EL0. */
    mmu_map(&m, ram_base(), ram_base(), ram_size(), PROT_NORMAL | PTE_UXN);
    /* EL0 text: read-only at EL0 and EL1, executable at EL0 only. */
    mmu_map(&m, text, text, text_end - text, PROT_NORMAL | PTE_AP_EL0 | PTE_AP_RO | PTE_PXN);
    /* EL0 data: read/write at EL0 and EL1, never executable; its last page leaves PXN clear (implicit PXN). */
    mmu_map(&m, data, data, data_end - data - 0x1000, PROT_NORMAL | PTE_AP_EL0 | PTE_UXN | PTE_PXN);
    mmu_map(&m, data_end - 0x1000, data_end - 0x1000, 0x1000, PROT_NORMAL | PTE_AP_EL0 | PTE_UXN);
    mmu_enable(&m, NULL);

    u64 r = run(el0_svc, 1);
    check(r == 2 && seen.count == 0, "EL0 runs from its text pages with the MMU on");
    r = run(el0_load, (u64)&el1_secret);
    print_seen("EL0 LDR of an EL1-only page");
    check(trapped(EC_DABT_LOW) && (seen.esr & 0x3f) == 0x0f && seen.far == (u64)&el1_secret
          && ((seen.esr >> 6) & 1) == 0, "permission fault, level 3 (DFSC 0x0f), WnR 0, FAR = the address");
    r = run(el0_store, (u64)el0_ret_insn);
    print_seen("EL0 STR to its read-only text");
    check(trapped(EC_DABT_LOW) && (seen.esr & 0x3f) == 0x0f && ((seen.esr >> 6) & 1) == 1,
          "permission fault, level 3, WnR 1");
    r = run(el0_load, EL0_DATA);
    check(seen.count == 0, "EL0 reads its data page");
    resume_at = (u64)el0_exit_stub;
    run(el0_branch, EL0_DATA);
    print_seen("EL0 branch into its data page (UXN)");
    check(trapped(EC_IABT_LOW) && (seen.esr & 0x3f) == 0x0f && seen.far == EL0_DATA,
          "instruction abort from a lower EL (EC 0x20), permission fault level 3, FAR");
    run(el0_branch, (u64)main);
    print_seen("EL0 branch into EL1 text (UXN)");
    check(trapped(EC_IABT_LOW) && (seen.esr & 0x3f) == 0x0f, "EL0 cannot execute EL1 text");
    resume_at = 0;

    run(el0_store, EL0_DATA + 8);
    check(seen.count == 0 && *(volatile u64 *)(EL0_DATA + 8) == 0x5a, "EL0 writes its data page, EL1 reads it");
    trap_arm(RESUME_LR);
    ((void (*)(void))el0_ret_insn)();
    trap_print("EL1 branch into EL0 text (PXN)");
    check(last_trap.count == 1 && ESR_EC(last_trap.esr) == EC_IABT_CUR && (last_trap.esr & 0x3f) == 0x0f,
          "EL1 cannot execute PXN memory: instruction abort, same EL, permission fault");
    /* A RET written into the EL0-writable page without PXN: still not executable at EL1. */
    u32 *code = (u32 *)(data_end - 0x1000);
    *code = 0xd65f03c0;
    __asm__ volatile("dc cvau, %0\n dsb ish\n ic ivau, %0\n dsb ish\n isb" : : "r"(code) : "memory");
    trap_arm(RESUME_LR);
    ((void (*)(void))code)();
    trap_print("EL1 branch into EL0-writable memory with PXN clear");
    check(last_trap.count == 1 && ESR_EC(last_trap.esr) == EC_IABT_CUR && (last_trap.esr & 0x3f) == 0x0f,
          "memory writable at EL0 is never executable at EL1");
    trap_disarm();
    mmu_disable();
}

static void test_strict(void)
{
    printf("strict: EL0 SP alignment (SCTLR_EL1.SA0)\n");
    set_sctlr(SCTLR_SA0, 0);
    run(el0_sp_align, EL0_DATA + 8);
    print_seen("LDR through a misaligned SP_EL0 at EL0");
    check(trapped(EC_SP_ALIGN) && seen.esr == 0x9a000000, "SP alignment fault from EL0 (EC 0x26)");
}

int main(void)
{
    printf("el0: EL0 code and what it may do\n");
    test_basics("MMU off");
    test_undefined();
    test_traps();
    test_aborts_mmu_off();
    test_permissions();
    if (bootarg("strict") != NULL) {
        test_strict();
    }
    return check_summary("el0");
}
