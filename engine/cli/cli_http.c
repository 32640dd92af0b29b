/* The HTTP server of a command that runs jobs (`sluice run --http`): the
 * observability registry, the server itself, and the log line that tells
 * users and tests where it listens ("HTTP server at http://HOST:PORT"). */
#include <stdio.h>
#include <string.h>

#include "broker/broker.h"
#include "engine/cli/cli.h"
#include "engine/http.h"
#include "engine/obs.h"

int sl_cli_http_start(const struct sl_broker_config *addr, sl_broker_t *broker, const char *job_path,
                      sl_runtime_t *rt, const sl_topo_t *topo, sl_obs_t **obs, sl_http_t **http)
{
    *obs = NULL;
    *http = NULL;
    char name[256];
    sl_cli_job_name(job_path, name, sizeof name);
    sl_err_t err = {0};
    if (sl_obs_new(broker, obs) != 0 || sl_obs_add_job(*obs, name, job_path, rt, topo) != 0) {
        fprintf(stderr, "sluice: cannot set up metrics for %s\n", job_path);
        sl_cli_http_stop(*obs, NULL);
        *obs = NULL;
        return -1;
    }
    sl_http_opts_t o = {.host = addr->host, .port = addr->port, .obs = *obs};
    if (sl_http_start(&o, http, &err) != 0 || sl_http_add_job(*http, name, rt) != 0) {
        fprintf(stderr, "sluice: %s\n", err.msg[0] ? err.msg : "http: out of memory");
        sl_cli_http_stop(*obs, *http);
        *obs = NULL;
        *http = NULL;
        return -1;
    }
    bool v6 = strchr(addr->host, ':') != NULL;
    sl_log(SL_INFO, "http", "HTTP server at http://%s%s%s:%d (tables of job %s)", v6 ? "[" : "", addr->host,
           v6 ? "]" : "", sl_http_port(*http), name);
    return 0;
}

void sl_cli_http_stop(sl_obs_t *obs, sl_http_t *http)
{
    sl_http_stop(http); /* first: no request reads the runtime or the registry after this */
    sl_obs_free(obs);
}
