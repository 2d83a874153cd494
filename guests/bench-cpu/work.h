#ifndef BENCH_WORK_H
#define BENCH_WORK_H

#include "types.h"

#define LIST_NODES 256
#define MAT_N 24
#define TEXT_LEN 512
#define CRC_LEN 2048

struct node;
struct bench_state {
    struct node *nodes;
    s16 ma[MAT_N][MAT_N], mb[MAT_N][MAT_N];
    s32 mc[MAT_N][MAT_N];
    char text[TEXT_LEN];
    u8 buf[CRC_LEN];
};

struct bench_sums {
    u16 list, matrix, state;
    u32 crc;
    u32 total;
};

void crc32_init(void);
u32 crc32(u32 crc, const u8 *p, size_t n);
u16 crc16_update(u16 crc, u8 data);
u16 crc16_u32(u16 crc, u32 v);
u16 bench_list(struct bench_state *s, u32 seed);
u16 bench_matrix(struct bench_state *s, u32 seed);
u16 bench_state_machine(struct bench_state *s, u32 seed);
u32 bench_crc(struct bench_state *s, u32 seed);
/* One iteration of every kernel; folds their results into sums and returns the iteration's own result. */
u32 bench_iteration(struct bench_state *s, u32 i, struct bench_sums *sums);
size_t bench_node_size(void);

#endif
