/*
 * config.c: cartevo-kycd's settings. Every setting is a "key = value" line
 * of the config file (--config FILE) and also a flag "--key VALUE" (or
 * "--key=VALUE", dashes or underscores), flags winning over the file.
 * Numbers are parsed with end and range checks, so a typo stops the daemon
 * at start rather than running with a surprising value.
 */
#include "kycd.h"

#include <apr_strings.h>

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { T_STR, T_INT, T_UINT, T_ULL, T_DBL, T_BOOL, T_LONG } ktype_t;

typedef struct {
    const char *name;
    ktype_t type;
    size_t off;
    double min, max; /* numbers only */
} key_t_;

#define K(n, t, f, lo, hi) { n, t, offsetof(cc_kycd_cfg_t, f), lo, hi }

static const key_t_ keys[] = {
    K("database", T_STR, database, 0, 0),
    K("socket", T_STR, socket_path, 0, 0),
    K("socket_group", T_STR, socket_group, 0, 0),
    K("user", T_STR, user, 0, 0),
    K("group", T_STR, group, 0, 0),
    K("document_dir", T_STR, document_dir, 0, 0),
    K("public_base_url", T_STR, public_base_url, 0, 0),
    K("workers", T_INT, workers, 1, 256),
    K("foreground", T_BOOL, foreground, 0, 1),
    K("debug", T_BOOL, log_debug, 0, 1),
    K("sweep_interval", T_DBL, sweep_interval, 0.05, 86400),
    K("lease_seconds", T_INT, lease_seconds, 1, 86400),
    K("max_attempts", T_INT, max_attempts, 1, 1000),
    K("retry_base", T_DBL, retry_base, 0.01, 86400),
    K("retry_max", T_DBL, retry_max, 0.01, 604800),
    K("verify_provider", T_STR, verify_provider, 0, 0),
    K("min_width", T_UINT, min_width, 1, 100000),
    K("min_height", T_UINT, min_height, 1, 100000),
    K("blank_stddev", T_DBL, blank_stddev, 0, 128),
    K("decode_memory_mb", T_LONG, decode_memory_mb, 32, 65536),
    K("decode_cpu_seconds", T_INT, decode_cpu_seconds, 1, 3600),
    K("decode_timeout", T_INT, decode_timeout, 1, 3600),
    K("decode_max_pixels", T_ULL, decode_max_pixels, 1, 1e12),
    K("verify_url", T_STR, verify_url, 0, 0),
    K("verify_api_key_file", T_STR, verify_api_key_file, 0, 0),
    K("verify_timeout", T_DBL, verify_timeout, 0.1, 600),
    K("enroll_provider", T_STR, enroll_provider, 0, 0),
    K("enroll_approved", T_BOOL, enroll_approved, 0, 1),
    K("issuer_url", T_STR, issuer_url, 0, 0),
    K("issuer_api_key_file", T_STR, issuer_api_key_file, 0, 0),
    K("issuer_timeout", T_DBL, issuer_timeout, 0.1, 600),
    K("ca_file", T_STR, ca_file, 0, 0),
    K("fetch_connect_timeout", T_DBL, fetch_connect_timeout, 0.1, 600),
    K("fetch_timeout", T_DBL, fetch_timeout, 0.1, 3600),
    /* Not above the contract's 10 MiB: the decoder reads no more. */
    K("fetch_max_bytes", T_ULL, fetch_max_bytes, 1, 10485760),
    K("fetch_min_width", T_UINT, fetch_min_width, 1, 100000),
    K("fetch_min_height", T_UINT, fetch_min_height, 1, 100000),
    K("allow_targets", T_STR, allow_targets, 0, 0),
    K("webhook_timeout", T_DBL, webhook_timeout, 0.1, 600),
    K("webhook_backoff_base", T_DBL, webhook_backoff_base, 0.01, 86400),
    K("webhook_backoff_max", T_DBL, webhook_backoff_max, 0.01, 86400),
    K("webhook_retry_window", T_DBL, webhook_retry_window, 0.1, 2592000),
    K("webhook_workers", T_INT, webhook_workers, 1, 64),
    K("webhook_poll_interval", T_DBL, webhook_poll_interval, 0.01, 3600),
    K("orphan_sweep_interval", T_DBL, orphan_sweep_interval, 0.1, 604800),
    /* Not below the longest request httpd allows as shipped
     * (LimitRequestBody 22020096 at MinRate 500 B/s: 44,040 s, about
     * 12.2 h; decisions.md 1): a younger file may be a spool or a
     * committed file whose transaction is still to come. */
    K("orphan_min_age", T_DBL, orphan_min_age, 44040, 2592000),
    K("metrics_listen", T_STR, metrics_listen, 0, 0),
};

