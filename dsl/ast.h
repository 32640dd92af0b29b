/* Internal to dsl/: the syntax tree of a job, the diagnostics list that the
 * parser and checker fill (file:line:col, source line, caret), and the entry
 * points of the parser, checker, evaluator and planner.  The tree lives in one
 * arena owned by sl_dsl_job_t and is immutable after checking, so compiled
 * expressions may be evaluated by many tasks on many threads at once. */
#ifndef SL_DSL_AST_H
#define SL_DSL_AST_H

#include <stdbool.h>

#include "dsl/dsl.h"
#include "dsl/value.h"

typedef struct sl_pos { int line, col; } sl_pos_t;

/* ---- expressions ---- */
typedef enum sl_ex_kind {
    SL_EX_LIT,    /* lit */
    SL_EX_NAME,   /* name: a field of the value, or `value` / `key` / a stream name (path head) */
    SL_EX_FIELD,  /* a.name */
    SL_EX_INDEX,  /* a[b] */
    SL_EX_UNARY,  /* op a: '-' or 'not' */
    SL_EX_BINARY, /* a op b */
    SL_EX_IN,     /* a in (list...) : args */
    SL_EX_CALL,   /* name(args...) */
    SL_EX_ARRAY,  /* [args...] */
    SL_EX_OBJECT, /* {names[i]: args[i]} */
} sl_ex_kind_t;

typedef enum sl_xop {
    SL_X_ADD = 1, SL_X_SUB, SL_X_MUL, SL_X_DIV, SL_X_MOD,
    SL_X_EQ, SL_X_NE, SL_X_LT, SL_X_LE, SL_X_GT, SL_X_GE,
    SL_X_AND, SL_X_OR, SL_X_NOT, SL_X_NEG,
} sl_xop_t;

typedef struct sl_expr sl_expr_t;
struct sl_expr {
    sl_ex_kind_t kind;
    sl_pos_t pos;
    sl_xop_t op;
    const char *name;     /* NAME, FIELD, CALL */
    sl_value_t lit;       /* LIT */
    sl_expr_t *a, *b;     /* operands, FIELD / INDEX base */
    sl_expr_t **args;     /* CALL, IN, ARRAY, OBJECT */
    const char **names;   /* OBJECT keys */
    size_t n_args;
    int fn;               /* CALL: index in the function table, set by the checker */
};

/* ---- pipeline steps ---- */
typedef enum sl_step_kind {
    SL_ST_FILTER, SL_ST_MAP, SL_ST_FLAT_MAP, SL_ST_SELECT_KEY, SL_ST_BRANCH, SL_ST_MERGE,
    SL_ST_GROUP_BY, SL_ST_WINDOW, SL_ST_COUNT, SL_ST_SUM, SL_ST_MIN, SL_ST_MAX, SL_ST_AVG,
    SL_ST_AGGREGATE, SL_ST_EMIT, SL_ST_JOIN, SL_ST_TTL,
} sl_step_kind_t;

typedef enum sl_fmt { SL_FMT_JSON = 0, SL_FMT_STRING, SL_FMT_BYTES, SL_FMT_MSGPACK } sl_fmt_t;

typedef struct sl_step {
    sl_step_kind_t kind;
    sl_pos_t pos;
    sl_expr_t *expr;        /* filter, flat_map, select_key, sum/min/max/avg */
    const char *as;         /* flat_map ... as NAME */
    sl_expr_t **items;      /* map / aggregate values, branch conditions, group by keys */
    const char **names;     /* map / aggregate / branch names; merge: other sources */
    sl_pos_t *name_pos;
    size_t n_items;
    /* window */
    int window_kind;        /* sl_window_kind_t */
    int64_t size_ms, advance_ms, gap_ms, grace_ms;
    /* emit */
    bool emit_final;
    /* join */
    const char *join_with;
    sl_pos_t join_with_pos;
    int join_type;          /* sl_join_type_t */
    sl_expr_t *on_left, *on_right;
    int64_t within_ms;      /* -1: none */
    int64_t ttl_ms;
    /* filled by the checker */
    bool on_table;          /* the records here are a table's changelog (group by: a grouped table) */
} sl_step_t;

