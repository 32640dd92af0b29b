/* The DSL parser: both DESIGN.md jobs parse exactly as written, with the
 * tree's shape asserted (statements, steps, window sizes, join sides,
 * aggregate items); expression precedence and every step form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "dsl/ast.h"

static sl_dsl_job_t *parse(const char *src)
{
    sl_buf_t diag;
    sl_buf_init(&diag);
    sl_err_t err = {0};
    sl_dsl_job_t *job = NULL;
    if (sl_dsl_front_end("job.sl", src, &diag, &job, &err))
        fail_msg("%.*s", (int)diag.len, (const char *)diag.data);
    sl_buf_free(&diag);
    return job;
}

static void test_word_count_job_parses_as_written(void **state)
{
    sl_dsl_job_t *job = parse("# word count\n"
                              "stream lines from topic \"text-lines\" format string;\n"
                              "table word_counts = lines\n"
                              "  | flat_map split(lower(value), \" \") as word\n"
                              "  | filter word != \"\"\n"
                              "  | group by word\n"
                              "  | count;\n"
                              "output word_counts to topic \"word-counts\" format json;\n");
    assert_int_equal(job->n_stmts, 3);
    sl_stmt_t *s = &job->stmts[0];
    assert_int_equal(s->kind, SL_S_SOURCE);
    assert_false(s->is_table);
    assert_string_equal(s->name, "lines");
    assert_string_equal(s->topic, "text-lines");
    assert_int_equal(s->format, SL_FMT_STRING);
    s = &job->stmts[1];
    assert_int_equal(s->kind, SL_S_DEFINE);
    assert_true(s->is_table && s->yields_table);
    assert_string_equal(s->from, "lines");
    assert_int_equal(s->n_steps, 4);
    sl_step_t *st = &s->steps[0];
    assert_int_equal(st->kind, SL_ST_FLAT_MAP);
    assert_string_equal(st->as, "word");
    assert_int_equal(st->expr->kind, SL_EX_CALL);
    assert_string_equal(st->expr->name, "split");
    assert_int_equal(st->expr->n_args, 2);
    assert_string_equal(st->expr->args[0]->name, "lower");
    assert_string_equal(st->expr->args[0]->args[0]->name, "value");
    assert_int_equal(st->expr->args[1]->lit.type, SL_V_STR);
    st = &s->steps[1];
    assert_int_equal(st->kind, SL_ST_FILTER);
    assert_int_equal(st->expr->kind, SL_EX_BINARY);
    assert_int_equal(st->expr->op, SL_X_NE);
    assert_int_equal(st->pos.line, 5);
    assert_int_equal(st->pos.col, 5);
    st = &s->steps[2];
    assert_int_equal(st->kind, SL_ST_GROUP_BY);
    assert_int_equal(st->n_items, 1);
    assert_string_equal(st->items[0]->name, "word");
    assert_int_equal(s->steps[3].kind, SL_ST_COUNT);
    s = &job->stmts[2];
    assert_int_equal(s->kind, SL_S_OUTPUT);
    assert_string_equal(s->name, "word_counts");
    assert_string_equal(s->topic, "word-counts");
    assert_true(s->has_format);
    assert_int_equal(s->format, SL_FMT_JSON);
    sl_dsl_job_free(job);
}

static void test_page_views_job_parses_as_written(void **state)
{
    sl_dsl_job_t *job = parse("# windowed page views, enriched by a table\n"
                              "stream clicks from topic \"clicks\" format json key user timestamp ts;\n"
                              "table users from topic \"users\" format json;\n"
                              "table views = clicks\n"
                              "  | join users on clicks.user = users.key\n"
                              "  | group by users.region\n"
                              "  | window tumbling 1 minute grace 10 seconds\n"
                              "  | aggregate { views: count(), last_page: last(page), max_ts: max(ts) }\n"
                              "  | emit final;\n"
                              "output views to topic \"views-by-region\";\n");
    assert_int_equal(job->n_stmts, 4);
    sl_stmt_t *s = &job->stmts[0];
    assert_string_equal(s->key_field, "user");
    assert_string_equal(s->ts_field, "ts");
    assert_true(job->stmts[1].is_table);
    s = &job->stmts[2];
    assert_int_equal(s->n_steps, 5);
    sl_step_t *st = &s->steps[0];
    assert_int_equal(st->kind, SL_ST_JOIN);
    assert_int_equal(st->join_type, 1);
    assert_string_equal(st->join_with, "users");
    assert_int_equal(st->on_left->kind, SL_EX_FIELD);
    assert_string_equal(st->on_left->a->name, "clicks");
    assert_string_equal(st->on_left->name, "user");
    assert_string_equal(st->on_right->name, "key");
    assert_int_equal(st->within_ms, -1);
    st = &s->steps[1];
    assert_int_equal(st->items[0]->kind, SL_EX_FIELD);
    assert_string_equal(st->items[0]->name, "region");
    st = &s->steps[2];
    assert_int_equal(st->kind, SL_ST_WINDOW);
    assert_int_equal(st->window_kind, 1);
    assert_int_equal(st->size_ms, 60000);
    assert_int_equal(st->grace_ms, 10000);
    st = &s->steps[3];
    assert_int_equal(st->kind, SL_ST_AGGREGATE);
    assert_int_equal(st->n_items, 3);
    assert_string_equal(st->names[0], "views");
    assert_string_equal(st->items[0]->name, "count");
    assert_int_equal(st->items[0]->n_args, 0);
    assert_string_equal(st->names[1], "last_page");
    assert_string_equal(st->items[1]->name, "last");
    assert_string_equal(st->names[2], "max_ts");
    assert_int_equal(s->steps[4].kind, SL_ST_EMIT);
    assert_true(s->steps[4].emit_final);
    s = &job->stmts[3];
    assert_false(s->has_format);
    sl_dsl_job_free(job);
}

static void test_every_step_form_parses(void **state)
{
    sl_dsl_job_t *job = parse(
        "stream o from topic \"orders\" format msgpack key id;\n"
        "stream p from topic \"payments\" format json;\n"
        "stream q = o | map { id, total: price * qty, tags: [1, \"a\"], meta: {\"x\": 1} } | select_key id;\n"
        "stream r = o | rekey value.id | merge p;\n"
        "stream split = o | branch { big: total > 100, rest: true };\n"
        "table s = split.big | group by region, city | window hopping 10 minutes advance 1 minute | sum total "
        "| emit changes;\n"
        "table t = o | group by id | window session 5 minutes grace 500ms | max total;\n"
        "table u = o | group by id | window sliding 1 hour | avg total;\n"
        "stream v = o | left join p on o.key = p.key within 2 hours;\n"
        "table w = o | group by id | min total;\n");
    assert_int_equal(job->n_stmts, 10);
    sl_step_t *m = &job->stmts[2].steps[0];
    assert_int_equal(m->kind, SL_ST_MAP);
    assert_int_equal(m->n_items, 4);
    assert_string_equal(m->names[0], "id");
    assert_string_equal(m->names[1], "total");
    assert_int_equal(m->items[1]->op, SL_X_MUL);
    assert_int_equal(m->items[2]->kind, SL_EX_ARRAY);
    assert_int_equal(m->items[3]->kind, SL_EX_OBJECT);
    assert_int_equal(job->stmts[3].steps[1].kind, SL_ST_MERGE);
    assert_string_equal(job->stmts[3].steps[1].names[0], "p");
    assert_int_equal(job->stmts[4].steps[0].n_items, 2);
    assert_string_equal(job->stmts[5].from, "split.big");
    sl_step_t *w = &job->stmts[5].steps[1];
    assert_int_equal(w->window_kind, 2);
    assert_int_equal(w->size_ms, 600000);
    assert_int_equal(w->advance_ms, 60000);
    assert_int_equal(job->stmts[5].steps[0].n_items, 2);
    w = &job->stmts[6].steps[1];
    assert_int_equal(w->window_kind, 4);
    assert_int_equal(w->gap_ms, 300000);
    assert_int_equal(w->grace_ms, 500);
    sl_step_t *j = &job->stmts[8].steps[0];
    assert_int_equal(j->join_type, 2);
    assert_int_equal(j->within_ms, 7200000);
    sl_dsl_job_free(job);
}

/* The forms added for tables: a ttl on a table source and after an
 * aggregation, join bounds with a grace, table-table joins, '| top N by'
 * (sugar for aggregate { top: top(N, by, value) }; 'asc' and 'bottom' flip
 * it), object shorthand, and what the checker marks as a table's changelog. */
