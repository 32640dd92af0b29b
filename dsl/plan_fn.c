/* The callbacks the planner hands to the engine: each decodes the record's
 * value (the source's format, msgpack between DSL nodes), evaluates the step's
 * compiled expressions and encodes the result as msgpack.  Aggregate { } state
 * is a msgpack map of the visible results plus "$"-prefixed helper members
 * (avg's sum and count, count_distinct's set) that outputs drop.  Values live
 * in a per-call arena whose first 4 KiB are on the stack. */
#include <stdio.h>
#include <stdlib.h>

#include "dsl/plan.h"

#define ARENA_STACK 4096

static int decode_fmt(sl_fmt_t fmt, sl_arena_t *a, const uint8_t *p, int32_t len, sl_value_t *v, sl_err_t *err)
{
    if (len < 0) {
        *v = sl_v_null();
        return 0;
    }
    switch (fmt) {
    case SL_FMT_JSON: return sl_value_from_json(a, p, (size_t)len, v, err);
    case SL_FMT_MSGPACK: return sl_value_from_msgpack(a, p, (size_t)len, v, err);
    case SL_FMT_STRING:
    case SL_FMT_BYTES: *v = sl_v_str((const char *)p, (size_t)len); return 0;
    }
    return -1;
}

typedef struct call {
    sl_arena_t arena;
    sl_value_t value, key;
    sl_eval_ctx_t cx;
} call_t;

/* Evaluate e; a failure's message gets the job file in front:
 * "job.sl:2:26: division by zero" (the dead-letter reason). */
static int eval(const sl_pctx_t *p, const call_t *c, const sl_expr_t *e, sl_value_t *out, sl_err_t *err)
{
    if (sl_eval(&c->cx, e, out, err) == 0)
        return 0;
    if (err && p->path) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%.*s", (int)sizeof msg - 1, err->msg);
        snprintf(err->msg, sizeof err->msg, "%.200s:%.300s", p->path, msg);
    }
    return -1;
}

/* Decode rec into c (arena on the caller's stack memory). */
static int begin(const sl_pctx_t *p, call_t *c, void *mem, const sl_rec_t *rec, sl_err_t *err)
{
    sl_arena_init(&c->arena, mem, ARENA_STACK);
    c->key = rec->key_len < 0 ? sl_v_null() : sl_v_str((const char *)rec->key, (size_t)rec->key_len);
    c->cx = (sl_eval_ctx_t){.arena = &c->arena, .value = &c->value, .key = &c->key, .self = p->self,
                            .timestamp = rec->timestamp};
    if (decode_fmt(p->in_fmt, &c->arena, rec->value, rec->value_len, &c->value, err)) {
        sl_arena_free(&c->arena);
        return SL_E_RECORD;
    }
    return 0;
}

int sl_pfn_filter(void *arg, const sl_rec_t *rec, sl_err_t *err)
{
    const sl_pctx_t *p = arg;
    uint8_t mem[ARENA_STACK];
    call_t c;
    sl_value_t r;
    if (begin(p, &c, mem, rec, err))
        return SL_E_RECORD;
    int rc = eval(p, &c, p->step->expr, &r, err) ? SL_E_RECORD : 0;
    if (!rc && r.type != SL_V_BOOL && r.type != SL_V_NULL)
        rc = sl_err_set(err, SL_E_RECORD, "filter: the condition gave %s, not a bool", sl_vtype_name(r.type));
    sl_arena_free(&c.arena);
    return rc ? rc : sl_value_truthy(&r);
}

/* A filter over a table's changelog: a row that does not match is deleted
 * (a tombstone goes on, so that a grouped table takes the row back). */
int sl_pfn_filter_rows(void *arg, const sl_rec_t *in, sl_rec_t *out, sl_scratch_t *scratch, sl_err_t *err)
{
    (void)scratch;
    if (in->value_len < 0)
        return 0;
    int keep = sl_pfn_filter(arg, in, err);
    if (keep < 0)
        return keep;
    if (!keep) {
        out->value = NULL;
        out->value_len = -1;
    }
    return 0;
}

