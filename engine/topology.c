/* The topology builder: sl_topo_add_* record named nodes; sl_topo_build checks
 * the whole graph (names, parents, cycles, operator placement), reporting every
 * problem with node names, then inserts repartition topics where a group_by
 * follows a key change and numbers the sub-topologies (connected components
 * once those edges are cut).  Building is O(nodes + edges) but for name
 * lookups, which are linear scans: topologies have tens of nodes, not millions. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/topo.h"

#define NAME_MAX_LEN 100
#define TOPIC_MAX_LEN 249

/* ---- names and errors --------------------------------------------------------------------------- */

static bool name_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return false;
    }
    return true;
}

/* Append one problem to `errs` ("; "-separated). */
static void add_problem(sl_buf_t *errs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_problem(sl_buf_t *errs, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (errs->len)
        sl_buf_append(errs, "; ", 2);
    sl_buf_append(errs, line, strlen(line));
}

const char *topo_node_kind(const topo_node_t *n)
{
    if (n->role == NODE_SINK)
        return "sink";
    if (n->join)
        return "join";
    if (n->role == NODE_SOURCE)
        return n->spec.kind == SL_OP_TABLE ? "table" : "source";
    if (n->spec.kind == SL_OP_PASS)
        return n->branch_output ? "branch output" : "merge";
    return sl_op_kind_name(n->spec.kind);
}

/* ---- adding nodes -------------------------------------------------------------------------------- */

int sl_topo_new(const char *app_id, sl_topo_t **out)
{
    *out = NULL;
    if (!name_ok(app_id, NAME_MAX_LEN))
        return SL_E_INVAL;
    sl_topo_t *t = calloc(1, sizeof *t);
    if (!t || !(t->app_id = strdup(app_id))) {
        free(t);
        return SL_E_NOMEM;
    }
    sl_buf_init(&t->add_errors);
    *out = t;
    return 0;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static char **strv_dup(const char *const *v, size_t n)
{
    char **out = calloc(n ? n : 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++) {
        if (!(out[i] = strdup(v[i] ? v[i] : ""))) {
            strv_free(out, i);
            return NULL;
        }
    }
    return out;
}

static void join_spec_free(sl_join_spec_t *js)
{
    if (!js)
        return;
    free((char *)js->left_store);
    free((char *)js->right_store);
    free(js);
}

void sl_topo_free(sl_topo_t *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_nodes; i++) {
        topo_node_t *n = &t->nodes[i];
        free(n->name);
        strv_free(n->topics, n->n_topics);
        free(n->store);
        strv_free(n->parent_names, n->n_parents);
        free(n->parent_ports);
        free(n->parents);
        free(n->children);
        join_spec_free(n->join);
    }
    free(t->nodes);
    strv_free(t->repartition, t->n_repartition);
    strv_free(t->internal, t->n_internal);
    sl_buf_free(&t->add_errors);
    free(t->app_id);
    free(t);
}

/* Remember a failed add so that build fails with its message too. */
static int add_failed(sl_topo_t *t, int rc, const char *name, const char *why)
{
    if (!t->add_rc)
        t->add_rc = rc;
    add_problem(&t->add_errors, "node '%s': %s", name ? name : "(null)", why);
    return rc;
}

/* Append a node; strings are copied.  Returns its index or a negative code. */
static int node_add(sl_topo_t *t, const char *name, node_role_t role, const sl_op_spec_t *spec,
                    const char *const *parents, size_t n_parents, const char *const *topics, size_t n_topics,
                    const char *store)
{
    if (t->built)
        return SL_E_INVAL;
    if (!name)
        return add_failed(t, SL_E_INVAL, name, "a node needs a name");
    for (size_t i = 0; i < n_parents; i++)
        if (!parents || !parents[i])
            return add_failed(t, SL_E_INVAL, name, "missing parent name");
    for (size_t i = 0; i < n_topics; i++)
        if (!topics || !topics[i])
            return add_failed(t, SL_E_INVAL, name, "missing topic name");
    if (t->n_nodes == t->cap_nodes) {
        size_t cap = t->cap_nodes ? t->cap_nodes * 2 : 16;
        topo_node_t *nodes = realloc(t->nodes, cap * sizeof *nodes);
        if (!nodes)
            return add_failed(t, SL_E_NOMEM, name, "out of memory");
        t->nodes = nodes;
        t->cap_nodes = cap;
    }
    topo_node_t *n = &t->nodes[t->n_nodes];
    memset(n, 0, sizeof *n);
    n->role = role;
    if (spec)
        n->spec = *spec;
    if (n->spec.n_outputs <= 0)
        n->spec.n_outputs = 1;
    n->name = strdup(name);
    n->parent_names = strv_dup(parents, n_parents);
    n->parent_ports = calloc(n_parents ? n_parents : 1, sizeof *n->parent_ports);
    n->n_parents = n_parents;
    n->topics = strv_dup(topics, n_topics);
    n->n_topics = n_topics;
    n->store = store ? strdup(store) : NULL;
    n->sub = -1;
    if (!n->name || !n->parent_names || !n->parent_ports || !n->topics || (store && !n->store)) {
        free(n->name);
        strv_free(n->parent_names, n_parents);
        free(n->parent_ports);
        strv_free(n->topics, n_topics);
        free(n->store);
        return add_failed(t, SL_E_NOMEM, name, "out of memory");
    }
    t->n_nodes++;
    return (int)(t->n_nodes - 1);
}

static int add_op(sl_topo_t *t, const char *name, const char *parent, const sl_op_spec_t *spec, bool has_fn,
                  const char *store)
{
    if (!has_fn)
        return add_failed(t, SL_E_INVAL, name, "missing function");
    if (sl_op_kind_is_stateful(spec->kind) && !store)
        return add_failed(t, SL_E_INVAL, name, "missing store name");
    int rc = node_add(t, name, NODE_OP, spec, &parent, 1, NULL, 0, store);
    return rc < 0 ? rc : 0;
}

int sl_topo_add_source(sl_topo_t *t, const char *name, const char *const *topics, size_t n_topics,
                       const sl_source_opts_t *opts)
{
    if (n_topics == 0)
        return add_failed(t, SL_E_INVAL, name, "a source needs at least one topic");
    sl_op_spec_t spec = {.kind = SL_OP_PASS};
    int i = node_add(t, name, NODE_SOURCE, &spec, NULL, 0, topics, n_topics, NULL);
    if (i < 0)
        return i;
    if (opts)
        t->nodes[i].src = *opts;
    return 0;
}

int sl_topo_add_table(sl_topo_t *t, const char *name, const char *topic, const char *store,
                      const sl_source_opts_t *opts)
{
    if (!store)
        return add_failed(t, SL_E_INVAL, name, "missing store name");
    sl_op_spec_t spec = {.kind = SL_OP_TABLE};
    int i = node_add(t, name, NODE_SOURCE, &spec, NULL, 0, &topic, 1, store);
    if (i < 0)
        return i;
    if (opts)
        t->nodes[i].src = *opts;
    return 0;
}

int sl_topo_add_sink(sl_topo_t *t, const char *name, const char *parent, const char *topic)
{
    int i = node_add(t, name, NODE_SINK, NULL, &parent, 1, &topic, 1, NULL);
    return i < 0 ? i : 0;
}

int sl_topo_add_map(sl_topo_t *t, const char *name, const char *parent, sl_map_fn fn, void *arg)
{
    sl_op_spec_t s = {.kind = SL_OP_MAP, .fn.map = fn, .arg = arg};
    return add_op(t, name, parent, &s, fn != NULL, NULL);
}

int sl_topo_add_filter(sl_topo_t *t, const char *name, const char *parent, sl_filter_fn fn, void *arg)
{
    sl_op_spec_t s = {.kind = SL_OP_FILTER, .fn.filter = fn, .arg = arg};
    return add_op(t, name, parent, &s, fn != NULL, NULL);
}

int sl_topo_add_flat_map(sl_topo_t *t, const char *name, const char *parent, sl_flat_map_fn fn, void *arg)
{
    sl_op_spec_t s = {.kind = SL_OP_FLAT_MAP, .fn.flat_map = fn, .arg = arg};
    return add_op(t, name, parent, &s, fn != NULL, NULL);
}

int sl_topo_add_select_key(sl_topo_t *t, const char *name, const char *parent, sl_key_fn fn, void *arg)
{
    sl_op_spec_t s = {.kind = SL_OP_SELECT_KEY, .fn.key = fn, .arg = arg};
    return add_op(t, name, parent, &s, fn != NULL, NULL);
}

int sl_topo_add_peek(sl_topo_t *t, const char *name, const char *parent, sl_peek_fn fn, void *arg)
{
    sl_op_spec_t s = {.kind = SL_OP_PEEK, .fn.peek = fn, .arg = arg};
    return add_op(t, name, parent, &s, fn != NULL, NULL);
}

int sl_topo_add_branch(sl_topo_t *t, const char *name, const char *parent, sl_flat_map_fn fn, void *arg,
                       const char *const *outputs, size_t n_outputs)
{
    if (n_outputs == 0 || n_outputs > 1024 || !outputs)
        return add_failed(t, SL_E_INVAL, name, "a branch needs 1..1024 outputs");
    sl_op_spec_t s = {.kind = SL_OP_BRANCH, .fn.flat_map = fn, .arg = arg, .n_outputs = (int)n_outputs};
    int rc = add_op(t, name, parent, &s, fn != NULL, NULL);
    if (rc)
        return rc;
    sl_op_spec_t pass = {.kind = SL_OP_PASS};
    for (size_t i = 0; i < n_outputs; i++) {
        int k = node_add(t, outputs[i] ? outputs[i] : "", NODE_OP, &pass, &name, 1, NULL, 0, NULL);
        if (k < 0)
            return k;
        t->nodes[k].parent_ports[0] = (int)i;
        t->nodes[k].branch_output = true;
    }
    return 0;
}

int sl_topo_add_merge(sl_topo_t *t, const char *name, const char *const *parents, size_t n_parents)
{
    if (n_parents == 0)
        return add_failed(t, SL_E_INVAL, name, "a merge needs at least one parent");
    sl_op_spec_t s = {.kind = SL_OP_PASS};
    int i = node_add(t, name, NODE_OP, &s, parents, n_parents, NULL, 0, NULL);
    return i < 0 ? i : 0;
}

int sl_topo_add_group_by(sl_topo_t *t, const char *name, const char *parent, sl_key_fn fn, void *arg)
{
    sl_op_spec_t s = {.kind = SL_OP_GROUP_BY, .fn.key = fn, .arg = arg};
    return add_op(t, name, parent, &s, true, NULL);
}

int sl_topo_add_group_table(sl_topo_t *t, const char *name, const char *parent, const char *store, sl_key_fn fn,
                            void *arg)
{
    sl_op_spec_t s = {.kind = SL_OP_GROUP_TABLE, .fn.key = fn, .arg = arg};
    return add_op(t, name, parent, &s, fn != NULL, store);
}

/* The node a sl_topo_set_* call changes, or NULL with *rc set (an unknown
 * node is remembered as a failed add, so the build fails too). */
static topo_node_t *node_to_set(sl_topo_t *t, const char *node, const char *what, int *rc)
{
    *rc = SL_E_INVAL;
    if (!t || !node || t->built)
        return NULL;
    int i = topo_find(t, node);
    if (i >= 0)
        return &t->nodes[i];
    char why[128];
    snprintf(why, sizeof why, "%s of an unknown node (add the node first)", what);
    *rc = add_failed(t, SL_E_NOTFOUND, node, why);
    return NULL;
}

int sl_topo_set_ttl(sl_topo_t *t, const char *node, int64_t ttl_ms)
{
    int rc;
    topo_node_t *n = node_to_set(t, node, "ttl", &rc);
    if (!n)
        return rc;
    if (ttl_ms <= 0 || ttl_ms > ((int64_t)1 << 50))
        return add_failed(t, SL_E_INVAL, node, "ttl must be 1 ms .. 2^50 ms");
    if (n->spec.kind != SL_OP_TABLE && n->spec.kind != SL_OP_GROUP_TABLE && !sl_op_kind_is_aggregation(n->spec.kind))
        return add_failed(t, SL_E_INVAL, node, "a ttl applies to a table, an aggregation or a group_table");
    n->spec.ttl_ms = ttl_ms;
    return 0;
}

int sl_topo_set_session_merger(sl_topo_t *t, const char *node, sl_agg_merge_fn merge)
{
    int rc;
    topo_node_t *n = node_to_set(t, node, "session merger", &rc);
    if (!n)
        return rc;
    if (n->spec.kind != SL_OP_AGGREGATE || !merge)
        return add_failed(t, SL_E_INVAL, node, "a session merger is a function, for an aggregate");
    n->spec.fn.agg.merge = merge;
    return 0;
}

int sl_topo_add_count(sl_topo_t *t, const char *name, const char *parent, const char *store)
{
    sl_op_spec_t s = {.kind = SL_OP_COUNT};
    return add_op(t, name, parent, &s, true, store);
}

static int add_numeric(sl_topo_t *t, sl_op_kind_t kind, const char *name, const char *parent, const char *store,
                       sl_num_fn fn, void *arg)
{
    sl_op_spec_t s = {.kind = kind, .fn.num = fn, .arg = arg};
    return add_op(t, name, parent, &s, true, store);
}

int sl_topo_add_sum(sl_topo_t *t, const char *name, const char *parent, const char *store, sl_num_fn fn, void *arg)
{
    return add_numeric(t, SL_OP_SUM, name, parent, store, fn, arg);
}

int sl_topo_add_min(sl_topo_t *t, const char *name, const char *parent, const char *store, sl_num_fn fn, void *arg)
{
    return add_numeric(t, SL_OP_MIN, name, parent, store, fn, arg);
}

int sl_topo_add_max(sl_topo_t *t, const char *name, const char *parent, const char *store, sl_num_fn fn, void *arg)
{
    return add_numeric(t, SL_OP_MAX, name, parent, store, fn, arg);
}

int sl_topo_add_avg(sl_topo_t *t, const char *name, const char *parent, const char *store, sl_num_fn fn, void *arg)
{
    return add_numeric(t, SL_OP_AVG, name, parent, store, fn, arg);
}

int sl_topo_add_aggregate(sl_topo_t *t, const char *name, const char *parent, const char *store,
                          sl_agg_init_fn init, sl_agg_add_fn add, void *arg)
{
    sl_op_spec_t s = {.kind = SL_OP_AGGREGATE, .fn.agg = {init, add}, .arg = arg};
    return add_op(t, name, parent, &s, init && add, store);
}

int sl_topo_add_reduce(sl_topo_t *t, const char *name, const char *parent, const char *store, sl_reduce_fn fn,
                       void *arg)
{
    sl_op_spec_t s = {.kind = SL_OP_REDUCE, .fn.reduce = fn, .arg = arg};
    return add_op(t, name, parent, &s, fn != NULL, store);
}

/* A window node carries its spec; build copies it into the aggregations below
 * it.  Sizes are checked here (the graph by build).  The 2^50 ms bound keeps
 * window arithmetic (start + size + grace) far from int64 overflow. */
int sl_topo_add_window(sl_topo_t *t, const char *name, const char *parent, const sl_window_spec_t *spec)
{
    const int64_t max = (int64_t)1 << 50;
    if (!spec)
        return add_failed(t, SL_E_INVAL, name, "missing window spec");
    sl_op_spec_t s = {.kind = SL_OP_WINDOW, .window = *spec};
    sl_window_spec_t *w = &s.window;
    if (w->kind == SL_WINDOW_TUMBLING || w->kind == SL_WINDOW_SLIDING)
        w->advance_ms = w->size_ms;
    if (w->kind < SL_WINDOW_TUMBLING || w->kind > SL_WINDOW_SESSION)
        return add_failed(t, SL_E_INVAL, name, "unknown window kind");
    if (w->emit != SL_WINDOW_EMIT_CHANGES && w->emit != SL_WINDOW_EMIT_FINAL)
        return add_failed(t, SL_E_INVAL, name, "unknown window emit mode");
    if (w->grace_ms < 0 || w->grace_ms > max)
        return add_failed(t, SL_E_INVAL, name, "window grace must be 0..2^50 ms");
    if (w->kind == SL_WINDOW_SESSION && (w->gap_ms <= 0 || w->gap_ms > max))
        return add_failed(t, SL_E_INVAL, name, "session gap must be 1..2^50 ms");
    if (w->kind != SL_WINDOW_SESSION && (w->size_ms <= 0 || w->size_ms > max))
        return add_failed(t, SL_E_INVAL, name, "window size must be 1..2^50 ms");
    if (w->kind == SL_WINDOW_HOPPING && (w->advance_ms <= 0 || w->advance_ms > w->size_ms))
        return add_failed(t, SL_E_INVAL, name, "window advance must be 1..size ms");
    return add_op(t, name, parent, &s, true, NULL);
}

/* ---- validation ---------------------------------------------------------------------------------- */

int topo_find(const sl_topo_t *t, const char *name)
{
    for (size_t i = 0; i < t->n_nodes; i++)
        if (!strcmp(t->nodes[i].name, name))
            return (int)i;
    return -1;
}

static void check_names(sl_topo_t *t, sl_buf_t *errs)
{
    for (size_t i = 0; i < t->n_nodes; i++) {
        topo_node_t *n = &t->nodes[i];
        if (!name_ok(n->name, NAME_MAX_LEN))
            add_problem(errs, "node '%s' (%s): invalid name (1..%d of [A-Za-z0-9._-])", n->name, topo_node_kind(n),
                        NAME_MAX_LEN);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(t->nodes[j].name, n->name))
                add_problem(errs, "node '%s': duplicate name (a %s and a %s)", n->name, topo_node_kind(&t->nodes[j]),
                            topo_node_kind(n));
        for (size_t k = 0; k < n->n_topics; k++) {
            if (!name_ok(n->topics[k], TOPIC_MAX_LEN))
                add_problem(errs, "node '%s' (%s): invalid topic name '%s'", n->name, topo_node_kind(n), n->topics[k]);
            if (n->role != NODE_SOURCE)
                continue;
            for (size_t j = 0; j < i; j++) {
                const topo_node_t *o = &t->nodes[j];
                for (size_t m = 0; o->role == NODE_SOURCE && m < o->n_topics; m++)
                    if (!strcmp(o->topics[m], n->topics[k]))
                        add_problem(errs, "topic '%s' is read by both '%s' and '%s'", n->topics[k], o->name,
                                    n->name);
            }
        }
        if (!n->store)
            continue;
        if (!name_ok(n->store, NAME_MAX_LEN) || !strncmp(n->store, "__", 2))
            add_problem(errs, "node '%s' (%s): invalid store name '%s'", n->name, topo_node_kind(n), n->store);
        for (size_t j = 0; j < i; j++)
            if (t->nodes[j].store && !strcmp(t->nodes[j].store, n->store))
                add_problem(errs, "store '%s' is used by both '%s' and '%s'", n->store, t->nodes[j].name, n->name);
    }
}

