/* The planner: a checked job becomes an engine topology through the public
 * sl_topo_* API, the same one C users have.  Each stream or table name maps to
 * the node that produces it and the encoding of its values; each pipeline step
 * becomes one node named "<statement>.<step number>.<step>", an aggregation
 * takes the statement's own name for its node and its store (so
 * `sluice query word_counts` reads it), and each output is an encoding map
 * plus a sink.  sl_dsl_explain describes the result. */
#include <stdio.h>
#include <stdlib.h>

#include "dsl/plan.h"

typedef struct named {
    const char *name;  /* DSL name */
    char *node;        /* topology node producing it */
    sl_fmt_t fmt;      /* encoding of its values */
    bool is_table;
    const sl_stmt_t *stmt;
    const sl_step_t *agg; /* the aggregation that made it a table, if any */
    const sl_step_t *group;
    bool rekeyed;      /* a map / flat_map / select_key since the last stateful node: not partitioned by key */
} named_t;

typedef struct plan {
    sl_pctx_t **ctx;   /* callback arguments, freed with the job */
    size_t n_ctx, cap_ctx;
    named_t *names;
    size_t n_names;
    char **strs;       /* node names */
    size_t n_strs, cap_strs;
    sl_buf_t explain;
} plan_t;

void sl_dsl_plan_free(void *pv)
{
    plan_t *p = pv;
    if (!p)
        return;
    for (size_t i = 0; i < p->n_ctx; i++) {
        free((void *)p->ctx[i]->group_names);
        free(p->ctx[i]);
    }
    free(p->ctx);
    for (size_t i = 0; i < p->n_strs; i++)
        free(p->strs[i]);
    free(p->strs);
    free(p->names);
    sl_buf_free(&p->explain);
    free(p);
}

static sl_pctx_t *new_ctx(plan_t *p)
{
    if (p->n_ctx == p->cap_ctx) {
        size_t cap = p->cap_ctx ? p->cap_ctx * 2 : 16;
        sl_pctx_t **n = realloc(p->ctx, cap * sizeof *n);
        if (!n)
            return NULL;
        p->ctx = n;
        p->cap_ctx = cap;
    }
    sl_pctx_t *c = calloc(1, sizeof *c);
    if (c)
        p->ctx[p->n_ctx++] = c;
    return c;
}

