/* The growable byte buffer used for batches, requests and scratch space, and
 * the two clocks.  Growth doubles, so appends are amortised O(1). */
#include "common.h"

#include <stdlib.h>
#include <time.h>

void sl_buf_init(sl_buf_t *b) { b->data = NULL, b->len = 0, b->cap = 0; }

void sl_buf_free(sl_buf_t *b)
{
    free(b->data);
    sl_buf_init(b);
}

int sl_buf_reserve(sl_buf_t *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len)
        return -1;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *d = realloc(b->data, cap);
    if (!d)
        return -1;
    b->data = d;
    b->cap = cap;
    return 0;
}

int sl_buf_append(sl_buf_t *b, const void *p, size_t n)
{
    if (sl_buf_reserve(b, n))
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int64_t sl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sl_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
