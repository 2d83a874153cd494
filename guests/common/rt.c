/* Boot, bootargs, memory, exceptions, secondary CPUs and exit: the core of the guests' runtime (rt.h). */
#include "rt.h"
#include "fdt.h"
#include "psci.h"
#include "timer.h"
#include "gic.h"
#include "mmu.h"

_Static_assert(__builtin_offsetof(struct frame, elr) == FRAME_ELR, "FRAME_ELR");
_Static_assert(__builtin_offsetof(struct frame, esr) == FRAME_ESR, "FRAME_ESR");
_Static_assert(__builtin_offsetof(struct frame, sp) == FRAME_SP, "FRAME_SP");
_Static_assert(sizeof(struct frame) == FRAME_SIZE, "FRAME_SIZE");
_Static_assert(__builtin_offsetof(struct cpu, stack_top) == CPU_STACK_TOP, "CPU_STACK_TOP");
_Static_assert(__builtin_offsetof(struct cpu, entry_daif) == CPU_ENTRY_DAIF, "CPU_ENTRY_DAIF");

u64 boot_regs[4];
u64 boot_sctlr, boot_daif, boot_el;
struct cpu cpus[MAX_CPUS];
extern char cpu_stacks[];
extern void secondary_entry(void);
extern void el0_return(void);

static int ncpus = 1;
static u64 mem_base, mem_size;
static u64 heap_next, heap_limit;
static spinlock_t heap_lock;
static char args[1024];
static char argwords[1024];
static sync_hook_t sync_hook;
static irq_hook_t irq_hook;

/* ---- device tree discovery ---- */

static u64 find_device_tree(void)
{
    /* Linux boot protocol (Image, raw binary): x0. QEMU passes nothing for an ELF but places the tree at the base
     * of RAM when it fits below the image: the image is linked at RAM base + TEXT_OFFSET. */
    if (fdt_valid(boot_regs[0])) {
        return boot_regs[0];
    }
    u64 guess = (u64)_start - TEXT_OFFSET;
    if (boot_regs[0] == 0 && fdt_valid(guess)) {
        return guess;
    }
    return 0;
}

static void find_console(void)
{
    int node = -1;
    const char *path = fdt_prop_str(fdt_path("/chosen"), "stdout-path");
    if (path != NULL) {
        char p[128];
        size_t n = 0;
        while (path[n] != 0 && path[n] != ':' && n + 1 < sizeof p) {
            p[n] = path[n];
            n++;
        }
        p[n] = 0;
        node = p[0] == '/' ? fdt_path(p) : -1;
    }
    if (node < 0 || !fdt_is_compatible(node, "arm,pl011")) {
        node = fdt_find_compatible(-1, "arm,pl011");
    }
    u64 base, size;
    if (node >= 0 && fdt_reg(node, 0, &base, &size)) {
        uart_init(base);
    }
}

static void find_memory(void)
{
    int depth = 0;
    for (int n = fdt_next_node(-1, &depth); n >= 0; n = fdt_next_node(n, &depth)) {
        const char *type = fdt_prop_str(n, "device_type");
        u64 base, size;
        if (depth == 1 && type != NULL && strcmp(type, "memory") == 0 && fdt_reg(n, 0, &base, &size)) {
            if ((u64)_start >= base && (u64)_start < base + size) {
                mem_base = base;
                mem_size = size;
            }
        }
    }
}

static void find_cpus(void)
{
    int parent = fdt_path("/cpus");
    int n = 0;
    u64 me = mpidr_affinity(read_sysreg(mpidr_el1));
    int boot = 0;
    for (int c = fdt_first_child(parent); c >= 0 && n < MAX_CPUS; c = fdt_next_sibling(c)) {
        const char *type = fdt_prop_str(c, "device_type");
        u64 reg, unused;
        if (type == NULL || strcmp(type, "cpu") != 0 || !fdt_reg(c, 0, &reg, &unused)) {
            continue;
        }
        cpus[n].index = n;
        cpus[n].mpidr = reg;
        if (reg == me) {
            boot = n;
        }
        n++;
    }
    if (n == 0) {
        cpus[0].mpidr = me;
        n = 1;
    }
    ncpus = n;
    struct cpu *c = &cpus[boot];
    c->stack_top = (u64)cpu_stacks + STACK_SIZE;
    c->state = CPU_STATE_RUNNING;
    c->context_id = boot_regs[0];
    write_sysreg(tpidr_el1, c);
}

