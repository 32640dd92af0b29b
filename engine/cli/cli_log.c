/* `sluice log`: offline tools over one partition log folder, in the spirit of
 * Kafka's kafka-dump-log: append lines from stdin as records, dump batches and
 * records, look an offset up by time, and summarise the log.  Opening a log
 * runs its recovery, so these commands also repair a log left by a crash. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "broker/broker.h"
#include "engine/cli/cli.h"

#define READ_CHUNK (1u << 20)
#define DURABLE_TIMEOUT_MS 60000
/* Upper bound on the encoding overhead of one record besides its key and
 * value: length, attributes, timestamp and offset deltas, key and value
 * lengths, header count (all varints). */
#define RECORD_OVERHEAD 40

static const char LOG_USAGE[] =
    "Usage: sluice log COMMAND --dir PARTITION_DIR [OPTIONS]\n"
    "\n"
    "Work directly on one partition log folder (segment, index and time-index\n"
    "files), without a broker.  Opening a log recovers it after a crash.\n"
    "\n"
    "Commands:\n"
    "  append      append the lines of stdin as records\n"
    "  dump        print the stored batches, and optionally their records\n"
    "  find-time   print the first offset whose timestamp is >= a time\n"
    "  info        print the start and end offsets, segment count and size\n"
    "\n"
    "Run 'sluice log COMMAND --help' for the options of a command.\n";

static const char APPEND_USAGE[] =
    "Usage: sluice log append --dir PARTITION_DIR [OPTIONS] < lines\n"
    "\n"
    "Append each line of stdin as one record (timestamp: now), in batches, and\n"
    "wait until they are on disk.  Creates the folder if needed.\n"
    "\n"
    "Options:\n"
    "  --dir DIR            partition log folder (required)\n"
    "  --compression CODEC  none, gzip, snappy, lz4 or zstd (default: none)\n"
    "  --batch N            records per batch (default: 1000)\n"
    "  --key-sep SEP        the text before the first SEP is the record key\n"
    "  --config KEY=VALUE   a topic config, e.g. segment.bytes=1048576 (repeatable)\n"
    "  -h, --help           print this help\n";

static const char DUMP_USAGE[] =
    "Usage: sluice log dump --dir PARTITION_DIR [OPTIONS]\n"
    "\n"
    "Print each stored batch: offsets, record count, compression, size, CRC.\n"
    "\n"
    "Options:\n"
    "  --dir DIR         partition log folder (required)\n"
    "  --records         print every record too (offset, timestamp, key, value)\n"
    "  --from OFFSET     start at the batch holding OFFSET (default: log start)\n"
    "  --max-bytes N     stop before N bytes of batches (at least one is printed)\n"
    "  -h, --help        print this help\n"
    "\n"
    "Keys and values are printed as quoted strings; bytes that are not printable\n"
    "UTF-8 are escaped as \\xHH; a null key or value prints as null.\n";

static const char FIND_TIME_USAGE[] =
    "Usage: sluice log find-time --dir PARTITION_DIR --timestamp MS\n"
    "\n"
    "Print the earliest offset whose record timestamp is >= MS (milliseconds\n"
    "since the epoch), or -1 when there is none.\n"
    "\n"
    "Options:\n"
    "  --dir DIR         partition log folder (required)\n"
    "  --timestamp MS    the time to look up (required)\n"
    "  -h, --help        print this help\n";

static const char INFO_USAGE[] =
    "Usage: sluice log info --dir PARTITION_DIR\n"
    "\n"
    "Print the log start offset, end offset (next offset to be written),\n"
    "number of segments and total size in bytes.\n"
    "\n"
    "Options:\n"
    "  --dir DIR         partition log folder (required)\n"
    "  -h, --help        print this help\n";

static int usage_error(const char *cmd, const char *usage, const char *fmt, const char *arg)
{
    fprintf(stderr, "sluice: log %s: ", cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage);
    return SL_EXIT_USAGE;
}