/* Resolve parent names to edges.  False when some parent is unknown. */
static bool resolve_parents(sl_topo_t *t, sl_buf_t *errs)
{
    bool ok = true;
    for (size_t i = 0; i < t->n_nodes; i++) {
        topo_node_t *n = &t->nodes[i];
        n->parents = calloc(n->n_parents ? n->n_parents : 1, sizeof *n->parents);
        if (!n->parents)
            return false;
        for (size_t k = 0; k < n->n_parents; k++) {
            int p = topo_find(t, n->parent_names[k]);
            if (p < 0) {
                add_problem(errs, "node '%s' (%s): unknown parent '%s'", n->name, topo_node_kind(n), n->parent_names[k]);
                ok = false;
                continue;
            }
            n->parents[k] = (topo_edge_t){p, n->parent_ports[k]};
            if (t->nodes[p].role == NODE_SINK) {
                add_problem(errs, "node '%s' (%s): parent '%s' is a sink, which has no output", n->name,
                            topo_node_kind(n), t->nodes[p].name);
            }
            if ((size_t)p == i) {
                add_problem(errs, "node '%s' (%s): is its own parent", n->name, topo_node_kind(n));
                ok = false;
            }
        }
    }
    return ok;
}

/* Children lists from the parent edges.  0 or SL_E_NOMEM. */
static int link_children(sl_topo_t *t)
{
    for (size_t i = 0; i < t->n_nodes; i++) {
        free(t->nodes[i].children);
        t->nodes[i].children = NULL;
        t->nodes[i].n_children = 0;
    }
    for (size_t i = 0; i < t->n_nodes; i++) {
        topo_node_t *n = &t->nodes[i];
        for (size_t k = 0; k < n->n_parents; k++) {
            topo_node_t *p = &t->nodes[n->parents[k].node];
            topo_edge_t *c = realloc(p->children, (p->n_children + 1) * sizeof *c);
            if (!c)
                return SL_E_NOMEM;
            c[p->n_children++] = (topo_edge_t){(int)i, n->parents[k].port};
            p->children = c;
        }
    }
    return 0;
}

