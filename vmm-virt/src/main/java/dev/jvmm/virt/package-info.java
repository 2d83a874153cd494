/**
 * QEMU's {@code virt} board for compiled AArch64 guests: what {@code qemu-system-aarch64 -M virt,gic-version=3 -cpu
 * cortex-a57 -kernel FILE} gives a kernel, built from jvmm's modules (core's machine, vmm-gic's GICv3 and ITS,
 * vmm-net's virtio-net NICs, vmm-arm64's CPUs).
 *
 * <pre>
 *   VirtMachine     a run across resets: reads the kernel, builds each boot, says how the run ended (public)
 *   VirtBoard       one boot: the memory map, each device with its interrupt and device-tree node side by side,
 *                   the CPUs and their firmware (hw/arm/virt.c)
 *   BootLoader      where the kernel, the initrd and the tree go, the boot stub, the boot CPU's registers
 *                   (hw/arm/boot.c)
 *   Fdt             the flattened device tree: a tree to build and edit, its blob (version 17), a reader
 *   Psci            PSCI 1.1 and SMCCC over HVC (and SMC) (target/arm/psci.c)
 *   Pl011           the PrimeCell UART (hw/char/pl011.c)
 *   SerialConsole   its host side: stdio, none or a file, never blocking a vCPU (public)
 *   KernelConfig    the guest section when it names a kernel (public)
 * </pre>
 *
 * <pre>{@code
 * VmConfig config = VmConfig.builder().vcpus(2).memorySize(128L << 20)
 *         .with(KernelConfig.SECTION, KernelConfig.of(Path.of("guests/smp/smp.elf")))
 *         .build();
 * try (VirtMachine vm = VirtMachine.builder(config).console(SerialConsole.of(null, System.out)).build()) {
 *     vm.start();
 *     VirtMachine.Outcome end = vm.awaitEnd(Duration.ofSeconds(60));   // POWER_OFF after "exit 0"
 * }
 * }</pre>
 *
 * <h2>Where jvmm's board differs from QEMU's, on purpose</h2>
 * <ul>
 *   <li>SMC at EL1 is a PSCI/SMCCC call like HVC by default (as KVM answers SMCCC on either conduit); QEMU makes it
 *       UNDEFINED ({@code guest.smc: undefined} does too).</li>
 *   <li>CPU_ON answers INVALID_ADDRESS for an entry outside RAM (PSCI 1.0) and ON_PENDING while the target has not
 *       run yet; QEMU 7.2 starts the CPU anyway, and has no ON_PENDING.</li>
 *   <li>The SMCCC function id is W0 and SMC32 calls take 32-bit arguments (SMCCC; KVM); QEMU compares all of X0.</li>
 *   <li>The device tree lists the virtio-mmio slots that hold a NIC (QEMU lists all 32; the empty ones still answer
 *       as QEMU's do), and a NIC in MSI mode carries {@code msi-parent}.</li>
 *   <li>Left out: flash, PL031, fw_cfg, PL061 and its power button, PCIe, the platform bus, the PMU node
 *       ({@link dev.jvmm.virt.VirtBoard} says why); uImage kernels and U-Boot-wrapped initrds are not loaded (an
 *       initrd is copied as it is, as QEMU copies any file that is not a U-Boot ramdisk).</li>
 * </ul>
 */
package dev.jvmm.virt;