static void parse_bootargs(void)
{
    const char *a = fdt_prop_str(fdt_path("/chosen"), "bootargs");
    if (a == NULL) {
        a = "";
    }
    size_t n = strlen(a);
    if (n >= sizeof args) {
        n = sizeof args - 1;
    }
    memcpy(args, a, n);
    args[n] = 0;
    memcpy(argwords, args, n + 1);
    for (size_t i = 0; i < n; i++) {
        if (argwords[i] == ' ' || argwords[i] == '\t') {
            argwords[i] = 0;
        }
    }
}

void rt_boot(void)
{
    /* Until /cpus is read, the boot CPU's state lives in cpus[0]. */
    write_sysreg(tpidr_el1, &cpus[0]);
    u64 dt = find_device_tree();
    if (dt == 0 || !fdt_init(dt)) {
        /* No device tree: no console either. Power off through the architecture's usual PSCI conduit. */
        hvc_call(PSCI_SYSTEM_OFF, 0, 0, 0);
        for (;;) {
            wfi();
        }
    }
    find_console();
    find_memory();
    find_cpus();
    parse_bootargs();
    psci_init();
    timer_init();
    heap_next = ALIGN_UP((u64)_end, 0x10000);
    heap_limit = mem_base + mem_size;
    /* Keep clear of the device tree when it lies above the image (Image and raw binaries). */
    if (dt >= heap_next && dt < heap_limit) {
        heap_limit = dt;
    }
    rt_exit(main());
}

/* ---- bootargs ---- */

const char *bootargs(void)
{
    return args;
}

const char *bootarg(const char *key)
{
    size_t klen = strlen(key);
    size_t n = strlen(args);
    for (size_t i = 0; i < n;) {
        const char *w = &argwords[i];
        size_t wlen = strlen(w);
        if (wlen > 0 && strncmp(w, key, klen) == 0 && (w[klen] == '=' || w[klen] == 0)) {
            return w[klen] == '=' ? w + klen + 1 : w + klen;
        }
        i += wlen + 1;
    }
    return NULL;
}

u64 bootarg_u64(const char *key, u64 dflt)
{
    const char *v = bootarg(key);
    return v != NULL && *v != 0 ? strtou64(v, NULL) : dflt;
}

u64 bootarg_ns(const char *key, u64 dflt_ns)
{
    const char *v = bootarg(key);
    if (v == NULL || *v == 0) {
        return dflt_ns;
    }
    const char *end;
    u64 x = strtou64(v, &end);
    if (strcmp(end, "ns") == 0) {
        return x;
    }
    if (strcmp(end, "us") == 0) {
        return x * 1000;
    }
    if (strcmp(end, "ms") == 0) {
        return x * 1000000;
    }
    return x * 1000000000;
}

/* ---- memory ---- */

u64 ram_base(void)
{
    return mem_base;
}

u64 ram_size(void)
{
    return mem_size;
}

void *rt_alloc(size_t size, size_t align)
{
    if (align < 16) {
        align = 16;
    }
    spin_lock(&heap_lock);
    u64 p = ALIGN_UP(heap_next, align);
    if (p + size > heap_limit || p + size < p) {
        spin_unlock(&heap_lock);
        panic("out of memory: %zu bytes", size);
    }
    heap_next = p + size;
    spin_unlock(&heap_lock);
    memset((void *)p, 0, size);
    return (void *)p;
}

/* ---- exceptions ---- */

void rt_set_sync_hook(sync_hook_t hook)
{
    sync_hook = hook;
}

void rt_set_irq_hook(irq_hook_t hook)
{
    irq_hook = hook;
}

const char *vector_name(u64 vector)
{
    static const char *const groups[] = { "current EL with SP0", "current EL with SPx", "lower EL AArch64",
                                          "lower EL AArch32" };
    static const char *const kinds[] = { "sync", "IRQ", "FIQ", "SError" };
    static char buf[4][48];
    char *b = buf[vector & 3];
    snprintf(b, sizeof buf[0], "%s %s", groups[(vector >> 2) & 3], kinds[vector & 3]);
    return b;
}

