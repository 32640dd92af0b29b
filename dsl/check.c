/* The checker: everything that can be known about a job before it runs.
 * Names (unknown and duplicate streams and tables, unknown functions, wrong
 * arities), plan rules (a window needs a group by, aggregations need a group
 * by, aggregate functions live only inside aggregate { }, one aggregation per
 * pipeline, joins compare keys) and fields where a map fixes them.  Errors
 * point at the offending token; checking goes on to find the next one. */
#include <stdio.h>

#include "dsl/ast.h"

typedef struct known {
    const char *name;
    sl_pos_t pos;
    const sl_stmt_t *stmt;
    bool is_table;
} known_t;

typedef struct checker {
    sl_dsl_job_t *job;
    known_t *names;
    size_t n_names;
} checker_t;

static const known_t *find(const checker_t *c, const char *name)
{
    for (size_t i = 0; i < c->n_names; i++)
        if (strcmp(c->names[i].name, name) == 0)
            return &c->names[i];
    return NULL;
}

/* Edit distance (insert, delete, substitute, swap of neighbours), capped:
 * names are short, so the O(n*m) table is small. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 64 || m > 64)
        return 64;
    size_t d[65][65];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[n][m];
}

/* The known candidate closest to `name`, if it is close enough to be a typo
 * (at most a third of the name's length, at least one edit); else NULL. */
static const char *nearest(const char *const *cands, size_t n, const char *name)
{
    size_t limit = strlen(name) / 3 > 0 ? strlen(name) / 3 : 1, best_d = limit + 1;
    const char *best = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(cands[i], name);
        if (d < best_d) {
            best_d = d;
            best = cands[i];
        }
    }
    return best;
}

/* " (did you mean 'x'?)" for an unknown stream or table name, or "". */
static void name_hint(const checker_t *c, const char *name, char *buf, size_t cap)
{
    const char *cands[256];
    size_t n = 0;
    for (size_t i = 0; i < c->n_names && n < 256; i++)
        cands[n++] = c->names[i].name;
    const char *best = nearest(cands, n, name);
    if (best)
        snprintf(buf, cap, " (did you mean '%s'?)", best);
    else
        buf[0] = '\0';
}

static void unknown_name(const checker_t *c, sl_pos_t pos, const char *what, const char *name)
{
    char hint[128];
    name_hint(c, name, hint, sizeof hint);
    sl_dsl_error(c->job, pos, "unknown %s '%s'%s", what, name, hint);
}

static void declare(checker_t *c, const char *name, sl_pos_t pos, const sl_stmt_t *s, bool is_table)
{
    const known_t *k = find(c, name);
    if (k) {
        sl_dsl_error(c->job, pos, "duplicate name '%s' (first declared at line %d)", name, k->pos.line);
        return;
    }
    c->names[c->n_names++] = (known_t){name, pos, s, is_table};
}

void sl_dsl_check_expr(sl_dsl_job_t *job, sl_expr_t *e, bool allow_agg)
{
    if (!e)
        return;
    if (e->kind == SL_EX_CALL) {
        int fn = sl_fn_lookup(e->name);
        if (fn < 0) {
            const char *cands[128];
            size_t n = 0;
            for (const sl_fn_info_t *fi; n < 128 && (fi = sl_fn_info((int)n)) != NULL; n++)
                cands[n] = fi->name;
            const char *best = nearest(cands, n, e->name);
            if (best)
                sl_dsl_error(job, e->pos, "unknown function '%s' (did you mean '%s'?)", e->name, best);
            else
                sl_dsl_error(job, e->pos, "unknown function '%s'", e->name);
        } else {
            const sl_fn_info_t *fi = sl_fn_info(fn);
            e->fn = fn;
            if (fi->aggregate && !allow_agg)
                sl_dsl_error(job, e->pos, "aggregate function '%s' is only allowed inside aggregate { ... }",
                             e->name);
            int n = (int)e->n_args;
            if (n < fi->min_args || n > fi->max_args) {
                if (fi->min_args == fi->max_args)
                    sl_dsl_error(job, e->pos, "function '%s' takes %d argument%s, got %d", e->name, fi->min_args,
                                 fi->min_args == 1 ? "" : "s", n);
                else
                    sl_dsl_error(job, e->pos, "function '%s' takes %d to %d arguments, got %d", e->name,
                                 fi->min_args, fi->max_args, n);
            }
            if (fi->aggregate)
                allow_agg = false; /* no aggregate inside an aggregate */
        }
    }
    sl_dsl_check_expr(job, e->a, allow_agg);
    sl_dsl_check_expr(job, e->b, allow_agg);
    for (size_t i = 0; i < e->n_args; i++)
        sl_dsl_check_expr(job, e->args[i], allow_agg);
}