int sl_pfn_map(void *arg, const sl_rec_t *in, sl_rec_t *out, sl_scratch_t *scratch, sl_err_t *err)
{
    const sl_pctx_t *p = arg;
    uint8_t mem[ARENA_STACK];
    call_t c;
    if (in->value_len < 0 && p->step->on_table)
        return 0; /* a deleted row stays deleted */
    if (begin(p, &c, mem, in, err))
        return SL_E_RECORD;
    const sl_step_t *st = p->step;
    sl_member_t *m = sl_arena_alloc(&c.arena, (st->n_items + 1) * sizeof *m);
    int rc = m ? 0 : sl_err_set(err, SL_E_RECORD, "out of memory");
    for (size_t i = 0; !rc && i < st->n_items; i++) {
        m[i].key = st->names[i];
        m[i].key_len = strlen(st->names[i]);
        if (eval(p, &c, st->items[i], &m[i].val, err))
            rc = SL_E_RECORD;
    }
    if (!rc) {
        sl_value_t obj = {.type = SL_V_OBJ, .u.obj = {m, st->n_items}};
        sl_value_to_msgpack(&obj, &scratch->value);
        out->value = scratch->value.data;
        out->value_len = (int32_t)scratch->value.len;
    }
    sl_arena_free(&c.arena);
    return rc;
}

/* The value flat_map emits for one element: the input object plus `as`, or
 * {as: element} when the input is not an object. */
static int flat_value(call_t *c, const char *as, const sl_value_t *elem, sl_value_t *out)
{
    size_t n = c->value.type == SL_V_OBJ ? c->value.u.obj.n : 0;
    sl_member_t *m = sl_arena_alloc(&c->arena, (n + 1) * sizeof *m);
    if (!m)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(c->value.u.obj.m[i].key, as) != 0)
            m[k++] = c->value.u.obj.m[i];
    m[k].key = as;
    m[k].key_len = strlen(as);
    m[k].val = *elem;
    out->type = SL_V_OBJ;
    out->u.obj.m = m;
    out->u.obj.n = k + 1;
    return 0;
}

int sl_pfn_flat_map(void *arg, const sl_rec_t *in, sl_emit_t *out, sl_err_t *err)
{
    const sl_pctx_t *p = arg;
    uint8_t mem[ARENA_STACK];
    call_t c;
    sl_value_t r;
    if (begin(p, &c, mem, in, err))
        return SL_E_RECORD;
    int rc = eval(p, &c, p->step->expr, &r, err) ? SL_E_RECORD : 0;
    if (!rc && r.type != SL_V_ARR && r.type != SL_V_NULL)
        rc = sl_err_set(err, SL_E_RECORD, "flat_map: the expression gave %s, not an array", sl_vtype_name(r.type));
    sl_buf_t buf;
    sl_buf_init(&buf);
    for (size_t i = 0; !rc && r.type == SL_V_ARR && i < r.u.arr.n; i++) {
        sl_value_t v;
        if (flat_value(&c, p->step->as, &r.u.arr.items[i], &v)) {
            rc = sl_err_set(err, SL_E_RECORD, "out of memory");
            break;
        }
        sl_buf_reset(&buf);
        sl_value_to_msgpack(&v, &buf);
        sl_rec_t o = *in;
        o.value = buf.data;
        o.value_len = (int32_t)buf.len;
        rc = sl_emit(out, &o);
    }
    sl_buf_free(&buf);
    sl_arena_free(&c.arena);
    return rc;
}

int sl_pfn_branch(void *arg, const sl_rec_t *in, sl_emit_t *out, sl_err_t *err)
{
    const sl_pctx_t *p = arg;
    uint8_t mem[ARENA_STACK];
    call_t c;
    if (begin(p, &c, mem, in, err))
        return SL_E_RECORD;
    int rc = 0, port = -1;
    for (size_t i = 0; i < p->step->n_items && port < 0; i++) {
        sl_value_t r;
        if (eval(p, &c, p->step->items[i], &r, err)) {
            rc = SL_E_RECORD;
            break;
        }
        if (sl_value_truthy(&r))
            port = (int)i;
    }
    sl_arena_free(&c.arena);
    if (!rc && port >= 0) /* the first branch whose condition holds, as Kafka Streams' split() */
        rc = sl_emit_to(out, port, in);
    return rc;
}