/* Sources that read the topic a sink writes: a record can go round that way. */
static bool sink_feeds(const topo_node_t *sink, const topo_node_t *src)
{
    for (size_t m = 0; src->role == NODE_SOURCE && m < src->n_topics; m++)
        if (!strcmp(src->topics[m], sink->topics[0]))
            return true;
    return false;
}

enum { WHITE, GREY, BLACK };

/* Depth-first search for a cycle; on finding one, describes it in errs.
 * `stack` holds the path.  Returns true when a cycle was found. */
static bool find_cycle(const sl_topo_t *t, int v, unsigned char *color, int *stack, int depth, sl_buf_t *errs)
{
    color[v] = GREY;
    stack[depth] = v;
    const topo_node_t *n = &t->nodes[v];
    size_t n_next = n->role == NODE_SINK ? t->n_nodes : n->n_children;
    for (size_t k = 0; k < n_next; k++) {
        int w;
        if (n->role == NODE_SINK) {
            if (!sink_feeds(n, &t->nodes[k]))
                continue;
            w = (int)k;
        } else {
            w = n->children[k].node;
        }
        if (color[w] == GREY) {
            char path[400] = "";
            size_t len = 0;
            int from = depth;
            while (from > 0 && stack[from] != w)
                from--;
            for (int i = from; i <= depth && len < sizeof path; i++)
                len += (size_t)snprintf(path + len, sizeof path - len, "'%s' -> ", t->nodes[stack[i]].name);
            if (len < sizeof path)
                snprintf(path + len, sizeof path - len, "'%s'", t->nodes[w].name);
            add_problem(errs, "cycle: %s", path);
            return true;
        }
        if (color[w] == WHITE && find_cycle(t, w, color, stack, depth + 1, errs))
            return true;
    }
    color[v] = BLACK;
    return false;
}