static void test_table_forms_parse(void **state)
{
    sl_dsl_job_t *job = parse(
        "table u from topic \"u\" format json ttl 2 days;\n"
        "stream c from topic \"c\";\n"
        "table g = u | filter age > 1 | group by region | aggregate { n: count(), o: argmax(age, {name}) } | ttl 1 hour;\n"
        "table t = g | group by window_start | top 3 by n desc;\n"
        "table b = g | group by n | bottom 2 by n;\n"
        "table a = g | group by n | top 1 by n asc;\n"
        "stream j = c | select_key user | join c on key = c.key within 5 minutes grace 1 minute;\n"
        "table tt = u | outer join g on u.key = g.key;\n");
    assert_int_equal(job->stmts[0].ttl_ms, 2 * 86400000LL);
    sl_step_t *st = job->stmts[2].steps;
    assert_true(st[0].on_table);  /* filter over a table: a deleted row passes on */
    assert_true(st[1].on_table);  /* group by over a table: a grouped table */
    assert_int_equal(st[3].kind, SL_ST_TTL);
    assert_int_equal(st[3].ttl_ms, 3600000);
    const sl_expr_t *o = st[2].items[1];
    assert_string_equal(o->name, "argmax");
    assert_int_equal(o->args[1]->kind, SL_EX_OBJECT);
    assert_string_equal(o->args[1]->names[0], "name");
    assert_int_equal(o->args[1]->args[0]->kind, SL_EX_NAME);
    sl_step_t *top = &job->stmts[3].steps[1];
    assert_int_equal(top->kind, SL_ST_AGGREGATE);
    assert_string_equal(top->names[0], "top");
    assert_string_equal(top->items[0]->name, "top");
    assert_int_equal(top->items[0]->args[0]->lit.u.i, 3);
    assert_string_equal(top->items[0]->args[1]->name, "n");
    assert_string_equal(top->items[0]->args[2]->name, "value");
    assert_string_equal(job->stmts[4].steps[1].items[0]->name, "bottom");
    assert_string_equal(job->stmts[5].steps[1].items[0]->name, "bottom");
    sl_step_t *j = &job->stmts[6].steps[1];
    assert_int_equal(j->within_ms, 300000);
    assert_int_equal(j->grace_ms, 60000);
    assert_int_equal(job->stmts[7].steps[0].join_type, 3);
    assert_true(job->stmts[7].yields_table);
    sl_dsl_job_free(job);
}

