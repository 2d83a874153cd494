/*
 * Test helpers for the guests that check behaviour: checks that print one line each, and traps that record a
 * synchronous exception and resume the code that caused it.
 *
 * Output rule: print facts, never timing. A check prints "ok   - what" or "FAIL - what"; the guest ends with
 * check_summary(), which prints the totals and returns the exit status.
 */
#ifndef GUEST_CHECK_H
#define GUEST_CHECK_H

#include "rt.h"

bool check(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int check_summary(const char *guest);
int check_failures(void);

/* What a trap saw. */
struct trap {
    int count;
    u64 vector, esr, far, elr, spsr, daif_in_handler, sp_el0;
};
extern struct trap last_trap;
/* Copies what the exception left in the frame into t, and DAIF as the handler runs with it (t->count unchanged). */
void trap_record(struct trap *t, const struct frame *f);

/* How a trap resumes. */
enum trap_resume {
    RESUME_NEXT,    /* at ELR + 4 (the instruction after the one that trapped) */
    RESUME_ELR,     /* at ELR (for exceptions whose preferred return is already the next instruction) */
    RESUME_LR,      /* at the frame's x30: the stub that trapped returns to its C caller */
    RESUME_AT,      /* at trap_resume_address */
};
extern u64 trap_resume_address;
/* x0 given to the resumed code (RESUME_LR: the stub's return value), unless left unchanged (TRAP_KEEP_X0). */
#define TRAP_KEEP_X0 0x4b454550ULL
extern u64 trap_x0;

/* Installs a sync hook that records the next exceptions into last_trap and resumes as told. */
void trap_arm(enum trap_resume how);
void trap_disarm(void);
/* Prints "  ESR 0x.. (EC 0x.. name, IL n, ISS 0x..) FAR 0x.. vector ..." for the last trap. */
void trap_print(const char *what);

/* One access each (common/probe.S); use with trap_arm(RESUME_LR). */
u64 probe_load64(u64 addr);
u32 probe_load32(u64 addr);
u16 probe_load16(u64 addr);
u8 probe_load8(u64 addr);
void probe_store64(u64 addr, u64 v);
void probe_store8(u64 addr, u64 v);
u64 probe_exec(u64 addr);

#endif
