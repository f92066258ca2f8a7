/*
 * config.c: directives, their defaults and merge rules, and start-up work
 * (reading the token secret, finding mod_dbd).
 *
 * Scalars are created "unset" and merged "child unless unset"; the getters
 * never hand out an unset value because post_config and the merge fill the
 * defaults in one place each.
 */
#include "cc_mod.h"
#include "cc_token.h"

#include "apr_file_io.h"
#include "apr_strings.h"
#include "http_core.h"

APLOG_USE_MODULE(cartevo_customers);

#define UNSET -1

void *cc_cfg_create_dir(apr_pool_t *p, char *dir)
{
    cc_dir_cfg_t *c = apr_pcalloc(p, sizeof(*c));
    apr_size_t n;

    /* The <Location> path is the mount point the API's paths are relative
     * to; a trailing slash would make "/api/v1/" + "customers" ambiguous. */
    if (dir) {
        n = strlen(dir);
        while (n > 0 && dir[n - 1] == '/') {
            n--;
        }
        c->mount = apr_pstrndup(p, dir, n);
    }
    c->max_file_size = UNSET;
    c->min_w = UNSET;
    c->min_h = UNSET;
    return c;
}

void *cc_cfg_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    cc_dir_cfg_t *base = basev, *add = addv;
    cc_dir_cfg_t *c = apr_pcalloc(p, sizeof(*c));

    /* core lets the last merged section with SetHandler decide the
     * handler, so that section's path is the mount: sections that only
     * carry our directives (a nested <Location> with its own
     * CartevoMaxFileSize, a <Location />) must not move it. */
    c->is_mount = add->is_mount || base->is_mount;
    c->mount = add->is_mount ? add->mount : base->mount;
    c->max_file_size = add->max_file_size != UNSET ? add->max_file_size
                                                   : base->max_file_size;
    c->min_w = add->min_w != UNSET ? add->min_w : base->min_w;
    c->min_h = add->min_w != UNSET ? add->min_h : base->min_h;
    return c;
}

void *cc_cfg_create_srv(apr_pool_t *p, server_rec *s)
{
    cc_srv_cfg_t *c = apr_pcalloc(p, sizeof(*c));

    (void)s;
    c->daemon_timeout = UNSET;
    c->auth_cache_seconds = UNSET;
    return c;
}

void *cc_cfg_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    cc_srv_cfg_t *base = basev, *add = addv;
    cc_srv_cfg_t *c = apr_pcalloc(p, sizeof(*c));

    c->doc_dir = add->doc_dir ? add->doc_dir : base->doc_dir;
    c->secret_file = add->secret_file ? add->secret_file : base->secret_file;
    c->daemon_socket = add->daemon_socket ? add->daemon_socket
                                          : base->daemon_socket;
    c->public_base_url = add->public_base_url ? add->public_base_url
                                              : base->public_base_url;
    c->daemon_timeout = add->daemon_timeout != UNSET ? add->daemon_timeout
                                                     : base->daemon_timeout;
    c->auth_cache_seconds = add->auth_cache_seconds != UNSET
                                ? add->auth_cache_seconds
                                : base->auth_cache_seconds;
    return c;
}

const char *cc_cfg_set_srv_str(cmd_parms *cmd, void *dc, const char *v)
{
    cc_srv_cfg_t *c = ap_get_module_config(cmd->server->module_config,
                                           &cartevo_customers_module);
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    int which = (int)(apr_uintptr_t)cmd->info;
    apr_size_t n;

    (void)dc;
    if (err) {
        return err;
    }
    switch (which) {
    case 0:
        c->doc_dir = ap_server_root_relative(cmd->pool, v);
        break;
    case 1:
        c->secret_file = ap_server_root_relative(cmd->pool, v);
        break;
    case 2:
        c->daemon_socket = ap_server_root_relative(cmd->pool, v);
        break;
    default:
        if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) {
            return "CartevoPublicBaseURL must start with http:// or https://";
        }
        n = strlen(v);
        while (n > 0 && v[n - 1] == '/') {
            n--;
        }
        c->public_base_url = apr_pstrndup(cmd->pool, v, n);
        break;
    }
    if ((which == 0 && !c->doc_dir) || (which == 1 && !c->secret_file)
        || (which == 2 && !c->daemon_socket)) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": invalid path ", v,
                           NULL);
    }
    return NULL;
}

