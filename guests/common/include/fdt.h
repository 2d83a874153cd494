/*
 * A read-only flattened device tree reader (Devicetree Specification v0.4, chapter 5). Nodes are named by the offset
 * of their FDT_BEGIN_NODE token in the structure block; -1 means "none".
 */
#ifndef GUEST_FDT_H
#define GUEST_FDT_H

#include "types.h"

/* Checks the header at addr (magic, version, sizes); on success the tree becomes the one the other calls read. */
bool fdt_init(u64 addr);
/* Whether addr holds a plausible device tree header. */
bool fdt_valid(u64 addr);
u64 fdt_addr(void);
u32 fdt_totalsize(void);
u32 fdt_version(void);

int fdt_root(void);
/* The node at an absolute path; a component without "@unit" matches a node name with any unit address. */
int fdt_path(const char *path);
/* The next node after `node` in document order (-1: start at the root), or -1. *depth tracks the nesting. */
int fdt_next_node(int node, int *depth);
int fdt_first_child(int node);
int fdt_next_sibling(int node);
int fdt_parent(int node);
const char *fdt_name(int node);
/* The next node after `from` (-1: from the start) whose "compatible" list holds `compat`, or -1. */
int fdt_find_compatible(int from, const char *compat);
bool fdt_is_compatible(int node, const char *compat);
int fdt_by_phandle(u32 phandle);
/* A property's value and length, or NULL. */
const void *fdt_prop(int node, const char *name, int *len);
u32 fdt_prop_u32(int node, const char *name, u32 dflt);
const char *fdt_prop_str(int node, const char *name);
/* #address-cells / #size-cells that apply to `node`'s reg (its parent's, default 2 and 1). */
void fdt_cells(int node, int *address_cells, int *size_cells);
/* Entry `index` of `node`'s reg; false when absent. Addresses are not translated through parent ranges. */
bool fdt_reg(int node, int index, u64 *addr, u64 *size);
/* Big-endian cell access. */
u32 fdt32(const void *p);
u64 fdt_cells_value(const u32 *cells, int n);

#endif
