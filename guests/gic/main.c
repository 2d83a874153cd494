/*
 * gic: the GICv3 distributor, redistributors and CPU interface (IHI 0069): identification, SGIs between CPUs
 * (ICC_SGI1R_EL1 target lists and IRM), SPIs raised by GICD_ISPENDR with routing (GICD_IROUTER) and enables,
 * priorities, the priority mask, preemption, active state, EOImode 1 with ICC_DIR_EL1, spurious acknowledges.
 * Runs with -smp 4 (works with 2..8).
 */
#include "rt.h"
#include "check.h"
#include "gic.h"
#include "timer.h"

#define SPI_A 100
#define SPI_B 101
#define SPI_C 102
#define SPI_D 103
#define SPI_E 104
#define SPI_F 105

static volatile u32 counts[MAX_CPUS][128];   /* per CPU, per INTID below 128 */
static volatile int stop;
static u32 order_log[16];
static volatile int order_len;
static volatile u64 rpr_seen;

static void count_handler(u32 intid, void *arg)
{
    counts[this_cpu()->index][intid]++;
}

static void log_handler(u32 intid, void *arg)
{
    order_log[order_len++] = intid;
}

static void secondary_loop(void *arg)
{
    irq_enable();
    while (READ_ONCE(stop) == 0) {
        wfi();
    }
    irq_disable();
}

static u32 total(u32 intid)
{
    u32 t = 0;
    for (int c = 0; c < cpu_count(); c++) {
        t += counts[c][intid];
    }
    return t;
}

/* Waits until `intid` has been taken `n` times in total (any CPU), up to 1 s. */
static bool wait_total(u32 intid, u32 n)
{
    u64 start = timer_now();
    while (total(intid) < n) {
        if (timer_now() - start > ns_to_ticks(1000000000)) {
            return false;
        }
        cpu_relax();
    }
    udelay(2000);  /* let a wrong second delivery show up */
    return true;
}

static void print_log(const char *what)
{
    printf("  %s:", what);
    for (int i = 0; i < order_len; i++) {
        printf(" %u", order_log[i]);
    }
    printf("\n");
}

static void test_identification(int n)
{
    printf("identification\n");
    /* Implementation-defined values only with "verbose": the default output is what every GICv3 prints. */
    bool verbose = bootarg("verbose") != NULL;
    u32 typer = mmio_read32(gic.gicd + GICD_TYPER);
    if (verbose) {
        printf("  GICD_TYPER 0x%08x: ITLinesNumber %lu (SPIs up to INTID %d), IDbits %lu, LPIS %lu, MBIS %lu\n", typer,
               FIELD(typer, 4, 0), gic.max_intid, FIELD(typer, 23, 19) + 1, FIELD(typer, 17, 17),
               FIELD(typer, 16, 16));
    }
    check(FIELD(mmio_read32(gic.gicd + GICD_PIDR2), 7, 4) == 3, "GICD_PIDR2.ArchRev = 3 (GICv3)");
    u32 ctlr = mmio_read32(gic.gicd + GICD_CTLR);
    check((ctlr & (GICD_CTLR_ARE | GICD_CTLR_ENABLE_G1 | GICD_CTLR_DS)) == (GICD_CTLR_ARE | GICD_CTLR_ENABLE_G1
                                                                           | GICD_CTLR_DS),
          "GICD_CTLR: DS (one security state), ARE and EnableGrp1 set (0x%x)", ctlr);
    int found = 0;
    for (int i = 0; i < n; i++) {
        u64 rd = gic_find_redist(cpus[i].mpidr);
        u64 t = rd != 0 ? mmio_read64(rd + GICR_TYPER) : 0;
        printf("  cpu %d: redistributor at 0x%lx, GICR_TYPER affinity 0x%lx, Processor_Number %lu, Last %lu, "
               "PLPIS %lu\n", i, rd, t >> 32, FIELD(t, 23, 8), FIELD(t, 4, 4), t & 1);
        if (verbose) {
            printf("    GICR_TYPER 0x%016lx\n", t);
        }
        found += rd != 0 && FIELD(mmio_read32(rd + GICR_PIDR2), 7, 4) == 3 && FIELD(t, 23, 8) == (u64)i;
    }
    check(found == n, "one GICv3 redistributor per CPU, Processor_Number = CPU index");
    check(gic.max_intid > SPI_F, "the test SPIs %d..%d exist", SPI_A, SPI_F);
    u64 icc_ctlr = read_sysreg(icc_ctlr_el1);
    if (verbose) {
        printf("  ICC_CTLR_EL1 0x%lx: PRIbits %lu, IDbits %lu, SEIS %lu, A3V %lu\n", icc_ctlr,
               FIELD(icc_ctlr, 10, 8) + 1, FIELD(icc_ctlr, 13, 11), FIELD(icc_ctlr, 14, 14), FIELD(icc_ctlr, 15, 15));
    }
    check(FIELD(icc_ctlr, 10, 8) + 1 >= 5, "ICC_CTLR_EL1.PRIbits: at least 5 priority bits (the test uses 0x80..0xc0)");
    check((read_sysreg(icc_sre_el1) & 1) == 1, "ICC_SRE_EL1.SRE = 1: the CPU interface through system registers");
    check(read_sysreg(icc_rpr_el1) == 0xff, "ICC_RPR_EL1 = 0xff when idle");
    check((read_sysreg(icc_iar1_el1) & 0xffffff) == INTID_SPURIOUS, "ICC_IAR1_EL1 with nothing pending: 1023");
}

