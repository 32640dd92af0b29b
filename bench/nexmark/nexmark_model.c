/* Nexmark events as the specification's generator makes them (see
 * nexmark_model.h): which kind event n is, its ids, the hot auction / bidder /
 * seller skew, prices, strings and padding ("extra") to the average sizes,
 * and the JSON encoding of the shared topic schema.  No I/O here, so the unit
 * test and every writer (embedded logs, Kafka producer, JSON lines) produce
 * byte-identical events. */
#include "bench/nexmark/nexmark_model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define HOT_AUCTION_RATIO 100 /* a hot auction id is a multiple of 100 (base 0) */
#define HOT_SELLER_RATIO 100
#define HOT_BIDDER_RATIO 100
#define PERSON_ID_LEAD 10  /* a new bid/auction may name a person up to 10 ahead of the last */
#define AUCTION_ID_LEAD 10
#define MIN_STRING_LENGTH 3
#define HOT_CHANNELS_RATIO 2
#define CHANNELS_NUMBER 10000

static const char *const FIRST_NAMES[] = {"Peter", "Paul",  "Luke",  "John",   "Saul",  "Vicky",
                                          "Kate",  "Julie", "Sarah", "Deiter", "Walter"};
static const char *const LAST_NAMES[] = {"Shultz", "Abrams", "Spencer", "White", "Bartels",
                                         "Walton", "Smith",  "Jones",   "Noris"};
static const char *const US_CITIES[] = {"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
                                        "Bend",    "Redmond",     "Seattle",       "Kent",  "Cheyenne"};
static const char *const US_STATES[] = {"AZ", "CA", "ID", "OR", "WA", "WY"};
static const char *const HOT_CHANNELS[] = {"Google", "Facebook", "Baidu", "Apple"};
#define NELEM(a) ((int32_t)(sizeof(a) / sizeof((a)[0])))

/* ---- java.util.Random ---------------------------------------------------------------------------- */

#define JR_MULT 0x5DEECE66DULL
#define JR_MASK ((1ULL << 48) - 1)

void nx_rand_seed(nx_rand_t *r, int64_t seed) { r->s = ((uint64_t)seed ^ JR_MULT) & JR_MASK; }

static int32_t jr_next(nx_rand_t *r, int bits)
{
    r->s = (r->s * JR_MULT + 0xBULL) & JR_MASK;
    return (int32_t)(uint32_t)(r->s >> (48 - bits));
}

int32_t nx_rand_int(nx_rand_t *r, int32_t bound)
{
    if ((bound & -bound) == bound)
        return (int32_t)(((int64_t)bound * jr_next(r, 31)) >> 31);
    int32_t bits, val;
    do {
        bits = jr_next(r, 31);
        val = bits % bound;
    } while ((int64_t)bits - val + (bound - 1) > INT32_MAX); /* Java's int overflow test */
    return val;
}

int64_t nx_rand_long(nx_rand_t *r)
{
    uint64_t hi = (uint64_t)(int64_t)jr_next(r, 32);
    return (int64_t)((hi << 32) + (uint64_t)(int64_t)jr_next(r, 32));
}

double nx_rand_double(nx_rand_t *r)
{
    int64_t a = jr_next(r, 26), b = jr_next(r, 27);
    return (double)((a << 27) + b) * 0x1.0p-53;
}

/* The specification's nextLong(random, n): an int draw below 2^31, else |long % n|. */
static int64_t next_long(nx_rand_t *r, int64_t n)
{
    if (n < INT32_MAX)
        return nx_rand_int(r, (int32_t)n);
    int64_t v = nx_rand_long(r) % n;
    return v < 0 ? -v : v;
}

/* ---- configuration and ids ------------------------------------------------------------------------ */

void nx_config_default(nx_config_t *c)
{
    memset(c, 0, sizeof *c);
    c->base_time_ms = 1700000000000LL;
    c->event_rate = 10000;
    c->num_active_people = 1000;
    c->num_in_flight_auctions = 100;
    c->hot_auction_ratio = 2;
    c->hot_sellers_ratio = 4;
    c->hot_bidders_ratio = 4;
    c->avg_person_bytes = 200;
    c->avg_auction_bytes = 500;
    c->avg_bid_bytes = 100;
}

