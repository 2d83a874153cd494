/*
 * Instructions that trap, each in a function of its own so that a trap handler can resume at the caller (x30) or
 * at the next instruction. Flags are set to a known NZCV (Z and C: 0x6) before each trap, so SPSR is deterministic.
 */
    .text
.macro flags
    mov     x9, #0x60000000
    msr     nzcv, x9
.endm

    .global do_svc
do_svc:                         /* SVC #0x42: returns the x0 the handler leaves */
    flags
    svc     #0x42
    ret

    .global do_svc_sp0
do_svc_sp0:                     /* SVC #0x7 with SPSel = 0 (EL1t): the "current EL with SP0" vector */
    msr     spsel, #0
    flags
    svc     #0x7
    msr     spsel, #1
    ret

    .global do_brk
do_brk:
    flags
    brk     #0x7
    ret

    .global do_udf
do_udf:
    flags
    udf     #0x1234
    ret

    .global do_hvc
do_hvc:                         /* HVC #0 with x0 = function id: SMCCC result in x0 */
    hvc     #0
    ret

    .global do_smc
do_smc:
    smc     #0
    ret

    .global do_ldxr
do_ldxr:                        /* exclusives must be aligned whatever SCTLR_EL1.A says */
    flags
    ldxr    x0, [x0]
    ret

    .global do_sp_align
do_sp_align:                    /* SP_EL0 = x0 (misaligned), SPSel = 0, load through SP */
    mov     x10, sp
    msr     spsel, #0
    mov     x11, sp
    mov     sp, x0
    flags
    ldr     x1, [sp]
    .global sp_align_resume
sp_align_resume:                /* the trap handler resumes here (still on SP_EL0) */
    mov     sp, x11
    msr     spsel, #1
    ret

    .global do_sysreg_read_undef
do_sysreg_read_undef:           /* an EL2 register space encoding (op1 = 4) read at EL1: UNDEFINED */
    flags
    mrs     x0, s3_4_c15_c15_7
    ret

    .global do_sysreg_write_ro
do_sysreg_write_ro:             /* a write to MIDR_EL1's encoding: UNDEFINED */
    flags
    msr     s3_0_c0_c0_0, x0
    ret

    .global do_illegal_return
do_illegal_return:              /* ERET to EL2 from EL1 with no EL2: an illegal exception return */
    mrs     x9, daif
    mov     x10, #0x3c9         /* EL2h, DAIF masked */
    msr     spsr_el1, x10
    adr     x10, 1f
    msr     elr_el1, x10
    eret
1:  nop                         /* PSTATE.IL is set: this instruction takes the Illegal Execution state exception */
    msr     daif, x9
    ret

    .global nop_target
    .balign 8
nop_target:
    ret
