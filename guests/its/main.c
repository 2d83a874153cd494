/*
 * its: the GICv3 ITS and LPIs (IHI 0069 chapter 5), modelled on kvm-unit-tests' arm/gic.c ITS tests:
 * identification, LPI configuration and pending tables, MAPD/MAPC/MAPTI/MAPI, INT, INV/INVALL, MOVI, MOVALL,
 * DISCARD, CLEAR, SYNC, a wrapping command queue, MSIs written to GITS_TRANSLATER (the way a device in MSI mode
 * raises them; a CPU's write carries DeviceID 0 on QEMU), and GITS_CTLR.Enabled. Runs with -smp 2.
 */
#include "rt.h"
#include "check.h"
#include "gic.h"
#include "timer.h"

#define LPI(n) (LPI_BASE + (n))
#define TRACKED 512

static struct its its;
static volatile u32 lpi_counts[MAX_CPUS][TRACKED];
static volatile int stop;
static volatile int cpu1_pmr_request = -1;
static u8 *cpu1_pending;

static void lpi_handler(u32 intid, void *arg)
{
    lpi_counts[this_cpu()->index][intid - LPI_BASE]++;
}

static void sgi_handler(u32 intid, void *arg)
{
    if (cpu1_pmr_request >= 0) {
        write_sysreg(icc_pmr_el1, (u64)cpu1_pmr_request);
        cpu1_pmr_request = -1;
    }
}

static void secondary(void *arg)
{
    /* LPIs on with a pending table prepared by cpu 0 (PTZ = 0): the bits already set are pending LPIs. */
    gic_lpi_enable_cpu(cpu1_pending);
    gic_set_priority(1, 0x80);   /* above the LPIs' 0xa0, so that PMR 0x90 masks LPIs but not this SGI */
    gic_enable(1);
    irq_enable();
    while (READ_ONCE(stop) == 0) {
        wfi();
    }
    irq_disable();
}

static u32 count(int cpu, u32 intid)
{
    return lpi_counts[cpu][intid - LPI_BASE];
}

/* Waits up to 1 s until cpu has taken intid n times, then a little longer so that extra deliveries show. */
static bool wait_count(int cpu, u32 intid, u32 n)
{
    u64 start = timer_now();
    while (count(cpu, intid) < n) {
        if (timer_now() - start > ns_to_ticks(1000000000)) {
            return false;
        }
        cpu_relax();
    }
    udelay(5000);
    return count(cpu, intid) == n;
}

static void quiet(void)
{
    udelay(20000);  /* time for an LPI that should not come */
}

static void test_identification(void)
{
    printf("identification\n");
    /* Implementation-defined values only with "verbose": the default output is what every GICv3 ITS prints. */
    bool verbose = bootarg("verbose") != NULL;
    u64 typer = mmio_read64(its.base + GITS_TYPER);
    if (verbose) {
        printf("  GITS_TYPER 0x%016lx: Physical %lu, ITT entry size %lu, EventID bits %lu, DeviceID bits %lu, PTA %lu,"
               " CIL %lu\n", typer, typer & 1, FIELD(typer, 7, 4) + 1, FIELD(typer, 12, 8) + 1,
               FIELD(typer, 17, 13) + 1, FIELD(typer, 19, 19), FIELD(typer, 36, 36));
    }
    check((typer & 1) == 1, "GITS_TYPER.Physical = 1");
    check(FIELD(typer, 12, 8) + 1 >= 14 && FIELD(typer, 17, 13) + 1 >= 12,
          "GITS_TYPER: EventID bits >= 14, DeviceID bits >= 12 (what this test maps)");
    check(FIELD(mmio_read32(its.base + GITS_PIDR2), 7, 4) == 3, "GITS_PIDR2.ArchRev = 3");
    for (int n = 0; n < 8; n++) {
        u64 v = mmio_read64(its.base + GITS_BASER + 8 * (u64)n);
        if (verbose && FIELD(v, 58, 56) != 0) {
            printf("  GITS_BASER%d: type %lu (%s), entry size %lu, page size code %lu, valid %lu\n", n,
                   FIELD(v, 58, 56), FIELD(v, 58, 56) == 1 ? "devices" : FIELD(v, 58, 56) == 4 ? "collections" : "?",
                   FIELD(v, 52, 48) + 1, FIELD(v, 9, 8), v >> 63);
        }
    }
    check(its.device_table != 0 && its.collection_table != 0, "a device table and a collection table are set up");
    u32 ctlr = mmio_read32(its.base + GITS_CTLR);
    check((ctlr & GITS_CTLR_ENABLED) != 0 && (ctlr & GITS_CTLR_QUIESCENT) != 0, "GITS_CTLR: Enabled, Quiescent");
    u64 cbaser = mmio_read64(its.base + GITS_CBASER);
    check((cbaser >> 63) == 1 && (cbaser & 0xff) == 0, "GITS_CBASER: valid, one 4 KiB page (128 commands)");
}