static void test_sgis(int n)
{
    printf("SGIs\n");
    for (u32 i = 0; i < 16; i++) {
        gic_set_handler(i, count_handler, NULL);
    }
    /* Enable SGIs 1..3 on every CPU (banked in each redistributor). */
    for (int c = 0; c < n; c++) {
        u64 sgi = gic_find_redist(cpus[c].mpidr) + GICR_SGI_BASE;
        mmio_write32(sgi + GICD_ISENABLER, 0xe);
    }
    u64 me = cpus[0].mpidr;
    irq_enable();
    gic_send_sgi(1, &me, 1, false);
    check(wait_total(1, 1) && counts[0][1] == 1, "SGI 1 to self (target list): taken once by cpu 0");
    for (int c = 1; c < n; c++) {
        gic_send_sgi(2, &cpus[c].mpidr, 1, false);
        wait_total(2, (u32)c);
        check(counts[c][2] == 1 && total(2) == (u32)c, "SGI 2 to cpu %d only", c);
    }
    u64 all[MAX_CPUS];
    for (int c = 0; c < n; c++) {
        all[c] = cpus[c].mpidr;
    }
    gic_send_sgi(3, all, n, false);
    wait_total(3, (u32)n);
    bool each = true;
    for (int c = 0; c < n; c++) {
        each &= counts[c][3] == 1;
    }
    check(each && total(3) == (u32)n, "SGI 3 to a target list of every CPU: each takes it once");
    gic_send_sgi(1, NULL, 0, true);
    wait_total(1, (u32)n);
    each = counts[0][1] == 1;
    for (int c = 1; c < n; c++) {
        each &= counts[c][1] == 1;
    }
    check(each && total(1) == (u32)n, "SGI 1 with IRM = 1: every other CPU once, not the sender");
    irq_disable();
}

static void test_spis(int n)
{
    printf("SPIs raised with GICD_ISPENDR\n");
    for (u32 i = SPI_A; i <= SPI_F; i++) {
        gic_set_handler(i, count_handler, NULL);
        gic_set_edge(i, true);
        gic_enable(i);
    }
    irq_enable();
    gic_set_pending(SPI_A);
    check(wait_total(SPI_A, 1) && counts[0][SPI_A] == 1, "edge SPI %d routed to cpu 0: taken once by cpu 0", SPI_A);
    gic_set_edge(SPI_A, false);
    gic_set_pending(SPI_A);
    check(wait_total(SPI_A, 2) && counts[0][SPI_A] == 2, "level SPI %d pended by GICD_ISPENDR: taken once", SPI_A);
    gic_set_edge(SPI_A, true);
    u32 icfgr = mmio_read32(gic.gicd + GICD_ICFGR + (SPI_A / 16) * 4);
    check(((icfgr >> ((SPI_A % 16) * 2 + 1)) & 1) == 1, "GICD_ICFGR reads back edge-triggered");

    int last = n - 1;
    gic_route(SPI_B, cpus[last].mpidr, false);
    check(mmio_read64(gic.gicd + GICD_IROUTER + 8 * SPI_B) == mpidr_affinity(cpus[last].mpidr),
          "GICD_IROUTER reads back cpu %d's affinity", last);
    gic_set_pending(SPI_B);
    check(wait_total(SPI_B, 1) && counts[last][SPI_B] == 1, "SPI %d routed to cpu %d: taken there", SPI_B, last);
    gic_route(SPI_B, 0, true);
    check((mmio_read64(gic.gicd + GICD_IROUTER + 8 * SPI_B) & GICD_IROUTER_IRM) != 0, "GICD_IROUTER.IRM reads back 1");
    gic_set_pending(SPI_B);
    check(wait_total(SPI_B, 2) && total(SPI_B) == 2, "SPI %d with IRM = 1 (1 of N): taken by exactly one CPU", SPI_B);
    gic_route(SPI_B, cpus[0].mpidr, false);

    gic_disable(SPI_C);
    gic_set_pending(SPI_C);
    udelay(5000);
    check(total(SPI_C) == 0 && gic_is_pending(SPI_C), "a disabled SPI stays pending (GICD_ISPENDR reads 1)");
    gic_enable(SPI_C);
    check(wait_total(SPI_C, 1) && !gic_is_pending(SPI_C), "enabling it delivers it once");
    gic_disable(SPI_C);
    gic_set_pending(SPI_C);
    gic_clear_pending(SPI_C);
    gic_enable(SPI_C);
    udelay(5000);
    check(total(SPI_C) == 1, "GICD_ICPENDR before enabling: not delivered");
    irq_disable();
}

