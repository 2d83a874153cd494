/*
 * jvmm-init: the whole userspace of the Linux boot test. The kernel runs it as /init from the initramfs; it prints
 * what it knows from system calls alone (no /proc: nothing is mounted), then powers the machine off, which Linux does
 * with PSCI SYSTEM_OFF on QEMU's virt board.
 *
 * No C library: its own _start, raw system calls (svc #0, number in x8, arguments in x0..x5, result in x0), and
 * -mgeneral-regs-only because jvmm's CPU has no FP/AdvSIMD (Linux sends SIGILL to a task that uses them there).
 * The lines it prints are the same on QEMU and jvmm except where noted: the boot test looks for HELLO and for the
 * power-off line.
 */

typedef unsigned long u64;
typedef long s64;

#define SYS_write 64
#define SYS_exit 93
#define SYS_clock_gettime 113
#define SYS_sched_getaffinity 123
#define SYS_reboot 142
#define SYS_uname 160
#define SYS_getpid 172
#define SYS_sysinfo 179

#define CLOCK_BOOTTIME 7
#define LINUX_REBOOT_MAGIC1 0xfee1deadUL
#define LINUX_REBOOT_MAGIC2 672274793UL
#define LINUX_REBOOT_CMD_POWER_OFF 0x4321fedcUL

struct utsname { char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65]; };
struct timespec { s64 tv_sec, tv_nsec; };
struct sysinfo {
    s64 uptime;
    u64 loads[3], totalram, freeram, sharedram, bufferram, totalswap, freeswap;
    unsigned short procs, pad;
    u64 totalhigh, freehigh;
    unsigned int mem_unit;
    char reserved[256]; /* more than the kernel writes on a 64-bit machine */
};

static s64 syscall4(u64 nr, u64 a, u64 b, u64 c, u64 d)
{
    register u64 x8 __asm__("x8") = nr;
    register u64 x0 __asm__("x0") = a;
    register u64 x1 __asm__("x1") = b;
    register u64 x2 __asm__("x2") = c;
    register u64 x3 __asm__("x3") = d;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory", "cc");
    return (s64)x0;
}

#define syscall1(nr, a) syscall4(nr, (u64)(a), 0, 0, 0)
#define syscall2(nr, a, b) syscall4(nr, (u64)(a), (u64)(b), 0, 0)
#define syscall3(nr, a, b, c) syscall4(nr, (u64)(a), (u64)(b), (u64)(c), 0)

/* One line at a time in a buffer, written with one write(2) so lines never interleave with the kernel's. */
static char line[256];
static unsigned len;

static void put(const char *s)
{
    while (*s && len < sizeof line - 2)
        line[len++] = *s++;
}

static void put_dec(u64 v)
{
    char digits[20];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n && len < sizeof line - 2)
        line[len++] = digits[--n];
}

static void put_frac3(u64 v)
{
    put_dec(v / 1000);
    put(".");
    put_dec(v / 100 % 10);
    put_dec(v / 10 % 10);
    put_dec(v % 10);
}

static void end_line(void)
{
    line[len++] = '\n';
    syscall3(SYS_write, 1, line, len);
    len = 0;
}

static void say(const char *a, const char *b)
{
    put("jvmm-init: ");
    put(a);
    put(b);
    end_line();
}

static void init_main(void)
{
    struct utsname u;
    struct timespec t;
    struct sysinfo si;
    u64 mask[16];

    say("hello from userspace", "");

    put("jvmm-init: pid ");
    put_dec((u64)syscall1(SYS_getpid, 0));
    end_line();

    if (syscall1(SYS_uname, &u) == 0) {
        say("sysname ", u.sysname);
        say("release ", u.release);
        say("machine ", u.machine);
    } else {
        say("uname failed", "");
    }

    s64 bytes = syscall3(SYS_sched_getaffinity, 0, sizeof mask, mask);
    if (bytes > 0) {
        u64 cpus = 0;
        for (s64 i = 0; i < bytes / 8; i++)
            for (u64 m = mask[i]; m; m &= m - 1) /* no __builtin_popcount: it calls libgcc */
                cpus++;
        put("jvmm-init: cpus online ");
        put_dec(cpus);
        end_line();
    }

    if (syscall1(SYS_sysinfo, &si) == 0) {
        put("jvmm-init: memory ");
        put_dec(si.totalram * si.mem_unit >> 20);
        put(" MiB");
        end_line();
    }

    /*
     * A timing, not a fact: differs from run to run and between QEMU and jvmm. CLOCK_BOOTTIME runs from the
     * kernel's timekeeping start, on jiffies until the arch timer's clocksource takes over, so it lags the
     * printk timestamps wherever timer ticks came late (a slow CPU with interrupts masked for long).
     */
    if (syscall2(SYS_clock_gettime, CLOCK_BOOTTIME, &t) == 0) {
        put("jvmm-init: CLOCK_BOOTTIME ");
        put_frac3((u64)t.tv_sec * 1000 + (u64)t.tv_nsec / 1000000);
        put(" s");
        end_line();
    }

    say("powering off", "");
    syscall4(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF, 0);
    /* Only reached when the kernel refused; init exiting makes the kernel panic, which panic=-1 turns into a reset. */
    say("reboot(POWER_OFF) failed", "");
    syscall1(SYS_exit, 1);
}

__asm__(".globl _start\n"
        "_start:\n"
        "    mov x29, #0\n"
        "    mov x30, #0\n"
        "    bl main_entry\n"
        "1:  b 1b\n");

void main_entry(void)
{
    init_main();
}
