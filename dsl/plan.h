/* Internal to dsl/: what each topology node built by the planner carries as its
 * callback argument (plan.c creates them, plan_fn.c holds the callbacks). */
#ifndef SL_DSL_PLAN_H
#define SL_DSL_PLAN_H

#include "dsl/ast.h"

typedef struct sl_pctx {
    const char *path;         /* the job file, for run-time error messages */
    const sl_stmt_t *stmt;
    const sl_step_t *step;
    sl_fmt_t in_fmt;          /* how the incoming values are encoded */
    const char *self;         /* path heads naming the pipeline's own source */
    /* join */
    sl_fmt_t right_fmt;
    const char *right_name;
    sl_join_spec_t join;
    /* source timestamps */
    const char *ts_field;
    /* outputs: how to shape and encode what reaches the sink */
    sl_fmt_t out_fmt;
    bool agg_table;           /* the value is an aggregation's: merge the group key in */
    const char **group_names; /* names for the group key parts */
    size_t n_group;
    const char *agg_name;     /* count, sum, ...; NULL for aggregate { } (a map) */
    bool table_agg;           /* aggregate { } over a grouped table: retractions, multisets */
    bool rows;                /* the head of a pipeline grouping an aggregated table: windowed rows get the
                               * key "<group key>@<start>-<end>" so that each (key, window) is one row */
} sl_pctx_t;

int sl_pfn_filter(void *arg, const sl_rec_t *rec, sl_err_t *err);
int sl_pfn_filter_rows(void *arg, const sl_rec_t *in, sl_rec_t *out, sl_scratch_t *scratch, sl_err_t *err);
int sl_pfn_map(void *arg, const sl_rec_t *in, sl_rec_t *out, sl_scratch_t *scratch, sl_err_t *err);
int sl_pfn_flat_map(void *arg, const sl_rec_t *in, sl_emit_t *out, sl_err_t *err);
int sl_pfn_branch(void *arg, const sl_rec_t *in, sl_emit_t *out, sl_err_t *err);
int sl_pfn_key(void *arg, const sl_rec_t *rec, sl_buf_t *key, sl_err_t *err);      /* select_key */
int sl_pfn_group(void *arg, const sl_rec_t *rec, sl_buf_t *key, sl_err_t *err);    /* group by */
int sl_pfn_num(void *arg, const sl_rec_t *rec, sl_num_t *out, sl_err_t *err);
int sl_pfn_agg_init(void *arg, sl_buf_t *out, sl_err_t *err);
int sl_pfn_agg_add(void *arg, const sl_rec_t *rec, const uint8_t *agg, size_t agg_len, sl_buf_t *out, sl_err_t *err);
int sl_pfn_join(void *arg, const sl_rec_t *left, const sl_rec_t *right, sl_buf_t *out, sl_err_t *err);
int sl_pfn_timestamp(void *arg, const sl_rec_t *rec, int64_t *ts, sl_err_t *err);
int sl_pfn_encode(void *arg, const sl_rec_t *in, sl_rec_t *out, sl_scratch_t *scratch, sl_err_t *err);

#endif
