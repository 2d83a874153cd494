/*
 * boot-info: what the boot loader and the board hand a guest, as the guest sees it. Run as an ELF, an arm64 Image
 * and a raw binary, it shows how QEMU's loader treats each (README.md, "How QEMU loads a guest"); a board that
 * copies QEMU's loader and device tree prints the same.
 */
#include "rt.h"
#include "fdt.h"
#include "psci.h"
#include "timer.h"

static void print_interrupts(int node)
{
    int len;
    const u32 *p = fdt_prop(node, "interrupts", &len);
    if (p == NULL) {
        printf(" no interrupts");
        return;
    }
    printf(" interrupts");
    for (int i = 0; i + 12 <= len; i += 12) {
        u32 type = fdt32(&p[i / 4]), num = fdt32(&p[i / 4 + 1]), flags = fdt32(&p[i / 4 + 2]);
        printf(" <%u %u %u>=INTID %u", type, num, flags, num + (type == 1 ? 16 : 32));
    }
}

static void print_reg(int node)
{
    u64 base, size;
    int ac, sc;
    fdt_cells(node, &ac, &sc);
    for (int i = 0; fdt_reg(node, i, &base, &size); i++) {
        if (sc == 0) {
            printf(" reg[%d] 0x%lx", i, base);
        } else {
            printf(" reg[%d] 0x%lx+0x%lx", i, base, size);
        }
    }
}

/* A string-list property as "a", "b"; or (none). */
static void print_strings(int node, const char *name)
{
    int len;
    const char *p = fdt_prop(node, name, &len);
    if (p == NULL) {
        printf("(none)");
        return;
    }
    for (int i = 0; i < len; i += (int)strlen(p + i) + 1) {
        printf("%s\"%s\"", i == 0 ? "" : ", ", p + i);
    }
}

static const char *psci_fn_name(u32 fn)
{
    switch (fn) {
    case PSCI_VERSION: return "PSCI_VERSION";
    case PSCI_CPU_SUSPEND: return "CPU_SUSPEND";
    case PSCI_CPU_OFF: return "CPU_OFF";
    case PSCI_CPU_ON: return "CPU_ON";
    case PSCI_AFFINITY_INFO: return "AFFINITY_INFO";
    case PSCI_MIGRATE: return "MIGRATE";
    case PSCI_MIGRATE_INFO_TYPE: return "MIGRATE_INFO_TYPE";
    case PSCI_SYSTEM_OFF: return "SYSTEM_OFF";
    case PSCI_SYSTEM_RESET: return "SYSTEM_RESET";
    case PSCI_FEATURES: return "PSCI_FEATURES";
    default: return "?";
    }
}