/* Parses a whole decimal number within [min, max]; NULL on success. */
static const char *parse_num(cmd_parms *cmd, const char *v, apr_int64_t min,
                             apr_int64_t max, apr_int64_t *out)
{
    char *end;
    apr_int64_t n;

    errno = 0;
    n = apr_strtoi64(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max) {
        return apr_psprintf(cmd->pool, "%s: expected a whole number from %"
                            APR_INT64_T_FMT " to %" APR_INT64_T_FMT
                            ", got '%s'", cmd->cmd->name, min, max, v);
    }
    *out = n;
    return NULL;
}

const char *cc_cfg_set_daemon_timeout(cmd_parms *cmd, void *dc, const char *v)
{
    cc_srv_cfg_t *c = ap_get_module_config(cmd->server->module_config,
                                           &cartevo_customers_module);
    apr_int64_t ms;
    const char *err = parse_num(cmd, v, 1, 10000, &ms);

    (void)dc;
    if (!err) {
        c->daemon_timeout = apr_time_from_msec(ms);
    }
    return err;
}

const char *cc_cfg_set_auth_cache(cmd_parms *cmd, void *dc, const char *v)
{
    cc_srv_cfg_t *c = ap_get_module_config(cmd->server->module_config,
                                           &cartevo_customers_module);
    apr_int64_t secs;
    /* The contract: a KYB change or revocation takes effect within 60 s. */
    const char *err = parse_num(cmd, v, 0, 60, &secs);

    (void)dc;
    if (!err) {
        c->auth_cache_seconds = (int)secs;
    }
    return err;
}

const char *cc_cfg_set_max_file_size(cmd_parms *cmd, void *dc, const char *v)
{
    cc_dir_cfg_t *c = dc;
    apr_int64_t n;
    const char *err = parse_num(cmd, v, 1, APR_INT64_C(1) << 40, &n);

    if (!err) {
        c->max_file_size = (apr_off_t)n;
    }
    return err;
}

const char *cc_cfg_set_min_pixels(cmd_parms *cmd, void *dc, const char *v)
{
    cc_dir_cfg_t *c = dc;
    unsigned int w, h;
    char tail;

    (void)cmd;
    if (sscanf(v, "%ux%u%c", &w, &h, &tail) != 2 || w < 1 || h < 1
        || w > 65535 || h > 65535) {
        return "CartevoMinImagePixels: expected WIDTHxHEIGHT, e.g. 400x250";
    }
    c->min_w = (int)w;
    c->min_h = (int)h;
    return NULL;
}

/* Reads the HMAC secret while still root, so the file can be 0600 root. */
static int load_secret(apr_pool_t *p, server_rec *s, cc_srv_cfg_t *c)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;
    unsigned char *buf;
    apr_status_t rv;

    if (!c->secret_file) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, CCLOGNO(00101)
                     "CartevoTokenSecretFile is not set");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rv = apr_file_open(&f, c->secret_file, APR_FOPEN_READ, 0, p);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, CCLOGNO(00102)
                     "cannot read CartevoTokenSecretFile %s", c->secret_file);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (fi.size > 4096) {
        apr_file_close(f);
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, CCLOGNO(00103)
                     "CartevoTokenSecretFile %s is larger than 4096 bytes",
                     c->secret_file);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    buf = apr_palloc(p, (apr_size_t)fi.size + 1);
    n = (apr_size_t)fi.size;
    rv = apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    /* A trailing newline from an editor or "echo" is not part of it. */
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }
    if (rv != APR_SUCCESS || n < CC_TOKEN_MIN_SECRET) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, CCLOGNO(00104)
                     "CartevoTokenSecretFile %s must hold at least %d bytes",
                     c->secret_file, CC_TOKEN_MIN_SECRET);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    c->secret = buf;
    c->secret_len = n;
    return OK;
}

