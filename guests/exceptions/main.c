/*
 * exceptions: synchronous exceptions taken to EL1 from EL1, their vectors and syndromes (Arm ARM, "Exception
 * vectors" and ESR_EL1), and what SMCCC calls through HVC return.
 */
#include "rt.h"
#include "check.h"
#include "psci.h"
#include "mmu.h"

u64 do_svc(void);
u64 do_svc_sp0(void);
void do_brk(void);
void do_udf(void);
s64 do_hvc(u64 fn);
s64 do_smc(u64 fn);
u64 do_ldxr(u64 addr);
void do_sp_align(u64 sp);
extern char sp_align_resume[];
u64 do_sysreg_read_undef(void);
void do_sysreg_write_ro(u64 v);
void do_illegal_return(void);
extern char nop_target[];
extern char do_svc_sym[] __asm__("do_svc"), do_brk_sym[] __asm__("do_brk"), do_udf_sym[] __asm__("do_udf");

/* ELR as an offset from a stub, so the output does not depend on where the linker put the stub. */
static void print_elr(const char *stub_name, u64 stub)
{
    printf("  ELR = %s+%lu, SPSR 0x%08lx, DAIF in handler 0x%lx\n", stub_name, last_trap.elr - stub,
           last_trap.spsr, last_trap.daif_in_handler);
}

static u64 svc_x0;

static bool svc_hook(struct frame *f)
{
    last_trap.count++;
    trap_record(&last_trap, f);
    if (ESR_EC(f->esr) == EC_SVC64) {
        /* The preferred return address of an SVC is the next instruction: ELR already points there. */
        f->x[0] = svc_x0;
        if (ESR_ISS(f->esr) == 0x42 && svc_x0 == 0x99) {
            /* A synchronous exception inside a handler: the frames nest. */
            trap_arm(RESUME_NEXT);
            do_brk();
            rt_set_sync_hook(svc_hook);
            f->x[0] = last_trap.count == 1 && ESR_EC(last_trap.esr) == EC_BRK64 ? 0x77 : 0;
        }
        return true;
    }
    return false;
}

static void test_svc(void)
{
    printf("SVC\n");
    memset(&last_trap, 0, sizeof last_trap);
    rt_set_sync_hook(svc_hook);
    svc_x0 = 0x1234;
    u64 r = do_svc();
    trap_print("SVC #0x42");
    print_elr("do_svc", (u64)do_svc_sym);
    check(last_trap.count == 1 && last_trap.esr == 0x56000042, "SVC #0x42: ESR 0x56000042 (EC 0x15, IL 1, imm16)");
    check(last_trap.elr == (u64)do_svc_sym + 12, "SVC: ELR is the instruction after the SVC");
    check(r == 0x1234, "SVC: the handler's x0 reaches the caller (0x%lx)", r);
    check(last_trap.vector == VEC_CUR_SPX, "SVC at EL1h: vector \"current EL with SPx\" (VBAR_EL1 + 0x200)");
    check((last_trap.spsr & 0xf00003ff) == 0x600003c5,
          "SVC: SPSR_EL1 holds NZCV 0b0110, DAIF masked, EL1h (0x%08lx)", last_trap.spsr);
    check(last_trap.daif_in_handler == 0x3c0, "exception entry masks D, A, I and F");

    memset(&last_trap, 0, sizeof last_trap);
    svc_x0 = 0x55;
    r = do_svc_sp0();
    trap_print("SVC #0x7 with SPSel 0");
    check(last_trap.vector == VEC_CUR_SP0 && ESR_ISS(last_trap.esr) == 7 && r == 0x55,
          "SVC at EL1t: vector \"current EL with SP0\" (VBAR_EL1 + 0x000), imm16 7");
    check((last_trap.spsr & 0xf) == 4, "SVC at EL1t: SPSR_EL1.M = EL1t (0x%lx)", last_trap.spsr & 0xf);

    memset(&last_trap, 0, sizeof last_trap);
    svc_x0 = 0x99;
    r = do_svc();
    check(r == 0x77, "a BRK inside the SVC handler nests: both return (0x%lx)", r);
    rt_set_sync_hook(NULL);
}