/* After getopt: no stray arguments, and --dir given (every subcommand needs
 * it).  0 when fine, else the usage exit code (message printed). */
static int check_args(const char *cmd, const char *usage, int argc, char **argv, const char *dir)
{
    if (optind < argc)
        return usage_error(cmd, usage, "unexpected argument '%s'", argv[optind]);
    if (!dir)
        return usage_error(cmd, usage, "--dir is required%s", "");
    return 0;
}

/* getopt_long returned '?' (unknown option) or ':' (missing value); opterr
 * is off so the message names the command, not just the program. */
static int bad_option(const char *cmd, const char *usage, int c, char **argv)
{
    const char *opt = optind > 0 ? argv[optind - 1] : "?";
    if (c == ':')
        fprintf(stderr, "sluice: log %s: option '%s' needs a value\n\n%s", cmd, opt, usage);
    else
        fprintf(stderr, "sluice: log %s: unknown option '%s'\n\n%s", cmd, opt, usage);
    return SL_EXIT_USAGE;
}

static int runtime_error(const char *cmd, const char *what, int rc, const sl_err_t *err)
{
    fprintf(stderr, "sluice: log %s: %s: %s\n", cmd, what, err->msg[0] ? err->msg : sl_broker_strerror(rc));
    return SL_EXIT_ERROR;
}

/* A whole-string base-10 integer in [min, max]. */
static bool parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!*s || (*s != '-' && *s != '+' && (*s < '0' || *s > '9')))
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || errno == ERANGE || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* The read-only commands must not create a log where there is none (opening
 * creates one), so they insist on a folder holding at least one segment. */
static int check_log_dir(const char *cmd, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        fprintf(stderr, "sluice: log %s: cannot open %s: %s\n", cmd, dir, strerror(errno));
        return SL_EXIT_ERROR;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "sluice: log %s: %s is not a directory\n", cmd, dir);
        return SL_EXIT_ERROR;
    }
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "sluice: log %s: cannot read %s: %s\n", cmd, dir, strerror(errno));
        return SL_EXIT_ERROR;
    }
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(d)) != NULL;) {
        size_t n = strlen(e->d_name);
        found = n > 4 && strcmp(e->d_name + n - 4, ".log") == 0;
    }
    closedir(d);
    if (!found) {
        fprintf(stderr, "sluice: log %s: %s holds no log segments (*.log)\n", cmd, dir);
        return SL_EXIT_ERROR;
    }
    return SL_EXIT_OK;
}

static int open_log(const char *cmd, const char *dir, const sl_log_config_t *cfg, sl_plog_t **log)
{
    sl_err_t err = {0};
    int rc = sl_plog_open(dir, cfg, log, &err);
    if (rc)
        return runtime_error(cmd, dir, rc, &err);
    return SL_EXIT_OK;
}

/* dump / info / find-time: a log folder that must already hold a log (opening
 * a missing one would create it), opened with default settings. */
static int open_existing_log(const char *cmd, const char *dir, sl_plog_t **log)
{
    int ex = check_log_dir(cmd, dir);
    if (ex)
        return ex;
    sl_log_config_t cfg;
    sl_log_config_default(&cfg);
    return open_log(cmd, dir, &cfg, log);
}

/* ---- append ------------------------------------------------------------------- */

typedef struct appender {
    sl_plog_t *log;
    sl_batch_builder_t b;
    sl_buf_t out;
    int compression;
    int64_t first, last, records;
} appender_t;

static int append_flush(appender_t *a, sl_err_t *err)
{
    if (a->b.count == 0)
        return 0;
    sl_buf_reset(&a->out);
    int rc = sl_batch_builder_finish(&a->b, &a->out, err);
    sl_append_info_t info;
    if (rc == 0)
        rc = sl_plog_append(a->log, a->out.data, a->out.len, sl_now_ms(), &info, err);
    if (rc == 0) {
        if (a->records == 0)
            a->first = info.base_offset;
        a->last = info.last_offset;
        a->records += info.record_count;
    }
    sl_batch_builder_begin(&a->b, a->compression, 0);
    return rc;
}