static int key_of(const sl_pctx_t *p, const sl_rec_t *rec, sl_expr_t *const *items, size_t n, sl_buf_t *key,
                  sl_err_t *err)
{
    uint8_t mem[ARENA_STACK];
    call_t c;
    if (begin(p, &c, mem, rec, err))
        return SL_E_RECORD;
    sl_value_t *vals = sl_arena_alloc(&c.arena, (n + 1) * sizeof *vals);
    int rc = vals ? 0 : sl_err_set(err, SL_E_RECORD, "out of memory");
    for (size_t i = 0; !rc && i < n; i++)
        if (eval(p, &c, items[i], &vals[i], err))
            rc = SL_E_RECORD;
    if (!rc && n == 1 && vals[0].type == SL_V_NULL)
        rc = 1; /* null key: the engine drops and counts it */
    else if (!rc) {
        sl_value_t k = vals[0];
        if (n > 1) {
            k.type = SL_V_ARR;
            k.u.arr.items = vals;
            k.u.arr.n = n;
        }
        if (sl_value_key_bytes(&k, key, err))
            rc = SL_E_RECORD;
    }
    sl_arena_free(&c.arena);
    return rc == 1 ? 0 : rc ? rc : 1;
}

int sl_pfn_key(void *arg, const sl_rec_t *rec, sl_buf_t *key, sl_err_t *err)
{
    const sl_pctx_t *p = arg;
    return key_of(p, rec, &p->step->expr, 1, key, err);
}

int sl_pfn_group(void *arg, const sl_rec_t *rec, sl_buf_t *key, sl_err_t *err)
{
    const sl_pctx_t *p = arg;
    return key_of(p, rec, p->step->items, p->step->n_items, key, err);
}

int sl_pfn_num(void *arg, const sl_rec_t *rec, sl_num_t *out, sl_err_t *err)
{
    const sl_pctx_t *p = arg;
    uint8_t mem[ARENA_STACK];
    call_t c;
    sl_value_t r;
    if (begin(p, &c, mem, rec, err))
        return SL_E_RECORD;
    int rc = eval(p, &c, p->step->expr, &r, err) ? SL_E_RECORD : 0;
    if (!rc && r.type == SL_V_INT)
        *out = (sl_num_t){.is_float = false, .i = r.u.i};
    else if (!rc && r.type == SL_V_FLOAT)
        *out = (sl_num_t){.is_float = true, .f = r.u.f};
    else if (!rc)
        rc = sl_err_set(err, SL_E_RECORD, "expected a number to aggregate, got %s", sl_vtype_name(r.type));
    sl_arena_free(&c.arena);
    return rc;
}

/* ---- aggregate { name: fn(x), ... } ---- */

int sl_pfn_agg_init(void *arg, sl_buf_t *out, sl_err_t *err)
{
    sl_value_t empty = {.type = SL_V_OBJ};
    return sl_value_to_msgpack(&empty, out);
}

static const sl_value_t *member(const sl_value_t *obj, const char *prefix, const char *name, sl_arena_t *a,
                                const char **full)
{
    size_t n = strlen(prefix) + strlen(name) + 1;
    char *k = sl_arena_alloc(a, n);
    if (!k)
        return NULL;
    snprintf(k, n, "%s%s", prefix, name);
    *full = k;
    return sl_value_get(obj, k, strlen(k));
}

static sl_value_t num_add(const sl_value_t *a, const sl_value_t *b)
{
    int64_t r;
    if (a->type == SL_V_INT && b->type == SL_V_INT && !__builtin_add_overflow(a->u.i, b->u.i, &r))
        return sl_v_int(r);
    double x = a->type == SL_V_INT ? (double)a->u.i : a->u.f, y = b->type == SL_V_INT ? (double)b->u.i : b->u.f;
    return sl_v_float(x + y);
}

static sl_value_t num_neg(const sl_value_t *x)
{
    if (x->type == SL_V_INT && x->u.i != INT64_MIN)
        return sl_v_int(-x->u.i);
    return sl_v_float(-(x->type == SL_V_INT ? (double)x->u.i : x->u.f));
}

/* A multiset (helper "$ms:name"): an array of [value, count] pairs, count > 0.
 * Adds d (+1 or -1) to x's count into a new array in the arena. */
