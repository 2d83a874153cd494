/*
 * psci: the board's PSCI firmware beyond what smp checks (Arm DEN 0022D, PSCI 1.0, and QEMU 7.2's answers):
 * PSCI_FEATURES of every function id of PSCI 1.1's table and SMCCC's, the functions QEMU does not implement, CPU_ON
 * with arguments it must refuse (bits outside the affinity fields, an Aff3 no CPU has, an entry that is not 4-byte
 * aligned) and of a CPU that runs, AFFINITY_INFO at every affinity level, CPU_SUSPEND refusing a power_state with
 * affinity levels and, as QEMU implements it, sleeping like WFI until the timer fires (interrupts masked), 20,000
 * calls with hostile arguments whose answers are counted by code, and SYSTEM_RESET: the guest boots again with its
 * RAM kept (QEMU's reset copies its ROM blobs again and leaves RAM), finds its boot count in the last page of RAM,
 * and powers off. Runs with -smp 2.
 *
 * Bootarg invalid-entry (jvmm only: QEMU starts a CPU wherever it is told and aborts when it fetches from a device):
 * also CPU_ON with an entry outside RAM, which PSCI 1.0 answers INVALID_ADDRESS.
 */
#include "rt.h"
#include "check.h"
#include "gic.h"
#include "psci.h"
#include "timer.h"

#define PSCI_CPU_SUSPEND32 0x84000001u
#define PSCI_CPU_ON32 0x84000003u
#define PSCI_AFFINITY_INFO32 0x84000004u
#define PSCI_MIGRATE32 0x84000005u
#define PSCI_MIGRATE_INFO_UP_CPU 0x84000007u
#define PSCI_MIGRATE_INFO_UP_CPU64 0xc4000007u
#define PSCI_SYSTEM_RESET2 0x84000012u
#define SMCCC_VERSION 0x80000000u

#define MARKER_MAGIC 0x7073636952455345ULL  /* "ESERicsp" */

/* The boot count, in the last page of RAM: outside the image, the heap and the device tree. */
struct marker {
    u64 magic;
    u64 boots;
    u64 failures;
};

static volatile int release_cpu1;

static struct marker *marker(void)
{
    return (struct marker *)(ram_base() + ram_size() - 4096);
}

static void marker_clean(struct marker *m)
{
    dsb(ish);
    __asm__ volatile("dc civac, %0" : : "r"(m) : "memory");
    dsb(sy);
}

static const struct { u32 fn; const char *name; } table[] = {
    { 0x84000000u, "PSCI_VERSION" }, { 0x84000001u, "CPU_SUSPEND (SMC32)" }, { 0xc4000001u, "CPU_SUSPEND" },
    { 0x84000002u, "CPU_OFF" }, { 0x84000003u, "CPU_ON (SMC32)" }, { 0xc4000003u, "CPU_ON" },
    { 0x84000004u, "AFFINITY_INFO (SMC32)" }, { 0xc4000004u, "AFFINITY_INFO" }, { 0x84000005u, "MIGRATE (SMC32)" },
    { 0xc4000005u, "MIGRATE" }, { 0x84000006u, "MIGRATE_INFO_TYPE" }, { 0x84000007u, "MIGRATE_INFO_UP_CPU (SMC32)" },
    { 0xc4000007u, "MIGRATE_INFO_UP_CPU" }, { 0x84000008u, "SYSTEM_OFF" }, { 0x84000009u, "SYSTEM_RESET" },
    { 0x8400000au, "PSCI_FEATURES" }, { 0x8400000bu, "CPU_FREEZE" }, { 0xc400000cu, "CPU_DEFAULT_SUSPEND" },
    { 0xc400000du, "NODE_HW_STATE" }, { 0xc400000eu, "SYSTEM_SUSPEND" }, { 0x8400000fu, "PSCI_SET_SUSPEND_MODE" },
    { 0xc4000010u, "PSCI_STAT_RESIDENCY" }, { 0xc4000011u, "PSCI_STAT_COUNT" }, { 0xc4000012u, "SYSTEM_RESET2" },
    { 0x84000013u, "MEM_PROTECT" }, { 0xc4000014u, "MEM_PROTECT_CHECK_RANGE" }, { 0x80000000u, "SMCCC_VERSION" },
    { 0x80000001u, "SMCCC_ARCH_FEATURES" },
};

static void test_features(void)
{
    printf("PSCI_FEATURES\n");
    for (unsigned i = 0; i < ARRAY_SIZE(table); i++) {
        s64 r = psci_call(PSCI_FEATURES, table[i].fn, 0, 0);
        printf("  %-28s 0x%08x: %ld\n", table[i].name, table[i].fn, r);
    }
    check(psci_call(PSCI_MIGRATE, 1, 0, 0) == PSCI_NOT_SUPPORTED, "MIGRATE: NOT_SUPPORTED");
    check(psci_call(PSCI_MIGRATE_INFO_UP_CPU64, 0, 0, 0) == PSCI_NOT_SUPPORTED,
          "MIGRATE_INFO_UP_CPU: NOT_SUPPORTED (MIGRATE_INFO_TYPE says no Trusted OS needs it)");
    check(psci_call(PSCI_SYSTEM_RESET2, 0, 0, 0) == PSCI_NOT_SUPPORTED, "SYSTEM_RESET2: NOT_SUPPORTED, no reset");
    check(psci_call(SMCCC_VERSION, 0, 0, 0) == PSCI_NOT_SUPPORTED, "SMCCC_VERSION: NOT_SUPPORTED (SMCCC 1.0)");
}