int main(void)
{
    printf("boot-info\n");
    printf("entry: x0 0x%lx x1 0x%lx x2 0x%lx x3 0x%lx\n", boot_regs[0], boot_regs[1], boot_regs[2], boot_regs[3]);
    printf("entry: CurrentEL %lu, DAIF 0x%lx, SCTLR_EL1 0x%08lx\n", boot_el, boot_daif, boot_sctlr);
    printf("image: linked and running at 0x%lx\n", (u64)_start);
    printf("device tree: at 0x%lx (%s), version %u\n", fdt_addr(),
           fdt_addr() == boot_regs[0] ? "from x0" : "x0 = 0: found at RAM base", fdt_version());
    printf("MIDR_EL1 0x%08lx MPIDR_EL1 0x%08lx\n", read_sysreg(midr_el1), read_sysreg(mpidr_el1));
    printf("CNTFRQ_EL0 %lu Hz\n", read_sysreg(cntfrq_el0));

    printf("/ compatible ");
    print_strings(fdt_root(), "compatible");
    printf(", #address-cells %u, #size-cells %u\n", fdt_prop_u32(fdt_root(), "#address-cells", 0),
           fdt_prop_u32(fdt_root(), "#size-cells", 0));
    printf("memory: 0x%lx + 0x%lx\n", ram_base(), ram_size());
    int cpus_node = fdt_path("/cpus");
    printf("cpus: %d (#address-cells %u)\n", cpu_count(), fdt_prop_u32(cpus_node, "#address-cells", 0));
    for (int c = fdt_first_child(cpus_node); c >= 0; c = fdt_next_sibling(c)) {
        const char *type = fdt_prop_str(c, "device_type");
        if (type != NULL && strcmp(type, "cpu") == 0) {
            printf("  %s: compatible ", fdt_name(c));
            print_strings(c, "compatible");
            printf(", enable-method ");
            print_strings(c, "enable-method");
            print_reg(c);
            printf("\n");
        }
    }

    int psci = fdt_find_compatible(-1, "arm,psci-0.2");
    printf("psci: %s, method ", fdt_name(psci));
    print_strings(psci, "method");
    printf(", compatible ");
    print_strings(psci, "compatible");
    printf("\n");
    s64 v = psci_call(PSCI_VERSION, 0, 0, 0);
    printf("PSCI_VERSION: 0x%lx (%ld.%ld)\n", (u64)v, v >> 16, v & 0xffff);
    static const u32 fns[] = { PSCI_VERSION, PSCI_CPU_SUSPEND, PSCI_CPU_OFF, PSCI_CPU_ON, PSCI_AFFINITY_INFO,
                               PSCI_MIGRATE, PSCI_MIGRATE_INFO_TYPE, PSCI_SYSTEM_OFF, PSCI_SYSTEM_RESET,
                               PSCI_FEATURES };
    for (unsigned i = 0; i < ARRAY_SIZE(fns); i++) {
        s64 r = psci_call(PSCI_FEATURES, fns[i], 0, 0);
        printf("PSCI_FEATURES(%s 0x%08x): %ld\n", psci_fn_name(fns[i]), fns[i], r);
    }
    printf("MIGRATE_INFO_TYPE: %ld\n", psci_call(PSCI_MIGRATE_INFO_TYPE, 0, 0, 0));
    printf("AFFINITY_INFO(boot cpu): %ld\n", psci_call(PSCI_AFFINITY_INFO, read_sysreg(mpidr_el1) & 0xffffff, 0, 0));

    int chosen = fdt_path("/chosen");
    printf("chosen: bootargs ");
    print_strings(chosen, "bootargs");
    printf(", stdout-path ");
    print_strings(chosen, "stdout-path");
    printf("\n");

    int timer = fdt_find_compatible(-1, "arm,armv8-timer");
    printf("timer: ");
    print_strings(timer, "compatible");
    print_interrupts(timer);
    printf("\n");

    int gic = fdt_find_compatible(-1, "arm,gic-v3");
    printf("gic: %s #interrupt-cells %u, #redistributor-regions %u", fdt_name(gic),
           fdt_prop_u32(gic, "#interrupt-cells", 0), fdt_prop_u32(gic, "#redistributor-regions", 1));
    print_reg(gic);
    printf("\n");
    for (int its = fdt_find_compatible(-1, "arm,gic-v3-its"); its >= 0;
         its = fdt_find_compatible(its, "arm,gic-v3-its")) {
        printf("its: %s #msi-cells %u, msi-controller %s", fdt_name(its), fdt_prop_u32(its, "#msi-cells", 0),
               fdt_prop(its, "msi-controller", NULL) != NULL ? "yes" : "no");
        print_reg(its);
        printf("\n");
    }

    int uart = fdt_find_compatible(-1, "arm,pl011");
    printf("uart: %s", fdt_name(uart));
    print_reg(uart);
    print_interrupts(uart);
    printf(", console at 0x%lx\n", uart_base());

    int nodes = 0, devices = 0;
    for (int n = fdt_find_compatible(-1, "virtio,mmio"); n >= 0; n = fdt_find_compatible(n, "virtio,mmio")) {
        u64 base, size;
        nodes++;
        if (!fdt_reg(n, 0, &base, &size)) {
            continue;
        }
        u32 magic = mmio_read32(base), version = mmio_read32(base + 4), id = mmio_read32(base + 8);
        if (id == 0) {
            continue;
        }
        devices++;
        int len;
        const u32 *msi = fdt_prop(n, "msi-parent", &len);
        printf("virtio-mmio: %s magic 0x%08x version %u DeviceID %u slot %lu", fdt_name(n), magic, version, id,
               (base & 0xffff) / 0x200);
        print_reg(n);
        print_interrupts(n);
        if (msi != NULL && len >= 8) {
            printf(" msi-parent <%s %u>", fdt_name(fdt_by_phandle(fdt32(&msi[0]))), fdt32(&msi[1]));
        }
        printf("\n");
    }
    printf("virtio-mmio devices present: %d\n", devices);
    (void)nodes;
    return 0;
}
