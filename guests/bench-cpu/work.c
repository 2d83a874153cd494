/*
 * The compute kernels of bench-cpu, a mix in the spirit of CoreMark (list processing, matrix arithmetic, a state
 * machine, CRC) written for this project. Every kernel's result depends on the iteration's seed and feeds a CRC,
 * so no work can be skipped and the final checksum proves it was done.
 */
#include "work.h"

/* ---- CRC ---- */

u16 crc16_update(u16 crc, u8 data)
{
    /* CRC-16/CCITT-FALSE, bit by bit (the branchy inner loop is part of the workload). */
    crc ^= (u16)data << 8;
    for (int i = 0; i < 8; i++) {
        crc = (crc & 0x8000) != 0 ? (u16)(crc << 1 ^ 0x1021) : (u16)(crc << 1);
    }
    return crc;
}

u16 crc16_u32(u16 crc, u32 v)
{
    for (int i = 0; i < 4; i++) {
        crc = crc16_update(crc, (u8)(v >> (8 * i)));
    }
    return crc;
}

static u32 crc32_table[256];

void crc32_init(void)
{
    for (u32 i = 0; i < 256; i++) {
        u32 c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) != 0 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        }
        crc32_table[i] = c;
    }
}

u32 crc32(u32 crc, const u8 *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc = crc32_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    }
    return ~crc;
}

