/* The request-decoder fuzz target's broker, shared by the libFuzzer entry
 * (fuzz_request.c) and the corpus replay test (replay_request.c) so both run
 * every input through exactly the same setup. */
#ifndef SL_FUZZ_REQUEST_TARGET_H
#define SL_FUZZ_REQUEST_TARGET_H

#include <stddef.h>
#include <stdint.h>

typedef struct fz_target fz_target_t;

/* Open a broker on a new temporary data folder (removed by fz_close) with a
 * port-0 listener that is never served, and the topics the seed corpus
 * names: "fuzz" (2 partitions, a few records) and "fuzz-compact" (1 partition,
 * cleanup.policy=compact).  Logs at SL_ERROR unless $SL_FUZZ_LOG names a level.
 * Returns NULL (with a message on stderr) when it cannot. */
fz_target_t *fz_open(void);

/* Feed one input as a connection's byte stream (bk_debug_feed), then delete
 * any topic the input created, so inputs do not pile state up on disk.
 * Returns what bk_debug_feed returned: 0 every frame accepted, 1 the broker
 * closed the connection, < 0 out of memory. */
int fz_feed(fz_target_t *t, const uint8_t *data, size_t len);

/* Close the broker and remove its data folder. */
void fz_close(fz_target_t *t);

#endif
