#include "check.h"

static int checks, failures;
struct trap last_trap;
u64 trap_resume_address;
u64 trap_x0 = TRAP_KEEP_X0;
static enum trap_resume resume;

bool check(bool cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char line[200];
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    printf("%s - %s\n", cond ? "ok  " : "FAIL", line);
    checks++;
    if (!cond) {
        failures++;
    }
    return cond;
}

int check_failures(void)
{
    return failures;
}

int check_summary(const char *guest)
{
    printf("%s: %d checks, %d failed: %s\n", guest, checks, failures, failures == 0 ? "PASS" : "FAIL");
    return failures == 0 ? 0 : 1;
}

void trap_record(struct trap *t, const struct frame *f)
{
    t->vector = f->vector;
    t->esr = f->esr;
    t->far = f->far;
    t->elr = f->elr;
    t->spsr = f->spsr;
    t->sp_el0 = f->sp_el0;
    t->daif_in_handler = read_sysreg(daif);
}

static bool trap_hook(struct frame *f)
{
    last_trap.count++;
    trap_record(&last_trap, f);
    if (ESR_EC(f->esr) == EC_ILLEGAL) {
        f->spsr &= ~BIT(20);  /* clear PSTATE.IL on return, or the next instruction traps again */
    }
    switch (resume) {
    case RESUME_NEXT: f->elr += 4; break;
    case RESUME_ELR: break;
    case RESUME_LR: f->elr = f->x[30]; break;
    case RESUME_AT: f->elr = trap_resume_address; break;
    }
    if (trap_x0 != TRAP_KEEP_X0) {
        f->x[0] = trap_x0;
    }
    return true;
}

void trap_arm(enum trap_resume how)
{
    memset(&last_trap, 0, sizeof last_trap);
    resume = how;
    trap_x0 = TRAP_KEEP_X0;
    rt_set_sync_hook(trap_hook);
}

void trap_disarm(void)
{
    rt_set_sync_hook(NULL);
}

void trap_print(const char *what)
{
    if (last_trap.count == 0) {
        printf("  %s: no exception\n", what);
        return;
    }
    u32 ec = (u32)ESR_EC(last_trap.esr);
    printf("  %s: %s, ESR 0x%08lx (EC 0x%02x %s, IL %lu, ISS 0x%07lx)\n", what, vector_name(last_trap.vector),
           last_trap.esr, ec, ec_name(ec), ESR_IL(last_trap.esr), ESR_ISS(last_trap.esr));
}
