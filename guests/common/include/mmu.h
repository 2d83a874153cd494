/*
 * Stage 1 translation for the EL1&0 regime (Arm ARM, the AArch64 Virtual Memory System Architecture): translation
 * tables with 4K, 16K or 64K granules, identity maps and aliases, and turning the MMU on and off.
 */
#ifndef GUEST_MMU_H
#define GUEST_MMU_H

#include "types.h"

/* MAIR_EL1 attribute indexes the runtime programs (mmu_enable). */
#define MT_DEVICE_nGnRnE 0
#define MT_NORMAL 1
#define MT_NORMAL_NC 2
#define MT_DEVICE_nGnRE 3
#define MAIR_VALUE 0x0444ff00UL /* attr0 0x00, attr1 0xff, attr2 0x44, attr3 0x04 */

/* Block and page descriptor bits (Arm ARM, "Translation table descriptor formats"). */
#define PTE_VALID BIT(0)
#define PTE_TABLE BIT(1)       /* table descriptor at levels 0..2, page descriptor at level 3 */
#define PTE_ATTR(i) ((u64)(i) << 2)
#define PTE_NS BIT(5)
#define PTE_AP_EL0 BIT(6)      /* AP[1]: accessible at EL0 */
#define PTE_AP_RO BIT(7)       /* AP[2]: read-only */
#define PTE_SH_INNER (3UL << 8)
#define PTE_AF BIT(10)
#define PTE_NG BIT(11)
#define PTE_PXN BIT(53)
#define PTE_UXN BIT(54)

/* Common attribute sets for mmu_map. */
#define PROT_NORMAL (PTE_ATTR(MT_NORMAL) | PTE_SH_INNER | PTE_AF)
#define PROT_NORMAL_XN (PROT_NORMAL | PTE_PXN | PTE_UXN)
#define PROT_DEVICE (PTE_ATTR(MT_DEVICE_nGnRE) | PTE_AF | PTE_PXN | PTE_UXN)

struct mmu {
    int shift;        /* granule: 12 (4K), 14 (16K), 16 (64K) */
    int va_bits;
    int start_level;
    u64 *root;
    bool blocks;      /* mmu_map may use block descriptors */
};

/* Whether ID_AA64MMFR0_EL1 says the granule is implemented. */
bool mmu_granule_supported(int shift);
/* A new empty translation regime with `va_bits` of virtual address (root table from rt_alloc). */
void mmu_init(struct mmu *m, int shift, int va_bits);
/* Maps [va, va + size) to pa with the given attributes (PTE_* bits, no VALID/TABLE); size a granule multiple. */
void mmu_map(struct mmu *m, u64 va, u64 pa, u64 size, u64 attrs);
/* The descriptor that translates va (its level in *level), or NULL if a table on the way is missing. */
u64 *mmu_pte(struct mmu *m, u64 va, int *level);
/* A next-level table for the descriptor at `level` covering va (splitting a block if needed). */
u64 *mmu_table(struct mmu *m, u64 va, int level);
/* Size in bytes that one descriptor covers at `level`. */
u64 mmu_level_size(const struct mmu *m, int level);
/* TCR_EL1 value for ttbr0 (and ttbr1 if not NULL; else EPD1 is set). */
u64 mmu_tcr(const struct mmu *ttbr0, const struct mmu *ttbr1);
/* Programs MAIR/TCR/TTBR0/TTBR1 and sets SCTLR_EL1.M, C and I; also used by secondaries (mmu_secondary_enable). */
void mmu_enable(struct mmu *ttbr0, struct mmu *ttbr1);
void mmu_disable(void);
bool mmu_enabled(void);
/* Invalidate all stage 1 EL1&0 TLB entries (inner shareable) / one VA. */
void tlb_flush_all(void);
void tlb_flush_va(u64 va);
/*
 * The usual identity map, as a kernel maps itself: the image's text (up to _etext) read-only and executable at
 * EL1, the rest of RAM read/write and execute-never, everything below RAM Device memory. `shift` selects the
 * granule. Secondary CPUs started later turn on the same map.
 */
void mmu_identity_on(int shift);
/* Adds the usual identity map (above) to m. */
void mmu_map_identity(struct mmu *m);
void mmu_secondary_enable(void);
/* Physical address of va by AT S1E1R (PAR_EL1; bit 0 set on a fault). */
u64 mmu_at_s1e1r(u64 va);

#endif