static int cmd_append(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},     {"compression", required_argument, NULL, 'c'},
        {"batch", required_argument, NULL, 'b'},   {"key-sep", required_argument, NULL, 'k'},
        {"config", required_argument, NULL, 'C'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL, *key_sep = NULL;
    int compression = SL_COMPRESSION_NONE;
    int64_t batch = 1000;
    sl_log_config_t cfg;
    sl_log_config_default(&cfg);
    sl_err_t err = {0};
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'c':
            compression = sl_compression_parse(optarg);
            if (compression < 0)
                return usage_error("append", APPEND_USAGE, "unknown compression '%s'", optarg);
            break;
        case 'b':
            if (!parse_i64(optarg, 1, 1000000, &batch))
                return usage_error("append", APPEND_USAGE, "--batch must be an integer in 1..1000000, not '%s'",
                                   optarg);
            break;
        case 'k':
            if (!*optarg)
                return usage_error("append", APPEND_USAGE, "--key-sep must not be empty%s", "");
            key_sep = optarg;
            break;
        case 'C': {
            char *eq = strchr(optarg, '=');
            if (!eq)
                return usage_error("append", APPEND_USAGE, "--config expects KEY=VALUE, not '%s'", optarg);
            *eq = '\0';
            int rc = sl_log_config_set(&cfg, optarg, eq + 1, &err);
            *eq = '=';
            if (rc)
                return usage_error("append", APPEND_USAGE, "%s", err.msg);
            break;
        }
        case 'h': fputs(APPEND_USAGE, stdout); return SL_EXIT_OK;
        default: return bad_option("append", APPEND_USAGE, c, argv);
        }
    }
    int bad = check_args("append", APPEND_USAGE, argc, argv, dir);
    if (bad)
        return bad;

    appender_t a = {.compression = compression, .first = -1, .last = -1};
    int ex = open_log("append", dir, &cfg, &a.log);
    if (ex)
        return ex;
    sl_batch_builder_init(&a.b);
    sl_batch_builder_begin(&a.b, compression, 0);
    sl_buf_init(&a.out);
    /* Close a batch early when its uncompressed records could pass
     * max.message.bytes (compression only makes it smaller). */
    size_t budget = (size_t)cfg.max_message_bytes > SL_BATCH_HEADER_SIZE
                        ? (size_t)cfg.max_message_bytes - SL_BATCH_HEADER_SIZE
                        : 0;
    size_t sep_len = key_sep ? strlen(key_sep) : 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, stdin)) != -1) {
        size_t len = (size_t)n;
        if (len && line[len - 1] == '\n')
            len--;
        const char *key = NULL, *value = line;
        size_t key_len = 0, value_len = len;
        line[len] = '\0';
        char *sep = key_sep ? strstr(line, key_sep) : NULL;
        if (sep) {
            key = line;
            key_len = (size_t)(sep - line);
            value = sep + sep_len;
            value_len = len - key_len - sep_len;
        }
        if (len > INT32_MAX - RECORD_OVERHEAD) {
            rc = sl_err_set(&err, SL_B_ETOOLARGE, "a line of %zu bytes is too large for a record", len);
            break;
        }
        if (a.b.count > 0 && (a.b.count >= batch || a.b.records.len + len + RECORD_OVERHEAD > budget))
            rc = append_flush(&a, &err);
        if (rc == 0)
            rc = sl_batch_builder_add(&a.b, sl_now_ms(), key, key ? (int32_t)key_len : -1, value,
                                      (int32_t)value_len, NULL, 0);
    }
    free(line);
    if (rc == 0 && ferror(stdin))
        rc = sl_err_set(&err, SL_B_EIO, "reading stdin: %s", strerror(errno));
    if (rc == 0)
        rc = append_flush(&a, &err);
    if (rc == 0 && a.records > 0) {
        rc = sl_plog_wait_durable(a.log, a.last + 1, DURABLE_TIMEOUT_MS);
        if (rc)
            sl_err_set(&err, rc, "waiting for the data to reach the disk: %s", sl_broker_strerror(rc));
    }
    sl_batch_builder_free(&a.b);
    sl_buf_free(&a.out);
    sl_plog_close(a.log);
    if (rc) {
        if (a.records > 0)
            fprintf(stderr, "sluice: log append: %" PRId64 " records were appended (offsets %" PRId64 "..%" PRId64
                            ") before the error\n", a.records, a.first, a.last);
        return runtime_error("append", dir, rc, &err);
    }
    if (a.records == 0)
        fprintf(stderr, "appended 0 records\n");
    else
        fprintf(stderr, "appended %" PRId64 " records, offsets %" PRId64 "..%" PRId64 "\n", a.records, a.first,
                a.last);
    return SL_EXIT_OK;
}