static void test_expression_precedence(void **state)
{
    sl_dsl_job_t *job = parse("stream a from topic \"a\";\n"
                              "stream b = a | filter not x or 1 + 2 * 3 > -4 and y in (1, 2);\n");
    sl_expr_t *e = job->stmts[1].steps[0].expr;
    /* (not x) or (((1 + (2 * 3)) > (-4)) and (y in (1, 2))) */
    assert_int_equal(e->op, SL_X_OR);
    assert_int_equal(e->a->kind, SL_EX_UNARY);
    assert_int_equal(e->a->op, SL_X_NOT);
    assert_int_equal(e->b->op, SL_X_AND);
    sl_expr_t *gt = e->b->a;
    assert_int_equal(gt->op, SL_X_GT);
    assert_int_equal(gt->a->op, SL_X_ADD);
    assert_int_equal(gt->a->b->op, SL_X_MUL);
    assert_int_equal(gt->b->kind, SL_EX_UNARY);
    assert_int_equal(gt->b->op, SL_X_NEG);
    assert_int_equal(e->b->b->kind, SL_EX_IN);
    assert_int_equal(e->b->b->n_args, 2);
    sl_dsl_job_free(job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_word_count_job_parses_as_written),
        cmocka_unit_test(test_page_views_job_parses_as_written),
        cmocka_unit_test(test_every_step_form_parses),
        cmocka_unit_test(test_expression_precedence),
        cmocka_unit_test(test_table_forms_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