static int check_cycles(const sl_topo_t *t, sl_buf_t *errs, bool *found)
{
    unsigned char *color = calloc(t->n_nodes + 1, 1);
    int *stack = calloc(t->n_nodes + 1, sizeof *stack);
    if (!color || !stack) {
        free(color);
        free(stack);
        return SL_E_NOMEM;
    }
    *found = false;
    for (size_t v = 0; v < t->n_nodes && !*found; v++)
        if (color[v] == WHITE)
            *found = find_cycle(t, (int)v, color, stack, 0, errs);
    free(color);
    free(stack);
    return 0;
}

/* True when v's records are a table's changes (a table source or an
 * aggregation upstream): grouping those needs subtract-and-add semantics
 * (sl_topo_add_group_table).  A windowed aggregation that emits FINAL
 * forwards each window once, never changed: a stream.  Memoised in memo (-1:
 * unknown). */
static bool from_table(const sl_topo_t *t, int v, signed char *memo)
{
    if (memo[v] >= 0)
        return memo[v];
    const topo_node_t *n = &t->nodes[v];
    if (n->join) { /* a join of two tables is a table; one with a stream side is a stream */
        memo[v] = n->join->kind == SL_JOIN_TABLE_TABLE;
        return memo[v];
    }
    bool r = sl_op_kind_is_stateful(n->spec.kind);
    if (r && sl_op_kind_is_aggregation(n->spec.kind) && n->n_parents && n->parents[0].node >= 0) {
        const topo_node_t *w = &t->nodes[n->parents[0].node];
        if (w->spec.kind == SL_OP_WINDOW && w->spec.window.emit == SL_WINDOW_EMIT_FINAL) {
            memo[v] = 0;
            return false;
        }
    }
    for (size_t k = 0; k < n->n_parents && !r; k++)
        r = from_table(t, n->parents[k].node, memo);
    memo[v] = r;
    return r;
}

