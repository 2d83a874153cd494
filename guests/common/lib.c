/*
 * The freestanding C library the guests need. Compiled with -fno-builtin -fno-tree-loop-distribute-patterns so GCC
 * does not turn these loops back into calls to themselves. Word copies only when both pointers are aligned: the
 * guests also run with the MMU off, where every data access is Device memory and an unaligned one faults.
 */
#include "rt.h"

void *memset(void *d, int c, size_t n)
{
    u8 *p = d;
    u64 pattern = (u8)c * 0x0101010101010101UL;
    while (n > 0 && ((uintptr_t)p & 7) != 0) {
        *p++ = (u8)c;
        n--;
    }
    for (; n >= 8; n -= 8, p += 8) {
        *(u64 *)p = pattern;
    }
    while (n-- > 0) {
        *p++ = (u8)c;
    }
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    u8 *dp = d;
    const u8 *sp = s;
    if ((((uintptr_t)dp ^ (uintptr_t)sp) & 7) == 0) {
        while (n > 0 && ((uintptr_t)dp & 7) != 0) {
            *dp++ = *sp++;
            n--;
        }
        for (; n >= 8; n -= 8, dp += 8, sp += 8) {
            *(u64 *)dp = *(const u64 *)sp;
        }
    }
    while (n-- > 0) {
        *dp++ = *sp++;
    }
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    u8 *dp = d;
    const u8 *sp = s;
    if (dp <= sp || dp >= sp + n) {
        return memcpy(d, s, n);
    }
    while (n-- > 0) {
        dp[n] = sp[n];
    }
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const u8 *x = a, *y = b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i]) {
            return x[i] < y[i] ? -1 : 1;
        }
    }
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n] != 0) {
        n++;
    }
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a != 0 && *a == *b) {
        a++;
        b++;
    }
    return (u8)*a - (u8)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n > 0; n--, a++, b++) {
        if (*a != *b || *a == 0) {
            return (u8)*a - (u8)*b;
        }
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c) {
            return (char *)s;
        }
        if (*s == 0) {
            return NULL;
        }
    }
}

u64 strtou64(const char *s, const char **end)
{
    u64 v = 0;
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    for (;; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9') {
            d = (unsigned)(*s - '0');
        } else if (base == 16 && *s >= 'a' && *s <= 'f') {
            d = (unsigned)(*s - 'a' + 10);
        } else if (base == 16 && *s >= 'A' && *s <= 'F') {
            d = (unsigned)(*s - 'A' + 10);
        } else {
            break;
        }
        v = v * base + d;
    }
    if (end != NULL) {
        *end = s;
    }
    return v;
}