/* SPI_D's handler: preempted by a higher priority SPI_C raised inside it. */
static void preempted_handler(u32 intid, void *arg)
{
    order_log[order_len++] = intid;
    rpr_seen = read_sysreg(icc_rpr_el1);
    irq_enable();
    gic_set_pending(SPI_C);   /* priority 0x80 */
    gic_set_pending(SPI_E);   /* priority 0xc0, as SPI_D: must wait */
    udelay(5000);
    irq_disable();
    order_log[order_len++] = intid + 1000;
}

/* SPI_B's handler pends SPI_B again: active and pending, delivered again after EOI. */
static int again;
static void again_handler(u32 intid, void *arg)
{
    order_log[order_len++] = intid;
    if (again++ == 0) {
        gic_set_pending(intid);
        udelay(2000);
        check(gic_is_active(intid) && gic_is_pending(intid), "  SPI %u is active and pending in its handler", intid);
    }
}

static void test_priorities(void)
{
    printf("priorities, masking and preemption (cpu 0)\n");
    for (u32 i = SPI_A; i <= SPI_F; i++) {
        gic_set_handler(i, log_handler, NULL);
        gic_route(i, cpus[0].mpidr, false);
        gic_enable(i);
    }
    gic_set_handler(2, log_handler, NULL);
    gic_set_priority(SPI_A, 0xa0);
    gic_set_priority(SPI_B, 0xa0);
    gic_set_priority(SPI_C, 0x80);
    gic_set_priority(SPI_D, 0xc0);
    gic_set_priority(SPI_E, 0xc0);
    gic_set_priority(2, 0x90);
    check(mmio_read8(gic.gicd + GICD_IPRIORITYR + SPI_C) == 0x80, "GICD_IPRIORITYR byte reads back 0x80");

    order_len = 0;
    gic_set_pending(SPI_A);
    gic_set_pending(SPI_C);
    gic_set_pending(SPI_D);
    u64 me = cpus[0].mpidr;
    gic_send_sgi(2, &me, 1, false);
    udelay(2000);
    u64 hppir = read_sysreg(icc_hppir1_el1);
    check(hppir == SPI_C, "ICC_HPPIR1_EL1: the highest priority pending is SPI %d (0x80): %lu", SPI_C, hppir);
    udelay_irqs_on(5000);
    print_log("taken in order");
    check(order_len == 4 && order_log[0] == SPI_C && order_log[1] == 2 && order_log[2] == SPI_A
          && order_log[3] == SPI_D, "highest priority first: SPI 0x80, SGI 0x90, SPI 0xa0, SPI 0xc0");

    /* The priority mask. */
    order_len = 0;
    write_sysreg(icc_pmr_el1, 0xa0);
    isb();
    gic_set_pending(SPI_A);
    udelay(2000);
    check((read_sysreg(icc_iar1_el1) & 0xffffff) == INTID_SPURIOUS,
          "ICC_PMR_EL1 = 0xa0 masks priority 0xa0: ICC_IAR1_EL1 reads 1023");
    irq_enable();
    udelay(2000);
    check(order_len == 0, "... and the IRQ is not taken");
    write_sysreg(icc_pmr_el1, 0xb0);
    isb();
    udelay(2000);
    irq_disable();
    check(order_len == 1 && order_log[0] == SPI_A, "ICC_PMR_EL1 = 0xb0: now taken");
    write_sysreg(icc_pmr_el1, 0xff);
    isb();

    /* Preemption: only by a higher priority group. */
    order_len = 0;
    gic_set_handler(SPI_D, preempted_handler, NULL);
    gic_set_pending(SPI_D);
    udelay_irqs_on(20000);
    print_log("nesting (1000 + n: the end of n's handler)");
    check(rpr_seen == 0xc0, "ICC_RPR_EL1 in the 0xc0 handler: 0x%lx", rpr_seen);
    check(order_len == 4 && order_log[0] == SPI_D && order_log[1] == SPI_C && order_log[2] == SPI_D + 1000
          && order_log[3] == SPI_E, "0x80 preempts the 0xc0 handler; the other 0xc0 waits for its EOI");
    gic_set_handler(SPI_D, log_handler, NULL);

    order_len = 0;
    gic_set_handler(SPI_B, again_handler, NULL);
    gic_set_pending(SPI_B);
    udelay_irqs_on(10000);
    check(order_len == 2 && order_log[0] == SPI_B && order_log[1] == SPI_B,
          "an SPI pended again while active is taken again after EOI");
    gic_set_handler(SPI_B, log_handler, NULL);
}

