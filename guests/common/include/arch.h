/*
 * AArch64 system-register access, barriers and MMIO accessors.
 *
 * MMIO goes through explicit single LDR/STR instructions (no writeback, no pair) so that a hypervisor that emulates
 * the access from ESR_EL2.ISS (KVM) or a VMM that decodes the instruction sees one plain access of the right width.
 */
#ifndef GUEST_ARCH_H
#define GUEST_ARCH_H

#include "types.h"

#define read_sysreg(r) ({ u64 __v; __asm__ volatile("mrs %0, " #r : "=r"(__v)); __v; })
#define write_sysreg(r, v) __asm__ volatile("msr " #r ", %x0" : : "rZ"((u64)(v)) : "memory")

#define isb() __asm__ volatile("isb" : : : "memory")
#define dsb(opt) __asm__ volatile("dsb " #opt : : : "memory")
#define dmb(opt) __asm__ volatile("dmb " #opt : : : "memory")
#define wfi() __asm__ volatile("wfi" : : : "memory")
#define wfe() __asm__ volatile("wfe" : : : "memory")
#define sev() __asm__ volatile("sev" : : : "memory")
#define sevl() __asm__ volatile("sevl" : : : "memory")
#define cpu_relax() __asm__ volatile("yield" : : : "memory")
#define barrier() __asm__ volatile("" : : : "memory")

static inline void irq_enable(void) { __asm__ volatile("msr daifclr, #2" : : : "memory"); }
static inline void irq_disable(void) { __asm__ volatile("msr daifset, #2" : : : "memory"); }
/* Masks IRQs and returns the previous DAIF, for irq_restore. */
static inline u64 irq_save(void)
{
    u64 daif = read_sysreg(daif);
    irq_disable();
    return daif;
}
static inline void irq_restore(u64 daif) { write_sysreg(daif, daif); }

static inline u8 mmio_read8(u64 a)
{
    u32 v;
    __asm__ volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
    return (u8)v;
}
static inline u16 mmio_read16(u64 a)
{
    u32 v;
    __asm__ volatile("ldrh %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
    return (u16)v;
}
static inline u32 mmio_read32(u64 a)
{
    u32 v;
    __asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
    return v;
}
static inline u64 mmio_read64(u64 a)
{
    u64 v;
    __asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(a) : "memory");
    return v;
}
static inline void mmio_write8(u64 a, u8 v) { __asm__ volatile("strb %w0, [%1]" : : "rZ"(v), "r"(a) : "memory"); }
static inline void mmio_write16(u64 a, u16 v) { __asm__ volatile("strh %w0, [%1]" : : "rZ"(v), "r"(a) : "memory"); }
static inline void mmio_write32(u64 a, u32 v) { __asm__ volatile("str %w0, [%1]" : : "rZ"(v), "r"(a) : "memory"); }
static inline void mmio_write64(u64 a, u64 v) { __asm__ volatile("str %x0, [%1]" : : "rZ"(v), "r"(a) : "memory"); }

/* Exception classes (Arm ARM, ESR_EL1.EC). */
enum {
    EC_UNKNOWN = 0x00,
    EC_WFX = 0x01,
    EC_FP = 0x07,
    EC_ILLEGAL = 0x0e,
    EC_SVC64 = 0x15,
    EC_HVC64 = 0x16,
    EC_SMC64 = 0x17,
    EC_SYSREG = 0x18,
    EC_IABT_LOW = 0x20,
    EC_IABT_CUR = 0x21,
    EC_PC_ALIGN = 0x22,
    EC_DABT_LOW = 0x24,
    EC_DABT_CUR = 0x25,
    EC_SP_ALIGN = 0x26,
    EC_SERROR = 0x2f,
    EC_BRK64 = 0x3c,
};

#define ESR_EC(esr) FIELD(esr, 31, 26)
#define ESR_IL(esr) FIELD(esr, 25, 25)
#define ESR_ISS(esr) FIELD(esr, 24, 0)

/* SCTLR_EL1 bits (Arm ARM, SCTLR_EL1). */
#define SCTLR_M BIT(0)
#define SCTLR_A BIT(1)
#define SCTLR_C BIT(2)
#define SCTLR_SA BIT(3)
#define SCTLR_SA0 BIT(4)
#define SCTLR_UMA BIT(9)
#define SCTLR_I BIT(12)
#define SCTLR_DZE BIT(14)
#define SCTLR_UCT BIT(15)
#define SCTLR_NTWI BIT(16)
#define SCTLR_NTWE BIT(18)
#define SCTLR_WXN BIT(19)
#define SCTLR_UCI BIT(26)

static inline unsigned current_el(void) { return (unsigned)FIELD(read_sysreg(CurrentEL), 3, 2); }

#endif