static void check_placement(const sl_topo_t *t, sl_buf_t *errs, signed char *memo)
{
    for (size_t i = 0; i < t->n_nodes; i++) {
        const topo_node_t *n = &t->nodes[i];
        if (n->role != NODE_SOURCE && n->n_parents == 0)
            add_problem(errs, "node '%s' (%s): has no parent", n->name, topo_node_kind(n));
        if (sl_op_kind_is_aggregation(n->spec.kind) && n->role == NODE_OP) {
            const topo_node_t *p = &t->nodes[n->parents[0].node];
            if ((p->spec.kind != SL_OP_GROUP_BY && p->spec.kind != SL_OP_WINDOW && p->spec.kind != SL_OP_GROUP_TABLE) ||
                p->role != NODE_OP)
                add_problem(errs, "node '%s' (%s): an aggregation needs a group_by parent, not '%s' (%s)", n->name,
                            topo_node_kind(n), p->name, topo_node_kind(p));
            else if (p->spec.kind == SL_OP_WINDOW && n->spec.ttl_ms > 0)
                add_problem(errs, "node '%s' (%s): a windowed aggregation takes no ttl (its windows expire after "
                            "size + grace)", n->name, topo_node_kind(n));
            else if (p->spec.kind == SL_OP_GROUP_TABLE &&
                     (n->spec.kind == SL_OP_MIN || n->spec.kind == SL_OP_MAX || n->spec.kind == SL_OP_REDUCE))
                add_problem(errs, "node '%s' (%s): follows group_table '%s', whose retractions %s cannot subtract; "
                            "use count, sum, avg or aggregate", n->name, topo_node_kind(n), p->name, topo_node_kind(n));
            else if (p->spec.kind == SL_OP_WINDOW && p->spec.window.kind == SL_WINDOW_SESSION &&
                     n->spec.kind == SL_OP_AGGREGATE && !n->spec.fn.agg.merge)
                add_problem(errs, "node '%s' (aggregate): session window '%s' needs to merge aggregates: give "
                            "it a merger (sl_topo_set_session_merger), or use reduce or count/sum/min/max/avg",
                            n->name, p->name);
            else if (n->spec.kind == SL_OP_AGGREGATE && n->spec.fn.agg.merge &&
                     (p->spec.kind != SL_OP_WINDOW || p->spec.window.kind != SL_WINDOW_SESSION))
                add_problem(errs, "node '%s' (aggregate): has a session merger but no session window parent",
                            n->name);
            else if (p->spec.kind == SL_OP_WINDOW && p->spec.window.kind == SL_WINDOW_SLIDING &&
                     (n->spec.kind == SL_OP_AGGREGATE || n->spec.kind == SL_OP_REDUCE))
                add_problem(errs, "node '%s' (%s): sliding window '%s' supports count/sum/min/max/avg only",
                            n->name, topo_node_kind(n), p->name);
        }
        if (n->spec.kind == SL_OP_WINDOW && n->role == NODE_OP) {
            const topo_node_t *p = &t->nodes[n->parents[0].node];
            if (p->spec.kind != SL_OP_GROUP_BY || p->role != NODE_OP)
                add_problem(errs, "node '%s' (window): a window needs a group_by parent, not '%s' (%s)", n->name,
                            p->name, topo_node_kind(p));
            if (n->n_children == 0)
                add_problem(errs, "node '%s' (window): has no aggregation after it", n->name);
            for (size_t k = 0; k < n->n_children; k++) {
                const topo_node_t *c = &t->nodes[n->children[k].node];
                if (!sl_op_kind_is_aggregation(c->spec.kind) || c->role != NODE_OP)
                    add_problem(errs, "node '%s' (%s): follows window '%s', which only aggregations may follow",
                                c->name, topo_node_kind(c), n->name);
            }
        }
        if (n->spec.kind == SL_OP_GROUP_TABLE && n->role == NODE_OP) {
            if (n->n_children == 0)
                add_problem(errs, "node '%s' (group_table): has no aggregation after it", n->name);
            for (size_t k = 0; k < n->n_children; k++) {
                const topo_node_t *c = &t->nodes[n->children[k].node];
                if (!sl_op_kind_is_aggregation(c->spec.kind) || c->role != NODE_OP)
                    add_problem(errs, "node '%s' (%s): follows group_table '%s', which only aggregations may follow",
                                c->name, topo_node_kind(c), n->name);
            }
        }
        if (n->spec.kind == SL_OP_GROUP_BY && n->role == NODE_OP) {
            if (from_table(t, (int)i, memo))
                add_problem(errs, "node '%s' (group_by): a group_by of a table's changes: use sl_topo_add_group_table", n->name);
            if (n->n_children == 0)
                add_problem(errs, "node '%s' (group_by): has no aggregation after it", n->name);
            for (size_t k = 0; k < n->n_children; k++) {
                const topo_node_t *c = &t->nodes[n->children[k].node];
                if ((!sl_op_kind_is_aggregation(c->spec.kind) && c->spec.kind != SL_OP_WINDOW) || c->role != NODE_OP)
                    add_problem(errs, "node '%s' (%s): follows group_by '%s', which only aggregations may follow",
                                c->name, topo_node_kind(c), n->name);
            }
        }
    }
}

/* ---- splitting ------------------------------------------------------------------------------------- */

static bool rekeys(const topo_node_t *n)
{
    if (n->role != NODE_OP)
        return false;
    switch (n->spec.kind) {
    case SL_OP_MAP:
    case SL_OP_FLAT_MAP:
    case SL_OP_SELECT_KEY:
        return true;
    case SL_OP_GROUP_BY:
        return n->spec.fn.key != NULL;
    case SL_OP_GROUP_TABLE:
        return true;
    default:
        return false;
    }
}