typedef enum sl_stmt_kind { SL_S_SOURCE, SL_S_DEFINE, SL_S_OUTPUT } sl_stmt_kind_t;

typedef struct sl_stmt {
    sl_stmt_kind_t kind;
    sl_pos_t pos, name_pos, from_pos;
    bool is_table;           /* stream or table */
    const char *name;        /* declared name; output: the name written */
    const char *topic;       /* source / output */
    sl_fmt_t format;
    bool has_format;
    const char *key_field, *ts_field;  /* source */
    int64_t ttl_ms;          /* table source: ttl (0: none) */
    sl_pos_t ttl_pos;
    const char *from;        /* define: head of the pipeline */
    sl_step_t *steps;
    size_t n_steps;
    /* filled by the checker */
    bool yields_table;       /* define: ends with an aggregation (or is a plain table) */
    const char *origin;      /* define: the source name field paths may be qualified with */
} sl_stmt_t;

typedef struct sl_diag sl_diag_t;
struct sl_dsl_job {
    sl_arena_t arena;        /* the AST, names, literals */
    const char *path;
    const char *src;         /* copy of the source */
    size_t src_len;
    sl_stmt_t *stmts;
    size_t n_stmts;
    sl_buf_t diag;           /* every error, formatted */
    int n_errors;
    sl_err_t first;          /* the first error */
    const char *app_id;      /* application id of the topology (NULL: "sluice") */
    sl_topo_t *topo;         /* after planning */
    void *plan;              /* planner state: callback arguments (plan.c) */
};

/* Record an error at pos: "path:line:col: error: msg", the source line and a
 * caret under the column, appended to job->diag; the first also goes to
 * job->first. */
void sl_dsl_error(sl_dsl_job_t *job, sl_pos_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Parse and check `src` into a new job (no planning): 0 with *out, or
 * SL_E_INVAL with the errors in diag / err as sl_dsl_compile gives them. */
int sl_dsl_front_end(const char *path, const char *src, sl_buf_t *diag, sl_dsl_job_t **out, sl_err_t *err);
int sl_dsl_parse_job(sl_dsl_job_t *job);        /* parser.c: fills stmts; returns errors seen */
int sl_dsl_parse_expr(sl_dsl_job_t *job, sl_expr_t **out); /* a lone expression (the whole source) */
int sl_dsl_check_job(sl_dsl_job_t *job);        /* check.c */
/* check.c: resolve function names and arities in one expression; aggregates
 * (count(), last(x), ...) are allowed only where allow_agg is set. */
void sl_dsl_check_expr(sl_dsl_job_t *job, sl_expr_t *e, bool allow_agg);
int sl_dsl_plan_job(sl_dsl_job_t *job, sl_err_t *err); /* plan.c */
void sl_dsl_plan_free(void *plan);

/* ---- functions (eval.c) ---- */
typedef struct sl_fn_info {
    const char *name;
    int min_args, max_args;
    bool aggregate; /* only inside `aggregate { ... }` */
} sl_fn_info_t;
int sl_fn_lookup(const char *name); /* index, or -1 */
const sl_fn_info_t *sl_fn_info(int index);

/* Evaluate e against a record: `value` and `key` (key may be NULL: null).
 * Results live in the arena.  0, or -1 with err set (type error, missing
 * field, division by zero, ...). */
typedef struct sl_eval_ctx {
    sl_arena_t *arena;
    const sl_value_t *value;
    const sl_value_t *key;
    const char *self;   /* a path head naming the pipeline's own source is stripped */
    int64_t timestamp;
} sl_eval_ctx_t;
int sl_eval(const sl_eval_ctx_t *cx, const sl_expr_t *e, sl_value_t *out, sl_err_t *err);
bool sl_value_truthy(const sl_value_t *v);
/* Key bytes for a value: a string as is, anything else as JSON text. */
int sl_value_key_bytes(const sl_value_t *v, sl_buf_t *out, sl_err_t *err);
/* The value key bytes stand for: JSON text of a number, true, false, null, an
 * array or an object as that value; anything else a string. */
void sl_value_from_key_bytes(sl_arena_t *a, const uint8_t *p, size_t n, sl_value_t *out);

#endif
