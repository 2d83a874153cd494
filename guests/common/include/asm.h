/* Constants shared by start.S and C (must match struct frame and struct cpu in rt.h). */
#ifndef GUEST_ASM_H
#define GUEST_ASM_H

#define MAX_CPUS 8
#define STACK_SIZE 0x4000

#define FRAME_ELR 256
#define FRAME_ESR 272
#define FRAME_SP 288
#define FRAME_SIZE 304

#define CPU_STACK_TOP 16
#define CPU_ENTRY_DAIF 64

#ifndef TEXT_OFFSET
#define TEXT_OFFSET 0x200000
#endif

#endif