static int64_t last_base0_person_id(int64_t event_id)
{
    int64_t epoch = event_id / NX_TOTAL_PROPORTION, offset = event_id % NX_TOTAL_PROPORTION;
    if (offset >= NX_PERSON_PROPORTION)
        offset = NX_PERSON_PROPORTION - 1;
    return epoch * NX_PERSON_PROPORTION + offset;
}

static int64_t last_base0_auction_id(int64_t event_id)
{
    int64_t epoch = event_id / NX_TOTAL_PROPORTION, offset = event_id % NX_TOTAL_PROPORTION;
    if (offset < NX_PERSON_PROPORTION) {
        epoch--;
        offset = NX_AUCTION_PROPORTION - 1;
    } else if (offset >= NX_PERSON_PROPORTION + NX_AUCTION_PROPORTION) {
        offset = NX_AUCTION_PROPORTION - 1;
    } else {
        offset -= NX_PERSON_PROPORTION;
    }
    return epoch * NX_AUCTION_PROPORTION + offset;
}

/* A recent person (one of the last num_active_people, or up to 10 not yet created). */
static int64_t next_base0_person_id(const nx_config_t *c, int64_t event_id, nx_rand_t *r)
{
    int64_t num_people = last_base0_person_id(event_id) + 1;
    int64_t active = num_people < c->num_active_people ? num_people : c->num_active_people;
    return num_people - active + next_long(r, active + PERSON_ID_LEAD);
}

static int64_t next_base0_auction_id(const nx_config_t *c, int64_t event_id, nx_rand_t *r)
{
    int64_t max_auction = last_base0_auction_id(event_id);
    int64_t min_auction = max_auction - c->num_in_flight_auctions;
    if (min_auction < 0)
        min_auction = 0;
    return min_auction + next_long(r, max_auction - min_auction + 1 + AUCTION_ID_LEAD);
}

static int64_t next_price(nx_rand_t *r) { return (int64_t)floor(pow(10.0, nx_rand_double(r) * 6.0) * 100.0 + 0.5); }

/* Up to max_len - 1 characters a-z with about 1 in 13 being `special`,
 * trimmed of spaces at both ends (the specification's nextString). */
