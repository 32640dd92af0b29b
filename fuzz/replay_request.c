/* Replays the request fuzz corpus without libFuzzer (a ctest test, built with
 * gcc in the normal and ASan builds): every file goes through the same broker
 * setup and bk_debug_feed as the fuzzer, so a decoder regression on a known
 * input fails `make test`.  Files named seed-* are well-formed requests and
 * must be accepted (no connection close). */
#include "replay.h"
#include "request_target.h"

static int feed(void *arg, const uint8_t *data, size_t size) { return fz_feed(arg, data, size); }

static const char *explain(int rc)
{
    (void)rc;
    return "a well-formed seed request made the broker close the connection";
}

int main(int argc, char **argv)
{
    fz_target_t *t = fz_open();
    if (!t)
        return 1;
    replay_target_t rt = {"replay_request", feed, t, explain};
    int status = replay_main(argc, argv, &rt);
    fz_close(t);
    return status;
}
