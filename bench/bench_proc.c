/* Child-process plumbing for bench_broker_load (see bench_proc.h): the
 * benchmark measures real servers as separate processes, so that their RSS
 * and CPU are theirs alone, and each one starts on a fresh temp folder and a
 * free port. */
#include "bench_proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether `ready` is in the log yet; *port from "ready HOST:PORT". */
static bool log_says_ready(const char *path, const char *ready, int *port)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        char *at = strstr(line, ready);
        if (!at)
            continue;
        found = true;
        if (port) {
            char *colon = strchr(at + strlen(ready), ':');
            *port = colon ? atoi(colon + 1) : 0;
            found = *port > 0;
        }
    }
    fclose(f);
    return found;
}

int bench_proc_start(bench_proc_t *p, char *const argv[], const char *log_path, const char *ready, int timeout_ms,
                     int *port)
{
    snprintf(p->log, sizeof p->log, "%s", log_path);
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "bench: %s: %s\n", log_path, strerror(errno));
        return -1;
    }
    p->pid = fork();
    if (p->pid < 0) {
        fprintf(stderr, "bench: fork: %s\n", strerror(errno));
        close(fd);
        return -1;
    }
    if (p->pid == 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        execvp(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd);
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        if (log_says_ready(log_path, ready, port))
            return 0;
        int status;
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            fprintf(stderr, "bench: %s exited before it was ready; its log (%s):\n", argv[0], log_path);
            p->pid = 0;
            char cmd[600];
            snprintf(cmd, sizeof cmd, "tail -n 20 '%s' >&2", log_path);
            if (system(cmd) != 0)
                fprintf(stderr, "(could not show it)\n");
            return -1;
        }
        usleep(20000);
    }
    fprintf(stderr, "bench: %s not ready after %d ms (log: %s)\n", argv[0], timeout_ms, log_path);
    bench_proc_stop(p);
    return -1;
}

int64_t bench_proc_peak_rss(const bench_proc_t *p)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)p->pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int64_t kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

int bench_proc_stop(bench_proc_t *p)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGTERM);
    int status = -1;
    for (int waited = 0; waited < 30000; waited += 10) {
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->pid = 0;
            return status;
        }
        usleep(10000);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &status, 0);
    p->pid = 0;
    return -1;
}

int bench_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

int bench_tmpdir(const char *parent, char *buf, size_t cap)
{
    if ((size_t)snprintf(buf, cap, "%s/sl-bench-XXXXXX", parent) >= cap || !mkdtemp(buf)) {
        fprintf(stderr, "bench: cannot make a folder under %s: %s\n", parent, strerror(errno));
        return -1;
    }
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void bench_rmrf(const char *path) { nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS); }
