/*
 * The generic timer (Arm ARM, "The Generic Timer in AArch64 state"): the virtual counter CNTVCT_EL0 and the EL1
 * virtual and physical timers, whose interrupts are the PPIs named in the device tree's /timer node (virtual:
 * INTID 27, physical: INTID 30 on QEMU's virt board).
 */
#ifndef GUEST_TIMER_H
#define GUEST_TIMER_H

#include "arch.h"

#define CNT_CTL_ENABLE BIT(0)
#define CNT_CTL_IMASK BIT(1)
#define CNT_CTL_ISTATUS BIT(2)

/* Reads /timer's interrupts (falls back to the architecture's recommended PPIs 27 and 30). */
void timer_init(void);
u64 timer_freq(void);
int timer_virt_intid(void);
int timer_phys_intid(void);

static inline u64 timer_now(void)
{
    isb();
    return read_sysreg(cntvct_el0);
}
static inline u64 timer_now_phys(void)
{
    isb();
    return read_sysreg(cntpct_el0);
}
u64 ns_to_ticks(u64 ns);
u64 ticks_to_ns(u64 ticks);
void udelay(u64 us);
/* Waits `us` microseconds with IRQs unmasked, so that what is pending is taken meanwhile; returns with them masked. */
void udelay_irqs_on(u64 us);
void ndelay_ticks(u64 ticks);

#endif