static void test_brk_udf(void)
{
    printf("BRK and UDF\n");
    trap_arm(RESUME_NEXT);
    do_brk();
    trap_print("BRK #7");
    print_elr("do_brk", (u64)do_brk_sym);
    check(last_trap.count == 1 && last_trap.esr == 0xf2000007, "BRK #7: ESR 0xf2000007 (EC 0x3c, IL 1, comment 7)");
    check(last_trap.elr == (u64)do_brk_sym + 8, "BRK: ELR is the BRK itself");

    trap_arm(RESUME_NEXT);
    do_udf();
    trap_print("UDF #0x1234");
    print_elr("do_udf", (u64)do_udf_sym);
    check(last_trap.count == 1 && last_trap.esr == 0x02000000, "UDF: ESR 0x02000000 (EC 0 unknown, IL 1)");
    check(last_trap.elr == (u64)do_udf_sym + 8, "UDF: ELR is the UDF itself");

    trap_arm(RESUME_NEXT);
    do_sysreg_read_undef();
    trap_print("MRS S3_4_C15_C15_7");
    check(last_trap.count == 1 && last_trap.esr == 0x02000000, "MRS of an EL2 encoding at EL1: UNDEFINED (EC 0)");
    trap_arm(RESUME_NEXT);
    do_sysreg_write_ro(0);
    trap_print("MSR MIDR_EL1");
    check(last_trap.count == 1 && last_trap.esr == 0x02000000, "MSR to read-only MIDR_EL1: UNDEFINED (EC 0)");
    trap_disarm();
}

static void test_hvc_smc(void)
{
    printf("HVC (SMCCC through the PSCI conduit)\n");
    trap_arm(RESUME_NEXT);
    s64 v = do_hvc(PSCI_VERSION);
    check(last_trap.count == 0 && v == 0x10001, "HVC #0 PSCI_VERSION: no exception at EL1, 0x%lx", (u64)v);
    v = do_hvc(0x8400ff00);
    check(last_trap.count == 0 && v == -1, "HVC #0 unknown function 0x8400ff00 in the PSCI range: NOT_SUPPORTED (-1)");
    v = do_hvc(0xc6000000);
    check(last_trap.count == 0 && v == -1, "HVC #0 SMCCC function 0xc6000000 (OEM service): -1, no exception");
    v = do_hvc(0x12345678);
    check(last_trap.count == 0 && v == -1, "HVC #0 with a non-SMCCC id 0x12345678: -1, no exception");
    v = do_smc(PSCI_VERSION);
    trap_print("SMC #0 PSCI_VERSION");
    check(last_trap.count == 1 && last_trap.esr == 0x02000000,
          "SMC #0 at EL1 with the hvc conduit and no EL3: UNDEFINED (EC 0)");
    trap_disarm();
}

static void test_aborts(void)
{
    printf("data aborts, MMU off\n");
    u64 hole = ram_base() + ram_size() + 0x10000; /* nothing is mapped right after RAM */
    trap_arm(RESUME_LR);
    trap_x0 = 0xdead;
    u64 v = probe_load64(hole);
    trap_print("LDR from after RAM");
    check(last_trap.count == 1 && ESR_EC(last_trap.esr) == EC_DABT_CUR && v == 0xdead,
          "load from unbacked physical memory: data abort, same EL");
    check((last_trap.esr & 0x3f) == 0x10, "  DFSC 0x10: synchronous external abort (0x%02lx)", last_trap.esr & 0x3f);
    check(((last_trap.esr >> 6) & 1) == 0, "  WnR 0 for a load");
    check(last_trap.far == hole, "  FAR_EL1 = the address");
    trap_arm(RESUME_LR);
    probe_store64(hole + 8, 1);
    trap_print("STR to after RAM");
    check(last_trap.count == 1 && ESR_EC(last_trap.esr) == EC_DABT_CUR && ((last_trap.esr >> 6) & 1) == 1
          && last_trap.far == hole + 8, "store to unbacked memory: data abort, WnR 1, FAR = the address");
    trap_disarm();
}

static u64 scratch[4] __aligned(16);