static int ms_update(sl_arena_t *a, const sl_value_t *h, const sl_value_t *x, int64_t d, sl_value_t *out)
{
    size_t k = h && h->type == SL_V_ARR ? h->u.arr.n : 0, n = 0;
    sl_value_t *items = sl_arena_alloc(a, (k + 1) * sizeof *items);
    if (!items)
        return -1;
    bool found = false;
    for (size_t j = 0; j < k; j++) {
        const sl_value_t *pr = &h->u.arr.items[j];
        if (pr->type != SL_V_ARR || pr->u.arr.n != 2 || pr->u.arr.items[1].type != SL_V_INT)
            continue;
        if (!found && sl_value_eq(&pr->u.arr.items[0], x)) {
            found = true;
            int64_t c = pr->u.arr.items[1].u.i + d;
            if (c <= 0)
                continue;
            sl_value_t *np = sl_arena_alloc(a, 2 * sizeof *np);
            if (!np)
                return -1;
            np[0] = pr->u.arr.items[0];
            np[1] = sl_v_int(c);
            items[n++] = (sl_value_t){.type = SL_V_ARR, .u.arr = {np, 2}};
        } else {
            items[n++] = *pr;
        }
    }
    if (!found && d > 0) {
        sl_value_t *np = sl_arena_alloc(a, 2 * sizeof *np);
        if (!np)
            return -1;
        np[0] = *x;
        np[1] = sl_v_int(d);
        items[n++] = (sl_value_t){.type = SL_V_ARR, .u.arr = {np, 2}};
    }
    *out = (sl_value_t){.type = SL_V_ARR, .u.arr = {items, n}};
    return 0;
}

/* A ranked list (helper "$top:name"): [by, value] pairs, best first (desc:
 * largest `by` first), equal `by` in arrival order.  Adds or (retract)
 * removes one [by, value]; keep > 0 truncates to that many entries, keep < 0
 * keeps only the entries whose `by` equals the best one's. */
static int rank_update(sl_arena_t *a, const sl_value_t *h, const sl_value_t *by, const sl_value_t *val, bool desc,
                       bool retract, int64_t keep, sl_value_t *out)
{
    size_t k = h && h->type == SL_V_ARR ? h->u.arr.n : 0, n = 0;
    sl_value_t *items = sl_arena_alloc(a, (k + 1) * sizeof *items);
    sl_value_t *pair = sl_arena_alloc(a, 2 * sizeof *pair);
    if (!items || !pair)
        return -1;
    pair[0] = *by;
    pair[1] = *val;
    sl_value_t entry = {.type = SL_V_ARR, .u.arr = {pair, 2}};
    bool done = false;
    for (size_t j = 0; j < k; j++) {
        const sl_value_t *e = &h->u.arr.items[j];
        if (e->type != SL_V_ARR || e->u.arr.n != 2)
            continue;
        if (retract && !done && sl_value_eq(e, &entry)) {
            done = true;
            continue;
        }
        if (!retract && !done) {
            int c = sl_value_cmp(by, &e->u.arr.items[0]);
            if (desc ? c > 0 : c < 0) {
                items[n++] = entry;
                done = true;
            }
        }
        items[n++] = *e;
    }
    if (!retract && !done)
        items[n++] = entry;
    if (keep > 0 && n > (size_t)keep)
        n = (size_t)keep;
    if (keep < 0 && n > 0) {
        size_t m = 1;
        while (m < n && sl_value_cmp(&items[m].u.arr.items[0], &items[0].u.arr.items[0]) == 0)
            m++;
        n = m;
    }
    *out = (sl_value_t){.type = SL_V_ARR, .u.arr = {items, n}};
    return 0;
}

/* The values of the first n entries of a ranked list (n < 0: the entries tied
 * with the first). */
static int rank_result(sl_arena_t *a, const sl_value_t *list, int64_t n, sl_value_t *out)
{
    size_t k = list->u.arr.n, m = 0;
    sl_value_t *vals = sl_arena_alloc(a, (k + 1) * sizeof *vals);
    if (!vals)
        return -1;
    for (size_t j = 0; j < k && (n < 0 || m < (size_t)n); j++) {
        const sl_value_t *e = &list->u.arr.items[j];
        if (n < 0 && m > 0 && sl_value_cmp(&e->u.arr.items[0], &list->u.arr.items[0].u.arr.items[0]) != 0)
            break;
        vals[m++] = e->u.arr.items[1];
    }
    *out = (sl_value_t){.type = SL_V_ARR, .u.arr = {vals, m}};
    return 0;
}

