/*
 * The guests' runtime: start-up, console, exceptions, per-CPU state, bootargs, a bump allocator.
 *
 * A guest provides `int main(void)`. The start-up code (start.S) enters at EL1 with the MMU off, sets up the boot
 * CPU's stack, clears BSS, installs the vector table and calls rt_boot(), which finds the device tree, brings up
 * the console, parses /chosen/bootargs and calls main(). When main returns, the runtime prints
 * "exit <status>" and powers the machine off with PSCI SYSTEM_OFF.
 */
#ifndef GUEST_RT_H
#define GUEST_RT_H

#include "types.h"
#include "arch.h"
#include "asm.h"

/* What the boot loader left in x0..x3 at the entry point. */
extern u64 boot_regs[4];
/* Where the image was linked and loaded, and where it ends (BSS included); start.S and guest.ld. */
extern char _start[], _end[];
/* End of the image's code (64 KiB aligned, so that any granule can map the code read-only apart from the data). */
extern char _etext[];
extern u64 boot_sctlr, boot_daif, boot_el;

/* ---- console (PL011) ---- */
void uart_init(u64 base);
u64 uart_base(void);
void uart_putc(char c);
/* A received byte, or -1 when the receive FIFO is empty. */
int uart_getc(void);
/* Enables or disables the receive interrupt (UARTIMSC.RXIM and RTIM). */
void uart_rx_irq(bool on);
void uart_clear_irq(void);

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
void puts(const char *s);

/* ---- library ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
/* Parses a decimal or 0x-prefixed number; *end points after it. */
u64 strtou64(const char *s, const char **end);

/* ---- bootargs (/chosen/bootargs: space-separated key=value words) ---- */
const char *bootargs(void);
/* The value of key in the bootargs (a pointer to a static copy), or NULL. */
const char *bootarg(const char *key);
u64 bootarg_u64(const char *key, u64 dflt);
/* A duration such as "20us", "5ms", "2s" or "7" (seconds) in nanoseconds. */
u64 bootarg_ns(const char *key, u64 dflt_ns);

/* ---- memory ---- */
u64 ram_base(void);
u64 ram_size(void);
/* Zeroed memory from the RAM after the image (never freed); aborts when RAM runs out. */
void *rt_alloc(size_t size, size_t align);

/* ---- exceptions ---- */
/* The register frame that the vectors save (start.S: FRAME_* offsets). */
struct frame {
    u64 x[31];
    u64 sp_el0;
    u64 elr;
    u64 spsr;
    u64 esr;
    u64 far;
    u64 sp;      /* SP of the interrupted context when it ran on SP_EL1 (SPSR.M = EL1h) */
    u64 vector;  /* vector offset / 0x80: 0..3 current EL SP0, 4..7 current EL SPx, 8..11 lower EL AArch64 */
};

enum {
    VEC_SYNC = 0, VEC_IRQ = 1, VEC_FIQ = 2, VEC_SERROR = 3,
    VEC_CUR_SP0 = 0, VEC_CUR_SPX = 4, VEC_LOWER64 = 8, VEC_LOWER32 = 12,
};

/* A synchronous-exception hook: returns true when it handled the exception (it may change the frame). */
typedef bool (*sync_hook_t)(struct frame *f);
void rt_set_sync_hook(sync_hook_t hook);
typedef void (*irq_hook_t)(struct frame *f);
void rt_set_irq_hook(irq_hook_t hook);
const char *vector_name(u64 vector);
const char *ec_name(u32 ec);
/* Prints a frame: vector, ESR (EC, IL, ISS), FAR, ELR, SPSR. */
void dump_frame(const struct frame *f);

/*
 * EL0: el0_call(entry, sp, arg, spsr) runs entry(arg) at EL0 until its exit call; a synchronous hook that sees the
 * exit call returns el0_exit(f, code) to make el0_call return code (start.S).
 */
u64 el0_call(u64 entry, u64 sp, u64 arg, u64 spsr);
void el0_exit(struct frame *f, u64 code);

/* ---- per-CPU ---- */
struct cpu {
    int index;           /* position in /cpus */
    u64 mpidr;           /* MPIDR_EL1 affinity (Aff3..Aff0) */
    u64 stack_top;
    u64 gicr;            /* RD_base of this CPU's redistributor, once gic_init_cpu ran */
    u64 context_id;      /* x0 at a secondary's entry (the CPU_ON context id) */
    void (*fn)(void *);
    void *arg;
    volatile int state;  /* CPU_STATE_* */
    u64 entry_daif, entry_sctlr, entry_el;  /* at a secondary's entry, before the runtime changes anything */
};
enum { CPU_STATE_OFF = 0, CPU_STATE_STARTING = 1, CPU_STATE_RUNNING = 2, CPU_STATE_DONE = 3 };
extern struct cpu cpus[MAX_CPUS];
/* Number of CPUs in /cpus (at most MAX_CPUS). */
int cpu_count(void);
/* A guest that needs `min` CPUs: with fewer, prints "needs <needs>" and ends with exit status 1. */
void require_cpus(int min, const char *needs);
static inline struct cpu *this_cpu(void) { return (struct cpu *)read_sysreg(tpidr_el1); }
/* Affinity fields of MPIDR_EL1 (Aff3 at [39:32], Aff2..Aff0 at [23:0]). */
static inline u64 mpidr_affinity(u64 mpidr) { return mpidr & 0xff00ffffffUL; }
/*
 * Starts CPU `index` with PSCI CPU_ON at the runtime's secondary entry, which sets up its stack, vectors, MMU (as
 * the boot CPU has it), GIC redistributor and CPU interface (if the boot CPU brought up the GIC), then calls
 * fn(arg); when fn returns, the CPU marks itself DONE and calls PSCI CPU_OFF. Returns the PSCI return code.
 */
s64 cpu_start(int index, void (*fn)(void *), void *arg);
/* Waits (bounded by timeout_ns) until CPU `index` reaches state; returns false on timeout. */
bool cpu_wait_state(int index, int state, u64 timeout_ns);

/* ---- locks (LDAXR/STXR; no LSE on the CPUs these guests target) ---- */
typedef struct { volatile u32 v; } spinlock_t;
void spin_lock(spinlock_t *l);
void spin_unlock(spinlock_t *l);

/* ---- ending ---- */
noreturn void rt_exit(int status);
noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Provided by the guest. */
int main(void);

#endif
