/*
 * bench-cpu: a compute-bound benchmark for `vmm bench cpu` (issue 15): list processing, matrix arithmetic, a state
 * machine and CRCs (work.c), `iterations` times on each of `cpus` CPUs, with the MMU on (4K identity map) unless
 * mmu=off. Prints checksums that prove the work was done; with timing=1 also the counter ticks it took (with QEMU's
 * -icount shift=0, guest instructions = ticks x 16 at 62.5 MHz).
 */
#include "rt.h"
#include "timer.h"
#include "mmu.h"
#include "work.h"

static struct bench_state *states[MAX_CPUS];
static struct bench_sums sums[MAX_CPUS];
static u64 iterations;
static volatile int go;

static void run(int cpu)
{
    struct bench_state *s = states[cpu];
    struct bench_sums *sum = &sums[cpu];
    u32 total = 0;
    for (u64 i = 0; i < iterations; i++) {
        total = total * 31 + bench_iteration(s, (u32)i, sum);
    }
    sum->total = total;
}

static void secondary(void *arg)
{
    while (READ_ONCE(go) == 0) {
        cpu_relax();
    }
    run(this_cpu()->index);
}

int main(void)
{
    iterations = bootarg_u64("iterations", 1000);
    int ncpus = (int)bootarg_u64("cpus", 1);
    if (ncpus < 1 || ncpus > cpu_count()) {
        printf("cpus=%d: the machine has %d CPUs\n", ncpus, cpu_count());
        return 2;
    }
    const char *mmu = bootarg("mmu");
    bool mmu_on = mmu == NULL || strcmp(mmu, "off") != 0;
    printf("bench-cpu: %lu iterations on %d CPU%s, MMU %s\n", iterations, ncpus, ncpus > 1 ? "s" : "",
           mmu_on ? "on" : "off");
    crc32_init();
    for (int c = 0; c < ncpus; c++) {
        states[c] = rt_alloc(sizeof(struct bench_state), 64);
        states[c]->nodes = rt_alloc(bench_node_size() * LIST_NODES, 64);
    }
    if (mmu_on) {
        mmu_identity_on(12);
    }
    for (int c = 1; c < ncpus; c++) {
        cpu_start(c, secondary, NULL);
        cpu_wait_state(c, CPU_STATE_RUNNING, 2000000000ULL);
    }
    u64 t0 = timer_now();
    WRITE_ONCE(go, 1);
    run(0);
    for (int c = 1; c < ncpus; c++) {
        cpu_wait_state(c, CPU_STATE_DONE, 3600000000000ULL);
    }
    u64 t1 = timer_now();
    u32 checksum = 0;
    for (int c = 0; c < ncpus; c++) {
        struct bench_sums *s = &sums[c];
        printf("cpu %d: list 0x%04x matrix 0x%04x state 0x%04x crc 0x%08x total 0x%08x\n", c, s->list, s->matrix,
               s->state, s->crc, s->total);
        checksum = crc32(checksum, (const u8 *)&s->total, 4);
    }
    printf("checksum 0x%08x\n", checksum);
    if (bootarg("timing") != NULL) {
        printf("timing: %lu counter ticks (%lu ns of counter time)\n", t1 - t0, ticks_to_ns(t1 - t0));
    }
    return 0;
}