/* key_changed[v]: the records v outputs may not be partitioned by their key.
 * Memoised depth-first over parents (the graph is acyclic here).  A stateful
 * operator's output is keyed by what it was partitioned by, so it resets. */
static bool key_changed(const sl_topo_t *t, int v, signed char *memo)
{
    if (memo[v] >= 0)
        return memo[v];
    const topo_node_t *n = &t->nodes[v];
    bool changed = rekeys(n);
    if (!changed && !sl_op_kind_is_stateful(n->spec.kind))
        for (size_t k = 0; k < n->n_parents && !changed; k++)
            changed = key_changed(t, n->parents[k].node, memo);
    memo[v] = changed;
    return changed;
}

/* Cut group_by -> aggregations with an internal sink and source on topic
 * "<app>-<group_by>-repartition".  New nodes go at the end of the array. */
static int insert_repartitions(sl_topo_t *t)
{
    signed char *memo = malloc(t->n_nodes + 1);
    if (!memo)
        return SL_E_NOMEM;
    memset(memo, -1, t->n_nodes + 1);
    size_t n_user = t->n_nodes;
    int rc = 0;
    for (size_t g = 0; g < n_user && !rc; g++) {
        if (t->nodes[g].role != NODE_OP ||
            (t->nodes[g].spec.kind != SL_OP_GROUP_BY && t->nodes[g].spec.kind != SL_OP_GROUP_TABLE) ||
            !key_changed(t, (int)g, memo))
            continue;
        char topic[TOPIC_MAX_LEN + 64], sink[NAME_MAX_LEN + 32], src[NAME_MAX_LEN + 32];
        snprintf(topic, sizeof topic, "%s-%s-repartition", t->app_id, t->nodes[g].name);
        snprintf(sink, sizeof sink, "%s#repartition", t->nodes[g].name);
        snprintf(src, sizeof src, "%s#repartition-source", t->nodes[g].name);
        char **names = realloc(t->repartition, (t->n_repartition + 1) * sizeof *names);
        if (!names || !(names[t->n_repartition] = strdup(topic))) {
            if (names)
                t->repartition = names;
            rc = SL_E_NOMEM;
            break;
        }
        t->repartition = names;
        t->n_repartition++;
        const char *gname = t->nodes[g].name, *tp = topic;
        int ks = node_add(t, sink, NODE_SINK, NULL, &gname, 1, &tp, 1, NULL);
        sl_op_spec_t pass = {.kind = SL_OP_PASS};
        int kr = ks < 0 ? ks : node_add(t, src, NODE_SOURCE, &pass, NULL, 0, &tp, 1, NULL);
        if (kr < 0) {
            rc = kr;
            break;
        }
        t->nodes[ks].internal = t->nodes[kr].internal = true;
        t->nodes[ks].parents = calloc(1, sizeof(topo_edge_t));
        t->nodes[kr].parents = calloc(1, sizeof(topo_edge_t));
        if (!t->nodes[ks].parents || !t->nodes[kr].parents) {
            rc = SL_E_NOMEM;
            break;
        }
        t->nodes[ks].parents[0] = (topo_edge_t){(int)g, 0};
        for (size_t c = 0; c < n_user; c++) /* the aggregations now read the repartition source */
            for (size_t k = 0; k < t->nodes[c].n_parents; k++)
                if (t->nodes[c].parents[k].node == (int)g)
                    t->nodes[c].parents[k] = (topo_edge_t){kr, 0};
    }
    free(memo);
    return rc ? rc : link_children(t);
}

static int uf_find(int *up, int v)
{
    while (up[v] != v)
        v = up[v] = up[up[v]];
    return v;
}

/* Sub-topologies: connected components over parent edges, numbered in order
 * of each component's first node. */
static int number_subtopologies(sl_topo_t *t)
{
    int *up = malloc((t->n_nodes + 1) * sizeof *up);
    int *num = malloc((t->n_nodes + 1) * sizeof *num);
    if (!up || !num) {
        free(up);
        free(num);
        return SL_E_NOMEM;
    }
    for (size_t i = 0; i < t->n_nodes; i++)
        up[i] = (int)i, num[i] = -1;
    for (size_t i = 0; i < t->n_nodes; i++)
        for (size_t k = 0; k < t->nodes[i].n_parents; k++)
            up[uf_find(up, (int)i)] = uf_find(up, t->nodes[i].parents[k].node);
    t->n_sub = 0;
    for (size_t i = 0; i < t->n_nodes; i++) {
        int r = uf_find(up, (int)i);
        if (num[r] < 0)
            num[r] = t->n_sub++;
        t->nodes[i].sub = num[r];
    }
    free(up);
    free(num);
    return 0;
}

/* ---- joins ---------------------------------------------------------------------------------------- */

/* A join is added as one node with two parents; build validates it as such,
 * then splits it into one SL_OP_JOIN node per side ("<join>#left" reading the
 * left parent, "<join>#right" the right one), both forwarding to the join
 * node, now a pass-through that its children attach to: operators learn
 * which side a record came from by being that side's instance.  The 2^50 ms
 * bound keeps window arithmetic far from int64 overflow. */
