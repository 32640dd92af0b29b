/* `sluice query TABLE ...`: ask a running job's HTTP server (sluice run
 * --http, docs/http.md) for a key, a range or a prefix of a table, or follow
 * its changes.  libcurl speaks HTTP, jansson reads the answers.  Rows go to
 * stdout as JSON lines, or as an aligned table when stdout is a terminal;
 * errors to stderr.  Exit 0 ok, 1 the server failed or said no (unknown table
 * or key, unreachable), 2 usage. */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/common.h"
#include "engine/cli/cli.h"

static void usage(FILE *f)
{
    fputs("Usage: sluice query TABLE [OPTIONS]\n"
          "\n"
          "Query a table of a job running with `sluice run --http` (docs/http.md).\n"
          "Without --key: an ordered scan of the whole table, or of a range or prefix.\n"
          "\n"
          "Options:\n"
          "      --http HOST:PORT  the job's HTTP server (127.0.0.1:8080)\n"
          "  -k, --key KEY         one key: its value (windowed tables: its windows)\n"
          "  -f, --from FROM       scan from this key (windowed tables: window start,\n"
          "                        epoch ms or ISO-8601; with --key: windows from)\n"
          "  -t, --to TO           scan up to this key, inclusive (windowed: time)\n"
          "  -p, --prefix P        keys starting with P\n"
          "  -n, --limit N         at most N rows (default: all)\n"
          "  -r, --reverse         descending order\n"
          "  -w, --watch           follow committed changes (of KEY with --key) until\n"
          "                        interrupted\n"
          "  -h, --help            this help\n"
          "\n"
          "Output: one JSON object per line; an aligned table when stdout is a terminal.\n"
          "Exit codes: 0 ok, 1 error (unknown table or key, server unreachable), 2 usage.\n",
          f);
}

typedef struct fetch {
    sl_buf_t body;
    bool watch, tty;
} fetch_t;

/* --watch: print each complete line as it arrives. */
static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    fetch_t *f = arg;
    size_t len = size * n;
    if (sl_buf_append(&f->body, p, len))
        return 0;
    if (!f->watch)
        return len;
    uint8_t *nl;
    while ((nl = memchr(f->body.data, '\n', f->body.len)) != NULL) {
        size_t line = (size_t)(nl - f->body.data) + 1;
        fwrite(f->body.data, 1, line, stdout);
        fflush(stdout);
        memmove(f->body.data, f->body.data + line, f->body.len - line);
        f->body.len -= line;
    }
    return len;
}

