/*
 * timer: the generic timer (Arm ARM, "The Generic Timer in AArch64 state"): CNTFRQ_EL0, the virtual counter, the
 * EL1 virtual and physical timers (CVAL, TVAL, CTL.ENABLE/IMASK/ISTATUS) and their PPIs through the GIC
 * (level-sensitive: pending while the condition holds), WFI waking on a timer interrupt, and WFI with interrupts
 * masked.
 */
#include "rt.h"
#include "check.h"
#include "gic.h"
#include "timer.h"

static volatile int fired[2];
static volatile u64 fired_at[2], fired_intid[2];
static volatile int rearm_count;
static int virt_intid, phys_intid;

static u64 ms(u64 n)
{
    return ns_to_ticks(n * 1000000);
}

/* Handlers: record, then silence the timer (a level-sensitive PPI stays pending while ISTATUS = 1 and unmasked). */
static void vtimer_handler(u32 intid, void *arg)
{
    fired_at[0] = timer_now();
    u64 ctl = read_sysreg(cntv_ctl_el0);
    fired_intid[0] = intid;
    if (rearm_count > 0) {
        /* Leave the condition true: the interrupt must come back after EOI. */
        rearm_count--;
        fired[0]++;
        if (rearm_count == 0) {
            write_sysreg(cntv_ctl_el0, 0);
        }
        return;
    }
    check((ctl & CNT_CTL_ISTATUS) != 0, "  in the handler: CNTV_CTL_EL0.ISTATUS = 1");
    write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE | CNT_CTL_IMASK);
    fired[0]++;
}

static void ptimer_handler(u32 intid, void *arg)
{
    fired_at[1] = timer_now_phys();
    fired_intid[1] = intid;
    write_sysreg(cntp_ctl_el0, 0);
    fired[1]++;
}

static bool wait_fired(int which, int count, u64 timeout_ms)
{
    u64 start = timer_now();
    while (fired[which] < count) {
        if (timer_now() - start > ms(timeout_ms)) {
            return false;
        }
        wfi();
    }
    return true;
}

int main(void)
{
    printf("timer: the generic timer\n");
    u64 f = timer_freq();
    printf("CNTFRQ_EL0 %lu Hz\n", f);
    check(f == 62500000, "CNTFRQ_EL0 is 62.5 MHz (QEMU's virt board)");
    virt_intid = timer_virt_intid();
    phys_intid = timer_phys_intid();
    check(virt_intid == 27 && phys_intid == 30, "/timer: virtual timer PPI INTID %d, physical timer INTID %d",
          virt_intid, phys_intid);

    u64 a = timer_now(), b = timer_now();
    check(b >= a, "CNTVCT_EL0 does not go backwards");
    u64 p = timer_now_phys();
    check(p >= a, "CNTPCT_EL0 >= CNTVCT_EL0 (CNTVOFF is 0 when EL2 is absent)");
    udelay(20000);
    u64 c = timer_now();
    check(c - b >= ms(20), "udelay(20 ms) lets at least 20 ms of counter pass");

    gic_init();
    gic_set_handler((u32)virt_intid, vtimer_handler, NULL);
    gic_set_handler((u32)phys_intid, ptimer_handler, NULL);
    gic_enable((u32)virt_intid);
    gic_enable((u32)phys_intid);

    printf("virtual timer\n");
    write_sysreg(cntv_ctl_el0, 0);
    u64 cval = timer_now() + ms(100);
    write_sysreg(cntv_cval_el0, cval);
    write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE);
    isb();
    check((read_sysreg(cntv_ctl_el0) & CNT_CTL_ISTATUS) == 0, "before CVAL: ISTATUS = 0");
    s64 tval = (s32)read_sysreg(cntv_tval_el0);
    check(tval > 0 && (u64)tval <= ms(100), "CNTV_TVAL_EL0 reads CVAL - CNTVCT, counting down (0 < TVAL <= 100 ms)");
    irq_enable();
    check(wait_fired(0, 1, 2000), "WFI until the virtual timer fires (100 ms)");
    irq_disable();
    check(fired_intid[0] == (u64)virt_intid, "ICC_IAR1_EL1 acknowledged INTID %lu", fired_intid[0]);
    check(fired_at[0] >= cval, "the interrupt came at or after CVAL");

    /* TVAL: a write sets CVAL = CNTVCT + TVAL (sign-extended). */
    u64 before = timer_now();
    write_sysreg(cntv_tval_el0, ms(5));
    isb();
    u64 after = timer_now();
    u64 cv = read_sysreg(cntv_cval_el0);
    check(cv >= before + ms(5) && cv <= after + ms(5), "writing TVAL sets CVAL = CNTVCT + TVAL");
    write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE);
    irq_enable();
    check(wait_fired(0, 2, 1000), "the timer fires again after a TVAL write");
    irq_disable();

    /* IMASK: the condition is met, ISTATUS shows it, but no interrupt. */
    write_sysreg(cntv_cval_el0, 0);
    write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE | CNT_CTL_IMASK);
    isb();
    int n = fired[0];
    udelay_irqs_on(5000);
    check(fired[0] == n && (read_sysreg(cntv_ctl_el0) & CNT_CTL_ISTATUS) != 0,
          "IMASK = 1: ISTATUS = 1 with CVAL in the past, no interrupt");
    check(!gic_is_pending((u32)virt_intid), "IMASK = 1: the PPI is not pending");

    /* Level-sensitive: a handler that leaves the condition true gets the interrupt again after EOI. */
    rearm_count = 3;
    n = fired[0];
    write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE);
    isb();
    irq_enable();
    wait_fired(0, n + 3, 1000);
    irq_disable();
    check(fired[0] == n + 3 && rearm_count == 0, "a level-sensitive timer PPI is taken again while the condition "
          "holds (3 times, then disabled)");
    /* ENABLE = 0: no interrupt, ISTATUS reads 0. */
    write_sysreg(cntv_ctl_el0, 0);
    write_sysreg(cntv_cval_el0, 0);
    isb();
    n = fired[0];
    udelay_irqs_on(5000);
    check(fired[0] == n, "ENABLE = 0: no interrupt with CVAL in the past");

    printf("physical timer\n");
    cval = timer_now_phys() + ms(10);
    write_sysreg(cntp_cval_el0, cval);
    write_sysreg(cntp_ctl_el0, CNT_CTL_ENABLE);
    isb();
    irq_enable();
    check(wait_fired(1, 1, 1000), "WFI until the physical timer fires (10 ms)");
    irq_disable();
    check(fired_intid[1] == (u64)phys_intid && fired_at[1] >= cval, "INTID %lu, at or after CVAL",
          fired_intid[1]);

    printf("WFI with interrupts masked\n");
    /* WFI wakes on a pending interrupt even with PSTATE.I set; the interrupt is then pending, not taken. */
    write_sysreg(cntv_cval_el0, timer_now() + ms(10));
    write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE);
    isb();
    n = fired[0];
    u64 start = timer_now();
    while ((read_sysreg(isr_el1) & BIT(7)) == 0 && timer_now() - start < ms(1000)) {
        wfi();
    }
    check((read_sysreg(isr_el1) & BIT(7)) != 0 && fired[0] == n,
          "WFI returned with ISR_EL1.I = 1 and the IRQ not taken (DAIF.I set)");
    irq_enable();
    isb();
    irq_disable();
    check(fired[0] == n + 1, "unmasking takes the pending timer interrupt");
    write_sysreg(cntv_ctl_el0, 0);
    write_sysreg(cntp_ctl_el0, 0);
    return check_summary("timer");
}
