/* Sluice DSL: the public interface of the job language (docs/dsl.md).
 *
 * A job file declares sources (stream / table from a topic), derived streams
 * and tables as pipelines of operators, and outputs.  sl_dsl_compile parses
 * and checks the whole file first - nothing is planned while any error
 * remains - then plans it onto an engine topology (engine/engine.h) and builds
 * it.  Errors read like a compiler's:
 *
 *     job.sl:5:9: error: unknown stream or table 'lnes'
 *       table word_counts = lnes
 *                           ^
 *
 * The job owns the compiled expressions the topology's callbacks evaluate, so
 * it must outlive the topology's drivers and runtimes.  After compilation the
 * job is immutable and may be used from any thread.  Dependencies: dsl ->
 * engine only. */
#ifndef SL_DSL_H
#define SL_DSL_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "engine/engine.h"

typedef struct sl_dsl_job sl_dsl_job_t;

/* Parse, check, plan and build the job in `src` (NUL-terminated; `path` is
 * used in messages only).  On success *out holds the job (caller frees it with
 * sl_dsl_job_free) and sl_dsl_job_topo gives its built topology.  On failure
 * returns SL_E_INVAL (syntax and check errors) or SL_E_TOPOLOGY / SL_E_NOMEM;
 * err gets the first error (err->file / line / col set, err->msg the
 * "path:line:col: error: message" line), and `diag` (may be NULL) gets every
 * error, each followed by its source line and a caret. */
int sl_dsl_compile(const char *path, const char *src, sl_buf_t *diag, sl_dsl_job_t **out, sl_err_t *err);
/* The same with application id `app_id` (NULL: "sluice"): the prefix of the
 * job's internal topics (repartition, dead letters), so that two jobs on one
 * broker do not share them.  A bad id fails the build (SL_E_TOPOLOGY/INVAL). */
int sl_dsl_compile_app(const char *path, const char *src, const char *app_id, sl_buf_t *diag, sl_dsl_job_t **out,
                       sl_err_t *err);
/* Parse and check only (no topology): the same errors as sl_dsl_compile. */
int sl_dsl_check(const char *path, const char *src, sl_buf_t *diag, sl_err_t *err);
void sl_dsl_job_free(sl_dsl_job_t *job); /* frees the topology too; NULL is a no-op */

/* The built topology (owned by the job). */
sl_topo_t *sl_dsl_job_topo(const sl_dsl_job_t *job);
/* The topics the job's sources read (streams and tables), in file order; not
 * the internal "-rekey" topics the planner adds (the runtime creates those,
 * with the partitions of the job's inputs and no retention); fills up to cap
 * pointers (owned by the job), returns how many there are. */
size_t sl_dsl_job_source_topics(const sl_dsl_job_t *job, const char **topics, size_t cap);

/* Append a description of the job to *out: each statement as planned (sources
 * and formats, the nodes of each pipeline, stores, outputs), then the engine's
 * sl_topo_describe.  0 or SL_E_NOMEM. */
int sl_dsl_explain(const sl_dsl_job_t *job, sl_buf_t *out);

/* Evaluate one expression (the DSL's expression syntax) over a record whose
 * value is the JSON text `value_json` (NULL: null) and whose key is `key`
 * (NULL: null), appending the result as JSON to *out.  For tests and the CLI.
 * SL_E_INVAL for a syntax or check error (err as for compile), SL_E_RECORD for
 * an evaluation error (err->msg says why). */
int sl_dsl_eval_json(const char *expr, const char *value_json, const char *key, sl_buf_t *out, sl_err_t *err);

#endif