static void secondary(void *arg)
{
    while (READ_ONCE(release_cpu1) == 0) {
        wfe();
    }
}

static void test_cpu_on(void)
{
    printf("CPU_ON and AFFINITY_INFO\n");
    u64 mpidr1 = cpus[1].mpidr;
    extern void secondary_entry(void);
    u64 entry = (u64)secondary_entry;
    s64 r = psci_call(PSCI_CPU_ON, mpidr1 | BIT(31), entry, 0);
    check(r == PSCI_INVALID_PARAMETERS, "CPU_ON with MPIDR bit 31 set (not an affinity field): %s",
          psci_error_name(r));
    r = psci_call(PSCI_CPU_ON, mpidr1 | (1UL << 32), entry, 0);
    check(r == PSCI_INVALID_PARAMETERS, "CPU_ON of Aff3 1 (no such CPU): %s", psci_error_name(r));
    r = psci_call(PSCI_CPU_ON, mpidr1, entry + 2, 0);
    check(r == PSCI_INVALID_PARAMETERS, "CPU_ON with an entry that is not 4-byte aligned: %s", psci_error_name(r));
    r = psci_call(PSCI_AFFINITY_INFO, mpidr1, 0, 0);
    check(r == 1, "AFFINITY_INFO(cpu 1) after refused CPU_ONs: OFF (%ld)", r);
    if (bootarg("invalid-entry") != NULL) {
        r = psci_call(PSCI_CPU_ON, mpidr1, 0x08000000, 0);
        check(r == PSCI_INVALID_ADDRESS, "CPU_ON with an entry outside RAM (0x8000000): %s", psci_error_name(r));
    }
    /* A second CPU_ON before cpu 1 runs is not checked: PSCI answers ON_PENDING (jvmm does), QEMU 7.2 has no such
     * state and answers SUCCESS (and starts the CPU again) or ALREADY_ON, depending on timing. */
    r = cpu_start(1, secondary, NULL);
    check(r == PSCI_SUCCESS, "CPU_ON(cpu 1): SUCCESS");
    check(cpu_wait_state(1, CPU_STATE_RUNNING, 2000000000ULL), "cpu 1 runs");
    r = psci_call(PSCI_CPU_ON, mpidr1, entry, 0);
    check(r == PSCI_ALREADY_ON, "CPU_ON(cpu 1) while it runs: %s", psci_error_name(r));
    r = psci_call(PSCI_AFFINITY_INFO32, mpidr1, 0, 0);
    check(r == 0, "AFFINITY_INFO (SMC32) of cpu 1: ON (%ld)", r);
    for (u64 level = 1; level <= 3; level++) {
        r = psci_call(PSCI_AFFINITY_INFO, mpidr1, level, 0);
        check(r == 0, "AFFINITY_INFO(cpu 1, level %lu): ON (%ld)", level, r);
    }
    r = psci_call(PSCI_AFFINITY_INFO, 0xff, 0, 0);
    check(r == PSCI_INVALID_PARAMETERS, "AFFINITY_INFO of a CPU that does not exist: %s", psci_error_name(r));
}

static void test_cpu_suspend(void)
{
    printf("CPU_SUSPEND\n");
    s64 r = psci_call(PSCI_CPU_SUSPEND, 0x20000, 0, 0);
    check(r == PSCI_INVALID_PARAMETERS, "CPU_SUSPEND(power_state 0x20000, affinity level 1): %s",
          psci_error_name(r));
    r = psci_call(PSCI_CPU_SUSPEND32, 0x40000000, 0, 0);
    check(r == PSCI_INVALID_PARAMETERS, "CPU_SUSPEND (SMC32) with power_state bit 30: %s", psci_error_name(r));
    /* The virtual timer 10 ms ahead, its PPI enabled in the GIC, IRQs masked at the CPU: CPU_SUSPEND sleeps as WFI
     * does until the interrupt is pending, and returns SUCCESS without taking it. */
    int ppi = timer_virt_intid();
    gic_enable((u32)ppi);
    irq_disable();
    u64 deadline = timer_now() + ns_to_ticks(10000000);
    write_sysreg(cntv_cval_el0, deadline);
    write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE);
    isb();
    int calls = 0;
    bool ok = true;
    while ((read_sysreg(cntv_ctl_el0) & CNT_CTL_ISTATUS) == 0 && calls < 1000) {
        r = psci_call(PSCI_CPU_SUSPEND, 0, 0, 0);
        ok &= r == PSCI_SUCCESS;
        calls++;
    }
    check(ok && calls >= 1, "CPU_SUSPEND(0): SUCCESS");
    check((read_sysreg(cntv_ctl_el0) & CNT_CTL_ISTATUS) != 0 && timer_now() >= deadline,
          "it returned once the timer fired (a WFI woken by the pending interrupt)");
    write_sysreg(cntv_ctl_el0, 0);
    isb();
    gic_disable((u32)ppi);
    gic_clear_pending((u32)ppi);
}