/* Fold one record into the aggregate.  Over a grouped table (p->table_agg) a
 * record may be a retraction (sl_rec_is_retraction): count / sum / avg
 * subtract it, min / max / count_distinct keep multisets of the values and
 * top / bottom / argmax / argmin every row, so that taking one back is exact. */
int sl_pfn_agg_add(void *arg, const sl_rec_t *rec, const uint8_t *agg, size_t agg_len, sl_buf_t *out, sl_err_t *err)
{
    const sl_pctx_t *p = arg;
    const sl_step_t *st = p->step;
    uint8_t mem[ARENA_STACK];
    call_t c;
    if (begin(p, &c, mem, rec, err))
        return SL_E_RECORD;
    sl_arena_t *a = &c.arena;
    bool retract = sl_rec_is_retraction(rec);
    sl_value_t old;
    int rc = sl_value_from_msgpack(a, agg, agg_len, &old, err) ? SL_E_RECORD : 0;
    /* at most two members per item: the result and a helper */
    sl_member_t *m = rc ? NULL : sl_arena_alloc(a, (2 * st->n_items + 1) * sizeof *m);
    size_t n = 0;
    if (!rc && !m)
        rc = sl_err_set(err, SL_E_RECORD, "out of memory");
    for (size_t i = 0; !rc && i < st->n_items; i++) {
        const sl_expr_t *e = st->items[i];
        const char *name = st->names[i], *hkey = NULL;
        const sl_value_t *prev = sl_value_get(&old, name, strlen(name));
        const char *fname = sl_fn_info(e->fn)->name;
        bool ranked = !strcmp(fname, "top") || !strcmp(fname, "bottom") || !strcmp(fname, "argmax") ||
                      !strcmp(fname, "argmin");
        size_t vi = !strcmp(fname, "top") || !strcmp(fname, "bottom") ? 1 : 0; /* the `by` argument */
        sl_value_t x = sl_v_null(), val = c.value, res;
        if (e->n_args > vi && eval(p, &c, e->args[vi], &x, err)) {
            rc = SL_E_RECORD;
            break;
        }
        if (ranked && e->n_args > vi + 1 && eval(p, &c, e->args[vi + 1], &val, err)) {
            rc = SL_E_RECORD;
            break;
        }
        bool numeric = x.type == SL_V_INT || x.type == SL_V_FLOAT;
        sl_value_t helper;
        bool has_helper = false;
        if (!strcmp(fname, "count")) {
            int64_t cur = prev && prev->type == SL_V_INT ? prev->u.i : 0;
            res = sl_v_int(retract ? cur - 1 : cur + 1);
        } else if (!strcmp(fname, "first")) {
            res = prev ? *prev : x;
        } else if (!strcmp(fname, "last")) {
            res = x;
        } else if ((!strcmp(fname, "min") || !strcmp(fname, "max")) && !p->table_agg) {
            bool take = !prev || prev->type == SL_V_NULL ||
                        (x.type != SL_V_NULL && (fname[1] == 'i' ? sl_value_cmp(&x, prev) < 0 : sl_value_cmp(&x, prev) > 0));
            res = take ? x : *prev;
        } else if (!strcmp(fname, "sum") || !strcmp(fname, "avg")) {
            if (!numeric && x.type != SL_V_NULL) {
                rc = sl_err_set(err, SL_E_RECORD, "%s(): expected a number, got %s", fname, sl_vtype_name(x.type));
                break;
            }
            sl_value_t dx = numeric && retract ? num_neg(&x) : x;
            if (fname[0] == 's') {
                res = !numeric ? (prev ? *prev : sl_v_int(0)) : prev ? num_add(prev, &dx) : dx;
            } else { /* helper: [sum, count] */
                const sl_value_t *h = member(&old, "$avg:", name, a, &hkey);
                sl_value_t *pair = sl_arena_alloc(a, 2 * sizeof *pair);
                if (!hkey || !pair) {
                    rc = sl_err_set(err, SL_E_RECORD, "out of memory");
                    break;
                }
                pair[0] = h && h->type == SL_V_ARR && h->u.arr.n == 2 ? h->u.arr.items[0] : sl_v_int(0);
                pair[1] = h && h->type == SL_V_ARR && h->u.arr.n == 2 ? h->u.arr.items[1] : sl_v_int(0);
                if (numeric) {
                    pair[0] = num_add(&pair[0], &dx);
                    pair[1].u.i += retract ? -1 : 1;
                }
                double s = pair[0].type == SL_V_INT ? (double)pair[0].u.i : pair[0].u.f;
                res = pair[1].u.i > 0 ? sl_v_float(s / (double)pair[1].u.i) : sl_v_null();
                helper = (sl_value_t){.type = SL_V_ARR, .u.arr = {pair, 2}};
                has_helper = true;
            }
        } else if (ranked) { /* helper: the ranked [by, value] list */
            const sl_value_t *h = member(&old, "$top:", name, a, &hkey);
            bool desc = !strcmp(fname, "top") || !strcmp(fname, "argmax");
            int64_t keep = vi ? e->args[0]->lit.u.i : -1;
            if (!hkey) {
                rc = sl_err_set(err, SL_E_RECORD, "out of memory");
                break;
            }
            if (x.type == SL_V_NULL) {
                helper = h && h->type == SL_V_ARR ? *h : (sl_value_t){.type = SL_V_ARR};
            } else if (rank_update(a, h, &x, &val, desc, retract, p->table_agg ? 0 : keep, &helper)) {
                rc = sl_err_set(err, SL_E_RECORD, "out of memory");
                break;
            }
            if (rank_result(a, &helper, keep, &res)) {
                rc = sl_err_set(err, SL_E_RECORD, "out of memory");
                break;
            }
            has_helper = true;
        } else if (p->table_agg) { /* min, max, count_distinct: helper = multiset of the values */
            const sl_value_t *h = member(&old, "$ms:", name, a, &hkey);
            if (!hkey) {
                rc = sl_err_set(err, SL_E_RECORD, "out of memory");
                break;
            }
            if (x.type == SL_V_NULL)
                helper = h && h->type == SL_V_ARR ? *h : (sl_value_t){.type = SL_V_ARR};
            else if (ms_update(a, h, &x, retract ? -1 : 1, &helper)) {
                rc = sl_err_set(err, SL_E_RECORD, "out of memory");
                break;
            }
            if (!strcmp(fname, "count_distinct")) {
                res = sl_v_int((int64_t)helper.u.arr.n);
            } else {
                res = sl_v_null();
                for (size_t j = 0; j < helper.u.arr.n; j++) {
                    const sl_value_t *v = &helper.u.arr.items[j].u.arr.items[0];
                    int cmp = res.type == SL_V_NULL ? 0 : sl_value_cmp(v, &res);
                    if (res.type == SL_V_NULL || (fname[1] == 'i' ? cmp < 0 : cmp > 0))
                        res = *v;
                }
            }
            has_helper = true;
        } else { /* count_distinct: helper = the distinct values seen */
            const sl_value_t *h = member(&old, "$set:", name, a, &hkey);
            size_t k = h && h->type == SL_V_ARR ? h->u.arr.n : 0;
            sl_value_t *set = hkey ? sl_arena_alloc(a, (k + 1) * sizeof *set) : NULL;
            if (!set) {
                rc = sl_err_set(err, SL_E_RECORD, "out of memory");
                break;
            }
            bool seen = x.type == SL_V_NULL;
            for (size_t j = 0; j < k; j++) {
                set[j] = h->u.arr.items[j];
                seen = seen || sl_value_eq(&set[j], &x);
            }
            if (!seen)
                set[k++] = x;
            res = sl_v_int((int64_t)k);
            helper = (sl_value_t){.type = SL_V_ARR, .u.arr = {set, k}};
            has_helper = true;
        }
        if (has_helper) {
            m[n].key = hkey;
            m[n].key_len = strlen(hkey);
            m[n].val = helper;
            n++;
        }
        m[n].key = name;
        m[n].key_len = strlen(name);
        m[n].val = res;
        n++;
    }
    if (!rc) {
        sl_value_t obj = {.type = SL_V_OBJ, .u.obj = {m, n}};
        sl_value_to_msgpack(&obj, out);
    }
    sl_arena_free(a);
    return rc;
}