static void defaults(cc_kycd_cfg_t *c)
{
    memset(c, 0, sizeof(*c));
    c->socket_path = "/run/cartevo-kycd/kycd.sock";
    c->document_dir = "/var/lib/cartevo/documents";
    c->workers = 4;
    c->sweep_interval = 30;
    c->lease_seconds = 300;
    c->max_attempts = 10;
    c->retry_base = 5;
    c->retry_max = 3600;
    c->verify_provider = "local";
    /* An ID-1 card (85.60 x 53.98 mm) scanned at 200 dpi. */
    c->min_width = 674;
    c->min_height = 425;
    c->blank_stddev = 3.0;
    c->decode_memory_mb = 768;
    c->decode_cpu_seconds = 20;
    c->decode_timeout = 30;
    c->decode_max_pixels = 50000000ULL;
    c->verify_timeout = 30;
    c->enroll_provider = "sandbox";
    c->issuer_timeout = 30;
    c->fetch_connect_timeout = 5;
    c->fetch_timeout = 30;
    c->fetch_max_bytes = 10485760ULL;
    /* The module's synchronous gate (CartevoMinImagePixels 400x250), so a
     * fetched document is refused exactly where an upload would be. */
    c->fetch_min_width = 400;
    c->fetch_min_height = 250;
    c->webhook_timeout = 10;
    c->webhook_backoff_base = 30;
    c->webhook_backoff_max = 3600;
    /* Contract: retries for at least 24 hours. */
    c->webhook_retry_window = 86400;
    c->webhook_poll_interval = 1;
    /* One receiver that hangs until webhook_timeout holds one thread, not
     * every company's webhooks. */
    c->webhook_workers = 4;
    c->orphan_sweep_interval = 600;
    /* Longer than any request can take: the shipped RequestReadTimeout
     * (MinRate 500 B/s) lets a 22,020,096-byte body take about 12 hours,
     * and a spool file must not be swept while its upload still runs. */
    c->orphan_min_age = 86400;
}

static const key_t_ *find_key(const char *name, size_t len)
{
    size_t i, j;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *k = keys[i].name;

        if (strlen(k) != len) {
            continue;
        }
        for (j = 0; j < len; j++) {
            char c = name[j] == '-' ? '_' : name[j];

            if (c != k[j]) {
                break;
            }
        }
        if (j == len) {
            return &keys[i];
        }
    }
    return NULL;
}

static int set_value(cc_kycd_cfg_t *c, apr_pool_t *p, const key_t_ *k,
                     const char *v, const char *where)
{
    char *end;
    double d;
    void *slot = (char *)c + k->off;

    if (k->type == T_STR) {
        *(const char **)slot = apr_pstrdup(p, v);
        return 0;
    }
    if (k->type == T_BOOL) {
        if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes")
            || !strcmp(v, "on")) {
            *(int *)slot = 1;
        }
        else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no")
                 || !strcmp(v, "off")) {
            *(int *)slot = 0;
        }
        else {
            fprintf(stderr, "cartevo-kycd: %s: %s must be true or false\n",
                    where, k->name);
            return -1;
        }
        return 0;
    }
    errno = 0;
    d = strtod(v, &end);
    if (errno != 0 || end == v || *end != '\0' || !isfinite(d) || d < k->min
        || d > k->max
        || (k->type != T_DBL && d != floor(d))) {
        fprintf(stderr, "cartevo-kycd: %s: %s must be a %snumber from %g "
                "to %g\n", where, k->name,
                k->type == T_DBL ? "" : "whole ", k->min, k->max);
        return -1;
    }
    switch (k->type) {
    case T_INT:
        *(int *)slot = (int)d;
        break;
    case T_UINT:
        *(unsigned *)slot = (unsigned)d;
        break;
    case T_LONG:
        *(long *)slot = (long)d;
        break;
    case T_ULL:
        *(unsigned long long *)slot = (unsigned long long)d;
        break;
    default:
        *(double *)slot = d;
        break;
    }
    return 0;
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t') {
        s++;
    }
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'
                     || e[-1] == '\r')) {
        *--e = '\0';
    }
    return s;
}