const char *ec_name(u32 ec)
{
    switch (ec) {
    case EC_UNKNOWN: return "unknown reason";
    case EC_WFX: return "WFI/WFE trap";
    case EC_FP: return "FP/SIMD access";
    case EC_ILLEGAL: return "illegal execution state";
    case EC_SVC64: return "SVC";
    case EC_HVC64: return "HVC";
    case EC_SMC64: return "SMC";
    case EC_SYSREG: return "MSR/MRS/system instruction trap";
    case EC_IABT_LOW: return "instruction abort from a lower EL";
    case EC_IABT_CUR: return "instruction abort, same EL";
    case EC_PC_ALIGN: return "PC alignment fault";
    case EC_DABT_LOW: return "data abort from a lower EL";
    case EC_DABT_CUR: return "data abort, same EL";
    case EC_SP_ALIGN: return "SP alignment fault";
    case EC_SERROR: return "SError";
    case EC_BRK64: return "BRK";
    default: return "?";
    }
}

void dump_frame(const struct frame *f)
{
    u32 ec = (u32)ESR_EC(f->esr);
    printf("  vector: %s (VBAR_EL1 + 0x%03lx)\n", vector_name(f->vector), f->vector * 0x80);
    printf("  ESR_EL1 0x%08lx: EC 0x%02x (%s), IL %lu, ISS 0x%07lx\n", f->esr, ec, ec_name(ec), ESR_IL(f->esr),
           ESR_ISS(f->esr));
    printf("  FAR_EL1 0x%016lx ELR_EL1 0x%016lx SPSR_EL1 0x%08lx\n", f->far, f->elr, f->spsr);
}

void rt_exception(struct frame *f)
{
    unsigned kind = f->vector & 3;
    if (kind == VEC_SYNC && sync_hook != NULL && sync_hook(f)) {
        return;
    }
    if (kind == VEC_IRQ && irq_hook != NULL) {
        irq_hook(f);
        return;
    }
    printf("unexpected exception on cpu %d:\n", this_cpu()->index);
    dump_frame(f);
    rt_exit(1);
}

void el0_exit(struct frame *f, u64 code)
{
    f->elr = (u64)el0_return;
    f->spsr = 0x3c5; /* EL1h, DAIF masked; el0_return restores the caller's DAIF */
    f->x[0] = code;
}

/* ---- secondary CPUs ---- */

int cpu_count(void)
{
    return ncpus;
}

void require_cpus(int min, const char *needs)
{
    if (ncpus < min) {
        printf("needs %s\n", needs);
        rt_exit(1);
    }
}

s64 cpu_start(int index, void (*fn)(void *), void *arg)
{
    if (index < 0 || index >= ncpus) {
        return PSCI_INVALID_PARAMETERS;
    }
    struct cpu *c = &cpus[index];
    c->index = index;
    c->stack_top = (u64)cpu_stacks + (u64)(index + 1) * STACK_SIZE;
    c->fn = fn;
    c->arg = arg;
    c->gicr = 0;
    c->state = CPU_STATE_STARTING;
    /* The new CPU reads its struct with the MMU (and so its caches) off: clean it to the point of coherency. */
    dsb(ish);
    __asm__ volatile("dc civac, %0" : : "r"(c) : "memory");
    dsb(sy);
    s64 r = psci_call(PSCI_CPU_ON, c->mpidr, (u64)secondary_entry, (u64)c);
    if (r != PSCI_SUCCESS) {
        c->state = CPU_STATE_OFF;
    }
    return r;
}

void rt_secondary(struct cpu *c)
{
    c->context_id = (u64)c;
    mmu_secondary_enable();
    if (gic_ready()) {
        gic_init_cpu();
    }
    WRITE_ONCE(c->state, CPU_STATE_RUNNING);
    dsb(ish);
    sev();
    c->fn(c->arg);
    dmb(ish);
    WRITE_ONCE(c->state, CPU_STATE_DONE);
    dsb(ish);
    sev();
    psci_call(PSCI_CPU_OFF, 0, 0, 0);
    for (;;) {
        wfi();
    }
}

bool cpu_wait_state(int index, int state, u64 timeout_ns)
{
    u64 start = timer_now(), limit = ns_to_ticks(timeout_ns);
    while (READ_ONCE(cpus[index].state) != state) {
        if (timer_now() - start > limit) {
            return false;
        }
        cpu_relax();
    }
    dmb(ish);
    return true;
}

/* ---- ending ---- */

noreturn void rt_exit(int status)
{
    printf("exit %d\n", status);
    psci_system_off();
}

noreturn void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("panic: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    rt_exit(2);
}
