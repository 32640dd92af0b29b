/* Replays the DSL fuzz corpus without libFuzzer (a ctest test, built with gcc
 * in the normal and ASan builds): every file under the given folders goes
 * through fz_dsl_run (fuzz_dsl.c), the fuzzer's own entry point, so a
 * lexer / parser / checker / planner regression on a known input fails
 * `make test`.  Files named seed-* are valid jobs and must compile; other
 * files (malformed seeds, fuzzer finds, former crashes) must only be rejected
 * cleanly or compile - not crash, leak or run out of memory. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/common.h"

int fz_dsl_run(const uint8_t *data, size_t size); /* fuzz_dsl.c */

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

/* Run every regular file of dir in name order; returns the failure count. */
static int replay_dir(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay_dsl: cannot open %s\n", dir);
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
            fprintf(stderr, "replay_dsl: cannot read %s\n", path);
            failures++;
            continue;
        }
        int rc = fz_dsl_run(data.data, data.len);
        (*count)++;
        bool seed = strncmp(names[i], "seed-", 5) == 0;
        if (rc < 0 || (seed && rc != 0)) {
            fprintf(stderr, "replay_dsl: %s: %s\n", path,
                    rc < 0    ? "out of memory"
                    : rc == 2 ? "a seed contains NUL or is over 64 KiB"
                              : "a valid seed job did not compile");
            failures++;
        }
    }
    sl_buf_free(&data);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return failures;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR...\n", argv[0]);
        return 2;
    }
    int failures = 0, count = 0;
    for (int i = 1; i < argc; i++)
        failures += replay_dir(argv[i], &count);
    printf("replayed %d input(s), %d failure(s)\n", count, failures);
    return failures || count == 0 ? 1 : 0;
}