/* GET url; *status the HTTP status (0: no answer).  Body in f->body. */
static int get(CURL *c, const char *url, fetch_t *f, long *status)
{
    sl_buf_reset(&f->body);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    if (!f->watch)
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    CURLcode rc = curl_easy_perform(c);
    *status = 0;
    if (rc != CURLE_OK) {
        fprintf(stderr, "sluice query: %s: %s\n", url, curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    return 0;
}

static json_t *parse_body(const fetch_t *f)
{
    return json_loadb((const char *)f->body.data, f->body.len, 0, NULL);
}

static void report_error(const fetch_t *f, long status)
{
    json_t *j = parse_body(f);
    const char *msg = j ? json_string_value(json_object_get(j, "error")) : NULL;
    fprintf(stderr, "sluice query: HTTP %ld: %s\n", status, msg ? msg : "(no error message)");
    json_decref(j);
}

/* ---- output --------------------------------------------------------------------------------------- */

typedef struct table_out {
    char **cells; /* rows x cols */
    size_t rows, cap;
    const char *cols[4];
    size_t ncols;
} table_out_t;

static char *cell(json_t *v)
{
    if (!v)
        return strdup("");
    if (json_is_string(v))
        return strdup(json_string_value(v));
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static int emit_row(json_t *row, bool tty, table_out_t *t)
{
    if (!tty) {
        char *s = json_dumps(row, JSON_COMPACT);
        if (!s)
            return -1;
        puts(s);
        free(s);
        return 0;
    }
    if (t->rows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char **v = realloc(t->cells, cap * t->ncols * sizeof *v);
        if (!v)
            return -1;
        t->cells = v;
        t->cap = cap;
    }
    for (size_t c = 0; c < t->ncols; c++)
        t->cells[t->rows * t->ncols + c] = cell(json_object_get(row, t->cols[c]));
    t->rows++;
    return 0;
}

static void print_table(table_out_t *t)
{
    size_t w[4] = {0};
    for (size_t c = 0; c < t->ncols; c++) {
        w[c] = strlen(t->cols[c]);
        for (size_t r = 0; r < t->rows; r++) {
            const char *s = t->cells[r * t->ncols + c];
            size_t l = s ? strlen(s) : 0;
            w[c] = l > w[c] ? l : w[c];
        }
    }
    for (size_t c = 0; c < t->ncols; c++)
        printf("%-*s%s", c + 1 < t->ncols ? (int)w[c] : 0, t->cols[c], c + 1 < t->ncols ? "  " : "\n");
    for (size_t r = 0; r < t->rows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            printf("%-*s%s", c + 1 < t->ncols ? (int)w[c] : 0, s ? s : "", c + 1 < t->ncols ? "  " : "\n");
        }
    printf("(%zu row%s)\n", t->rows, t->rows == 1 ? "" : "s");
    for (size_t i = 0; i < t->rows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
}

/* Append "&name=<escaped value>" (or "?..." first). */
static int add_param(CURL *c, sl_buf_t *url, const char *name, const char *value)
{
    if (!value)
        return 0;
    char *esc = curl_easy_escape(c, value, 0);
    if (!esc)
        return -1;
    bool first = memchr(url->data, '?', url->len) == NULL;
    int rc = sl_buf_append(url, first ? "?" : "&", 1) || sl_buf_append(url, name, strlen(name)) ||
             sl_buf_append(url, "=", 1) || sl_buf_append(url, esc, strlen(esc));
    curl_free(esc);
    return rc;
}

static volatile sig_atomic_t g_stop;
static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}
static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    return g_stop; /* non-zero aborts the transfer: ^C ends --watch cleanly */
}

int sl_cli_query(int argc, char **argv)
{
    static const struct option opts[] = {
        {"http", required_argument, NULL, 'H'},  {"key", required_argument, NULL, 'k'},
        {"from", required_argument, NULL, 'f'},  {"to", required_argument, NULL, 't'},
        {"prefix", required_argument, NULL, 'p'}, {"limit", required_argument, NULL, 'n'},
        {"reverse", no_argument, NULL, 'r'},     {"watch", no_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *http = "127.0.0.1:8080", *key = NULL, *from = NULL, *to = NULL, *prefix = NULL;
    long limit = -1;
    bool reverse = false, watch = false;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":k:f:t:p:n:rwh", opts, NULL)) != -1) {
        switch (c) {
        case 'H': http = optarg; break;
        case 'k': key = optarg; break;
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        case 'p': prefix = optarg; break;
        case 'r': reverse = true; break;
        case 'w': watch = true; break;
        case 'n': {
            char *end;
            limit = strtol(optarg, &end, 10);
            if (*end || end == optarg || limit < 1 || limit > 1000000000) {
                fprintf(stderr, "sluice query: --limit expects a positive number, got '%s'\n\n", optarg);
                usage(stderr);
                return SL_EXIT_USAGE;
            }
            break;
        }
        case 'h': usage(stdout); return SL_EXIT_OK;
        default:
            fprintf(stderr, "sluice query: %s '%s'\n\n", c == ':' ? "missing value for option" : "unknown option",
                    argv[optind - 1]);
            usage(stderr);
            return SL_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "sluice query: %s\n\n", optind >= argc ? "missing TABLE" : "expected exactly one TABLE");
        usage(stderr);
        return SL_EXIT_USAGE;
    }
    const char *table = argv[optind];
    const char *problem = NULL;
    if (!strchr(http, ':') || strlen(http) > 300)
        problem = "--http expects HOST:PORT";
    else if (key && (prefix || reverse))
        problem = "--key cannot be combined with --prefix or --reverse";
    else if (watch && (from || to || prefix || reverse || limit > 0))
        problem = "--watch takes only --key";
    else if (key && limit > 0)
        problem = "--key cannot be combined with --limit";
    if (problem) {
        fprintf(stderr, "sluice query: %s\n\n", problem);
        usage(stderr);
        return SL_EXIT_USAGE;
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "sluice query: cannot initialise libcurl\n");
        return SL_EXIT_ERROR;
    }
    CURL *curl = curl_easy_init();
    sl_buf_t url, base;
    sl_buf_init(&url);
    sl_buf_init(&base);
    fetch_t f = {.watch = watch, .tty = isatty(STDOUT_FILENO) == 1};
    sl_buf_init(&f.body);
    int ex = SL_EXIT_OK;
    char *etable = curl ? curl_easy_escape(curl, table, 0) : NULL;
    char *ekey = curl && key && !watch ? curl_easy_escape(curl, key, 0) : NULL;
    if (!curl || !etable || (key && !watch && !ekey)) {
        fprintf(stderr, "sluice query: out of memory\n");
        ex = SL_EXIT_ERROR;
        goto out;
    }
    char head[512];
    snprintf(head, sizeof head, "http://%s/v1/tables/%s", http, etable);
    if (sl_buf_append(&base, head, strlen(head)))
        goto oom;
    if (watch) {
        if (sl_buf_append(&base, "/watch", 6) || add_param(curl, &base, "format", "lines") ||
            add_param(curl, &base, "key", key) || sl_buf_append(&base, "", 1))
            goto oom;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        long status;
        int rc = get(curl, (const char *)base.data, &f, &status);
        if (g_stop)
            goto out; /* interrupted: a normal end of a watch */
        if (rc) {
            ex = SL_EXIT_ERROR;
        } else if (status != 200) {
            report_error(&f, status);
            ex = SL_EXIT_ERROR;
        }
        goto out;
    }
    table_out_t t = {.ncols = 0};
    if (key) {
        if (sl_buf_append(&base, "/keys/", 6) || sl_buf_append(&base, ekey, strlen(ekey)) ||
            add_param(curl, &base, "from", from) || add_param(curl, &base, "to", to) || sl_buf_append(&base, "", 1))
            goto oom;
        long status;
        if (get(curl, (const char *)base.data, &f, &status)) {
            ex = SL_EXIT_ERROR;
            goto out;
        }
        if (status != 200) {
            report_error(&f, status);
            ex = SL_EXIT_ERROR;
            goto out;
        }
        json_t *j = parse_body(&f);
        if (!j) {
            fprintf(stderr, "sluice query: the server's answer is not JSON\n");
            ex = SL_EXIT_ERROR;
            goto out;
        }
        json_object_del(j, "table");
        json_t *wins = json_object_get(j, "windows");
        if (!wins)
            wins = json_object_get(j, "sessions");
        if (wins) { /* one row per window */
            t = (table_out_t){.cols = {"key", "start", "end", "value"}, .ncols = 4};
            size_t i;
            json_t *w;
            json_array_foreach(wins, i, w) {
                json_object_set(w, "key", json_object_get(j, "key"));
                emit_row(w, f.tty, &t);
            }
        } else {
            t = (table_out_t){.cols = {"key", "value"}, .ncols = 2};
            emit_row(j, f.tty, &t);
        }
        json_decref(j);
        if (f.tty)
            print_table(&t);
        goto out;
    }
    /* A scan, page by page until the rows run out or --limit is reached. */
    if (add_param(curl, &base, "from", from) || add_param(curl, &base, "to", to) ||
        add_param(curl, &base, "prefix", prefix) || add_param(curl, &base, "reverse", reverse ? "true" : NULL))
        goto oom;
    long printed = 0;
    char *next = NULL;
    bool first_page = true;
    for (;;) {
        sl_buf_reset(&url);
        char lim[32];
        long want = limit > 0 ? limit - printed : 1000;
        snprintf(lim, sizeof lim, "%ld", want > 1000 ? 1000 : want);
        if (sl_buf_append(&url, base.data, base.len) || add_param(curl, &url, "limit", lim) ||
            add_param(curl, &url, "next", next) || sl_buf_append(&url, "", 1)) {
            free(next);
            goto oom;
        }
        free(next);
        next = NULL;
        long status;
        if (get(curl, (const char *)url.data, &f, &status)) {
            ex = SL_EXIT_ERROR;
            break;
        }
        if (status != 200) {
            report_error(&f, status);
            ex = SL_EXIT_ERROR;
            break;
        }
        json_t *j = parse_body(&f);
        json_t *rows = j ? json_object_get(j, "rows") : NULL;
        if (!json_is_array(rows)) {
            fprintf(stderr, "sluice query: the server's answer has no rows\n");
            json_decref(j);
            ex = SL_EXIT_ERROR;
            break;
        }
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row) {
            if (first_page && i == 0) {
                bool timed = json_object_get(row, "start") != NULL;
                t = timed ? (table_out_t){.cols = {"key", "start", "end", "value"}, .ncols = 4}
                          : (table_out_t){.cols = {"key", "value"}, .ncols = 2};
            }
            emit_row(row, f.tty, &t);
            printed++;
        }
        if (first_page && t.ncols == 0)
            t = (table_out_t){.cols = {"key", "value"}, .ncols = 2};
        first_page = false;
        const char *n = json_string_value(json_object_get(j, "next"));
        next = n && (limit < 0 || printed < limit) ? strdup(n) : NULL;
        json_decref(j);
        if (!next)
            break;
    }
    if (f.tty)
        print_table(&t);
    goto out;
oom:
    fprintf(stderr, "sluice query: out of memory\n");
    ex = SL_EXIT_ERROR;
out:
    curl_free(etable);
    curl_free(ekey);
    sl_buf_free(&f.body);
    sl_buf_free(&url);
    sl_buf_free(&base);
    if (curl)
        curl_easy_cleanup(curl);
    curl_global_cleanup();
    return ex;
}
