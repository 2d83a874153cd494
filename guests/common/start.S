/*
 * Entry, exception vectors and secondary-CPU entry of every guest.
 *
 * The image starts with an arm64 Linux `Image` header (Documentation/arch/arm64/booting.rst), so the same bytes boot
 * as an ELF (entry _start), as an Image (QEMU loads it at RAM base + text_offset and passes the device tree in x0)
 * or as a raw binary. The first instruction branches over the header.
 */
#include "asm.h"

/*
 * Entered at EL2 (QEMU with virtualization=on; its PSCI also starts secondaries there): run the guest at EL1 in
 * AArch64 with nothing trapped to EL2, then continue at EL1h with DAIF masked. Uses x9 only.
 */
.macro el2_to_el1
    mrs     x9, CurrentEL
    cmp     x9, #(2 << 2)
    b.ne    .Lel1_\@
    mov     x9, #(1 << 31)          /* HCR_EL2.RW: EL1 is AArch64 */
    msr     hcr_el2, x9
    mov     x9, #0x33ff
    msr     cptr_el2, x9            /* no FP/SIMD trap to EL2 (TFP = 0; RES1 bits set) */
    mrs     x9, cnthctl_el2
    orr     x9, x9, #3              /* EL1PCEN, EL1PCTEN: EL1 may use the physical timer and counter */
    msr     cnthctl_el2, x9
    msr     cntvoff_el2, xzr
    mrs     x9, icc_sre_el2
    orr     x9, x9, #0xf            /* SRE, DFB, DIB, Enable: EL1 uses the GIC system registers */
    msr     icc_sre_el2, x9
    isb
    mrs     x9, midr_el1
    msr     vpidr_el2, x9
    mrs     x9, mpidr_el1
    msr     vmpidr_el2, x9
    mov     x9, #0x3c5              /* EL1h, DAIF masked */
    msr     spsr_el2, x9
    adr     x9, .Lel1_\@
    msr     elr_el2, x9
    eret
.Lel1_\@:
.endm

    .section .text.head, "ax"
    .global _start
_start:
#ifndef NO_IMAGE_HEADER
    b       entry                   /* code0 */
    .long   0                       /* code1 */
    .quad   TEXT_OFFSET             /* text_offset: load at (2 MiB aligned RAM base) + this */
    .quad   _image_size             /* image_size, BSS included (guest.ld) */
    .quad   0x2                     /* flags: little-endian, 4K pages, base close to the start of RAM */
    .quad   0, 0, 0                 /* res2..res4 */
    .ascii  "ARM\x64"               /* magic */
    .long   0                       /* res5 */
#endif
entry:
    msr     daifset, #0xf
    mov     x19, x0
    mov     x20, x1
    mov     x21, x2
    mov     x22, x3
    mrs     x23, CurrentEL
    mrs     x24, sctlr_el1
    mrs     x25, daif
    lsr     x23, x23, #2
    el2_to_el1
    /* Boot CPU stack: top of cpu_stacks[0]. */
    adrp    x0, cpu_stacks
    add     x0, x0, :lo12:cpu_stacks
    add     x0, x0, #STACK_SIZE
    mov     sp, x0
    /* Clear BSS (16-byte aligned at both ends, guest.ld). The boot registers are saved after it. */
    adrp    x0, __bss_start
    add     x0, x0, :lo12:__bss_start
    adrp    x1, __bss_end
    add     x1, x1, :lo12:__bss_end
2:  cmp     x0, x1
    b.hs    3f
    stp     xzr, xzr, [x0], #16
    b       2b
