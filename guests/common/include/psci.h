/* PSCI (Arm DEN 0022, Power State Coordination Interface) over the conduit the device tree names (/psci method). */
#ifndef GUEST_PSCI_H
#define GUEST_PSCI_H

#include "types.h"

#define PSCI_VERSION 0x84000000u
#define PSCI_CPU_SUSPEND 0xc4000001u
#define PSCI_CPU_OFF 0x84000002u
#define PSCI_CPU_ON 0xc4000003u
#define PSCI_AFFINITY_INFO 0xc4000004u
#define PSCI_MIGRATE 0xc4000005u
#define PSCI_MIGRATE_INFO_TYPE 0x84000006u
#define PSCI_SYSTEM_OFF 0x84000008u
#define PSCI_SYSTEM_RESET 0x84000009u
#define PSCI_FEATURES 0x8400000au

#define PSCI_SUCCESS 0
#define PSCI_NOT_SUPPORTED (-1)
#define PSCI_INVALID_PARAMETERS (-2)
#define PSCI_DENIED (-3)
#define PSCI_ALREADY_ON (-4)
#define PSCI_ON_PENDING (-5)
#define PSCI_INTERNAL_FAILURE (-6)
#define PSCI_NOT_PRESENT (-7)
#define PSCI_DISABLED (-8)
#define PSCI_INVALID_ADDRESS (-9)

/* Reads /psci: method "hvc" (default) or "smc". */
void psci_init(void);
bool psci_uses_smc(void);
/* SMCCC call through the PSCI conduit: function id in x0, arguments x1..x3, result x0. */
s64 psci_call(u64 fn, u64 a1, u64 a2, u64 a3);
s64 hvc_call(u64 fn, u64 a1, u64 a2, u64 a3);
s64 smc_call(u64 fn, u64 a1, u64 a2, u64 a3);
const char *psci_error_name(s64 r);
noreturn void psci_system_off(void);

#endif
