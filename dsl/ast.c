/* The job object and its diagnostics: every error is kept formatted as
 * "path:line:col: error: message", the source line and a caret, so that a
 * whole file's errors can be shown at once (as SQLite and compilers do); and
 * the public entry points that run parser -> checker -> planner in order. */
#include "dsl/ast.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void sl_dsl_error(sl_dsl_job_t *job, sl_pos_t pos, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char head[sizeof msg + 300];
    int n = snprintf(head, sizeof head, "%s:%d:%d: error: %s", job->path, pos.line, pos.col, msg);
    if (n < 0)
        return;
    if (job->n_errors++ == 0) {
        size_t hn = strlen(head) < sizeof job->first.msg - 1 ? strlen(head) : sizeof job->first.msg - 1;
        memcpy(job->first.msg, head, hn);
        job->first.msg[hn] = 0;
        size_t pn = strlen(job->path) < sizeof job->first.file - 1 ? strlen(job->path) : sizeof job->first.file - 1;
        memcpy(job->first.file, job->path, pn);
        job->first.file[pn] = 0;
        job->first.line = pos.line;
        job->first.col = pos.col;
    }
    sl_buf_append(&job->diag, head, strlen(head));
    sl_buf_append(&job->diag, "\n", 1);
    /* the source line, and a caret under the column (tabs kept so it lines up) */
    const char *s = job->src, *end = job->src + job->src_len;
    for (int line = 1; line < pos.line && s < end; s++)
        if (*s == '\n')
            line++;
    const char *e = s;
    while (e < end && *e != '\n')
        e++;
    sl_buf_append(&job->diag, "  ", 2);
    sl_buf_append(&job->diag, s, (size_t)(e - s));
    sl_buf_append(&job->diag, "\n  ", 3);
    for (int c = 1; c < pos.col && s + c - 1 < e; c++)
        sl_buf_append(&job->diag, s[c - 1] == '\t' ? "\t" : " ", 1);
    sl_buf_append(&job->diag, "^\n", 2);
}

static sl_dsl_job_t *job_new(const char *path, const char *src)
{
    sl_dsl_job_t *job = calloc(1, sizeof *job);
    if (!job)
        return NULL;
    sl_arena_init(&job->arena, NULL, 0);
    sl_buf_init(&job->diag);
    job->src_len = strlen(src);
    job->path = sl_arena_strdup(&job->arena, path ? path : "<input>", strlen(path ? path : "<input>"));
    job->src = sl_arena_strdup(&job->arena, src, job->src_len);
    if (!job->path || !job->src) {
        sl_dsl_job_free(job);
        return NULL;
    }
    return job;
}

void sl_dsl_job_free(sl_dsl_job_t *job)
{
    if (!job)
        return;
    sl_topo_free(job->topo);
    sl_dsl_plan_free(job->plan);
    sl_buf_free(&job->diag);
    sl_arena_free(&job->arena);
    free(job);
}

sl_topo_t *sl_dsl_job_topo(const sl_dsl_job_t *job) { return job->topo; }

size_t sl_dsl_job_source_topics(const sl_dsl_job_t *job, const char **topics, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < job->n_stmts; i++) {
        if (job->stmts[i].kind != SL_S_SOURCE || !job->stmts[i].topic)
            continue;
        if (n < cap)
            topics[n] = job->stmts[i].topic;
        n++;
    }
    return n;
}

static int report(sl_dsl_job_t *job, sl_buf_t *diag, sl_err_t *err)
{
    if (diag)
        sl_buf_append(diag, job->diag.data, job->diag.len);
    if (err)
        *err = job->first;
    return SL_E_INVAL;
}

int sl_dsl_front_end(const char *path, const char *src, sl_buf_t *diag, sl_dsl_job_t **out, sl_err_t *err)
{
    if (!src)
        return sl_err_set(err, SL_E_INVAL, "no source");
    sl_dsl_job_t *job = job_new(path, src);
    if (!job)
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    sl_dsl_parse_job(job);
    if (job->n_errors == 0)
        sl_dsl_check_job(job);
    if (job->n_errors) {
        int rc = report(job, diag, err);
        sl_dsl_job_free(job);
        return rc;
    }
    *out = job;
    return 0;
}

int sl_dsl_check(const char *path, const char *src, sl_buf_t *diag, sl_err_t *err)
{
    sl_dsl_job_t *job = NULL;
    int rc = sl_dsl_front_end(path, src, diag, &job, err);
    sl_dsl_job_free(job);
    return rc;
}

int sl_dsl_compile(const char *path, const char *src, sl_buf_t *diag, sl_dsl_job_t **out, sl_err_t *err)
{
    return sl_dsl_compile_app(path, src, NULL, diag, out, err);
}

int sl_dsl_compile_app(const char *path, const char *src, const char *app_id, sl_buf_t *diag, sl_dsl_job_t **out,
                       sl_err_t *err)
{
    sl_dsl_job_t *job = NULL;
    int rc = sl_dsl_front_end(path, src, diag, &job, err);
    if (rc)
        return rc;
    if (app_id && !(job->app_id = sl_arena_strdup(&job->arena, app_id, strlen(app_id)))) {
        sl_dsl_job_free(job);
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    }
    rc = sl_dsl_plan_job(job, err);
    if (rc) {
        if (diag && err)
            sl_buf_append(diag, err->msg, strlen(err->msg)), sl_buf_append(diag, "\n", 1);
        sl_dsl_job_free(job);
        return rc;
    }
    *out = job;
    return 0;
}

int sl_dsl_eval_json(const char *expr, const char *value_json, const char *key, sl_buf_t *out, sl_err_t *err)
{
    sl_dsl_job_t *job = job_new("<expr>", expr ? expr : "");
    if (!job)
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    sl_expr_t *e = NULL;
    sl_dsl_parse_expr(job, &e);
    if (!job->n_errors)
        sl_dsl_check_expr(job, e, false);
    if (job->n_errors) {
        int rc = report(job, NULL, err);
        sl_dsl_job_free(job);
        return rc;
    }
    uint8_t mem[4096];
    sl_arena_t a;
    sl_arena_init(&a, mem, sizeof mem);
    sl_value_t v = sl_v_null(), k = sl_v_null(), r;
    if (key)
        k = sl_v_str(key, strlen(key));
    int rc = 0;
    if (value_json && sl_value_from_json(&a, value_json, strlen(value_json), &v, err))
        rc = SL_E_RECORD;
    sl_eval_ctx_t cx = {.arena = &a, .value = &v, .key = &k};
    if (!rc && sl_eval(&cx, e, &r, err))
        rc = SL_E_RECORD;
    if (!rc && sl_value_to_json(&r, out, err))
        rc = SL_E_RECORD;
    sl_arena_free(&a);
    sl_dsl_job_free(job);
    return rc;
}
