/* Flattened device tree reader (Devicetree Specification v0.4, 5.2 header, 5.4 structure block). */
#include "rt.h"
#include "fdt.h"

#define FDT_MAGIC 0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4
#define FDT_END 9
#define MAX_DEPTH 16

static const u8 *blob;
static u32 total, off_struct, size_struct, off_strings, size_strings, version;

u32 fdt32(const void *p)
{
    const u8 *b = p;
    return (u32)b[0] << 24 | (u32)b[1] << 16 | (u32)b[2] << 8 | b[3];
}

u64 fdt_cells_value(const u32 *cells, int n)
{
    u64 v = 0;
    for (int i = 0; i < n; i++) {
        v = v << 32 | fdt32(&cells[i]);
    }
    return v;
}

bool fdt_valid(u64 addr)
{
    const u8 *b = (const u8 *)addr;
    if (addr == 0 || (addr & 7) != 0 || fdt32(b) != FDT_MAGIC) {
        return false;
    }
    u32 t = fdt32(b + 4), os = fdt32(b + 8), ostr = fdt32(b + 12), ver = fdt32(b + 20), last = fdt32(b + 24);
    u32 sstr = fdt32(b + 32), sst = fdt32(b + 36);
    return t >= 40 && t <= (64u << 20) && ver >= 17 && last <= 17 && os < t && sst <= t - os && ostr < t
           && sstr <= t - ostr;
}

bool fdt_init(u64 addr)
{
    if (!fdt_valid(addr)) {
        return false;
    }
    blob = (const u8 *)addr;
    total = fdt32(blob + 4);
    off_struct = fdt32(blob + 8);
    off_strings = fdt32(blob + 12);
    version = fdt32(blob + 20);
    size_strings = fdt32(blob + 32);
    size_struct = fdt32(blob + 36);
    return true;
}

u64 fdt_addr(void)
{
    return (u64)blob;
}

u32 fdt_totalsize(void)
{
    return total;
}

u32 fdt_version(void)
{
    return version;
}

/* The token at struct offset `off`; *next is the offset of the token after it (-1 past the end). */
static u32 token(int off, int *next)
{
    if (blob == NULL || off < 0 || (u32)off + 4 > size_struct) {
        *next = -1;
        return FDT_END;
    }
    const u8 *p = blob + off_struct + off;
    u32 tag = fdt32(p);
    u32 n = 4;
    if (tag == FDT_BEGIN_NODE) {
        while ((u32)off + n < size_struct && p[n] != 0) {
            n++;
        }
        n = (u32)ALIGN_UP(n + 1, 4);
    } else if (tag == FDT_PROP) {
        if ((u32)off + 12 > size_struct) {
            *next = -1;
            return FDT_END;
        }
        n = (u32)ALIGN_UP(12 + fdt32(p + 4), 4);
    }
    *next = (u32)off + n <= size_struct ? off + (int)n : -1;
    return tag;
}

int fdt_root(void)
{
    int off = 0, next;
    for (;;) {
        u32 tag = token(off, &next);
        if (tag == FDT_BEGIN_NODE) {
            return off;
        }
        if (tag != FDT_NOP || next < 0) {
            return -1;
        }
        off = next;
    }
}

int fdt_next_node(int node, int *depth)
{
    int off, next;
    if (node < 0) {
        *depth = 0;
        return fdt_root();
    }
    token(node, &off);  /* skip the BEGIN_NODE of `node` itself */
    int d = *depth + 1;
    while (off >= 0) {
        u32 tag = token(off, &next);
        if (tag == FDT_BEGIN_NODE) {
            *depth = d;
            return off;
        }
        if (tag == FDT_END_NODE) {
            d--;
        } else if (tag == FDT_END) {
            break;
        }
        off = next;
    }
    return -1;
}

const char *fdt_name(int node)
{
    return node < 0 ? "" : (const char *)(blob + off_struct + node + 4);
}

int fdt_first_child(int node)
{
    int depth = 0;
    int n = fdt_next_node(node, &depth);
    return n >= 0 && depth == 1 ? n : -1;
}

int fdt_next_sibling(int node)
{
    int depth = 0;
    for (int n = fdt_next_node(node, &depth); n >= 0; n = fdt_next_node(n, &depth)) {
        if (depth == 0) {
            return n;
        }
        if (depth < 0) {
            return -1;
        }
    }
    return -1;
}