static const char *next_string(nx_rand_t *r, int max_len, char special, char *out)
{
    int len = MIN_STRING_LENGTH + nx_rand_int(r, max_len - MIN_STRING_LENGTH), n = 0;
    while (len-- > 0)
        out[n++] = nx_rand_int(r, 13) == 0 ? special : (char)('a' + nx_rand_int(r, 26));
    out[n] = '\0';
    int a = 0;
    while (a < n && out[a] == ' ')
        a++;
    while (n > a && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
    return out + a;
}

/* Padding so that the event's size averages `avg` bytes (+-20%). */
static const char *next_extra(nx_rand_t *r, int current, int avg, char *out, size_t cap)
{
    out[0] = '\0';
    if (current > avg)
        return out;
    avg -= current;
    int delta = (int)floor(avg * 0.2 + 0.5);
    int size = avg - delta + (delta == 0 ? 0 : nx_rand_int(r, 2 * delta));
    if ((size_t)size >= cap)
        size = (int)cap - 1;
    for (int i = 0; i < size; i++)
        out[i] = (char)('a' + nx_rand_int(r, 26));
    out[size] = '\0';
    return out;
}

static void base_url(nx_rand_t *r, char *out, size_t cap)
{
    char a[8], b[8], c[8];
    snprintf(out, cap, "https://www.nexmark.com/%s/%s/%s/item.htm?query=1", next_string(r, 5, '_', a),
             next_string(r, 5, '_', b), next_string(r, 5, '_', c));
}

/* ---- the generator -------------------------------------------------------------------------------- */

void nx_gen_init(nx_gen_t *g, const nx_config_t *cfg)
{
    memset(g, 0, sizeof *g);
    g->cfg = *cfg;
    g->inter_event_us = 1e6 / cfg->event_rate;
    for (int i = 0; i < NELEM(HOT_CHANNELS); i++) { /* the four hot channels' fixed urls */
        nx_rand_t r;
        nx_rand_seed(&r, -1 - i);
        base_url(&r, g->hot_urls[i], sizeof g->hot_urls[i]);
    }
}

void nx_gen_seek(nx_gen_t *g, int64_t n) { g->n = n; }

int64_t nx_timestamp(const nx_gen_t *g, int64_t n)
{
    return g->cfg.base_time_ms + (int64_t)((double)n * g->inter_event_us / 1000.0);
}

static void gen_person(nx_gen_t *g, int64_t eid, nx_rand_t *r, nx_event_t *ev)
{
    ev->id = last_base0_person_id(eid) + NX_FIRST_PERSON_ID;
    snprintf(g->s1, sizeof g->s1, "%s %s", FIRST_NAMES[nx_rand_int(r, NELEM(FIRST_NAMES))],
             LAST_NAMES[nx_rand_int(r, NELEM(LAST_NAMES))]);
    char user[16], host[16];
    const char *u = next_string(r, 7, ' ', user), *h = next_string(r, 5, ' ', host);
    snprintf(g->s2, sizeof g->s2, "%s@%s.com", u, h);
    int cc[4];
    for (int i = 0; i < 4; i++)
        cc[i] = nx_rand_int(r, 10000);
    snprintf(g->s3, sizeof g->s3, "%04d %04d %04d %04d", cc[0], cc[1], cc[2], cc[3]);
    ev->name = g->s1;
    ev->email = g->s2;
    ev->credit_card = g->s3;
    ev->city = US_CITIES[nx_rand_int(r, NELEM(US_CITIES))];
    ev->state = US_STATES[nx_rand_int(r, NELEM(US_STATES))];
    int size = 8 + (int)(strlen(ev->name) + strlen(ev->email) + strlen(ev->credit_card) + strlen(ev->city) +
                         strlen(ev->state));
    ev->extra = next_extra(r, size, g->cfg.avg_person_bytes, g->extra, sizeof g->extra);
}

static void gen_auction(nx_gen_t *g, int64_t eid, nx_rand_t *r, nx_event_t *ev)
{
    const nx_config_t *c = &g->cfg;
    ev->id = last_base0_auction_id(eid) + NX_FIRST_AUCTION_ID;
    int64_t seller;
    if (nx_rand_int(r, c->hot_sellers_ratio) > 0)
        seller = (last_base0_person_id(eid) / HOT_SELLER_RATIO) * HOT_SELLER_RATIO;
    else
        seller = next_base0_person_id(c, eid, r);
    ev->seller = seller + NX_FIRST_PERSON_ID;
    ev->category = NX_FIRST_CATEGORY_ID + nx_rand_int(r, NX_NUM_CATEGORIES);
    ev->initial_bid = next_price(r);
    /* expires within twice the event time the next num_in_flight_auctions auctions take */
    int64_t events_ahead = (int64_t)c->num_in_flight_auctions * NX_TOTAL_PROPORTION / NX_AUCTION_PROPORTION;
    int64_t horizon = nx_timestamp(g, g->n + events_ahead) - ev->date_time;
    ev->expires = ev->date_time + 1 + next_long(r, horizon * 2 > 1 ? horizon * 2 : 1);
    ev->item_name = next_string(r, 20, ' ', g->s1);
    ev->description = next_string(r, 100, ' ', g->s4);
    ev->reserve = ev->initial_bid + next_price(r);
    int size = 8 + (int)(strlen(ev->item_name) + strlen(ev->description)) + 8 + 8 + 8 + 8 + 8;
    ev->extra = next_extra(r, size, c->avg_auction_bytes, g->extra, sizeof g->extra);
}

static void gen_bid(nx_gen_t *g, int64_t eid, nx_rand_t *r, nx_event_t *ev)
{
    const nx_config_t *c = &g->cfg;
    int64_t auction, bidder;
    if (nx_rand_int(r, c->hot_auction_ratio) > 0)
        auction = (last_base0_auction_id(eid) / HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO;
    else
        auction = next_base0_auction_id(c, eid, r);
    ev->auction = auction + NX_FIRST_AUCTION_ID;
    if (nx_rand_int(r, c->hot_bidders_ratio) > 0)
        bidder = (last_base0_person_id(eid) / HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1;
    else
        bidder = next_base0_person_id(c, eid, r);
    ev->bidder = bidder + NX_FIRST_PERSON_ID;
    ev->price = next_price(r);
    if (nx_rand_int(r, HOT_CHANNELS_RATIO) > 0) {
        int i = nx_rand_int(r, NELEM(HOT_CHANNELS));
        ev->channel = HOT_CHANNELS[i];
        ev->url = g->hot_urls[i];
    } else {
        int ch = nx_rand_int(r, CHANNELS_NUMBER);
        nx_rand_t cr; /* channel N's url depends on N only */
        nx_rand_seed(&cr, ch);
        char base[96];
        base_url(&cr, base, sizeof base);
        uint32_t rev = 0, v = (uint32_t)ch; /* Integer.reverse */
        for (int i = 0; i < 32; i++, v >>= 1)
            rev = (rev << 1) | (v & 1);
        int32_t srev = (int32_t)rev;
        snprintf(g->s1, sizeof g->s1, "channel-%d", ch);
        snprintf(g->s4, sizeof g->s4, "%s&channel_id=%lld", base, srev < 0 ? -(long long)srev : (long long)srev);
        ev->channel = g->s1;
        ev->url = g->s4;
    }
    ev->extra = next_extra(r, 8 + 8 + 8 + 8, c->avg_bid_bytes, g->extra, sizeof g->extra);
}

void nx_next(nx_gen_t *g, nx_event_t *ev)
{
    int64_t eid = g->cfg.first_event_id + g->n;
    nx_rand_t r;
    /* seed 0 gives Beam's seeds (the event id); others a different, equally deterministic stream */
    nx_rand_seed(&r, (int64_t)((uint64_t)eid ^ (g->cfg.seed * 0x9E3779B97F4A7C15ULL)));
    memset(ev, 0, sizeof *ev);
    ev->date_time = nx_timestamp(g, g->n);
    int64_t rem = eid % NX_TOTAL_PROPORTION;
    if (rem < NX_PERSON_PROPORTION) {
        ev->kind = NX_PERSON;
        gen_person(g, eid, &r, ev);
    } else if (rem < NX_PERSON_PROPORTION + NX_AUCTION_PROPORTION) {
        ev->kind = NX_AUCTION;
        gen_auction(g, eid, &r, ev);
    } else {
        ev->kind = NX_BID;
        gen_bid(g, eid, &r, ev);
    }
    g->n++;
}

/* ---- encoding ------------------------------------------------------------------------------------- */

const char *nx_topic(int kind)
{
    return kind == NX_PERSON ? "nexmark-person" : kind == NX_AUCTION ? "nexmark-auction" : "nexmark-bid";
}

int nx_event_key(const nx_event_t *ev, char key[24])
{
    return snprintf(key, 24, "%lld", (long long)(ev->kind == NX_BID ? ev->auction : ev->id));
}

/* Every string the generator makes is printable ASCII without '"' or '\\', so
 * no escaping is needed. */
int nx_event_json(const nx_event_t *ev, sl_buf_t *out)
{
    char tmp[2048];
    int n;
    if (ev->kind == NX_PERSON)
        n = snprintf(tmp, sizeof tmp,
                     "{\"id\":%lld,\"name\":\"%s\",\"emailAddress\":\"%s\",\"creditCard\":\"%s\",\"city\":\"%s\","
                     "\"state\":\"%s\",\"dateTime\":%lld,\"extra\":\"%s\"}",
                     (long long)ev->id, ev->name, ev->email, ev->credit_card, ev->city, ev->state,
                     (long long)ev->date_time, ev->extra);
    else if (ev->kind == NX_AUCTION)
        n = snprintf(tmp, sizeof tmp,
                     "{\"id\":%lld,\"itemName\":\"%s\",\"description\":\"%s\",\"initialBid\":%lld,\"reserve\":%lld,"
                     "\"dateTime\":%lld,\"expires\":%lld,\"seller\":%lld,\"category\":%lld,\"extra\":\"%s\"}",
                     (long long)ev->id, ev->item_name, ev->description, (long long)ev->initial_bid,
                     (long long)ev->reserve, (long long)ev->date_time, (long long)ev->expires,
                     (long long)ev->seller, (long long)ev->category, ev->extra);
    else
        n = snprintf(tmp, sizeof tmp,
                     "{\"auction\":%lld,\"bidder\":%lld,\"price\":%lld,\"channel\":\"%s\",\"url\":\"%s\","
                     "\"dateTime\":%lld,\"extra\":\"%s\"}",
                     (long long)ev->auction, (long long)ev->bidder, (long long)ev->price, ev->channel, ev->url,
                     (long long)ev->date_time, ev->extra);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -1;
    return sl_buf_append(out, tmp, (size_t)n);
}