/* Is e the key of stream/table `side` (named `name`)?  `key`, `name.key`,
 * and the declared key field (bare or qualified) all are. */
static bool is_key_of(const sl_expr_t *e, const sl_stmt_t *side, const char *name, bool bare_ok)
{
    const char *field = NULL;
    if (e->kind == SL_EX_FIELD && e->a->kind == SL_EX_NAME && strcmp(e->a->name, name) == 0)
        field = e->name;
    else if (e->kind == SL_EX_NAME && bare_ok)
        field = e->name;
    if (!field)
        return false;
    return strcmp(field, "key") == 0 || (side && side->key_field && strcmp(field, side->key_field) == 0);
}

/* Names a map or flat_map fixed for the next steps (NULL: unknown, e.g. JSON). */
typedef struct fields {
    const char **names;
    size_t n;
    bool known;
} fields_t;

static void check_fields(checker_t *c, const sl_expr_t *e, const fields_t *f, const char *self)
{
    if (!e || !f->known)
        return;
    if (e->kind == SL_EX_NAME) {
        if (strcmp(e->name, "value") == 0 || strcmp(e->name, "key") == 0 || (self && !strcmp(e->name, self)))
            return;
        for (size_t i = 0; i < f->n; i++)
            if (strcmp(f->names[i], e->name) == 0)
                return;
        char list[200] = "";
        size_t len = 0;
        for (size_t i = 0; i < f->n && len + 1 < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", f->names[i]);
        sl_dsl_error(c->job, e->pos, "unknown field '%s' (the records here have: %s)", e->name, list);
        return;
    }
    if (e->kind == SL_EX_FIELD) { /* only the head of a path is checked */
        check_fields(c, e->a, f, self);
        return;
    }
    check_fields(c, e->a, f, self);
    check_fields(c, e->b, f, self);
    for (size_t i = 0; i < e->n_args; i++)
        check_fields(c, e->args[i], f, self);
}

/* What a join can read: 1 for a table source or an aggregation without a
 * window (a KV store), 2 for a windowed aggregation, 0 for anything else. */
static int kv_table(const sl_stmt_t *s)
{
    if (!s)
        return 0;
    if (s->kind == SL_S_SOURCE)
        return s->is_table;
    if (s->kind != SL_S_DEFINE || !s->n_steps)
        return 0;
    size_t last = s->n_steps;
    while (last > 0 && (s->steps[last - 1].kind == SL_ST_EMIT || s->steps[last - 1].kind == SL_ST_TTL))
        last--;
    if (last == 0 || s->steps[last - 1].kind < SL_ST_COUNT || s->steps[last - 1].kind > SL_ST_AGGREGATE)
        return 0;
    for (size_t i = 0; i < last; i++)
        if (s->steps[i].kind == SL_ST_WINDOW)
            return 2;
    return 1;
}

static const char *origin_of(const checker_t *c, const char *name)
{
    const known_t *k = find(c, name);
    while (k && k->stmt && k->stmt->kind == SL_S_DEFINE && k->stmt->origin)
        return k->stmt->origin;
    return name;
}

static void check_define(checker_t *c, sl_stmt_t *s)
{
    sl_dsl_job_t *job = c->job;
    const known_t *head = find(c, s->from);
    if (!head) {
        unknown_name(c, s->from_pos, "stream or table", s->from);
        return;
    }
    s->origin = origin_of(c, s->from);
    const sl_stmt_t *origin_src = head->stmt && head->stmt->kind == SL_S_SOURCE ? head->stmt : NULL;
    if (head->stmt && head->stmt->kind == SL_S_DEFINE) {
        const known_t *o = find(c, s->origin);
        origin_src = o && o->stmt->kind == SL_S_SOURCE ? o->stmt : NULL;
    }
    bool is_table = head->is_table, grouped = false, windowed = false, aggregated = false;
    /* records are a table's changelog - except the rows of a windowed table
     * with emit final: each (key, window) comes once and never changes, so
     * grouping them needs no retractions (a plain group by, first / last allowed) */
    bool final_rows = false;
    for (size_t i = 0; head->stmt && head->stmt->kind == SL_S_DEFINE && i < head->stmt->n_steps; i++)
        if (head->stmt->steps[i].kind == SL_ST_EMIT && head->stmt->steps[i].emit_final)
            final_rows = true;
    bool table_rows = head->is_table && !final_rows, table_grouped = false;
    fields_t f = {0};
    for (size_t i = 0; i < s->n_steps; i++) {
        sl_step_t *st = &s->steps[i];
        bool stateless = st->kind == SL_ST_FILTER || st->kind == SL_ST_MAP || st->kind == SL_ST_FLAT_MAP ||
                         st->kind == SL_ST_SELECT_KEY || st->kind == SL_ST_BRANCH || st->kind == SL_ST_MERGE ||
                         st->kind == SL_ST_JOIN;
        bool is_agg = st->kind >= SL_ST_COUNT && st->kind <= SL_ST_AGGREGATE;
        if (stateless && grouped && !aggregated) {
            sl_dsl_error(job, st->pos, "a group by must be followed by a window or an aggregation");
            return;
        }
        if ((stateless || is_agg || st->kind == SL_ST_WINDOW || st->kind == SL_ST_GROUP_BY) && aggregated) {
            sl_dsl_error(job, st->pos, "only 'emit' and 'ttl' may follow an aggregation; start a new pipeline from this "
                         "table");
            return;
        }
        if (i > 0 && s->steps[i - 1].kind == SL_ST_BRANCH) {
            sl_dsl_error(job, st->pos, "branch must be the last step; continue from '%s.<branch>'", s->name);
            return;
        }
        if (st->kind == SL_ST_FILTER || st->kind == SL_ST_MAP || st->kind == SL_ST_GROUP_BY)
            st->on_table = table_rows;
        else if (stateless)
            table_rows = false;
        sl_dsl_check_expr(job, st->expr, false);
        check_fields(c, st->expr, &f, s->origin);
        for (size_t k = 0; k < st->n_items && st->kind != SL_ST_MERGE; k++) {
            sl_dsl_check_expr(job, st->items[k], st->kind == SL_ST_AGGREGATE);
            check_fields(c, st->items[k], &f, s->origin);
        }
        switch (st->kind) {
        case SL_ST_FILTER:
        case SL_ST_BRANCH:
            break;
        case SL_ST_MAP:
            f.names = st->names;
            f.n = st->n_items;
            f.known = true;
            is_table = false;
            break;
        case SL_ST_FLAT_MAP:
            if (origin_src && origin_src->format != SL_FMT_JSON && origin_src->format != SL_FMT_MSGPACK &&
                !f.known) {
                const char **n = sl_arena_alloc(&job->arena, sizeof *n);
                if (n) {
                    n[0] = st->as;
                    f.names = n;
                    f.n = 1;
                    f.known = true;
                }
            } else if (f.known) {
                const char **n = sl_arena_alloc(&job->arena, (f.n + 1) * sizeof *n);
                if (n) {
                    memcpy(n, f.names, f.n * sizeof *n);
                    n[f.n] = st->as;
                    f.names = n;
                    f.n++;
                }
            }
            is_table = false;
            break;
        case SL_ST_SELECT_KEY:
            is_table = false;
            break;
        case SL_ST_MERGE:
            for (size_t k = 0; k < st->n_items; k++) {
                const known_t *m = find(c, st->names[k]);
                if (!m)
                    unknown_name(c, st->name_pos[k], "stream", st->names[k]);
                else if (m->is_table)
                    sl_dsl_error(job, st->name_pos[k], "'%s' is a table; merge takes streams", st->names[k]);
            }
            is_table = false;
            break;
        case SL_ST_GROUP_BY:
            table_grouped = table_rows;
            grouped = true;
            break;
        case SL_ST_WINDOW:
            if (!grouped) {
                sl_dsl_error(job, st->pos, "window needs a group by before it");
                return;
            }
            if (windowed) {
                sl_dsl_error(job, st->pos, "only one window per pipeline");
                return;
            }
            if (table_grouped) {
                sl_dsl_error(job, st->pos, "a grouped table cannot be windowed (its rows are not events); window "
                             "the stream, or group by window_start of a windowed table");
                return;
            }
            if (st->window_kind == 4 ? st->gap_ms <= 0 : st->size_ms <= 0) {
                sl_dsl_error(job, st->pos, st->window_kind == 4 ? "a session window needs a gap: window session 5 minutes"
                                                                 : "a window needs a size: window tumbling 1 minute");
                return;
            }
            if (st->window_kind == 2 && (st->advance_ms <= 0 || st->advance_ms > st->size_ms)) {
                sl_dsl_error(job, st->pos, "a hopping window needs 'advance D' with 0 < D <= size");
                return;
            }
            if (st->window_kind != 2 && st->advance_ms) {
                sl_dsl_error(job, st->pos, "'advance' applies to hopping windows only");
                return;
            }
            windowed = true;
            break;
        case SL_ST_COUNT:
        case SL_ST_SUM:
        case SL_ST_MIN:
        case SL_ST_MAX:
        case SL_ST_AVG:
        case SL_ST_AGGREGATE:
            if (!grouped) {
                sl_dsl_error(job, st->pos, "an aggregation needs a group by before it");
                return;
            }
            if (table_grouped && (st->kind == SL_ST_MIN || st->kind == SL_ST_MAX)) {
                sl_dsl_error(job, st->pos, "'| %s' cannot take back a changed row of a grouped table; use "
                             "aggregate { %s: %s(x) }, which keeps the values", st->kind == SL_ST_MIN ? "min" : "max",
                             st->kind == SL_ST_MIN ? "min" : "max", st->kind == SL_ST_MIN ? "min" : "max");
                return;
            }
            for (size_t k = 0; st->kind == SL_ST_AGGREGATE && k < st->n_items; k++) {
                const sl_expr_t *x = st->items[k];
                if (x->kind != SL_EX_CALL || x->fn < 0 || !sl_fn_info(x->fn)->aggregate) {
                    sl_dsl_error(job, x->pos, "'%s' must be an aggregate function (count, sum, min, max, avg, "
                                 "count_distinct, first, last, top, bottom, argmax, argmin)", st->names[k]);
                    continue;
                }
                const char *fname = sl_fn_info(x->fn)->name;
                if (table_grouped && (!strcmp(fname, "first") || !strcmp(fname, "last")))
                    sl_dsl_error(job, x->pos, "%s() has no meaning over a grouped table (a changed row is taken "
                                 "back and added again); use min, max, top or argmax", fname);
                if ((!strcmp(fname, "top") || !strcmp(fname, "bottom")) && x->n_args >= 2 &&
                    (x->args[0]->kind != SL_EX_LIT || x->args[0]->lit.type != SL_V_INT || x->args[0]->lit.u.i < 1 ||
                     x->args[0]->lit.u.i > 10000))
                    sl_dsl_error(job, x->args[0]->pos, "%s(n, by, value): n must be an integer from 1 to 10000",
                                 fname);
                for (size_t m = 0; m < k; m++)
                    if (strcmp(st->names[m], st->names[k]) == 0)
                        sl_dsl_error(job, st->name_pos[k], "duplicate name '%s' in aggregate", st->names[k]);
            }
            if (windowed && st->kind == SL_ST_AGGREGATE) {
                const sl_step_t *w = NULL;
                for (size_t k = 0; k < i; k++)
                    if (s->steps[k].kind == SL_ST_WINDOW)
                        w = &s->steps[k];
                if (w && (w->window_kind == 3 || w->window_kind == 4))
                    sl_dsl_error(job, st->pos, "aggregate { } is not supported on %s windows yet; use count, sum, "
                                 "min, max or avg", w->window_kind == 3 ? "sliding" : "session");
            }
            aggregated = true;
            is_table = true;
            break;
        case SL_ST_EMIT:
            if (!windowed) {
                sl_dsl_error(job, st->pos, "emit needs a window before it");
                return;
            }
            break;
        case SL_ST_JOIN: {
            const known_t *other = find(c, st->join_with);
            if (!other) {
                unknown_name(c, st->join_with_pos, "stream or table", st->join_with);
                return;
            }
            if (!other->is_table && st->within_ms < 0) {
                sl_dsl_error(job, st->pos, "a join of two streams needs 'within D'");
                return;
            }
            if (other->is_table && kv_table(other->stmt) != 1) {
                sl_dsl_error(job, st->join_with_pos, "'%s' cannot be joined: a join reads a table source or the table "
                             "of an aggregation without a window", st->join_with);
                return;
            }
            if (other->is_table && is_table && (i > 0 || !head->stmt || kv_table(head->stmt) != 1)) {
                sl_dsl_error(job, st->pos, "a table-table join is the first step of a pipeline from a table source or "
                             "an aggregation without a window");
                return;
            }
            if (!other->is_table && is_table) {
                sl_dsl_error(job, st->pos, "a table joins tables only; join the stream '%s' from its own pipeline",
                             st->join_with);
                return;
            }
            if (other->is_table && st->join_type == 3 && !is_table) {
                sl_dsl_error(job, st->pos, "a stream-table join is inner or left, not outer");
                return;
            }
            const known_t *osrc = find(c, origin_of(c, st->join_with));
            const sl_stmt_t *ostmt = osrc && osrc->stmt->kind == SL_S_SOURCE ? osrc->stmt : NULL;
            sl_expr_t *l = st->on_left, *r = st->on_right;
            if (is_key_of(r, origin_src, s->origin, true) && is_key_of(l, ostmt, st->join_with, false)) {
                st->on_left = r;
                st->on_right = l;
            } else if (!is_key_of(l, origin_src, s->origin, true)) {
                sl_dsl_error(job, l->pos, "a join compares keys: the left side must be the key of '%s' (%s.key%s%s)",
                             s->origin, s->origin, origin_src && origin_src->key_field ? " or its key field " : "",
                             origin_src && origin_src->key_field ? origin_src->key_field : "");
                return;
            } else if (!is_key_of(r, ostmt, st->join_with, false)) {
                sl_dsl_error(job, r->pos, "a join compares keys: the right side must be %s.key", st->join_with);
                return;
            }
            if (f.known) {
                const char **n = sl_arena_alloc(&job->arena, (f.n + 1) * sizeof *n);
                if (n) {
                    memcpy(n, f.names, f.n * sizeof *n);
                    n[f.n] = st->join_with;
                    f.names = n;
                    f.n++;
                }
            }
            is_table = is_table && other->is_table; /* table-table: a table */
            table_rows = is_table;
            break;
        }
        case SL_ST_TTL: {
            const sl_step_t *prev = i > 0 ? &s->steps[i - 1] : NULL;
            while (prev && prev > s->steps && prev->kind == SL_ST_EMIT)
                prev--;
            if (!prev || prev->kind < SL_ST_COUNT || prev->kind > SL_ST_AGGREGATE) {
                sl_dsl_error(job, st->pos, "ttl follows an aggregation (a table source takes it as an option: table t "
                             "from topic \"t\" ttl 1 day)");
                return;
            }
            if (windowed) {
                sl_dsl_error(job, st->pos, "a windowed aggregation takes no ttl: its windows expire after size + grace");
                return;
            }
            if (st->ttl_ms <= 0 || st->ttl_ms > ((int64_t)1 << 50)) {
                sl_dsl_error(job, st->pos, "a ttl is from 1 ms to 2^50 ms");
                return;
            }
            break;
        }
        }
    }
    s->yields_table = is_table;
    if (s->is_table && !is_table)
        sl_dsl_error(job, s->name_pos, "'%s' is declared as a table but its pipeline yields a stream (end it with "
                     "an aggregation, or declare it with 'stream')", s->name);
    else if (!s->is_table && is_table)
        sl_dsl_error(job, s->name_pos, "'%s' is declared as a stream but its pipeline yields a table; declare it "
                     "with 'table'", s->name);
}

int sl_dsl_check_job(sl_dsl_job_t *job)
{
    checker_t c = {.job = job};
    if (job->n_stmts == 0) {
        sl_dsl_error(job, (sl_pos_t){1, 1}, "the job has no statements (expected stream, table or output)");
        return job->n_errors;
    }
    size_t cap = 1;
    for (size_t i = 0; i < job->n_stmts; i++)
        for (size_t k = 0; k < job->stmts[i].n_steps; k++)
            cap += job->stmts[i].steps[k].n_items;
    c.names = sl_arena_alloc(&job->arena, (cap + job->n_stmts) * sizeof *c.names);
    if (!c.names) {
        sl_dsl_error(job, (sl_pos_t){1, 1}, "out of memory");
        return job->n_errors;
    }
    for (size_t i = 0; i < job->n_stmts; i++) {
        sl_stmt_t *s = &job->stmts[i];
        switch (s->kind) {
        case SL_S_SOURCE:
            declare(&c, s->name, s->name_pos, s, s->is_table);
            if (s->ttl_ms && !s->is_table)
                sl_dsl_error(job, s->ttl_pos, "ttl applies to a table source, not a stream (a stream keeps no state)");
            else if (s->ttl_ms < 0 || s->ttl_ms > ((int64_t)1 << 50) || (s->ttl_ms == 0 && s->ttl_pos.line))
                sl_dsl_error(job, s->ttl_pos, "a ttl is from 1 ms to 2^50 ms");
            if (s->format != SL_FMT_JSON && s->format != SL_FMT_MSGPACK && (s->key_field || s->ts_field))
                sl_dsl_error(job, s->name_pos, "'key' and 'timestamp' fields need a json or msgpack format");
            break;
        case SL_S_DEFINE:
            check_define(&c, s);
            declare(&c, s->name, s->name_pos, s, s->yields_table || (s->is_table && job->n_errors));
            if (s->n_steps && s->steps[s->n_steps - 1].kind == SL_ST_BRANCH) {
                const sl_step_t *b = &s->steps[s->n_steps - 1];
                for (size_t k = 0; k < b->n_items; k++) {
                    size_t n = strlen(s->name) + strlen(b->names[k]) + 2;
                    char *full = sl_arena_alloc(&job->arena, n);
                    if (full) {
                        snprintf(full, n, "%s.%s", s->name, b->names[k]);
                        declare(&c, full, b->name_pos[k], s, false);
                    }
                }
            }
            break;
        case SL_S_OUTPUT:
            if (!find(&c, s->name))
                unknown_name(&c, s->name_pos, "stream or table", s->name);
            break;
        }
    }
    return job->n_errors;
}