static int load_file(cc_kycd_cfg_t *c, apr_pool_t *p, const char *path)
{
    FILE *f = fopen(path, "re");
    char line[4096];
    int n = 0, rc = 0;

    if (f == NULL) {
        fprintf(stderr, "cartevo-kycd: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char *s = trim(line), *eq, *name, *val, where[64];
        const key_t_ *k;

        n++;
        if (*s == '\0' || *s == '#') {
            continue;
        }
        snprintf(where, sizeof(where), "line %d", n);
        eq = strchr(s, '=');
        if (eq == NULL) {
            fprintf(stderr, "cartevo-kycd: %s %s: expected key = value\n",
                    path, where);
            rc = -1;
            break;
        }
        *eq = '\0';
        name = trim(s);
        val = trim(eq + 1);
        k = find_key(name, strlen(name));
        if (k == NULL) {
            fprintf(stderr, "cartevo-kycd: %s %s: unknown key %s\n", path,
                    where, name);
            rc = -1;
            break;
        }
        if (set_value(c, p, k, val, where) != 0) {
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

/* verify_url and issuer_url are the operator's (decisions.md 3): they
 * may be private, but they carry customer data and API keys, so they
 * must be https://; anything else stops the start, naming the key. */
static int check_operator_url(const char *key, const char *url)
{
    if (url != NULL && cc_url_check_https(url, strlen(url), NULL)
                           != CC_URL_OK) {
        fprintf(stderr, "cartevo-kycd: %s must be an https:// URL\n", key);
        return -1;
    }
    return 0;
}

/* allow_targets, parsed once here so that a bad entry stops the start. */
static int check_targets(cc_kycd_cfg_t *cfg, apr_pool_t *p)
{
    char err[160];

    cfg->targets = apr_pcalloc(p, sizeof(*cfg->targets));
    if (cc_targets_parse(cfg->allow_targets, cfg->targets, err, sizeof(err))
        != 0) {
        fprintf(stderr, "cartevo-kycd: allow_targets: %s; list exact "
                "host:port entries separated by commas\n", err);
        return -1;
    }
    return 0;
}

static void usage(void)
{
    size_t i;

    fputs("usage: cartevo-kycd [--config FILE] [--foreground] [--KEY VALUE]"
          "...\n"
          "Every config file key is also a flag (flags win); --db is\n"
          "--database. Keys:\n",
          stderr);
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        fprintf(stderr, "  %s\n", keys[i].name);
    }
}

int cc_kycd_config_load(cc_kycd_cfg_t *cfg, apr_pool_t *p, int argc,
                        const char *const *argv)
{
    int i;

    defaults(cfg);
    /* The file first, wherever --config is, so that flags win. */
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage();
            return 1;
        }
        if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            cfg->config_file = argv[++i];
        }
        else if (!strncmp(argv[i], "--config=", 9)) {
            cfg->config_file = argv[i] + 9;
        }
    }
    if (cfg->config_file != NULL && load_file(cfg, p, cfg->config_file) != 0) {
        return -1;
    }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *name, *eq, *val;
        const key_t_ *k;
        size_t len;

        if (!strcmp(a, "--config")) {
            i++;
            continue;
        }
        if (!strncmp(a, "--config=", 9)) {
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "cartevo-kycd: unexpected argument %s\n", a);
            return -1;
        }
        name = a + 2;
        eq = strchr(name, '=');
        len = eq ? (size_t)(eq - name) : strlen(name);
        if (len == 2 && !strncmp(name, "db", 2)) {
            k = find_key("database", 8);
        }
        else {
            k = find_key(name, len);
        }
        if (k == NULL) {
            fprintf(stderr, "cartevo-kycd: unknown option %s\n", a);
            return -1;
        }
        if (eq) {
            val = eq + 1;
        }
        else if (k->type == T_BOOL) {
            val = "true"; /* --foreground */
        }
        else if (i + 1 < argc) {
            val = argv[++i];
        }
        else {
            fprintf(stderr, "cartevo-kycd: %s needs a value\n", a);
            return -1;
        }
        if (set_value(cfg, p, k, val, "command line") != 0) {
            return -1;
        }
    }
    if (cfg->database == NULL || cfg->database[0] == '\0') {
        fputs("cartevo-kycd: no database: set database (or --db DSN)\n",
              stderr);
        return -1;
    }
    if (strcmp(cfg->verify_provider, "local") != 0
        && strcmp(cfg->verify_provider, "http") != 0) {
        fputs("cartevo-kycd: verify_provider must be local or http\n",
              stderr);
        return -1;
    }
    if (!strcmp(cfg->verify_provider, "http") && cfg->verify_url == NULL) {
        fputs("cartevo-kycd: verify_provider http needs verify_url\n",
              stderr);
        return -1;
    }
    if (strcmp(cfg->enroll_provider, "sandbox") != 0
        && strcmp(cfg->enroll_provider, "http") != 0) {
        fputs("cartevo-kycd: enroll_provider must be sandbox or http\n",
              stderr);
        return -1;
    }
    if (!strcmp(cfg->enroll_provider, "http") && cfg->issuer_url == NULL) {
        fputs("cartevo-kycd: enroll_provider http needs issuer_url\n",
              stderr);
        return -1;
    }
    if (check_operator_url("verify_url", cfg->verify_url) != 0
        || check_operator_url("issuer_url", cfg->issuer_url) != 0
        || check_targets(cfg, p) != 0) {
        return -1;
    }
    if (cfg->public_base_url == NULL) {
        /* Webhook bodies carry absolute document URLs (api-contract.md). */
        cfg->public_base_url = "http://localhost/api/v1";
    }
    return 0;
}
