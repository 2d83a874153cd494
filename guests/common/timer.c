#include "rt.h"
#include "fdt.h"
#include "timer.h"

static u64 freq;
static int virt_intid = 27, phys_intid = 30;

void timer_init(void)
{
    freq = read_sysreg(cntfrq_el0);
    int node = fdt_find_compatible(-1, "arm,armv8-timer");
    int len;
    const u32 *irq = fdt_prop(node, "interrupts", &len);
    /* Binding (timer/arm,arch_timer.yaml): secure phys, non-secure phys, virtual, hyp; 3 cells each. */
    if (irq != NULL && len >= 36) {
        u32 type = fdt32(&irq[3]);
        phys_intid = (int)fdt32(&irq[4]) + (type == 1 ? 16 : 32);
        type = fdt32(&irq[6]);
        virt_intid = (int)fdt32(&irq[7]) + (type == 1 ? 16 : 32);
    }
}

u64 timer_freq(void)
{
    return freq;
}

int timer_virt_intid(void)
{
    return virt_intid;
}

int timer_phys_intid(void)
{
    return phys_intid;
}

u64 ns_to_ticks(u64 ns)
{
    /* Split so that every product fits in 64 bits (ns up to 2^64, freq below 2^32). */
    return (ns / 1000000000u) * freq + (ns % 1000000000u) * freq / 1000000000u;
}

u64 ticks_to_ns(u64 ticks)
{
    return (ticks / freq) * 1000000000u + (ticks % freq) * 1000000000u / freq;
}

void ndelay_ticks(u64 ticks)
{
    u64 start = timer_now();
    while (timer_now() - start < ticks) {
        cpu_relax();
    }
}

void udelay(u64 us)
{
    ndelay_ticks(ns_to_ticks(us * 1000));
}

void udelay_irqs_on(u64 us)
{
    irq_enable();
    udelay(us);
    irq_disable();
}