/* ---- dump ----------------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence (2..4 bytes) at p, 0 if none. */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
    uint8_t b = p[0];
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf)
        len = 2;
    else if (b >= 0xe0 && b <= 0xef) {
        len = 3;
        if (b == 0xe0)
            lo = 0xa0; /* no overlong forms */
        if (b == 0xed)
            hi = 0x9f; /* no surrogates */
    } else if (b >= 0xf0 && b <= 0xf4) {
        len = 4;
        if (b == 0xf0)
            lo = 0x90;
        if (b == 0xf4)
            hi = 0x8f; /* <= U+10FFFF */
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

/* A key, value or header as a quoted string: printable ASCII and well-formed
 * UTF-8 as is, quotes and backslashes escaped, other bytes as \xHH; null
 * (length -1) as null. */
static void print_bytes(const uint8_t *p, int32_t len)
{
    if (len < 0 || (!p && len > 0)) {
        fputs("null", stdout);
        return;
    }
    putchar('"');
    for (size_t i = 0; i < (size_t)len;) {
        uint8_t b = p[i];
        size_t u;
        if (b == '"' || b == '\\') {
            putchar('\\');
            putchar(b);
            i++;
        } else if (b == '\n' || b == '\t' || b == '\r') {
            putchar('\\');
            putchar(b == '\n' ? 'n' : b == '\t' ? 't' : 'r');
            i++;
        } else if (b >= 0x20 && b < 0x7f) {
            putchar(b);
            i++;
        } else if (b >= 0x80 && (u = utf8_seq(p + i, (size_t)len - i)) > 0) {
            fwrite(p + i, 1, u, stdout);
            i += u;
        } else {
            printf("\\x%02x", b);
            i++;
        }
    }
    putchar('"');
}

static int print_batch(const uint8_t *p, size_t len, bool records, sl_batch_iter_t *it, sl_err_t *err)
{
    sl_batch_header_t h;
    int rc = sl_batch_parse_header(p, len, &h, err);
    if (rc)
        return rc;
    sl_err_t verr = {0};
    bool crc_ok = sl_batch_validate(p, len, &h, &verr) == 0;
    printf("baseOffset: %" PRId64 " lastOffset: %" PRId64 " count: %" PRId32 " compression: %s size: %zu"
           " baseTimestamp: %" PRId64 " maxTimestamp: %" PRId64 " producerId: %" PRId64 " crc: 0x%08" PRIx32
           " crcValid: %s",
           h.base_offset, h.base_offset + h.last_offset_delta, h.record_count,
           sl_compression_name(h.attributes & SL_BATCH_ATTR_COMPRESSION_MASK), len, h.base_timestamp,
           h.max_timestamp, h.producer_id, h.crc, crc_ok ? "true" : "false");
    if (h.attributes & SL_BATCH_ATTR_TRANSACTIONAL)
        fputs(" transactional: true", stdout);
    if (h.attributes & SL_BATCH_ATTR_CONTROL)
        fputs(" control: true", stdout);
    if (!crc_ok)
        printf(" (%s)", verr.msg);
    putchar('\n');
    if (!records)
        return 0;
    if ((rc = sl_batch_iter_start(it, p, len, err)) != 0)
        return rc;
    sl_record_t r;
    while ((rc = sl_batch_iter_next(it, &r, err)) == 1) {
        printf("| offset: %" PRId64 " timestamp: %" PRId64 " key: ", r.offset, r.timestamp);
        print_bytes(r.key, r.key_len);
        fputs(" value: ", stdout);
        print_bytes(r.value, r.value_len);
        if (r.header_count > 0) {
            fputs(" headers: [", stdout);
            size_t pos = 0;
            int32_t idx = 0, shown = 0;
            sl_header_t hd;
            int hrc;
            while ((hrc = sl_record_header_next(&r, &pos, &idx, &hd)) == 1) {
                if (shown++ > 0)
                    fputs(", ", stdout);
                print_bytes(hd.key, hd.key_len);
                putchar('=');
                print_bytes(hd.value, hd.value_len);
            }
            putchar(']');
            if (hrc < 0)
                fputs(" (malformed headers)", stdout);
        }
        putchar('\n');
    }
    return rc < 0 ? rc : 0;
}

static int cmd_dump(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},       {"records", no_argument, NULL, 'r'},
        {"from", required_argument, NULL, 'f'},      {"max-bytes", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    bool records = false;
    int64_t from = -1, max_bytes = INT64_MAX;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'r': records = true; break;
        case 'f':
            if (!parse_i64(optarg, 0, INT64_MAX, &from))
                return usage_error("dump", DUMP_USAGE, "--from must be an offset >= 0, not '%s'", optarg);
            break;
        case 'm':
            if (!parse_i64(optarg, 1, INT64_MAX, &max_bytes))
                return usage_error("dump", DUMP_USAGE, "--max-bytes must be a positive integer, not '%s'", optarg);
            break;
        case 'h': fputs(DUMP_USAGE, stdout); return SL_EXIT_OK;
        default: return bad_option("dump", DUMP_USAGE, c, argv);
        }
    }
    int bad = check_args("dump", DUMP_USAGE, argc, argv, dir);
    if (bad)
        return bad;
    sl_plog_t *log = NULL;
    int ex = open_existing_log("dump", dir, &log);
    if (ex)
        return ex;

    sl_err_t err = {0};
    sl_buf_t buf;
    sl_buf_init(&buf);
    sl_batch_iter_t it;
    sl_batch_iter_init(&it);
    int64_t start = sl_plog_start_offset(log), end = sl_plog_end_offset(log);
    int64_t off = from >= 0 ? from : start;
    uint64_t printed = 0;
    bool first = true, stop = false;
    int rc = 0;
    if (off < start || off > end)
        rc = sl_err_set(&err, SL_B_ERANGE, "offset %" PRId64 " is outside the log [%" PRId64 ", %" PRId64 "]", off,
                        start, end);
    while (rc == 0 && !stop && off < end && printed < (uint64_t)max_bytes) {
        uint64_t left = (uint64_t)max_bytes - printed;
        size_t want = left < READ_CHUNK ? (size_t)left : READ_CHUNK;
        sl_read_info_t ri;
        sl_buf_reset(&buf);
        if ((rc = sl_plog_read(log, off, want, &buf, &ri, &err)) != 0 || ri.batches == 0)
            break;
        for (size_t pos = 0; pos < buf.len;) {
            if (buf.len - pos < SL_BATCH_LOG_OVERHEAD) {
                rc = sl_err_set(&err, SL_B_ETRUNCATED, "short batch at offset %" PRId64, off);
                break;
            }
            int32_t blen = (int32_t)sl_be32(buf.data + pos + SL_BATCH_OFF_LENGTH);
            if (blen < 0 || (size_t)blen > buf.len - pos - SL_BATCH_LOG_OVERHEAD) {
                rc = sl_err_set(&err, SL_B_ETRUNCATED, "batch length out of bounds at offset %" PRId64, off);
                break;
            }
            size_t size = (size_t)blen + SL_BATCH_LOG_OVERHEAD;
            if (!first && (printed >= (uint64_t)max_bytes || size > (uint64_t)max_bytes - printed)) {
                stop = true;
                break;
            }
            if ((rc = print_batch(buf.data + pos, size, records, &it, &err)) != 0)
                break;
            printed += size;
            first = false;
            pos += size;
        }
        if (rc)
            break;
        if (ri.next_offset <= off)
            break;
        off = ri.next_offset;
    }
    sl_batch_iter_free(&it);
    sl_buf_free(&buf);
    sl_plog_close(log);
    if (fflush(stdout) != 0)
        return runtime_error("dump", "writing stdout", SL_B_EIO, &(sl_err_t){.msg = "write error"});
    return rc ? runtime_error("dump", dir, rc, &err) : SL_EXIT_OK;
}

