/* libFuzzer target for the broker's request decoding: each input is the byte
 * stream of one client connection (int32-framed Kafka requests, any number of
 * them), handled by the real framing, header decoder and API handlers through
 * bk_debug_feed.  Built by `make fuzz` with clang -fsanitize=fuzzer,address,undefined. */
#include <stdlib.h>

#include "request_target.h"

static fz_target_t *g_target; /* libFuzzer's entry points take no context */

static void close_target(void) { fz_close(g_target); }

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    g_target = fz_open();
    if (!g_target)
        abort();
    atexit(close_target);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_feed(g_target, data, size);
    return 0;
}