/* ---- joins, timestamps, outputs ---- */

int sl_pfn_join(void *arg, const sl_rec_t *left, const sl_rec_t *right, sl_buf_t *out, sl_err_t *err)
{
    const sl_pctx_t *p = arg;
    uint8_t mem[ARENA_STACK];
    sl_arena_t a;
    sl_arena_init(&a, mem, sizeof mem);
    sl_value_t l = sl_v_null(), r = sl_v_null();
    int rc = 0;
    if ((left && decode_fmt(p->in_fmt, &a, left->value, left->value_len, &l, err)) ||
        (right && decode_fmt(p->right_fmt, &a, right->value, right->value_len, &r, err)))
        rc = SL_E_RECORD;
    size_t n = l.type == SL_V_OBJ ? l.u.obj.n : 1;
    sl_member_t *m = rc ? NULL : sl_arena_alloc(&a, (n + 1) * sizeof *m);
    if (!rc && !m)
        rc = sl_err_set(err, SL_E_RECORD, "out of memory");
    if (!rc) {
        size_t k = 0;
        if (l.type == SL_V_OBJ) {
            for (size_t i = 0; i < n; i++)
                if (strcmp(l.u.obj.m[i].key, p->right_name) != 0)
                    m[k++] = l.u.obj.m[i];
        } else {
            m[k++] = (sl_member_t){"value", 5, l};
        }
        m[k++] = (sl_member_t){p->right_name, strlen(p->right_name), r};
        sl_value_t obj = {.type = SL_V_OBJ, .u.obj = {m, k}};
        sl_value_to_msgpack(&obj, out);
    }
    sl_arena_free(&a);
    return rc;
}