static char *fmt_str(plan_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *fmt_str(plan_t *p, const char *fmt, ...)
{
    if (p->n_strs == p->cap_strs) {
        size_t cap = p->cap_strs ? p->cap_strs * 2 : 32;
        char **n = realloc(p->strs, cap * sizeof *n);
        if (!n)
            return NULL;
        p->strs = n;
        p->cap_strs = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    if (s)
        p->strs[p->n_strs++] = s;
    return s;
}

static named_t *lookup(plan_t *p, const char *name)
{
    for (size_t i = 0; i < p->n_names; i++)
        if (strcmp(p->names[i].name, name) == 0)
            return &p->names[i];
    return NULL;
}

static const char *fmt_name(sl_fmt_t f)
{
    return f == SL_FMT_JSON ? "json" : f == SL_FMT_STRING ? "string" : f == SL_FMT_BYTES ? "bytes" : "msgpack";
}

static const char *step_name(sl_step_kind_t k)
{
    static const char *n[] = {"filter", "map", "flat_map", "select_key", "branch", "merge", "group_by", "window",
                              "count", "sum", "min", "max", "avg", "aggregate", "emit", "join", "ttl"};
    return n[k];
}

static const char *group_name(plan_t *p, const sl_expr_t *e, size_t i)
{
    if (e->kind == SL_EX_NAME || e->kind == SL_EX_FIELD)
        return e->name;
    return i == 0 ? "key" : fmt_str(p, "key%zu", i);
}

/* The output shaping of an aggregated table (group key and window bounds
 * merged into the value) for an output or, with rows set, for the head of a
 * pipeline reading the table. */
static int shape_ctx(plan_t *p, const named_t *src, sl_pctx_t *c, sl_err_t *err)
{
    c->in_fmt = src->fmt;
    if (!src->agg || !src->group)
        return 0;
    c->agg_table = true;
    c->n_group = src->group->n_items;
    c->group_names = calloc(c->n_group, sizeof *c->group_names);
    if (!c->group_names)
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    for (size_t k = 0; k < c->n_group; k++)
        c->group_names[k] = group_name(p, src->group->items[k], k);
    c->agg_name = src->agg->kind == SL_ST_AGGREGATE ? NULL : step_name(src->agg->kind);
    return 0;
}

/* Make the records of `cur` partitioned by their key again: a sink to the
 * internal topic "<app>-<name>-rekey" and a source reading it. */
static int repartition(sl_dsl_job_t *job, plan_t *p, const char *name, const char **cur, sl_err_t *err)
{
    sl_topo_t *t = job->topo;
    char *topic = fmt_str(p, "%s-%s-rekey", job->app_id ? job->app_id : "sluice", name);
    char *sink = fmt_str(p, "%s.rekey", name), *src = fmt_str(p, "%s.rekey-source", name);
    if (!topic || !sink || !src)
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    int rc = sl_topo_add_sink(t, sink, *cur, topic);
    if (!rc)
        rc = sl_topo_add_source(t, src, (const char *const[]){topic}, 1, NULL);
    if (!rc) /* the runtime may hand its records over in memory */
        rc = sl_topo_set_internal(t, topic);
    if (rc)
        return sl_err_set(err, rc, "cannot add the repartition of '%s': %s", name, sl_engine_strerror(rc));
    char line[400];
    snprintf(line, sizeof line, "  (repartitioned by key through topic \"%s\": nodes %s, %s)\n", topic, sink, src);
    sl_buf_append(&p->explain, line, strlen(line));
    *cur = src;
    return 0;
}

/* One define statement: its steps become nodes; rc < 0 with err on failure. */
static int plan_define(sl_dsl_job_t *job, plan_t *p, const sl_stmt_t *s, named_t *out, sl_err_t *err)
{
    sl_topo_t *t = job->topo;
    named_t *head = lookup(p, s->from);
    if (!head)
        return sl_err_set(err, SL_E_INVAL, "%s: '%s' has not been planned", s->name, s->from);
    const char *cur = head->node;
    sl_fmt_t fmt = head->fmt;
    const sl_step_t *group = NULL, *agg = NULL;
    sl_window_spec_t win = {0};
    bool windowed = false, rekeyed = head->rekeyed;
    const char *group_node = NULL;
    bool tt = head->is_table && s->n_steps && s->steps[0].kind == SL_ST_JOIN; /* a table-table join */
    if (head->agg && head->group && !tt) { /* rows of an aggregated table: group key and window bounds in the value */
        char *node = fmt_str(p, "%s.0.rows", s->name);
        sl_pctx_t *c = new_ctx(p);
        if (!node || !c)
            return sl_err_set(err, SL_E_NOMEM, "out of memory");
        c->path = job->path;
        c->stmt = s;
        c->out_fmt = SL_FMT_MSGPACK;
        for (size_t k = 0; k < s->n_steps; k++) /* rows grouped as a table: one row per (key, window) */
            if (s->steps[k].kind == SL_ST_GROUP_BY && s->steps[k].on_table)
                c->rows = true;
        int rc = shape_ctx(p, head, c, err);
        if (!rc && (rc = sl_topo_add_map(t, node, cur, sl_pfn_encode, c)) != 0)
            return sl_err_set(err, rc, "%s: cannot add node '%s': %s", s->name, node, sl_engine_strerror(rc));
        if (rc)
            return rc;
        char line[400];
        snprintf(line, sizeof line, "  | %-10s node %s (the table's rows: group key and window bounds merged into "
                 "the value)\n", "rows", node);
        sl_buf_append(&p->explain, line, strlen(line));
        cur = node;
        fmt = SL_FMT_MSGPACK;
    }
    for (size_t i = 0; i < s->n_steps; i++)
        if (s->steps[i].kind == SL_ST_EMIT)
            win.emit = s->steps[i].emit_final ? SL_WINDOW_EMIT_FINAL : SL_WINDOW_EMIT_CHANGES;
    for (size_t i = 0; i < s->n_steps; i++) {
        const sl_step_t *st = &s->steps[i];
        if (st->kind == SL_ST_EMIT)
            continue;
        bool is_agg = st->kind >= SL_ST_COUNT && st->kind <= SL_ST_AGGREGATE;
        char *node = is_agg ? fmt_str(p, "%s", s->name) : fmt_str(p, "%s.%zu.%s", s->name, i + 1, step_name(st->kind));
        sl_pctx_t *c = new_ctx(p);
        if (!node || !c)
            return sl_err_set(err, SL_E_NOMEM, "out of memory");
        c->path = job->path;
        c->stmt = s;
        c->step = st;
        c->in_fmt = fmt;
        c->self = s->origin;
        int rc = 0;
        if (st->kind == SL_ST_MAP || st->kind == SL_ST_FLAT_MAP || st->kind == SL_ST_SELECT_KEY ||
            (st->kind == SL_ST_FILTER && st->on_table))
            rekeyed = true;
        switch (st->kind) {
        case SL_ST_FILTER:
            if (st->on_table)
                rc = sl_topo_add_map(t, node, cur, sl_pfn_filter_rows, c);
            else
                rc = sl_topo_add_filter(t, node, cur, sl_pfn_filter, c);
            break;
        case SL_ST_MAP: rc = sl_topo_add_map(t, node, cur, sl_pfn_map, c), fmt = SL_FMT_MSGPACK; break;
        case SL_ST_FLAT_MAP: rc = sl_topo_add_flat_map(t, node, cur, sl_pfn_flat_map, c), fmt = SL_FMT_MSGPACK; break;
        case SL_ST_SELECT_KEY: rc = sl_topo_add_select_key(t, node, cur, sl_pfn_key, c); break;
        case SL_ST_BRANCH: {
            const char **outs = calloc(st->n_items + 1, sizeof *outs);
            if (!outs)
                return sl_err_set(err, SL_E_NOMEM, "out of memory");
            for (size_t k = 0; k < st->n_items; k++) {
                outs[k] = fmt_str(p, "%s.%s", s->name, st->names[k]);
                named_t *bn = &p->names[p->n_names++];
                *bn = (named_t){.name = outs[k], .node = (char *)outs[k], .fmt = fmt, .stmt = s, .rekeyed = rekeyed};
            }
            rc = sl_topo_add_branch(t, node, cur, sl_pfn_branch, c, outs, st->n_items);
            free(outs);
            break;
        }
        case SL_ST_MERGE: {
            const char **parents = calloc(st->n_items + 2, sizeof *parents);
            if (!parents)
                return sl_err_set(err, SL_E_NOMEM, "out of memory");
            parents[0] = cur;
            for (size_t k = 0; k < st->n_items; k++) {
                named_t *o = lookup(p, st->names[k]);
                if (!o || o->fmt != fmt) {
                    free(parents);
                    return sl_err_set(err, SL_E_INVAL, "%s:%d:%d: error: merge needs streams of one format ('%s' is %s, "
                                      "'%s' is %s)", job->path, st->pos.line, st->pos.col, s->from, fmt_name(fmt),
                                      st->names[k], o ? fmt_name(o->fmt) : "?");
                }
                parents[k + 1] = o->node;
            }
            rc = sl_topo_add_merge(t, node, parents, st->n_items + 1);
            free(parents);
            break;
        }
        case SL_ST_GROUP_BY:
            group_node = node;
            if (st->on_table)
                rc = sl_topo_add_group_table(t, node, cur, node, sl_pfn_group, c);
            else
                rc = sl_topo_add_group_by(t, node, cur, sl_pfn_group, c);
            group = st;
            break;
        case SL_ST_WINDOW:
            win.kind = (sl_window_kind_t)st->window_kind;
            win.size_ms = st->size_ms;
            win.advance_ms = st->window_kind == SL_WINDOW_TUMBLING ? st->size_ms : st->advance_ms;
            win.gap_ms = st->gap_ms;
            win.grace_ms = st->grace_ms;
            rc = sl_topo_add_window(t, node, cur, &win);
            windowed = true;
            break;
        case SL_ST_COUNT: rc = sl_topo_add_count(t, node, cur, s->name); break;
        case SL_ST_SUM: rc = sl_topo_add_sum(t, node, cur, s->name, sl_pfn_num, c); break;
        case SL_ST_MIN: rc = sl_topo_add_min(t, node, cur, s->name, sl_pfn_num, c); break;
        case SL_ST_MAX: rc = sl_topo_add_max(t, node, cur, s->name, sl_pfn_num, c); break;
        case SL_ST_AVG: rc = sl_topo_add_avg(t, node, cur, s->name, sl_pfn_num, c); break;
        case SL_ST_AGGREGATE:
            c->table_agg = group && group->on_table;
            rc = sl_topo_add_aggregate(t, node, cur, s->name, sl_pfn_agg_init, sl_pfn_agg_add, c);
            break;
        case SL_ST_JOIN: {
            named_t *o = lookup(p, st->join_with);
            if (!o)
                return sl_err_set(err, SL_E_INVAL, "join: '%s' has not been planned", st->join_with);
            if (rekeyed) { /* re-keyed before the join: repartition by the new key */
                char *rname = fmt_str(p, "%s.%zu", s->name, i + 1);
                if (!rname)
                    return sl_err_set(err, SL_E_NOMEM, "out of memory");
                if ((rc = repartition(job, p, rname, &cur, err)) != 0)
                    return rc;
                rekeyed = false;
            }
            if (o->rekeyed && !o->is_table) {
                if ((rc = repartition(job, p, o->name, (const char **)&o->node, err)) != 0)
                    return rc;
                o->rekeyed = false;
            }
            c->join.grace_ms = st->grace_ms;
            c->right_fmt = o->fmt;
            c->right_name = st->join_with;
            c->join.kind = !o->is_table ? SL_JOIN_STREAM_STREAM : tt && i == 0 ? SL_JOIN_TABLE_TABLE
                                                                                 : SL_JOIN_STREAM_TABLE;
            c->join.type = (sl_join_type_t)st->join_type;
            c->join.joiner = sl_pfn_join;
            c->join.arg = c;
            if (!o->is_table) {
                c->join.before_ms = c->join.after_ms = st->within_ms;
                c->join.left_store = fmt_str(p, "%s-left", node);
                c->join.right_store = fmt_str(p, "%s-right", node);
            }
            rc = sl_topo_add_join(t, node, cur, o->node, &c->join);
            fmt = SL_FMT_MSGPACK;
            break;
        }
        case SL_ST_EMIT: break;
        case SL_ST_TTL: /* the grouped table's rows, else the aggregation's groups */
            rc = sl_topo_set_ttl(t, group && group->on_table ? group_node : s->name, st->ttl_ms);
            break;
        }
        if (rc)
            return sl_err_set(err, rc, "%s:%d:%d: error: cannot add %s node '%s': %s", job->path, st->pos.line,
                              st->pos.col, step_name(st->kind), node, sl_engine_strerror(rc));
        if (st->kind == SL_ST_TTL) { /* no node: a setting of the state above */
            char line[300];
            snprintf(line, sizeof line, "  | %-10s %lld ms on node %s\n", "ttl", (long long)st->ttl_ms,
                     group && group->on_table ? group_node : s->name);
            sl_buf_append(&p->explain, line, strlen(line));
            continue;
        }
        if (is_agg) {
            agg = st;
            fmt = SL_FMT_MSGPACK;
            rekeyed = false;
        }
        if (st->kind == SL_ST_JOIN)
            rekeyed = false;
        char line[400];
        if (is_agg)
            snprintf(line, sizeof line, "  | %-10s node %s (%sstore %s%s)\n", step_name(st->kind), node,
                     windowed ? "windowed " : "", s->name,
                     windowed ? (win.emit == SL_WINDOW_EMIT_FINAL ? ", emit final" : ", emit changes") : "");
        else
            snprintf(line, sizeof line, "  | %-10s node %s\n", step_name(st->kind), node);
        sl_buf_append(&p->explain, line, strlen(line));
        cur = node;
    }
    *out = (named_t){.name = s->name, .node = (char *)cur, .fmt = fmt, .is_table = agg != NULL || s->yields_table, .stmt = s,
                     .agg = agg, .group = group, .rekeyed = rekeyed};
    return 0;
}

int sl_dsl_plan_job(sl_dsl_job_t *job, sl_err_t *err)
{
    plan_t *p = calloc(1, sizeof *p);
    if (!p)
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    job->plan = p;
    size_t cap = job->n_stmts + 1;
    for (size_t i = 0; i < job->n_stmts; i++)
        for (size_t k = 0; k < job->stmts[i].n_steps; k++)
            cap += job->stmts[i].steps[k].n_items;
    p->names = calloc(cap, sizeof *p->names);
    sl_buf_init(&p->explain);
    const char *app = job->app_id ? job->app_id : "sluice";
    if (!p->names || sl_topo_new(app, &job->topo))
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    sl_topo_t *t = job->topo;
    size_t n_out = 0;
    for (size_t i = 0; i < job->n_stmts; i++) {
        const sl_stmt_t *s = &job->stmts[i];
        char line[600];
        int rc = 0;
        if (s->kind == SL_S_SOURCE) {
            sl_source_opts_t o = {0};
            if (s->ts_field) {
                sl_pctx_t *c = new_ctx(p);
                if (!c)
                    return sl_err_set(err, SL_E_NOMEM, "out of memory");
                c->stmt = s;
                c->in_fmt = s->format;
                c->ts_field = s->ts_field;
                o.timestamp = sl_pfn_timestamp;
                o.timestamp_arg = c;
            }
            if (s->is_table) {
                rc = sl_topo_add_table(t, s->name, s->topic, s->name, &o);
                if (!rc && s->ttl_ms > 0)
                    rc = sl_topo_set_ttl(t, s->name, s->ttl_ms);
            } else
                rc = sl_topo_add_source(t, s->name, (const char *const[]){s->topic}, 1, &o);
            p->names[p->n_names++] = (named_t){.name = s->name, .node = (char *)s->name, .fmt = s->format,
                                               .is_table = s->is_table, .stmt = s};
            snprintf(line, sizeof line, "%s %s: topic \"%s\", format %s%s%s%s%s%s\n", s->is_table ? "table" : "stream",
                     s->name, s->topic, fmt_name(s->format), s->key_field ? ", key " : "",
                     s->key_field ? s->key_field : "", s->ts_field ? ", event time from " : "",
                     s->ts_field ? s->ts_field : "", s->is_table ? " (store " : "");
            sl_buf_append(&p->explain, line, strlen(line));
            if (s->is_table) {
                p->explain.len--;
                if (s->ttl_ms > 0)
                    snprintf(line, sizeof line, "%s, ttl %lld ms)\n", s->name, (long long)s->ttl_ms);
                else
                    snprintf(line, sizeof line, "%s)\n", s->name);
                sl_buf_append(&p->explain, line, strlen(line));
            }
            if (rc)
                return sl_err_set(err, rc, "%s:%d:%d: error: cannot add source '%s': %s", job->path, s->pos.line,
                                  s->pos.col, s->name, sl_engine_strerror(rc));
        } else if (s->kind == SL_S_DEFINE) {
            snprintf(line, sizeof line, "%s %s = %s\n", s->is_table ? "table" : "stream", s->name, s->from);
            sl_buf_append(&p->explain, line, strlen(line));
            named_t n;
            if ((rc = plan_define(job, p, s, &n, err)))
                return rc;
            p->names[p->n_names++] = n;
        } else {
            named_t *src = lookup(p, s->name);
            sl_pctx_t *c = new_ctx(p);
            if (!src || !c)
                return sl_err_set(err, SL_E_INVAL, "output: '%s' has not been planned", s->name);
            c->stmt = s;
            c->in_fmt = src->fmt;
            c->out_fmt = s->has_format ? s->format : SL_FMT_JSON;
            if ((rc = shape_ctx(p, src, c, err)) != 0)
                return rc;
            n_out++;
            char *enc = fmt_str(p, "output.%zu.%s.encode", n_out, s->name);
            char *sink = fmt_str(p, "output.%zu.%s", n_out, s->name);
            if (!enc || !sink)
                return sl_err_set(err, SL_E_NOMEM, "out of memory");
            rc = sl_topo_add_map(t, enc, src->node, sl_pfn_encode, c);
            if (!rc)
                rc = sl_topo_add_sink(t, sink, enc, s->topic);
            snprintf(line, sizeof line, "output %s: topic \"%s\", format %s%s (nodes %s, %s)\n", s->name, s->topic,
                     fmt_name(c->out_fmt), c->agg_table ? ", group key merged into the value" : "", enc, sink);
            sl_buf_append(&p->explain, line, strlen(line));
            if (rc)
                return sl_err_set(err, rc, "%s:%d:%d: error: cannot add output '%s': %s", job->path, s->pos.line,
                                  s->pos.col, s->name, sl_engine_strerror(rc));
        }
    }
    int rc = sl_topo_build(t, err);
    if (rc) {
        char msg[sizeof err->msg + 400];
        snprintf(msg, sizeof msg, "%.200s: error: the planned topology does not build: %s", job->path, err->msg);
        snprintf(err->msg, sizeof err->msg, "%.*s", (int)sizeof err->msg - 1, msg);
    }
    return rc;
}

int sl_dsl_explain(const sl_dsl_job_t *job, sl_buf_t *out)
{
    const plan_t *p = job->plan;
    if (p && sl_buf_append(out, p->explain.data, p->explain.len))
        return SL_E_NOMEM;
    if (job->topo) {
        const char *h = "\ntopology:\n";
        if (sl_buf_append(out, h, strlen(h)))
            return SL_E_NOMEM;
        return sl_topo_describe(job->topo, out);
    }
    return 0;
}