int fdt_parent(int node)
{
    int stack[MAX_DEPTH];
    int depth = 0;
    for (int n = fdt_next_node(-1, &depth); n >= 0; n = fdt_next_node(n, &depth)) {
        if (depth < 0 || depth >= MAX_DEPTH) {
            return -1;
        }
        stack[depth] = n;
        if (n == node) {
            return depth == 0 ? -1 : stack[depth - 1];
        }
    }
    return -1;
}

const void *fdt_prop(int node, const char *name, int *len)
{
    int off, next;
    if (node < 0) {
        return NULL;
    }
    token(node, &off);
    while (off >= 0) {
        u32 tag = token(off, &next);
        if (tag == FDT_PROP) {
            const u8 *p = blob + off_struct + off;
            u32 nameoff = fdt32(p + 8);
            if (nameoff < size_strings
                && strcmp((const char *)(blob + off_strings + nameoff), name) == 0) {
                if (len != NULL) {
                    *len = (int)fdt32(p + 4);
                }
                return p + 12;
            }
        } else if (tag != FDT_NOP) {
            break;  /* properties come before subnodes */
        }
        off = next;
    }
    return NULL;
}

u32 fdt_prop_u32(int node, const char *name, u32 dflt)
{
    int len;
    const void *p = fdt_prop(node, name, &len);
    return p != NULL && len >= 4 ? fdt32(p) : dflt;
}

const char *fdt_prop_str(int node, const char *name)
{
    int len;
    const char *p = fdt_prop(node, name, &len);
    return p != NULL && len > 0 && p[len - 1] == 0 ? p : NULL;
}

bool fdt_is_compatible(int node, const char *compat)
{
    int len;
    const char *p = fdt_prop(node, "compatible", &len);
    if (p == NULL) {
        return false;
    }
    for (int i = 0; i < len;) {
        if (strcmp(p + i, compat) == 0) {
            return true;
        }
        i += (int)strlen(p + i) + 1;
    }
    return false;
}

int fdt_find_compatible(int from, const char *compat)
{
    int depth = 0;
    int n = from < 0 ? fdt_next_node(-1, &depth) : fdt_next_node(from, &depth);
    for (; n >= 0; n = fdt_next_node(n, &depth)) {
        if (fdt_is_compatible(n, compat)) {
            return n;
        }
    }
    return -1;
}

int fdt_by_phandle(u32 phandle)
{
    int depth = 0;
    for (int n = fdt_next_node(-1, &depth); n >= 0; n = fdt_next_node(n, &depth)) {
        if (fdt_prop_u32(n, "phandle", 0) == phandle || fdt_prop_u32(n, "linux,phandle", 0) == phandle) {
            return n;
        }
    }
    return -1;
}

static bool has_unit(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '@') {
            return true;
        }
    }
    return false;
}

static bool name_matches(const char *name, const char *comp, size_t n)
{
    if (strncmp(name, comp, n) != 0) {
        return false;
    }
    /* "foo" matches "foo" and "foo@unit"; "foo@1" must match exactly. */
    return name[n] == 0 || (name[n] == '@' && !has_unit(comp, n));
}

int fdt_path(const char *path)
{
    int node = fdt_root();
    while (node >= 0 && *path != 0) {
        while (*path == '/') {
            path++;
        }
        if (*path == 0) {
            break;
        }
        size_t n = 0;
        while (path[n] != 0 && path[n] != '/') {
            n++;
        }
        int child = fdt_first_child(node);
        while (child >= 0 && !name_matches(fdt_name(child), path, n)) {
            child = fdt_next_sibling(child);
        }
        node = child;
        path += n;
    }
    return node;
}

void fdt_cells(int node, int *address_cells, int *size_cells)
{
    int parent = fdt_parent(node);
    *address_cells = (int)fdt_prop_u32(parent, "#address-cells", 2);
    *size_cells = (int)fdt_prop_u32(parent, "#size-cells", 1);
}

bool fdt_reg(int node, int index, u64 *addr, u64 *size)
{
    int ac, sc, len;
    fdt_cells(node, &ac, &sc);
    const u32 *p = fdt_prop(node, "reg", &len);
    int entry = (ac + sc) * 4;
    if (p == NULL || entry == 0 || ac > 2 || sc > 2 || (index + 1) * entry > len) {
        return false;
    }
    p += index * (ac + sc);
    *addr = fdt_cells_value(p, ac);
    *size = fdt_cells_value(p + ac, sc);
    return true;
}
