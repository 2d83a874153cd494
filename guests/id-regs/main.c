/*
 * id-regs: the registers at entry (x0..x3, CurrentEL, DAIF, SCTLR_EL1) and the identification registers of the
 * CPU, with their main fields decoded (Arm ARM, AArch64 System register descriptions). Informational: QEMU's
 * cortex-a57 implements FP/AdvSIMD, AArch32, crypto and a PMU that a CPU without them reports differently
 * (README.md, "id-regs").
 */
#include "rt.h"

struct reg {
    const char *name;
    u64 value;
    /* Fields to decode: "Name:hi:lo" separated by spaces; NULL for none. */
    const char *fields;
};

static void print_fields(u64 v, const char *spec)
{
    while (spec != NULL && *spec != 0) {
        const char *colon = strchr(spec, ':');
        const char *end;
        u64 hi = strtou64(colon + 1, &end);
        u64 lo = strtou64(end + 1, &end);
        printf("  %.*s %lu", (int)(colon - spec), spec, FIELD(v, hi, lo));
        spec = *end == ' ' ? end + 1 : end;
    }
    printf("\n");
}

#define REG(r, f) { #r, read_sysreg(r), f }

int main(void)
{
    printf("id-regs\n");
    printf("x0 0x%lx x1 0x%lx x2 0x%lx x3 0x%lx at entry\n", boot_regs[0], boot_regs[1], boot_regs[2], boot_regs[3]);
    printf("CurrentEL %lu at entry (now %u), DAIF 0x%lx, SCTLR_EL1 0x%08lx\n", boot_el, current_el(), boot_daif,
           boot_sctlr);
    const struct reg regs[] = {
        REG(midr_el1, "Implementer:31:24 Variant:23:20 Architecture:19:16 PartNum:15:4 Revision:3:0"),
        REG(mpidr_el1, "U:30:30 MT:24:24 Aff2:23:16 Aff1:15:8 Aff0:7:0"),
        REG(revidr_el1, NULL),
        REG(id_aa64pfr0_el1, "EL0:3:0 EL1:7:4 EL2:11:8 EL3:15:12 FP:19:16 AdvSIMD:23:20 GIC:27:24"),
        REG(id_aa64pfr1_el1, NULL),
        REG(id_aa64dfr0_el1, "DebugVer:3:0 PMUVer:11:8 BRPs:15:12 WRPs:23:20 CTX_CMPs:31:28"),
        REG(id_aa64dfr1_el1, NULL),
        REG(id_aa64isar0_el1, "AES:7:4 SHA1:11:8 SHA2:15:12 CRC32:19:16 Atomic:23:20 RDM:31:28"),
        REG(id_aa64isar1_el1, NULL),
        REG(id_aa64mmfr0_el1, "PARange:3:0 ASIDBits:7:4 BigEnd:11:8 SNSMem:15:12 BigEndEL0:19:16 TGran16:23:20 "
                              "TGran64:27:24 TGran4:31:28"),
        REG(id_aa64mmfr1_el1, "HAFDBS:3:0 VMIDBits:7:4 VH:11:8 HPDS:15:12 LO:19:16 PAN:23:20"),
        REG(id_aa64mmfr2_el1, NULL),
        REG(id_aa64afr0_el1, NULL),
        REG(id_aa64afr1_el1, NULL),
        REG(ctr_el0, "IminLine:3:0 L1Ip:15:14 DminLine:19:16 ERG:23:20 CWG:27:24"),
        REG(dczid_el0, "BS:3:0 DZP:4:4"),
        REG(clidr_el1, NULL),
        REG(aidr_el1, NULL),
        REG(cntfrq_el0, NULL),
        REG(id_pfr0_el1, NULL),
        REG(id_isar0_el1, NULL),
        REG(id_mmfr0_el1, NULL),
        REG(mvfr0_el1, NULL),
        REG(icc_sre_el1, "SRE:0:0 DFB:1:1 DIB:2:2"),
        REG(cpacr_el1, "FPEN:21:20"),
        REG(tcr_el1, NULL),
        REG(mair_el1, NULL),
        REG(cntkctl_el1, NULL),
        REG(cntv_ctl_el0, NULL),
        REG(cntp_ctl_el0, NULL),
    };
    for (unsigned i = 0; i < ARRAY_SIZE(regs); i++) {
        printf("%-18s 0x%016lx\n", regs[i].name, regs[i].value);
        if (regs[i].fields != NULL) {
            print_fields(regs[i].value, regs[i].fields);
        }
    }
    return 0;
}