static void test_pending_table(void)
{
    printf("pending table read when LPIs are enabled (cpu 1, PTZ = 0)\n");
    check(wait_count(1, LPI(300), 1), "cpu 1 took LPI 8492, pending in its table before EnableLPIs");
    u32 got = 0;
    for (u32 i = 300; i < 316; i++) {
        got += count(1, LPI(i));
    }
    check(got == 16, "all 16 LPIs marked in the pending table were taken once (%u)", got);
    u32 on_cpu0 = 0;
    for (u32 i = 300; i < 316; i++) {
        on_cpu0 += count(0, LPI(i));
    }
    check(on_cpu0 == 0, "none on cpu 0");
}

static void test_translation(int n)
{
    printf("MAPD, MAPC, MAPTI, INT\n");
    check(its_mapd(&its, 2, 8, true) && its_mapd(&its, 7, 8, true), "MAPD device 2 and 7 (8 EventID bits)");
    check(its_mapc(&its, 0, 0, true) && its_mapc(&its, 1, n > 1 ? 1 : 0, true), "MAPC collection 0 -> cpu 0, "
          "1 -> cpu 1");
    gic_lpi_config(LPI(3), 0xa0, true);
    gic_lpi_config(LPI(4), 0xa0, true);
    check(its_mapti(&its, 2, 20, LPI(3), 1) && its_mapti(&its, 7, 255, LPI(4), 0),
          "MAPTI (2, 20) -> 8195 on collection 1, (7, 255) -> 8196 on collection 0");
    check(its_invall(&its, 0) && its_invall(&its, 1) && its_sync(&its, 0), "INVALL, SYNC");
    its_int(&its, 2, 20);
    check(wait_count(1, LPI(3), 1) && count(0, LPI(3)) == 0, "INT (2, 20): cpu 1 takes LPI 8195 once");
    its_int(&its, 7, 255);
    check(wait_count(0, LPI(4), 1) && count(1, LPI(4)) == 0, "INT (7, 255): cpu 0 takes LPI 8196 once");

    printf("configuration table: INV and INVALL\n");
    gic_lpi_config(LPI(3), 0xa0, false);
    its_inv(&its, 2, 20);
    its_int(&its, 2, 20);
    quiet();
    check(count(1, LPI(3)) == 1, "LPI disabled (0xa2) + INV: INT is not delivered");
    gic_lpi_config(LPI(3), 0xa0, true);
    its_invall(&its, 1);
    check(wait_count(1, LPI(3), 2), "re-enabled + INVALL: the latched LPI arrives, once");

    printf("MSIs through GITS_TRANSLATER (a CPU's write: DeviceID 0)\n");
    /* The udp guests' MSI set-up for a NIC: EventID q -> one LPI per queue, EventID 2 the configuration change. */
    check(its_map_device_events(&its, 0, 3, LPI(200), 0, 0, 0xa0), "MAPD/MAPC/MAPTI of device 0, EventIDs 0..2 -> "
          "LPIs 8392..8394 on cpu 0");
    for (u32 e = 0; e < 3; e++) {
        its_translater_write(&its, e);
        check(wait_count(0, LPI(200 + e), 1), "GITS_TRANSLATER <- %u: cpu 0 takes LPI %u", e, LPI(200 + e));
    }
    its_translater_write(&its, 3);
    quiet();
    check(count(0, LPI(203)) == 0, "EventID 3 (not mapped): nothing");

    printf("MOVI, DISCARD, MAPD V=0, MAPI, CLEAR\n");
    its_movi(&its, 7, 255, 1);
    its_int(&its, 7, 255);
    check(wait_count(1, LPI(4), 1), "MOVI (7, 255) to collection 1: cpu 1 takes 8196");
    its_discard(&its, 7, 255);
    its_int(&its, 7, 255);
    quiet();
    check(count(1, LPI(4)) == 1 && count(0, LPI(4)) == 1, "DISCARD (7, 255), INT: nothing");
    its_mapd(&its, 2, 8, false);
    its_int(&its, 2, 20);
    quiet();
    check(count(1, LPI(3)) == 2, "MAPD device 2 V=0, INT (2, 20): nothing");
    check((mmio_read64(its.base + GITS_CREADR) & 1) == 0, "commands on unmapped devices do not stall the queue");
    its_mapd(&its, 9, 14, true);
    gic_lpi_config(LPI(20), 0xa0, true);
    its_mapi(&its, 9, LPI(20), 0);
    its_inv(&its, 9, LPI(20));
    its_int(&its, 9, LPI(20));
    check(wait_count(0, LPI(20), 1), "MAPI (9, 8212) (pINTID = EventID), INT: cpu 0 takes 8212");
    irq_disable();
    its_int(&its, 9, LPI(20));
    its_clear(&its, 9, LPI(20));
    its_sync(&its, 0);
    irq_enable();
    quiet();
    check(count(0, LPI(20)) == 1, "INT then CLEAR with IRQs masked: nothing taken");
}