static u32 eoi1_acked;

static void test_eoimode1(void)
{
    printf("EOImode 1: priority drop and deactivation apart\n");
    irq_disable();
    write_sysreg(icc_ctlr_el1, read_sysreg(icc_ctlr_el1) | BIT(1));
    isb();
    check((read_sysreg(icc_ctlr_el1) & BIT(1)) != 0, "ICC_CTLR_EL1.EOImode = 1");
    gic_set_pending(SPI_F);
    udelay(2000);
    u32 intid = (u32)read_sysreg(icc_iar1_el1) & 0xffffff;
    eoi1_acked = intid;
    check(intid == SPI_F, "acknowledged SPI %u by reading ICC_IAR1_EL1 with IRQs masked", intid);
    check(read_sysreg(icc_rpr_el1) == 0xa0, "running priority 0xa0 (RPR 0x%lx)", read_sysreg(icc_rpr_el1));
    write_sysreg(icc_eoir1_el1, intid);
    isb();
    check(read_sysreg(icc_rpr_el1) == 0xff, "ICC_EOIR1_EL1: priority dropped (RPR 0xff)");
    check(gic_is_active(SPI_F), "... but the SPI is still active (GICD_ISACTIVER)");
    gic_set_pending(SPI_F);
    udelay(2000);
    check((read_sysreg(icc_iar1_el1) & 0xffffff) == INTID_SPURIOUS, "pended again while active: not acknowledged");
    write_sysreg(icc_dir_el1, intid);
    isb();
    check(!gic_is_active(SPI_F), "ICC_DIR_EL1: deactivated");
    udelay(2000);
    intid = (u32)read_sysreg(icc_iar1_el1) & 0xffffff;
    check(intid == SPI_F, "now the pending one is acknowledged (%u)", intid);
    write_sysreg(icc_eoir1_el1, intid);
    write_sysreg(icc_dir_el1, intid);
    write_sysreg(icc_ctlr_el1, read_sysreg(icc_ctlr_el1) & ~BIT(1));
    isb();
    check(!gic_is_active(SPI_F) && read_sysreg(icc_rpr_el1) == 0xff, "idle again, EOImode 0");
}

int main(void)
{
    int n = cpu_count();
    printf("gic: GICv3 with %d CPUs\n", n);
    require_cpus(2, "at least 2 CPUs (-smp 4)");
    gic_init();
    for (int c = 1; c < n; c++) {
        cpu_start(c, secondary_loop, NULL);
        cpu_wait_state(c, CPU_STATE_RUNNING, 2000000000ULL);
    }
    test_identification(n);
    test_sgis(n);
    test_spis(n);
    test_priorities();
    test_eoimode1();
    /* Stop the secondaries: SGI 15 wakes their WFI, then they see `stop`. */
    gic_set_handler(15, count_handler, NULL);
    for (int c = 1; c < n; c++) {
        mmio_write32(gic_find_redist(cpus[c].mpidr) + GICR_SGI_BASE + GICD_ISENABLER, BIT(15));
    }
    WRITE_ONCE(stop, 1);
    gic_send_sgi(15, NULL, 0, true);
    for (int c = 1; c < n; c++) {
        check(cpu_wait_state(c, CPU_STATE_DONE, 2000000000ULL), "cpu %d stopped", c);
    }
    return check_summary("gic");
}