/* 20,000 calls with hostile arguments, answers counted by code: every one must be a code PSCI defines. */
static void test_hammer(void)
{
    printf("20000 calls with hostile arguments\n");
    static const u32 ids[] = { 0x84000000u, 0x8400000au, 0x84000004u, 0xc4000004u, 0x84000006u, 0x84000005u,
                               0xc4000005u, 0x84000007u, 0x84000003u, 0xc4000003u, 0x84000001u, 0xc4000001u,
                               0x84000013u, 0x8400001fu, 0x840000ffu, 0xc6000000u, 0x12345678u, 0x80000001u };
    u64 seed = 0x2545f4914f6cdd1dULL;
    u64 counts[12] = { 0 };   /* index: -code for codes 0..-9, 10: a positive answer, 11: anything else */
    for (int i = 0; i < 20000; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        u32 fn = ids[seed % ARRAY_SIZE(ids)];
        u64 a1 = (u32)(seed >> 8), a2 = (u32)(seed >> 20), a3 = seed >> 32;
        switch (fn) {
        case 0x84000004u: case 0xc4000004u:
            a1 = (seed >> 40) % 4 == 0 ? cpus[seed % 2].mpidr : a1;   /* sometimes a CPU that exists */
            a2 = (seed >> 50) % 4;                                    /* levels 0..3 */
            break;
        case 0x84000003u: case 0xc4000003u:
            a1 |= BIT(31);                                            /* never a CPU that exists */
            break;
        case 0x84000001u: case 0xc4000001u:
            a1 |= 0x20000;                                            /* never a state that suspends */
            break;
        default:
            break;
        }
        s64 r = psci_call(fn, a1, a2, a3);
        if (r <= 0 && r >= -9) {
            counts[-r]++;
        } else if (r == 1 || r == 2 || r == 0x10001) {
            counts[10]++;
        } else {
            counts[11]++;
        }
    }
    printf("  SUCCESS/ON %lu, NOT_SUPPORTED %lu, INVALID_PARAMETERS %lu, ALREADY_ON %lu, OFF/MIGRATE_INFO_TYPE/"
           "VERSION %lu, other %lu\n", counts[0], counts[1], counts[2], counts[4], counts[10], counts[11]);
    check(counts[11] == 0 && counts[3] == 0 && counts[5] == 0 && counts[6] == 0 && counts[9] == 0,
          "every answer is one PSCI defines for the call");
    check(psci_call(PSCI_AFFINITY_INFO, cpus[1].mpidr, 0, 0) == 0, "cpu 1 still runs");
}

int main(void)
{
    struct marker *m = marker();
    bool second = m->magic == MARKER_MAGIC;
    u64 boot = second ? m->boots + 1 : 1;
    printf("psci: %d CPUs, boot %lu\n", cpu_count(), boot);
    gic_init();
    if (!second) {
        test_features();
        test_cpu_on();
        test_cpu_suspend();
        test_hammer();
        WRITE_ONCE(release_cpu1, 1);
        dsb(ish);
        sev();
        check(cpu_wait_state(1, CPU_STATE_DONE, 2000000000ULL), "cpu 1 returned and called CPU_OFF");
        u64 t0 = timer_now();
        s64 r;
        while ((r = psci_call(PSCI_AFFINITY_INFO, cpus[1].mpidr, 0, 0)) != 1 && timer_now() - t0 < ns_to_ticks(1000000000)) {
            cpu_relax();
        }
        check(r == 1, "AFFINITY_INFO(cpu 1) after its CPU_OFF: OFF");
        m->magic = MARKER_MAGIC;
        m->boots = 1;
        m->failures = (u64)check_failures();
        marker_clean(m);
        printf("boot 1: %d failed; PSCI SYSTEM_RESET\n", check_failures());
        r = psci_call(PSCI_SYSTEM_RESET, 0, 0, 0);
        check(false, "SYSTEM_RESET returned %ld", r);
        return check_summary("psci");
    }
    printf("after SYSTEM_RESET\n");
    check(boot == 2, "the boot count in RAM survived the reset (boot %lu)", boot);
    check(psci_call(PSCI_AFFINITY_INFO, cpus[1].mpidr, 0, 0) == 1, "cpu 1 is off again after the reset");
    WRITE_ONCE(release_cpu1, 1);
    check(cpu_start(1, secondary, NULL) == PSCI_SUCCESS && cpu_wait_state(1, CPU_STATE_DONE, 2000000000ULL),
          "cpu 1 starts again with CPU_ON");
    u64 failures_before = m->failures;
    m->magic = 0;
    marker_clean(m);
    check(failures_before == 0, "boot 1 had no failed check");
    return check_summary("psci");
}
