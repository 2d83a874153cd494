/*
 * Probes: one memory access or branch each, for tests that expect a fault. A trap handler resumes them at their
 * caller (the frame's x30, RESUME_LR in check.h) with x0 set to a marker.
 */
    .text
    .global probe_load64
probe_load64:
    ldr     x0, [x0]
    ret
    .global probe_load32
probe_load32:
    ldr     w0, [x0]
    ret
    .global probe_load16
probe_load16:
    ldrh    w0, [x0]
    ret
    .global probe_load8
probe_load8:
    ldrb    w0, [x0]
    ret
    .global probe_store64
probe_store64:
    str     x1, [x0]
    ret
    .global probe_store8
probe_store8:
    strb    w1, [x0]
    ret
    .global probe_exec
probe_exec:                     /* calls x0: an instruction abort resumes at our caller, x30 is its return */
    br      x0
