/*
 * A test-and-set spinlock with load-acquire exclusives and WFE (Arm ARM K11.3, "Use of Wait For Event and Send
 * Event"): a waiter that sees the lock taken waits in WFE; the owner's release store to the monitored location
 * clears the waiter's exclusive monitor, which generates the wake-up event, so no SEV is needed.
 */
#include "rt.h"

void spin_lock(spinlock_t *l)
{
    u32 tmp, fail;
    __asm__ volatile(
        "   sevl\n"
        "1: wfe\n"
        "2: ldaxr   %w0, [%2]\n"
        "   cbnz    %w0, 1b\n"
        "   stxr    %w1, %w3, [%2]\n"
        "   cbnz    %w1, 2b\n"
        : "=&r"(tmp), "=&r"(fail)
        : "r"(&l->v), "r"(1)
        : "memory");
}

void spin_unlock(spinlock_t *l)
{
    __asm__ volatile("stlr wzr, [%0]" : : "r"(&l->v) : "memory");
}