3:  adrp    x0, boot_regs
    add     x0, x0, :lo12:boot_regs
    stp     x19, x20, [x0]
    stp     x21, x22, [x0, #16]
    adrp    x0, boot_el
    str     x23, [x0, :lo12:boot_el]
    adrp    x0, boot_sctlr
    str     x24, [x0, :lo12:boot_sctlr]
    adrp    x0, boot_daif
    str     x25, [x0, :lo12:boot_daif]
    adrp    x0, vectors
    add     x0, x0, :lo12:vectors
    msr     vbar_el1, x0
    isb
    bl      rt_boot
4:  wfi
    b       4b

/*
 * Secondary CPUs enter here from PSCI CPU_ON with the MMU off and x0 = the context id, which the runtime sets to
 * the CPU's `struct cpu` (rt.h; stack_top at offset CPU_STACK_TOP).
 */
    .text
    .global secondary_entry
secondary_entry:
    mrs     x1, daif
    mrs     x2, sctlr_el1
    mrs     x3, CurrentEL
    lsr     x3, x3, #2
    stp     x1, x2, [x0, #CPU_ENTRY_DAIF]
    str     x3, [x0, #CPU_ENTRY_DAIF + 16]
    msr     daifset, #0xf
    el2_to_el1
    ldr     x1, [x0, #CPU_STACK_TOP]
    mov     sp, x1
    adrp    x1, vectors
    add     x1, x1, :lo12:vectors
    msr     vbar_el1, x1
    msr     tpidr_el1, x0
    isb
    bl      rt_secondary
5:  wfi
    b       5b

/* ---- exception vectors (Arm ARM, "Exception vectors": four groups of four 0x80-byte entries) ---- */
.macro ventry n
    .balign 0x80
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #0]
    mov     x1, #\n
    b       exception_entry
.endm

    .section .text.vectors, "ax"
    .balign 0x800
    .global vectors
vectors:
    ventry 0
    ventry 1
    ventry 2
    ventry 3
    ventry 4
    ventry 5
    ventry 6
    ventry 7
    ventry 8
    ventry 9
    ventry 10
    ventry 11
    ventry 12
    ventry 13
    ventry 14
    ventry 15

exception_entry:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    mrs     x2, sp_el0
    stp     x30, x2, [sp, #240]
    mrs     x2, elr_el1
    mrs     x3, spsr_el1
    stp     x2, x3, [sp, #FRAME_ELR]
    mrs     x2, esr_el1
    mrs     x3, far_el1
    stp     x2, x3, [sp, #FRAME_ESR]
    add     x2, sp, #FRAME_SIZE
    stp     x2, x1, [sp, #FRAME_SP]
    mov     x0, sp
    bl      rt_exception
    /* The handler may have changed the frame: return to what it says. */
    ldp     x2, x3, [sp, #FRAME_ELR]
    msr     elr_el1, x2
    msr     spsr_el1, x3
    ldp     x30, x2, [sp, #240]
    msr     sp_el0, x2
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    add     sp, sp, #FRAME_SIZE
    eret

/*
 * el0_ctx holds x19..x30, then SP_EL1 and DAIF: `op` is stp to save the registers, ldp to restore them. x9 is left
 * pointing at el0_ctx, for SP_EL1 and DAIF at #96.
 */
.macro el0_ctx_callee_saved op
    adrp    x9, el0_ctx
    add     x9, x9, :lo12:el0_ctx
    \op     x19, x20, [x9, #0]
    \op     x21, x22, [x9, #16]
    \op     x23, x24, [x9, #32]
    \op     x25, x26, [x9, #48]
    \op     x27, x28, [x9, #64]
    \op     x29, x30, [x9, #80]
.endm

/*
 * u64 el0_call(u64 entry, u64 sp, u64 arg, u64 spsr): runs `entry(arg)` at EL0 on stack `sp` with SPSR `spsr`
 * (EL0t plus the DAIF bits wanted there) until the EL0 code makes the exit call, which the EL1 handler turns into a
 * return from here with el0_resume(code). Saves the callee-saved registers and SP_EL1 in el0_ctx.
 */
    .text
    .global el0_call
el0_call:
    el0_ctx_callee_saved stp
    mov     x10, sp
    mrs     x11, daif
    stp     x10, x11, [x9, #96]
    msr     elr_el1, x0
    msr     sp_el0, x1
    msr     spsr_el1, x3
    mov     x0, x2
    mov     x1, xzr
    mov     x2, xzr
    mov     x3, xzr
    mov     x30, xzr
    isb
    eret

/* Target of the exit call's ERET (EL1h): x0 = exit code. Restores el0_call's caller. */
    .global el0_return
el0_return:
    el0_ctx_callee_saved ldp
    ldp     x10, x11, [x9, #96]
    mov     sp, x10
    msr     daif, x11
    ret

    .bss
    .balign 16
el0_ctx:
    .space  112

    .section .bss.stacks, "aw", %nobits
    .balign 16
    .global cpu_stacks
cpu_stacks:
    .space  STACK_SIZE * MAX_CPUS
