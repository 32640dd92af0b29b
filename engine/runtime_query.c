/* Read access to a running runtime's tables for the HTTP query server: which
 * stores are tables, how they are partitioned, and where each partition lives.
 * Everything here reads structures that sl_runtime_new builds and nothing
 * changes until sl_runtime_close (tasks, their environments and open stores),
 * so no lock is needed; the data itself is read through LMDB snapshots. */
#include <stdio.h>
#include <stdlib.h>

#include "engine/runtime.h"

/* A node whose store is a queryable table: stateful, and not one side of a
 * stream-stream join (its store is a buffer of records waiting for a partner). */
static bool node_is_table(const topo_node_t *n)
{
    return n->store && n->spec.kind != SL_OP_JOIN && !n->join;
}

static const topo_node_t *table_node(const sl_runtime_t *rt, size_t i)
{
    const sl_topo_t *t = rt->topo;
    for (size_t k = 0; k < t->n_nodes; k++)
        if (node_is_table(&t->nodes[k]) && i-- == 0)
            return &t->nodes[k];
    return NULL;
}

size_t sl_runtime_table_count(const sl_runtime_t *rt)
{
    size_t n = 0;
    for (size_t k = 0; rt && k < rt->topo->n_nodes; k++)
        n += node_is_table(&rt->topo->nodes[k]);
    return n;
}

static rt_task_t *task_for(const sl_runtime_t *rt, int sub, int32_t partition)
{
    for (size_t k = 0; k < rt->n_tasks; k++)
        if (rt->tasks[k].sub == sub && rt->tasks[k].partition == partition)
            return &rt->tasks[k];
    return NULL;
}

int sl_runtime_table(const sl_runtime_t *rt, size_t i, sl_rt_table_t *out)
{
    const topo_node_t *n = rt ? table_node(rt, i) : NULL;
    if (!n)
        return SL_E_NOTFOUND;
    out->name = n->store;
    out->node = n->name;
    out->partitions = 0;
    out->kind = SL_STORE_KV;
    out->raw_values = n->spec.kind == SL_OP_TABLE;
    for (size_t k = 0; k < rt->n_tasks; k++)
        out->partitions += rt->tasks[k].sub == n->sub;
    rt_task_t *t0 = task_for(rt, n->sub, 0);
    char name[SL_STORE_MAX_NAME + 1];
    snprintf(name, sizeof name, "%s:0", n->store);
    sl_store_t *s = t0 && t0->env ? sl_env_store(t0->env, name) : NULL;
    if (s)
        out->kind = sl_store_kind(s);
    return 0;
}

int sl_runtime_table_find(const sl_runtime_t *rt, const char *name)
{
    size_t i = 0;
    for (size_t k = 0; rt && name && k < rt->topo->n_nodes; k++) {
        const topo_node_t *n = &rt->topo->nodes[k];
        if (!node_is_table(n))
            continue;
        if (!strcmp(n->store, name))
            return (int)i;
        i++;
    }
    return SL_E_NOTFOUND;
}

int sl_runtime_table_part(sl_runtime_t *rt, size_t i, int32_t partition, sl_env_t **env, sl_store_t **store)
{
    const topo_node_t *n = rt ? table_node(rt, i) : NULL;
    rt_task_t *t = n ? task_for(rt, n->sub, partition) : NULL;
    if (!t || !t->env)
        return SL_E_NOTFOUND;
    char name[SL_STORE_MAX_NAME + 1];
    int len = snprintf(name, sizeof name, "%s:%d", n->store, (int)partition);
    if (len < 0 || (size_t)len >= sizeof name)
        return SL_E_NOTFOUND;
    sl_store_t *s = sl_env_store(t->env, name);
    if (!s)
        return SL_E_NOTFOUND;
    *env = t->env;
    *store = s;
    return 0;
}