int sl_pfn_timestamp(void *arg, const sl_rec_t *rec, int64_t *ts, sl_err_t *err)
{
    const sl_pctx_t *p = arg;
    uint8_t mem[ARENA_STACK];
    sl_arena_t a;
    sl_arena_init(&a, mem, sizeof mem);
    sl_value_t v;
    int rc = decode_fmt(p->in_fmt, &a, rec->value, rec->value_len, &v, err) ? SL_E_RECORD : 0;
    const sl_value_t *t = rc ? NULL : sl_value_get(&v, p->ts_field, strlen(p->ts_field));
    if (!rc && !t)
        rc = sl_err_set(err, SL_E_RECORD, "timestamp field '%s' not found", p->ts_field);
    else if (!rc && t->type == SL_V_INT)
        *ts = t->u.i;
    else if (!rc && t->type == SL_V_FLOAT)
        *ts = (int64_t)t->u.f;
    else if (!rc && !(t->type == SL_V_STR && sl_time_parse_iso(t->u.s.p, t->u.s.len, ts) == 0))
        rc = sl_err_set(err, SL_E_RECORD, "timestamp field '%s' is neither epoch ms nor an ISO-8601 time",
                        p->ts_field);
    sl_arena_free(&a);
    return rc;
}

/* Before a sink: an aggregation's value gets its group key (and window bounds)
 * merged in - {"word": "hello", "count": 3} - and the result is encoded in
 * the output's format. */
