/*
 * The EL0 side of the el0 guest: each entry point runs at EL0 (el0_call), does one thing and leaves with
 * SVC #0xff (the exit call, x0 = exit code). Exceptions it takes are recorded by EL1, which resumes at the next
 * instruction (or at el0_exit_stub for a bad branch target).
 */
    .section .el0.text, "ax"

.macro entry name
    .global \name
    .balign 16
\name:
.endm

entry el0_exit_stub
    svc     #0xff

entry el0_svc                   /* SVC #1 with x0 = arg: EL1 adds 1; exit with the result */
    svc     #1
    svc     #0xff

entry el0_svc_many              /* 1000 SVCs, each adding 1 */
    mov     x1, #1000
1:  svc     #1
    subs    x1, x1, #1
    b.ne    1b
    svc     #0xff

entry el0_currentel
    mrs     x0, CurrentEL
    svc     #0xff

entry el0_sctlr
    mrs     x0, sctlr_el1
    svc     #0xff

entry el0_cntvct                /* exit 1 when the read did not trap (EL1 counts the traps) */
    mrs     x1, cntvct_el0
    mov     x0, #1
    svc     #0xff

entry el0_cntfrq
    mrs     x0, cntfrq_el0
    svc     #0xff

entry el0_ctr
    mrs     x0, ctr_el0
    svc     #0xff

entry el0_dczva                 /* DC ZVA of the block at x0 */
    dc      zva, x0
    mov     x0, #1
    svc     #0xff

entry el0_wfi
    wfi
    svc     #0xff

entry el0_wfe                   /* SEVL makes the event register set: WFE does not wait */
    sevl
    wfe
    svc     #0xff

entry el0_daif                  /* exit with DAIF as EL0 sees it after masking IRQs */
    msr     daifset, #2
    mrs     x0, daif
    msr     daifclr, #2
    svc     #0xff

entry el0_nzcv                  /* NZCV is EL0's: set and read it back */
    mov     x1, #0x90000000
    msr     nzcv, x1
    mrs     x0, nzcv
    svc     #0xff

entry el0_brk
    brk     #3
    svc     #0xff

entry el0_udf
    udf     #7
    svc     #0xff

entry el0_hvc
    hvc     #0
    svc     #0xff

entry el0_smc
    smc     #0
    svc     #0xff

entry el0_eret
    eret
    svc     #0xff

entry el0_load                  /* x0 = address */
    ldr     x0, [x0]
    svc     #0xff

entry el0_store                 /* x0 = address */
    mov     x1, #0x5a
    str     x1, [x0]
    svc     #0xff

entry el0_branch                /* branch to x0 */
    br      x0

entry el0_tpidr                 /* TPIDR_EL0 read/write; TPIDRRO_EL0 read-only at EL0 */
    msr     tpidr_el0, x0
    mrs     x1, tpidr_el0
    mrs     x2, tpidrro_el0
    msr     tpidrro_el0, x0
    add     x0, x1, x2
    svc     #0xff

entry el0_sp_align              /* SP_EL0 = x0: a load through a misaligned SP with SCTLR_EL1.SA0 set */
    mov     x1, sp
    mov     sp, x0
    ldr     x2, [sp]
    mov     sp, x1
    mov     x0, #1
    svc     #0xff

entry el0_regs                  /* the EL0 registers survive an SVC: x19..x28 in, summed after */
    mov     x19, #19
    mov     x20, #20
    mov     x28, #28
    svc     #2
    add     x0, x19, x20
    add     x0, x0, x28
    svc     #0xff

entry el0_ret_insn              /* a RET in EL0 text, for EL1 to branch to (execute-never at EL1) */
    ret