static void test_movall(void)
{
    printf("MOVALL\n");
    /* cpu 1 masks priority 0xa0 (PMR 0x90), so an LPI targeted at it stays pending there. */
    cpu1_pmr_request = 0x90;
    u64 cpu1 = cpus[1].mpidr;
    gic_send_sgi(1, &cpu1, 1, false);
    udelay(10000);
    its_mapd(&its, 11, 8, true);
    gic_lpi_config(LPI(30), 0xa0, true);
    its_mapti(&its, 11, 1, LPI(30), 1);
    its_inv(&its, 11, 1);
    its_int(&its, 11, 1);
    quiet();
    check(count(1, LPI(30)) == 0 && count(0, LPI(30)) == 0, "LPI 8222 pending at cpu 1 (PMR 0x90): not taken");
    its_movall(&its, 1, 0);
    its_mapc(&its, 1, 0, true);
    check(wait_count(0, LPI(30), 1), "MOVALL cpu 1 -> cpu 0 (and MAPC collection 1 -> cpu 0): cpu 0 takes it");
    cpu1_pmr_request = 0xff;
    gic_send_sgi(1, &cpu1, 1, false);
    quiet();
    check(count(1, LPI(30)) == 0, "cpu 1 does not take it after unmasking");
}

static void test_queue_wrap(void)
{
    printf("command queue wrap\n");
    u64 before = its.commands;
    bool ok = true;
    for (int i = 0; i < 200; i++) {
        ok &= its_sync(&its, 0);
    }
    u64 creadr = mmio_read64(its.base + GITS_CREADR);
    check(ok && its.commands - before == 200, "200 SYNCs through a 128-command queue");
    check(creadr == its.cwriter && (creadr & 1) == 0, "CREADR = CWRITER = 0x%lx after wrapping", creadr);
    its_int(&its, 0, 0);
    check(wait_count(0, LPI(200), 2), "and INT still works");
}

static void test_disable(void)
{
    printf("GITS_CTLR.Enabled\n");
    mmio_write32(its.base + GITS_CTLR, mmio_read32(its.base + GITS_CTLR) & ~GITS_CTLR_ENABLED);
    u64 start = timer_now();
    while ((mmio_read32(its.base + GITS_CTLR) & GITS_CTLR_QUIESCENT) == 0
           && timer_now() - start < ns_to_ticks(1000000000)) {
        cpu_relax();
    }
    check((mmio_read32(its.base + GITS_CTLR) & (GITS_CTLR_ENABLED | GITS_CTLR_QUIESCENT)) == GITS_CTLR_QUIESCENT,
          "disabled and quiescent");
    its_translater_write(&its, 1);
    quiet();
    check(count(0, LPI(201)) == 1, "an MSI while the ITS is disabled is dropped");
    mmio_write32(its.base + GITS_CTLR, mmio_read32(its.base + GITS_CTLR) | GITS_CTLR_ENABLED);
    its_translater_write(&its, 1);
    check(wait_count(0, LPI(201), 2), "enabled again: the next MSI arrives");
}

int main(void)
{
    int n = cpu_count();
    printf("its: the ITS and LPIs, %d CPUs\n", n);
    require_cpus(2, "2 CPUs (-smp 2)");
    gic_init();
    check(gic.lpis && gic.nits > 0, "GICD_TYPER.LPIS = 1 and the device tree has an ITS (%d)", gic.nits);
    if (!its_init(&its, gic.its[0], 1)) {
        return check_summary("its");
    }
    for (u32 i = 0; i < TRACKED; i++) {
        gic_set_handler(LPI(i), lpi_handler, NULL);
    }
    gic_set_handler(1, sgi_handler, NULL);
    gic_lpi_init();
    /* cpu 1's pending table: LPIs 8492..8507 already pending (and enabled in the configuration table). */
    cpu1_pending = rt_alloc((1UL << LPI_ID_BITS) / 8, 0x10000);
    for (u32 i = 300; i < 316; i++) {
        gic_lpi_config(LPI(i), 0xa0, true);
        cpu1_pending[LPI(i) / 8] |= (u8)(1u << (LPI(i) % 8));
    }
    dsb(ish);
    gic_lpi_enable_cpu(NULL);
    irq_enable();
    test_identification();
    cpu_start(1, secondary, NULL);
    cpu_wait_state(1, CPU_STATE_RUNNING, 2000000000ULL);
    test_pending_table();
    test_translation(n);
    test_movall();
    test_queue_wrap();
    test_disable();
    irq_disable();
    WRITE_ONCE(stop, 1);
    u64 cpu1 = cpus[1].mpidr;
    gic_send_sgi(1, &cpu1, 1, false);
    check(cpu_wait_state(1, CPU_STATE_DONE, 2000000000ULL), "cpu 1 stopped");
    return check_summary("its");
}