/* ---- find-time, info ---------------------------------------------------------------- */

static int cmd_find_time(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"timestamp", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    int64_t ts = 0;
    bool have_ts = false;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 't':
            if (!parse_i64(optarg, INT64_MIN, INT64_MAX, &ts))
                return usage_error("find-time", FIND_TIME_USAGE, "--timestamp must be an integer (ms), not '%s'",
                                   optarg);
            have_ts = true;
            break;
        case 'h': fputs(FIND_TIME_USAGE, stdout); return SL_EXIT_OK;
        default: return bad_option("find-time", FIND_TIME_USAGE, c, argv);
        }
    }
    int bad = check_args("find-time", FIND_TIME_USAGE, argc, argv, dir);
    if (bad)
        return bad;
    if (!have_ts)
        return usage_error("find-time", FIND_TIME_USAGE, "%s is required", "--timestamp");
    sl_plog_t *log = NULL;
    int ex = open_existing_log("find-time", dir, &log);
    if (ex)
        return ex;
    sl_err_t err = {0};
    int64_t offset = -1;
    int rc = sl_plog_offset_for_time(log, ts, &offset, &err);
    sl_plog_close(log);
    if (rc)
        return runtime_error("find-time", dir, rc, &err);
    printf("%" PRId64 "\n", offset);
    return SL_EXIT_OK;
}

