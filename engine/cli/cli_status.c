/* The live status of running jobs on stderr, from the same numbers as
 * /metrics (engine/obs.h): on a terminal one line redrawn every second
 * (records/s in and out, lag, committed offsets); otherwise a plain log line
 * every interval (10 s by default), so logs stay readable in files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/cli/cli.h"

void sl_cli_status_init(sl_cli_status_t *s, int64_t log_interval_ms, bool allow_tty)
{
    const char *term = getenv("TERM");
    memset(s, 0, sizeof *s);
    s->tty = allow_tty && isatty(STDERR_FILENO) && !(term && !strcmp(term, "dumb"));
    s->interval_ms = s->tty ? 1000 : log_interval_ms;
    s->last_ms = sl_now_ms();
}

static void human(char *buf, size_t cap, double v)
{
    if (v >= 1e9)
        snprintf(buf, cap, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, cap, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, cap, "%.1fk", v / 1e3);
    else
        snprintf(buf, cap, "%.0f", v);
}

int sl_cli_status_format(const char *name, const sl_obs_summary_t *m, char *buf, size_t cap)
{
    char in[32], out[32], lag[32], com[32], tin[32], tout[32];
    human(in, sizeof in, m->rate_in);
    human(out, sizeof out, m->rate_out);
    human(lag, sizeof lag, (double)m->lag);
    human(com, sizeof com, (double)m->committed);
    human(tin, sizeof tin, (double)m->records_in);
    human(tout, sizeof tout, (double)m->records_out);
    return snprintf(buf, cap, "%s %s: in %s rec/s, out %s rec/s, lag %s, committed offset %s (total %s in, %s out, %llu dead-lettered)",
                    name, m->state, in, out, lag, com, tin, tout, (unsigned long long)m->dead_lettered);
}

void sl_cli_status_tick(sl_cli_status_t *s, sl_obs_t *obs, const char *job, bool force)
{
    int64_t now = sl_now_ms();
    if (s->interval_ms <= 0 || (!force && now - s->last_ms < s->interval_ms))
        return;
    s->last_ms = now;
    sl_obs_summary_t m;
    if (sl_obs_job_summary(obs, job, &m) != 0)
        return;
    char line[512];
    sl_cli_status_format(job, &m, line, sizeof line);
    if (s->tty) {
        fprintf(stderr, "\r\033[K%s", line);
        fflush(stderr);
        s->drawn = true;
    } else {
        sl_log(SL_INFO, "status", "%s", line);
    }
}

void sl_cli_status_end(sl_cli_status_t *s)
{
    if (s->tty && s->drawn)
        fputc('\n', stderr);
    s->drawn = false;
}

void sl_cli_job_name(const char *path, char *buf, size_t cap)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 3 && !strcmp(base + n - 3, ".sl"))
        n -= 3;
    snprintf(buf, cap, "%.*s", (int)n, base);
}

int sl_cli_run_with_status(sl_runtime_t *rt, const sl_topo_t *topo, sl_broker_t *b, const char *path,
                           int64_t log_interval_ms, sl_obs_t *shared, sl_err_t *err)
{
    char name[256];
    sl_cli_job_name(path, name, sizeof name);
    sl_obs_t *obs = shared; /* the HTTP server's, when it runs: one set of rates for both */
    if (!obs && (sl_obs_new(b, &obs) != 0 || sl_obs_add_job(obs, name, path, rt, topo) != 0)) {
        sl_obs_free(obs);
        return sl_err_set(err, SL_E_NOMEM, "out of memory");
    }
    int rc = sl_runtime_start(rt, err);
    if (rc == 0) {
        sl_cli_status_t st;
        sl_cli_status_init(&st, log_interval_ms, true);
        while (!strcmp(sl_runtime_state(rt, NULL), "running")) {
            usleep(100000);
            sl_cli_status_tick(&st, obs, name, false);
        }
        sl_cli_status_end(&st);
        rc = sl_runtime_stop(rt, err);
        if (log_interval_ms > 0 || st.tty) { /* the final numbers, as a log line */
            sl_cli_status_t fin;
            sl_cli_status_init(&fin, 1, false);
            sl_cli_status_tick(&fin, obs, name, true);
        }
    }
    if (!shared) {
        sl_obs_remove_job(obs, name);
        sl_obs_free(obs);
    }
    return rc;
}
