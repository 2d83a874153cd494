/**
 * An AArch64 processor in pure Java: the CPU that lets jvmm run guest machine code compiled for {@code aarch64}.
 *
 * <p>The guest sees a Cortex-A57 r1p0 at EL0 and EL1 (MIDR 0x411FD070, QEMU {@code virt}'s MPIDR layout): the whole
 * A64 base integer instruction set with CRC32, no FP/AdvSIMD (ID_AA64PFR0.FP = AdvSIMD = 0xF, their instructions
 * UNDEFINED), no LSE; the exception model with VBAR_EL1 vectors; stage 1 translation of the EL1&0 regime with the 4K
 * and 64K granules; the system registers a kernel uses; the generic timer at 62.5 MHz driving PPIs 27 and 30; a
 * global exclusive monitor, WFE/SEV and barriers for SMP. The GIC CPU interface, MMIO, WFI and the timer's interrupt
 * lines go through core's {@link dev.jvmm.core.vcpu.GuestCpu}; HVC and SMC through the board's
 * {@link dev.jvmm.arm64.HypervisorCall}.
 *
 * <h2>Where things are</h2>
 * <pre>
 *   A64            the encoding table: every instruction's Arm ARM name, bit pattern and named fields
 *   Decoder        table to Insn (decoded once); Op: the semantic operations
 *   Interpreter    the semantics of every Op (and the memory-model mapping of barriers and acquire/release)
 *   BlockCompiler  hot blocks to JVM bytecode (hidden classes), registers in locals, self-loops as JVM loops
 *   CodeCache      decoded code per guest physical page, shared by all vCPUs, invalidated by stores and IC
 *   Mmu            stage 1 walk, software TLB, every load, store and fetch, MMIO, faults
 *   ArchState      registers, PSTATE, stored system registers: the architectural state, in one place
 *   SysReg         the system-register table (names, encodings, access); SysRegs: MRS/MSR/SYS behaviour
 *   GenericTimer   CNTPCT/CNTVCT, the EL1 physical and virtual timers
 *   ExclusiveMonitor  the global monitor
 *   Arm64Cpu       the run loop, exception entry and return, hints, exclusives, the board's hooks (public)
 *   Arm64System    what the CPUs of a machine share (public)
 * </pre>
 */
package dev.jvmm.arm64;