static int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    int c;
    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'h': fputs(INFO_USAGE, stdout); return SL_EXIT_OK;
        default: return bad_option("info", INFO_USAGE, c, argv);
        }
    }
    int bad = check_args("info", INFO_USAGE, argc, argv, dir);
    if (bad)
        return bad;
    sl_plog_t *log = NULL;
    int ex = open_existing_log("info", dir, &log);
    if (ex)
        return ex;
    printf("start offset: %" PRId64 "\n"
           "end offset:   %" PRId64 "\n"
           "segments:     %d\n"
           "size bytes:   %" PRId64 "\n",
           sl_plog_start_offset(log), sl_plog_end_offset(log), sl_plog_segment_count(log), sl_plog_size_bytes(log));
    sl_plog_close(log);
    return SL_EXIT_OK;
}

int sl_cli_log(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int argc, char **argv);
    } cmds[] = {
        {"append", cmd_append},
        {"dump", cmd_dump},
        {"find-time", cmd_find_time},
        {"info", cmd_info},
    };
    if (argc < 2) {
        fprintf(stderr, "sluice: log: missing command\n\n%s", LOG_USAGE);
        return SL_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        fputs(LOG_USAGE, stdout);
        return SL_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(sub, cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "sluice: log: unknown command '%s'\n\n%s", sub, LOG_USAGE);
    return SL_EXIT_USAGE;
}