static u32 lcg(u32 *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

/* ---- list processing ---- */

struct node {
    struct node *next;
    u16 key;
    s16 value;
    u32 pad;
};

static struct node *merge(struct node *a, struct node *b, bool by_value)
{
    struct node head, *t = &head;
    while (a != NULL && b != NULL) {
        bool take_a = by_value ? a->value <= b->value : a->key <= b->key;
        if (take_a) {
            t->next = a;
            a = a->next;
        } else {
            t->next = b;
            b = b->next;
        }
        t = t->next;
    }
    t->next = a != NULL ? a : b;
    return head.next;
}

/* Bottom-up merge sort of a singly linked list. */
static struct node *sort(struct node *list, bool by_value)
{
    struct node *runs[32] = { NULL };
    while (list != NULL) {
        struct node *n = list;
        list = list->next;
        n->next = NULL;
        int i = 0;
        for (; i < 32 && runs[i] != NULL; i++) {
            n = merge(runs[i], n, by_value);
            runs[i] = NULL;
        }
        runs[i < 32 ? i : 31] = n;
    }
    struct node *r = NULL;
    for (int i = 0; i < 32; i++) {
        if (runs[i] != NULL) {
            r = merge(runs[i], r, by_value);
        }
    }
    return r;
}

static struct node *reverse(struct node *l)
{
    struct node *r = NULL;
    while (l != NULL) {
        struct node *n = l->next;
        l->next = r;
        r = l;
        l = n;
    }
    return r;
}

u16 bench_list(struct bench_state *s, u32 seed)
{
    struct node *pool = s->nodes;
    u32 r = seed;
    for (int i = 0; i < LIST_NODES; i++) {
        pool[i].key = (u16)lcg(&r);
        pool[i].value = (s16)lcg(&r);
        pool[i].next = i + 1 < LIST_NODES ? &pool[i + 1] : NULL;
    }
    struct node *l = sort(pool, false);
    u16 crc = 0;
    /* Find some keys (linear search), remove every third node, reverse, sort by value. */
    for (int k = 0; k < 8; k++) {
        u16 want = pool[(seed + (u32)k * 37) % LIST_NODES].key;
        int pos = 0;
        struct node *n = l;
        while (n != NULL && n->key != want) {
            n = n->next;
            pos++;
        }
        crc = crc16_u32(crc, (u32)pos);
    }
    int idx = 0;
    for (struct node *n = l; n != NULL && n->next != NULL; n = n->next, idx++) {
        if (idx % 3 == 0) {
            n->next = n->next->next;
        }
    }
    l = reverse(l);
    l = sort(l, true);
    for (struct node *n = l; n != NULL; n = n->next) {
        crc = crc16_u32(crc, (u32)(u16)n->value ^ (u32)n->key << 16);
    }
    return crc;
}

/* ---- matrix arithmetic ---- */

u16 bench_matrix(struct bench_state *s, u32 seed)
{
    s16 (*a)[MAT_N] = s->ma, (*b)[MAT_N] = s->mb;
    s32 (*c)[MAT_N] = s->mc;
    u32 r = seed;
    for (int i = 0; i < MAT_N; i++) {
        for (int j = 0; j < MAT_N; j++) {
            a[i][j] = (s16)(lcg(&r) & 0x0fff) - 0x800;
            b[i][j] = (s16)(lcg(&r) & 0x00ff) - 0x80;
        }
    }
    s16 k = (s16)(seed & 0xff) + 1;
    /* C = A x B; C += k; C = C * k; then sums of bit fields and of a matrix-vector product. */
    for (int i = 0; i < MAT_N; i++) {
        for (int j = 0; j < MAT_N; j++) {
            s32 acc = 0;
            for (int x = 0; x < MAT_N; x++) {
                acc += (s32)a[i][x] * b[x][j];
            }
            c[i][j] = acc;
        }
    }
    u16 crc = 0;
    s32 sum = 0;
    for (int i = 0; i < MAT_N; i++) {
        for (int j = 0; j < MAT_N; j++) {
            c[i][j] = (c[i][j] + k) * k;
            s32 bits = (c[i][j] >> 2) & 0xf;
            sum += bits > 7 ? bits : -bits;
        }
    }
    crc = crc16_u32(crc, (u32)sum);
    for (int i = 0; i < MAT_N; i++) {
        s64 acc = 0;
        for (int j = 0; j < MAT_N; j++) {
            acc += (s64)c[i][j] * a[j][i];
        }
        crc = crc16_u32(crc, (u32)acc ^ (u32)(acc >> 32));
    }
    return crc;
}

/* ---- a state machine: classifying numbers in text ---- */

enum { ST_START, ST_INT, ST_SIGN, ST_DOT, ST_FRAC, ST_EXP, ST_EXP_SIGN, ST_SCI, ST_INVALID, ST_COUNT };

static int next_state(int st, char ch)
{
    bool digit = ch >= '0' && ch <= '9';
    switch (st) {
    case ST_START:
        return digit ? ST_INT : (ch == '+' || ch == '-') ? ST_SIGN : ch == '.' ? ST_DOT : ST_INVALID;
    case ST_SIGN:
        return digit ? ST_INT : ch == '.' ? ST_DOT : ST_INVALID;
    case ST_INT:
        return digit ? ST_INT : ch == '.' ? ST_FRAC : (ch == 'e' || ch == 'E') ? ST_EXP : ST_INVALID;
    case ST_DOT:
        return digit ? ST_FRAC : ST_INVALID;
    case ST_FRAC:
        return digit ? ST_FRAC : (ch == 'e' || ch == 'E') ? ST_EXP : ST_INVALID;
    case ST_EXP:
        return digit ? ST_SCI : (ch == '+' || ch == '-') ? ST_EXP_SIGN : ST_INVALID;
    case ST_EXP_SIGN:
        return digit ? ST_SCI : ST_INVALID;
    case ST_SCI:
        return digit ? ST_SCI : ST_INVALID;
    default:
        return ST_INVALID;
    }
}

u16 bench_state_machine(struct bench_state *s, u32 seed)
{
    static const char *const samples[] = { "5012", "1234", "-874", "+122", "35.54", ".1234", "-110.7", "+0.64",
                                           "5.500e+3", "-.123e-2", "-87e+832", "+0.6e-12", "T0.3e-1F", "-T.T++Tq",
                                           "1T3.4e4z", "34.0e-T^" };
    char *text = s->text;
    u32 r = seed;
    int n = 0;
    while (n < TEXT_LEN - 12) {
        const char *w = samples[lcg(&r) % ARRAY_SIZE(samples)];
        while (*w != 0 && n < TEXT_LEN - 2) {
            text[n++] = *w++;
        }
        text[n++] = ',';
    }
    text[n] = 0;
    /* Corrupt a few bytes, as CoreMark's state benchmark does, then scan twice. */
    for (int i = (int)(seed % 7); i < n; i += 13) {
        if (text[i] != ',') {
            text[i] ^= (char)(seed & 0x3);
        }
    }
    u32 final_counts[ST_COUNT] = { 0 }, transitions[ST_COUNT] = { 0 };
    for (int pass = 0; pass < 2; pass++) {
        int st = ST_START;
        for (int i = 0; i < n; i++) {
            if (text[i] == ',') {
                final_counts[st]++;
                st = ST_START;
                continue;
            }
            int nst = next_state(st, text[i]);
            if (nst != st) {
                transitions[nst]++;
            }
            st = nst;
        }
    }
    u16 crc = 0;
    for (int i = 0; i < ST_COUNT; i++) {
        crc = crc16_u32(crc, final_counts[i]);
        crc = crc16_u32(crc, transitions[i]);
    }
    return crc;
}

/* ---- CRC over a buffer ---- */

u32 bench_crc(struct bench_state *s, u32 seed)
{
    u32 r = seed;
    for (int i = 0; i < CRC_LEN; i += 4) {
        u32 v = lcg(&r);
        s->buf[i] = (u8)v;
        s->buf[i + 1] = (u8)(v >> 8);
        s->buf[i + 2] = (u8)(v >> 16);
        s->buf[i + 3] = (u8)(v >> 24);
    }
    u32 c = crc32(seed, s->buf, CRC_LEN);
    u16 c16 = 0;
    for (int i = 0; i < CRC_LEN / 4; i++) {
        c16 = crc16_update(c16, s->buf[i]);
    }
    return c ^ c16;
}

u32 bench_iteration(struct bench_state *s, u32 i, struct bench_sums *sums)
{
    u32 seed = i * 0x9e3779b9u + 1;
    u16 l = bench_list(s, seed);
    u16 m = bench_matrix(s, seed ^ 0x55);
    u16 st = bench_state_machine(s, seed ^ 0xaa);
    u32 c = bench_crc(s, seed ^ 0x3c);
    sums->list = crc16_update(crc16_update(sums->list, (u8)l), (u8)(l >> 8));
    sums->matrix = crc16_update(crc16_update(sums->matrix, (u8)m), (u8)(m >> 8));
    sums->state = crc16_update(crc16_update(sums->state, (u8)st), (u8)(st >> 8));
    sums->crc = crc32(sums->crc, (const u8 *)&c, 4);
    return (u32)l << 16 ^ m ^ (u32)st << 8 ^ c;
}

size_t bench_node_size(void)
{
    return sizeof(struct node);
}