int sl_pfn_encode(void *arg, const sl_rec_t *in, sl_rec_t *out, sl_scratch_t *scratch, sl_err_t *err)
{
    const sl_pctx_t *p = arg;
    uint8_t mem[ARENA_STACK];
    call_t c;
    if (p->rows) { /* rows of a windowed table to be grouped: one row per (key, window): "<key>@<start>-<end>" */
        int64_t ws = INT64_MIN, we = INT64_MIN;
        for (size_t h = 0; h < in->header_count; h++) {
            const sl_rec_header_t *hd = &in->headers[h];
            if (hd->key_len == 15 && !memcmp(hd->key, "sl.window.start", 15) && hd->value_len == 8)
                ws = (int64_t)sl_be64(hd->value);
            else if (hd->key_len == 13 && !memcmp(hd->key, "sl.window.end", 13) && hd->value_len == 8)
                we = (int64_t)sl_be64(hd->value);
        }
        if (ws != INT64_MIN && we != INT64_MIN && in->key_len >= 0) {
            char suffix[64];
            int k = snprintf(suffix, sizeof suffix, "@%lld-%lld", (long long)ws, (long long)we);
            if (sl_buf_append(&scratch->key, in->key, (size_t)in->key_len) || sl_buf_append(&scratch->key, suffix, (size_t)k))
                return sl_err_set(err, SL_E_NOMEM, "out of memory");
            out->key = scratch->key.data;
            out->key_len = (int32_t)scratch->key.len;
        }
    }
    if (in->value_len < 0)
        return 0; /* tombstones pass as they are */
    if (!p->agg_table && p->in_fmt == SL_FMT_JSON && p->out_fmt == SL_FMT_JSON &&
        sl_json_is_canonical(in->value, (size_t)in->value_len))
        return 0; /* decoding and encoding again would write the same bytes */
    if (begin(p, &c, mem, in, err))
        return SL_E_RECORD;
    sl_value_t v = c.value;
    int rc = 0;
    if (p->agg_table) {
        size_t extra = p->n_group + 2 + (v.type == SL_V_OBJ ? v.u.obj.n : 1);
        sl_member_t *m = sl_arena_alloc(&c.arena, extra * sizeof *m);
        sl_value_t kv = c.key;
        if (!m) {
            sl_arena_free(&c.arena);
            return sl_err_set(err, SL_E_RECORD, "out of memory");
        }
        size_t n = 0;
        if (p->n_group > 1 && in->key_len >= 0 &&
            sl_value_from_json(&c.arena, in->key, (size_t)in->key_len, &kv, NULL) == 0 && kv.type == SL_V_ARR &&
            kv.u.arr.n == p->n_group) {
            for (size_t i = 0; i < p->n_group; i++)
                m[n++] = (sl_member_t){p->group_names[i], strlen(p->group_names[i]), kv.u.arr.items[i]};
        } else {
            if (in->key_len >= 0)
                sl_value_from_key_bytes(&c.arena, in->key, (size_t)in->key_len, &kv);
            m[n++] = (sl_member_t){p->group_names[0], strlen(p->group_names[0]), kv};
        }
        for (size_t h = 0; h < in->header_count; h++) {
            const sl_rec_header_t *hd = &in->headers[h];
            bool st = hd->key_len == 15 && !memcmp(hd->key, "sl.window.start", 15);
            bool en = hd->key_len == 13 && !memcmp(hd->key, "sl.window.end", 13);
            if ((st || en) && hd->value_len == 8)
                m[n++] = (sl_member_t){st ? "window_start" : "window_end", st ? 12 : 10,
                                       sl_v_int((int64_t)sl_be64(hd->value))};
        }
        if (p->agg_name) {
            m[n++] = (sl_member_t){p->agg_name, strlen(p->agg_name), v};
        } else if (v.type == SL_V_OBJ) {
            for (size_t i = 0; i < v.u.obj.n; i++)
                if (v.u.obj.m[i].key_len == 0 || v.u.obj.m[i].key[0] != '$')
                    m[n++] = v.u.obj.m[i];
        }
        v = (sl_value_t){.type = SL_V_OBJ, .u.obj = {m, n}};
    }
    switch (p->out_fmt) {
    case SL_FMT_JSON: rc = sl_value_to_json(&v, &scratch->value, err) ? SL_E_RECORD : 0; break;
    case SL_FMT_MSGPACK: sl_value_to_msgpack(&v, &scratch->value); break;
    case SL_FMT_STRING:
    case SL_FMT_BYTES:
        if (v.type == SL_V_STR)
            rc = sl_buf_append(&scratch->value, v.u.s.p, v.u.s.len) ? SL_E_NOMEM : 0;
        else
            rc = sl_value_to_json(&v, &scratch->value, err) ? SL_E_RECORD : 0;
        break;
    }
    if (!rc) {
        out->value = scratch->value.data;
        out->value_len = (int32_t)scratch->value.len;
    }
    sl_arena_free(&c.arena);
    return rc;
}
