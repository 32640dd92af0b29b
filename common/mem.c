/* Memory for hash tables (sl_zalloc_lines in common.h). */
#include <sys/mman.h>

#include "common/common.h"

#define HUGE_PAGE (2u << 20)

void *sl_zalloc_lines(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    size_t n = count * size;
    size_t align = n >= HUGE_PAGE ? HUGE_PAGE : 64;
    n = n ? (n + align - 1) / align * align : align;
    void *p = aligned_alloc(align, n);
    if (!p)
        return NULL;
#ifdef MADV_HUGEPAGE
    if (align == HUGE_PAGE)
        (void)madvise(p, n, MADV_HUGEPAGE); /* only advice: 4 KiB pages still work */
#endif
    memset(p, 0, n);
    return p;
}