int sl_topo_add_join(sl_topo_t *t, const char *name, const char *left, const char *right, const sl_join_spec_t *spec)
{
    const int64_t max = (int64_t)1 << 50;
    if (!spec)
        return add_failed(t, SL_E_INVAL, name, "missing join spec");
    if (!spec->joiner)
        return add_failed(t, SL_E_INVAL, name, "missing joiner function");
    if (spec->kind < SL_JOIN_STREAM_TABLE || spec->kind > SL_JOIN_TABLE_TABLE)
        return add_failed(t, SL_E_INVAL, name, "unknown join kind");
    if (spec->type < SL_JOIN_INNER || spec->type > SL_JOIN_OUTER)
        return add_failed(t, SL_E_INVAL, name, "unknown join type");
    if (spec->kind == SL_JOIN_STREAM_TABLE && spec->type == SL_JOIN_OUTER)
        return add_failed(t, SL_E_INVAL, name, "a stream-table join is inner or left, not outer");
    bool ss = spec->kind == SL_JOIN_STREAM_STREAM;
    if (ss && (spec->before_ms < 0 || spec->before_ms > max || spec->after_ms < 0 || spec->after_ms > max ||
               spec->grace_ms < 0 || spec->grace_ms > max))
        return add_failed(t, SL_E_INVAL, name, "join window before/after and grace must be 0..2^50 ms");
    if (ss && (!spec->left_store || !spec->right_store))
        return add_failed(t, SL_E_INVAL, name, "a stream-stream join needs left_store and right_store");
    sl_join_spec_t *js = calloc(1, sizeof *js);
    if (!js)
        return add_failed(t, SL_E_NOMEM, name, "out of memory");
    *js = *spec;
    js->left_store = ss ? strdup(spec->left_store) : NULL;
    js->right_store = ss ? strdup(spec->right_store) : NULL;
    if (ss && (!js->left_store || !js->right_store)) {
        join_spec_free(js);
        return add_failed(t, SL_E_NOMEM, name, "out of memory");
    }
    const char *parents[2] = {left, right};
    sl_op_spec_t s = {.kind = SL_OP_JOIN, .join = js};
    int i = node_add(t, name, NODE_OP, &s, parents, 2, NULL, 0, js->left_store); /* checked with the others */
    if (i < 0) {
        join_spec_free(js);
        return i;
    }
    t->nodes[i].join = js;
    return 0;
}

/* The node at or above v that may have changed the key since the records were
 * partitioned (a map, flat_map or select_key with no stateful operator in
 * between), or -1.  seen: one byte per node, zeroed by the caller. */
static int rekeyed_by(const sl_topo_t *t, int v, unsigned char *seen)
{
    if (seen[v])
        return -1;
    seen[v] = 1;
    const topo_node_t *n = &t->nodes[v];
    if (rekeys(n))
        return v;
    if (sl_op_kind_is_stateful(n->spec.kind))
        return -1;
    for (size_t k = 0; k < n->n_parents; k++) {
        int r = rekeyed_by(t, n->parents[k].node, seen);
        if (r >= 0)
            return r;
    }
    return -1;
}

/* A table a join can read: a table source or an unwindowed aggregation (KV stores). */
static bool is_kv_table(const sl_topo_t *t, const topo_node_t *n)
{
    if (n->role == NODE_SOURCE)
        return n->spec.kind == SL_OP_TABLE;
    return n->role == NODE_OP && sl_op_kind_is_aggregation(n->spec.kind) &&
           (t->nodes[n->parents[0].node].spec.kind == SL_OP_GROUP_BY ||
            t->nodes[n->parents[0].node].spec.kind == SL_OP_GROUP_TABLE);
}

static void check_joins(const sl_topo_t *t, sl_buf_t *errs, signed char *memo)
{
    unsigned char *seen = malloc(t->n_nodes + 1);
    for (size_t i = 0; seen && i < t->n_nodes; i++) {
        const topo_node_t *n = &t->nodes[i];
        const sl_join_spec_t *js = n->join;
        if (!js)
            continue;
        for (int side = 0; side < 2; side++) {
            int v = n->parents[side].node;
            const topo_node_t *p = &t->nodes[v];
            const char *which = side ? "right" : "left";
            if (js->kind == SL_JOIN_TABLE_TABLE || (js->kind == SL_JOIN_STREAM_TABLE && side == 1)) {
                if (!is_kv_table(t, p))
                    add_problem(errs, "node '%s' (join): the %s side '%s' (%s) must be a table (a table source or "
                                "an aggregation)", n->name, which, p->name, topo_node_kind(p));
                continue;
            }
            if (from_table(t, v, memo))
                add_problem(errs, "node '%s' (join): the %s side '%s' (%s) must be a stream, not a table's changes",
                            n->name, which, p->name, topo_node_kind(p));
            memset(seen, 0, t->n_nodes + 1);
            int r = rekeyed_by(t, v, seen);
            if (r >= 0)
                add_problem(errs, "node '%s' (join): the %s side '%s' may be keyed differently from its partitions "
                            "since '%s' (%s); both sides of a join must be partitioned by their key", n->name, which,
                            p->name, t->nodes[r].name, topo_node_kind(&t->nodes[r]));
        }
        if (js->kind != SL_JOIN_STREAM_STREAM)
            continue;
        if (!name_ok(js->right_store, NAME_MAX_LEN) || !strncmp(js->right_store, "__", 2))
            add_problem(errs, "node '%s' (join): invalid store name '%s'", n->name, js->right_store);
        for (size_t j = 0; j < t->n_nodes; j++) {
            const topo_node_t *o = &t->nodes[j];
            if (j == i && !strcmp(n->store, js->right_store))
                add_problem(errs, "node '%s' (join): left_store and right_store are both '%s'", n->name, n->store);
            else if ((o->store && !strcmp(o->store, js->right_store)) ||
                (j < i && o->join && o->join->right_store && !strcmp(o->join->right_store, js->right_store)))
                add_problem(errs, "store '%s' is used by both '%s' and '%s'", js->right_store, o->name, n->name);
        }
    }
    free(seen);
}

/* Split each join node into its two side nodes (see sl_topo_add_join).  The
 * store a side is given is the one it opens (stream-stream: its buffer) or
 * reads (the table of a stream-table join; the other table of a table-table
 * join).  A table-table self-join keeps one side: both would emit the same. */