/* Marks the <Location> sections that set a handler as mounts, giving
 * them our configuration if none of our directives created one: the
 * handler may well be set in a section that holds nothing else. Regex
 * and wildcard sections have no path to be relative to. */
static void mark_mounts(apr_pool_t *p, server_rec *s)
{
    core_server_config *sconf = ap_get_core_module_config(s->module_config);
    ap_conf_vector_t **sec;
    core_dir_config *cd;
    cc_dir_cfg_t *c;
    int i;

    if (!sconf->sec_url) {
        return;
    }
    sec = (ap_conf_vector_t **)sconf->sec_url->elts;
    for (i = 0; i < sconf->sec_url->nelts; i++) {
        cd = ap_get_core_module_config(sec[i]);
        if (!cd || !cd->expr_handler || cd->r || cd->d_is_fnmatch || !cd->d) {
            continue;
        }
        c = ap_get_module_config(sec[i], &cartevo_customers_module);
        if (!c) {
            c = cc_cfg_create_dir(p, cd->d);
            ap_set_module_config(sec[i], &cartevo_customers_module, c);
        }
        c->is_mount = 1;
    }
}

int cc_cfg_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s)
{
    server_rec *sp;
    cc_srv_cfg_t *c;
    int rc;

    (void)plog;
    (void)ptemp;
    for (sp = s; sp; sp = sp->next) {
        mark_mounts(pconf, sp);
        c = ap_get_module_config(sp->module_config,
                                 &cartevo_customers_module);
        if (!c->doc_dir) {
            c->doc_dir = CC_DEFAULT_DOC_DIR;
        }
        if (!c->daemon_socket) {
            c->daemon_socket = CC_DEFAULT_DAEMON_SOCKET;
        }
        if (c->daemon_timeout == UNSET) {
            c->daemon_timeout =
                apr_time_from_msec(CC_DEFAULT_DAEMON_TIMEOUT_MS);
        }
        if (c->auth_cache_seconds == UNSET) {
            c->auth_cache_seconds = CC_DEFAULT_AUTH_CACHE;
        }
        if (!c->secret_file && sp != s) {
            continue;
        }
        rc = load_secret(pconf, sp, c);
        if (rc != OK) {
            return rc;
        }
        cc_db_register(sp);
    }
    return OK;
}

const cc_srv_cfg_t *cc_cfg_srv(const request_rec *r)
{
    return ap_get_module_config(r->server->module_config,
                                &cartevo_customers_module);
}

const cc_dir_cfg_t *cc_cfg_dir(const request_rec *r)
{
    static const cc_dir_cfg_t defaults = {
        .mount = "", .max_file_size = CC_DEFAULT_MAX_FILE_SIZE,
        .min_w = CC_DEFAULT_MIN_W, .min_h = CC_DEFAULT_MIN_H
    };
    cc_dir_cfg_t *c = ap_get_module_config(r->per_dir_config,
                                           &cartevo_customers_module);
    cc_dir_cfg_t *out;

    if (!c) {
        return &defaults;
    }
    if (c->max_file_size != UNSET && c->min_w != UNSET && c->mount) {
        return c;
    }
    /* Fill defaults into a request copy: the merged config is shared. */
    out = apr_pmemdup(r->pool, c, sizeof(*c));
    if (!out->mount) {
        out->mount = "";
    }
    if (out->max_file_size == UNSET) {
        out->max_file_size = CC_DEFAULT_MAX_FILE_SIZE;
    }
    if (out->min_w == UNSET) {
        out->min_w = CC_DEFAULT_MIN_W;
        out->min_h = CC_DEFAULT_MIN_H;
    }
    return out;
}
