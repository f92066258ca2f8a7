/*
 * reload.c: SIGHUP (decisions.md 4). The configuration is read again,
 * file and flags as at start; every setting takes effect except those
 * that shape what was set up at start (the database, the socket, the
 * user and group, the document directory, the thread counts and the
 * metrics address), which keep their running values and are logged as
 * needing a restart. The API key files are read again as the daemon's
 * own user; one it cannot read keeps the key it has.
 *
 * The new settings are swapped in with one atomic store of d->cfg and
 * the keys with one each: a thread sees the old or the new value of
 * each, and a job in flight finishes under what it started with where
 * it copied the pointer. Old configurations are never freed (a thread
 * may still hold one), so each reload keeps a few kilobytes in the
 * daemon's pool.
 */
#include "kycd.h"

#include <stdlib.h>
#include <string.h>

static int same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void keep_str(const char *key, const char **now, const char *was)
{
    if (!same(*now, was)) {
        cc_kycd_log(CC_LOG_WARN, "reload: %s changed; it needs a restart "
                    "(keeping the running value)", key);
        *now = was;
    }
}

static void keep_int(const char *key, int *now, int was)
{
    if (*now != was) {
        cc_kycd_log(CC_LOG_WARN, "reload: %s changed; it needs a restart "
                    "(keeping the running value)", key);
        *now = was;
    }
}

static void keep_restart_only(cc_kycd_cfg_t *n, const cc_kycd_cfg_t *o)
{
    keep_str("database", &n->database, o->database);
    keep_str("socket", &n->socket_path, o->socket_path);
    keep_str("socket_group", &n->socket_group, o->socket_group);
    keep_str("user", &n->user, o->user);
    keep_str("group", &n->group, o->group);
    keep_str("document_dir", &n->document_dir, o->document_dir);
    keep_str("metrics_listen", &n->metrics_listen, o->metrics_listen);
    keep_int("workers", &n->workers, o->workers);
    keep_int("webhook_workers", &n->webhook_workers, o->webhook_workers);
    n->foreground = o->foreground;
}

/* The key in file into *out, or was when it cannot be read now (logged).
 * -1 when there is neither: a configuration that start-up would refuse. */
static int reread_key(const char *file, char *was, char **out)
{
    *out = file ? cc_kycd_read_secret(file) : NULL;
    if (file && *out == NULL) {
        if (was == NULL) {
            return -1;
        }
        cc_kycd_log(CC_LOG_WARN, "reload: keeping the key read earlier");
        *out = was;
    }
    return 0;
}

void cc_kycd_reload(cc_kycd_t *d, int argc, const char *const *argv)
{
    cc_kycd_cfg_t *o = d->cfg;
    cc_kycd_cfg_t *n = apr_pcalloc(d->pool, sizeof(*n));
    char *vk, *ik;

    if (cc_kycd_config_load(n, d->pool, argc, argv) != 0) {
        cc_kycd_log(CC_LOG_ERR, "reload: the configuration is not valid; "
                    "nothing changed");
        return;
    }
    keep_restart_only(n, o);
    if (reread_key(n->verify_api_key_file, d->verify_api_key, &vk) != 0
        || reread_key(n->issuer_api_key_file, d->issuer_api_key, &ik) != 0) {
        cc_kycd_log(CC_LOG_ERR, "reload: a new API key file cannot be "
                    "read; nothing changed");
        return;
    }
    /* Keys are swapped before the settings that name their provider. */
    d->verify_api_key = vk;
    d->issuer_api_key = ik;
    cc_kycd_warn_short_lease(n);
    if (n->targets->n > 0) {
        cc_kycd_log(CC_LOG_WARN, "allow_targets exempts %d target(s) from "
                    "the https and address rules: for development and "
                    "tests only", n->targets->n);
    }
    cc_kycd_set_debug(n->log_debug);
    d->cfg = n;
    cc_kycd_webhooks_kick(d);
    cc_kycd_log(CC_LOG_INFO, "reloaded: verify=%s, enroll=%s, sweep every "
                "%.3g s", n->verify_provider, n->enroll_provider,
                n->sweep_interval);
}
