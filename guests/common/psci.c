#include "rt.h"
#include "fdt.h"
#include "psci.h"

static bool use_smc;

void psci_init(void)
{
    int node = fdt_find_compatible(-1, "arm,psci-0.2");
    if (node < 0) {
        node = fdt_find_compatible(-1, "arm,psci");
    }
    const char *method = fdt_prop_str(node, "method");
    use_smc = method != NULL && strcmp(method, "smc") == 0;
}

bool psci_uses_smc(void)
{
    return use_smc;
}

/*
 * SMC Calling Convention (Arm DEN 0028): function id and arguments in x0..x3, results in x0..x3; SMCCC 1.0 lets the
 * callee corrupt x4..x17. The same call through either conduit, `insn` being "hvc #0" or "smc #0".
 */
#define SMCCC_CALL(name, insn)                                                                                  \
    s64 name(u64 fn, u64 a1, u64 a2, u64 a3)                                                                    \
    {                                                                                                           \
        register u64 x0 __asm__("x0") = fn;                                                                     \
        register u64 x1 __asm__("x1") = a1;                                                                     \
        register u64 x2 __asm__("x2") = a2;                                                                     \
        register u64 x3 __asm__("x3") = a3;                                                                     \
        __asm__ volatile(insn                                                                                   \
                         : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)                                               \
                         :                                                                                      \
                         : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", \
                           "x17", "memory");                                                                    \
        return (s64)x0;                                                                                         \
    }

SMCCC_CALL(hvc_call, "hvc #0")
SMCCC_CALL(smc_call, "smc #0")

s64 psci_call(u64 fn, u64 a1, u64 a2, u64 a3)
{
    return use_smc ? smc_call(fn, a1, a2, a3) : hvc_call(fn, a1, a2, a3);
}

const char *psci_error_name(s64 r)
{
    static const char *const names[] = {
        "SUCCESS", "NOT_SUPPORTED", "INVALID_PARAMETERS", "DENIED", "ALREADY_ON", "ON_PENDING",
        "INTERNAL_FAILURE", "NOT_PRESENT", "DISABLED", "INVALID_ADDRESS",
    };
    return r <= 0 && r >= -9 ? names[-r] : "?";
}

noreturn void psci_system_off(void)
{
    psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
    /* SYSTEM_OFF does not return; if the conduit is missing, stop here. */
    for (;;) {
        irq_disable();
        wfi();
    }
}