static void test_alignment(void)
{
    u64 sctlr = read_sysreg(sctlr_el1);
    u64 base = (u64)scratch;

    printf("alignment, MMU on (Normal memory)\n");
    mmu_identity_on(12);
    trap_arm(RESUME_LR);
    scratch[0] = 0x1122334455667788UL;
    scratch[1] = 0x99aabbccddeeff00UL;
    u64 v = probe_load64(base + 1);
    check(last_trap.count == 0 && v == 0x0011223344556677UL,
          "SCTLR_EL1.A = 0: unaligned LDR of Normal memory works (0x%016lx)", v);
    write_sysreg(sctlr_el1, sctlr | SCTLR_M | SCTLR_C | SCTLR_I | SCTLR_A);
    isb();
    trap_arm(RESUME_LR);
    trap_x0 = 0xdead;
    v = probe_load32(base + 2);
    trap_print("LDR W at +2 with SCTLR_EL1.A = 1");
    check(last_trap.count == 1 && ESR_EC(last_trap.esr) == EC_DABT_CUR && (last_trap.esr & 0x3f) == 0x21
          && last_trap.far == base + 2, "SCTLR_EL1.A = 1: alignment fault (DFSC 0x21), FAR = the address");
    trap_arm(RESUME_LR);
    probe_store8(base + 3, 5);
    check(last_trap.count == 0, "SCTLR_EL1.A = 1: a byte store is always aligned");
    trap_arm(RESUME_LR);
    probe_load16(base + 4);
    check(last_trap.count == 0, "SCTLR_EL1.A = 1: LDRH at +4 is aligned");
    write_sysreg(sctlr_el1, sctlr | SCTLR_M | SCTLR_C | SCTLR_I);
    isb();
    trap_arm(RESUME_LR);
    trap_x0 = 0xdead;
    v = do_ldxr(base + 4);
    trap_print("LDXR X at +4 with SCTLR_EL1.A = 0");
    check(last_trap.count == 1 && (last_trap.esr & 0x3f) == 0x21, "LDXR at +4: alignment fault whatever SCTLR_EL1.A");
    mmu_disable();
    write_sysreg(sctlr_el1, sctlr);
    isb();

    printf("PC alignment\n");
    trap_arm(RESUME_LR);
    probe_exec((u64)nop_target + 2);
    trap_print("BR to a misaligned address");
    check(last_trap.count == 1 && ESR_EC(last_trap.esr) == EC_PC_ALIGN && last_trap.far == (u64)nop_target + 2
          && last_trap.elr == (u64)nop_target + 2, "PC alignment fault (EC 0x22), FAR = ELR = the target");

    trap_disarm();
}

/*
 * What the architecture requires and QEMU 7.2 does not do (README.md, "Where QEMU 7.2 departs from the
 * architecture"): only with the bootarg "strict", so that the default output is QEMU's.
 */
static void test_strict(void)
{
    u64 base = (u64)scratch;
    printf("strict: alignment, MMU off (Device-nGnRnE memory)\n");
    trap_arm(RESUME_LR);
    trap_x0 = 0xdead;
    probe_load64(base + 1);
    trap_print("LDR X at +1, MMU off");
    check(last_trap.count == 1 && (last_trap.esr & 0x3f) == 0x21 && last_trap.far == base + 1,
          "unaligned access to Device memory: alignment fault whatever SCTLR_EL1.A (DFSC 0x21)");

    printf("strict: SP alignment\n");
    check((read_sysreg(sctlr_el1) & SCTLR_SA) != 0, "SCTLR_EL1.SA is set at reset");
    trap_arm(RESUME_AT);
    trap_resume_address = (u64)sp_align_resume;
    do_sp_align(base + 8);
    trap_print("LDR through a misaligned SP_EL0");
    check(last_trap.count == 1 && last_trap.esr == 0x9a000000 && last_trap.vector == VEC_CUR_SP0,
          "SP alignment fault: ESR 0x9a000000 (EC 0x26), vector current EL with SP0");
    check(last_trap.sp_el0 == base + 8, "  SP_EL0 as the faulting code left it");
    trap_disarm();
}

static void test_illegal_return(void)
{
    printf("illegal exception return\n");
    trap_arm(RESUME_NEXT);
    do_illegal_return();
    trap_print("ERET to EL2 from EL1");
    check(last_trap.count == 1 && ESR_EC(last_trap.esr) == EC_ILLEGAL, "ERET to an unimplemented EL: Illegal "
          "Execution state exception (EC 0x0e)");
    check((last_trap.spsr & BIT(20)) != 0 && (last_trap.spsr & 0xf) == 5,
          "  SPSR_EL1.IL set, mode still EL1h (0x%08lx)", last_trap.spsr);
    trap_disarm();
}

int main(void)
{
    printf("exceptions: synchronous exceptions at EL1\n");
    check((read_sysreg(vbar_el1) & 0x7ff) == 0, "VBAR_EL1 is 2 KiB aligned");
    test_svc();
    test_brk_udf();
    test_hvc_smc();
    test_aborts();
    test_alignment();
    test_illegal_return();
    if (bootarg("strict") != NULL) {
        test_strict();
    }
    return check_summary("exceptions");
}
