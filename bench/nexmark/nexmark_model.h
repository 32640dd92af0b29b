/* The Nexmark event model: persons, auctions and bids generated as the public
 * Nexmark specification defines them (Beam's NexmarkGenerator, which Flink's
 * nexmark repository reuses): event n of the stream is a person, an auction or
 * a bid by n mod 50 (1 : 3 : 46), ids are dense from 1000, sellers and bidders
 * come from the last 1,000 persons (plus a lead of 10), auctions from the last
 * 100 in flight (plus 10), with 1/2 of bids on hot auctions and 3/4 of
 * bidders and sellers hot, prices 10^(6u) dollars as cents, and event time
 * base_time + n * (10^6 / event_rate) us.  Each event draws from its own
 * java.util.Random-compatible generator seeded with its event id (xor a mix of
 * the seed), so event n is the same whatever was generated before it. */
#ifndef SL_NEXMARK_MODEL_H
#define SL_NEXMARK_MODEL_H

#include <stdint.h>

#include "common/common.h"

#define NX_PERSON_PROPORTION 1
#define NX_AUCTION_PROPORTION 3
#define NX_BID_PROPORTION 46
#define NX_TOTAL_PROPORTION 50
#define NX_FIRST_PERSON_ID 1000
#define NX_FIRST_AUCTION_ID 1000
#define NX_FIRST_CATEGORY_ID 10
#define NX_NUM_CATEGORIES 5

enum nx_kind { NX_PERSON = 0, NX_AUCTION = 1, NX_BID = 2 };

typedef struct nx_config {
    uint64_t seed;           /* 0: exactly Beam's per-event seeds (the event id) */
    int64_t base_time_ms;    /* event time of event 0 (default 1700000000000) */
    double event_rate;       /* events per second of event time (default 10,000, Beam's default) */
    int64_t first_event_id;  /* default 0 */
    int num_active_people;   /* 1000 */
    int num_in_flight_auctions; /* 100 */
    int hot_auction_ratio;   /* 2: 1/2 of bids go to a hot auction */
    int hot_sellers_ratio;   /* 4: 3/4 of auctions have a hot seller */
    int hot_bidders_ratio;   /* 4: 3/4 of bids come from a hot bidder */
    int avg_person_bytes;    /* 200 */
    int avg_auction_bytes;   /* 500 */
    int avg_bid_bytes;       /* 100 */
} nx_config_t;

void nx_config_default(nx_config_t *c);

/* One event; the strings point into the generator (valid until the next
 * nx_next on it). */
typedef struct nx_event {
    int kind;
    int64_t date_time; /* all kinds */
    /* person */
    int64_t id;        /* person id or auction id */
    const char *name, *email, *credit_card, *city, *state;
    /* auction */
    const char *item_name, *description;
    int64_t initial_bid, reserve, expires, seller, category;
    /* bid */
    int64_t auction, bidder, price;
    const char *channel, *url;
    const char *extra;
} nx_event_t;

typedef struct nx_gen {
    nx_config_t cfg;
    int64_t n;                 /* events generated so far */
    double inter_event_us;
    char s1[128], s2[128], s3[64], s4[128], extra[1024];
    char hot_urls[4][128];
} nx_gen_t;

/* A generator at event 0 of the stream described by cfg (copied). */
void nx_gen_init(nx_gen_t *g, const nx_config_t *cfg);
/* Position the generator so that the next event is event n. */
void nx_gen_seek(nx_gen_t *g, int64_t n);
/* The next event. */
void nx_next(nx_gen_t *g, nx_event_t *ev);
/* Event time of event number n. */
int64_t nx_timestamp(const nx_gen_t *g, int64_t n);

/* The event as one JSON object (the schema of docs/benchmarks.md), appended
 * to out; its record key (decimal id: person and auction id, a bid's auction)
 * into key[24].  Returns 0 or SL_E_NOMEM-like -1. */
int nx_event_json(const nx_event_t *ev, sl_buf_t *out);
int nx_event_key(const nx_event_t *ev, char key[24]);
const char *nx_topic(int kind); /* "nexmark-person", "nexmark-auction", "nexmark-bid" */

/* The java.util.Random algorithm (48-bit LCG), as the specification's
 * generator uses it. */
typedef struct nx_rand {
    uint64_t s;
} nx_rand_t;
void nx_rand_seed(nx_rand_t *r, int64_t seed);
int32_t nx_rand_int(nx_rand_t *r, int32_t bound); /* [0, bound) */
int64_t nx_rand_long(nx_rand_t *r);
double nx_rand_double(nx_rand_t *r); /* [0, 1) */

#endif