static int expand_joins(sl_topo_t *t)
{
    size_t n_user = t->n_nodes;
    for (size_t j = 0; j < n_user; j++) {
        const sl_join_spec_t *js = t->nodes[j].join;
        if (!js)
            continue;
        topo_edge_t in[2] = {t->nodes[j].parents[0], t->nodes[j].parents[1]};
        int n_sides = js->kind == SL_JOIN_TABLE_TABLE && in[0].node == in[1].node ? 1 : 2;
        int side_node[2] = {-1, -1};
        for (int s = 0; s < n_sides; s++) {
            const char *store = NULL;
            if (js->kind == SL_JOIN_STREAM_STREAM)
                store = s ? js->right_store : js->left_store;
            else if (js->kind == SL_JOIN_TABLE_TABLE || s == 0)
                store = t->nodes[in[js->kind == SL_JOIN_TABLE_TABLE ? 1 - s : 1].node].store;
            char name[NAME_MAX_LEN + 16];
            snprintf(name, sizeof name, "%s#%s", t->nodes[j].name, s ? "right" : "left");
            const char *pname = t->nodes[in[s].node].name;
            sl_op_spec_t spec = {.kind = SL_OP_JOIN, .join = js, .join_side = s};
            int k = node_add(t, name, NODE_OP, &spec, &pname, 1, NULL, 0, store);
            if (k < 0)
                return k;
            t->nodes[k].internal = true;
            if (!(t->nodes[k].parents = calloc(1, sizeof(topo_edge_t))))
                return SL_E_NOMEM;
            t->nodes[k].parents[0] = in[s];
            side_node[s] = k;
        }
        topo_node_t *n = &t->nodes[j];
        n->spec.kind = SL_OP_PASS;
        free(n->store);
        n->store = NULL;
        for (int s = 0; s < n_sides; s++)
            n->parents[s] = (topo_edge_t){side_node[s], 0};
        if (n_sides == 1) {
            free(n->parent_names[1]);
            n->n_parents = 1;
        }
    }
    return 0;
}

int sl_topo_build(sl_topo_t *t, sl_err_t *err)
{
    if (!t)
        return sl_err_set(err, SL_E_INVAL, "sl_topo_build: no topology");
    if (t->built)
        return 0;
    sl_buf_t errs;
    sl_buf_init(&errs);
    int rc = 0;
    if (t->add_errors.len)
        sl_buf_append(&errs, t->add_errors.data, t->add_errors.len);
    if (t->n_nodes == 0)
        add_problem(&errs, "the topology has no nodes");
    check_names(t, &errs);
    bool parents_ok = resolve_parents(t, &errs);
    if (parents_ok && (rc = link_children(t)) == 0) {
        bool cycle = false;
        rc = check_cycles(t, &errs, &cycle);
        signed char *memo = cycle || rc ? NULL : malloc(t->n_nodes);
        if (memo) {
            memset(memo, -1, t->n_nodes);
            check_placement(t, &errs, memo);
            check_joins(t, &errs, memo);
            free(memo);
        } else if (!rc && !cycle) {
            rc = SL_E_NOMEM;
        }
    }
    for (size_t i = 0; parents_ok && !rc && !errs.len && i < t->n_nodes; i++) { /* windowed aggregations */
        topo_node_t *n = &t->nodes[i];
        if (n->role == NODE_OP && sl_op_kind_is_aggregation(n->spec.kind) &&
            t->nodes[n->parents[0].node].spec.kind == SL_OP_WINDOW)
            n->spec.window = t->nodes[n->parents[0].node].spec.window;
    }
    if (!rc && errs.len) {
        rc = t->add_rc ? t->add_rc : SL_E_TOPOLOGY;
        sl_buf_append(&errs, "", 1);
        sl_err_set(err, rc, "topology '%s': %s", t->app_id, (const char *)errs.data);
    } else if (!rc && (rc = expand_joins(t)) == 0 && (rc = insert_repartitions(t)) == 0 && (rc = number_subtopologies(t)) == 0) {
        t->built = true;
    }
    if (rc == SL_E_NOMEM)
        sl_err_set(err, rc, "topology '%s': out of memory", t->app_id);
    sl_buf_free(&errs);
    return rc;
}

/* ---- introspection ------------------------------------------------------------------------------------ */

int sl_topo_subtopology_count(const sl_topo_t *t) { return t && t->built ? t->n_sub : 0; }

int sl_topo_node_subtopology(const sl_topo_t *t, const char *node)
{
    int i = t && t->built && node ? topo_find(t, node) : -1;
    return i < 0 ? SL_E_NOTFOUND : t->nodes[i].sub;
}

int sl_topo_set_internal(sl_topo_t *t, const char *topic)
{
    if (!t || !topic || t->built)
        return SL_E_INVAL;
    char **names = realloc(t->internal, (t->n_internal + 1) * sizeof *names);
    if (!names)
        return SL_E_NOMEM;
    t->internal = names;
    if (!(names[t->n_internal] = strdup(topic)))
        return SL_E_NOMEM;
    t->n_internal++;
    return 0;
}

bool sl_topo_topic_is_internal(const sl_topo_t *t, const char *topic)
{
    for (size_t i = 0; t && i < t->n_repartition; i++)
        if (!strcmp(t->repartition[i], topic))
            return true;
    for (size_t i = 0; t && i < t->n_internal; i++)
        if (!strcmp(t->internal[i], topic))
            return true;
    return false;
}

size_t sl_topo_repartition_count(const sl_topo_t *t) { return t ? t->n_repartition : 0; }

const char *sl_topo_repartition_topic(const sl_topo_t *t, size_t i)
{
    return t && i < t->n_repartition ? t->repartition[i] : NULL;
}

static int appendf(sl_buf_t *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int appendf(sl_buf_t *out, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    return n < 0 || sl_buf_append(out, line, strlen(line)) ? SL_E_NOMEM : 0;
}

int sl_topo_describe(const sl_topo_t *t, sl_buf_t *out)
{
    int rc = appendf(out, "Topology %s%s\n", t->app_id, t->built ? "" : " (not built)");
    for (int s = t->built ? 0 : -1; !rc && s < (t->built ? t->n_sub : 0); s++) {
        rc = appendf(out, "  Sub-topology %d\n", s);
        for (size_t i = 0; !rc && i < t->n_nodes; i++) {
            const topo_node_t *n = &t->nodes[i];
            if (n->sub != s)
                continue;
            rc = appendf(out, "    %s %s", topo_node_kind(n), n->name);
            for (size_t k = 0; !rc && k < n->n_parents; k++)
                rc = appendf(out, "%s%s", k ? ", " : " <- ", t->nodes[n->parents[k].node].name);
            for (size_t k = 0; !rc && k < n->n_topics; k++)
                rc = appendf(out, "%s%s", k ? ", " : n->role == NODE_SINK ? " -> topic " : " <- topics ", n->topics[k]);
            if (!rc && n->store)
                rc = appendf(out, " [store %s]", n->store);
            if (!rc)
                rc = appendf(out, "\n");
        }
    }
    return rc;
}
