/* The corpus replay driver (see replay.h), shared by replay_request.c and
 * replay_dsl.c so both fuzz targets' corpora run in `make test` without
 * libFuzzer. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/common.h"
#include "replay.h"

static int read_all(const char *path, sl_buf_t *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    sl_buf_reset(out);
    uint8_t chunk[65536];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = sl_buf_append(out, chunk, n);
    if (ferror(f))
        rc = -1;
    fclose(f);
    return rc;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Feed every regular file of dir in name order; returns the failure count. */
static int replay_dir(const replay_target_t *t, const char *dir, int *count)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "%s: cannot open %s\n", t->prog, dir);
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown)
                break;
            names = grown;
        }
        names[n] = strdup(e->d_name);
        if (names[n])
            n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    int failures = 0;
    sl_buf_t data;
    sl_buf_init(&data);
    for (size_t i = 0; i < n; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (read_all(path, &data) != 0) {
            fprintf(stderr, "%s: cannot read %s\n", t->prog, path);
            failures++;
            continue;
        }
        int rc = t->run(t->arg, data.data, data.len);
        (*count)++;
        bool seed = strncmp(names[i], "seed-", 5) == 0;
        if (rc < 0 || (seed && rc != 0)) {
            fprintf(stderr, "%s: %s: %s\n", t->prog, path, rc < 0 ? "failed (out of memory)" : t->explain(rc));
            failures++;
        }
    }
    sl_buf_free(&data);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return failures;
}

int replay_main(int argc, char **argv, const replay_target_t *t)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR...\n", argv[0]);
        return 2;
    }
    int failures = 0, count = 0;
    for (int i = 1; i < argc; i++)
        failures += replay_dir(t, argv[i], &count);
    printf("replayed %d input(s), %d failure(s)\n", count, failures);
    return failures || count == 0 ? 1 : 0;
}
