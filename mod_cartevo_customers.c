/*
 * mod_cartevo_customers.c: the module record, its directives and hooks.
 * All request work lives in src/module/, the httpd-free core in src/core/.
 */
#include "src/module/cc_mod.h"

static const command_rec cc_cmds[] = {
    AP_INIT_TAKE1("CartevoDocumentDir", cc_cfg_set_srv_str, (void *)0,
                  RSRC_CONF, "Directory of KYC document files "
                  "(default " CC_DEFAULT_DOC_DIR ")"),
    AP_INIT_TAKE1("CartevoTokenSecretFile", cc_cfg_set_srv_str, (void *)1,
                  RSRC_CONF, "File holding the HS256 token secret "
                  "(required, at least 32 bytes)"),
    AP_INIT_TAKE1("CartevoDaemonSocket", cc_cfg_set_srv_str, (void *)2,
                  RSRC_CONF, "Unix socket of cartevo-kycd "
                  "(default " CC_DEFAULT_DAEMON_SOCKET ")"),
    AP_INIT_TAKE1("CartevoPublicBaseURL", cc_cfg_set_srv_str, (void *)3,
                  RSRC_CONF, "Public URL of the API mount, for document "
                  "links (default: from the request)"),
    AP_INIT_TAKE1("CartevoDaemonTimeout", cc_cfg_set_daemon_timeout, NULL,
                  RSRC_CONF, "Milliseconds to wait for the daemon's socket "
                  "(default 100)"),
    AP_INIT_TAKE1("CartevoAuthCacheSeconds", cc_cfg_set_auth_cache, NULL,
                  RSRC_CONF, "Seconds a credential's state is cached, 0-60 "
                  "(default 30)"),
    AP_INIT_TAKE1("CartevoMaxFileSize", cc_cfg_set_max_file_size, NULL,
                  RSRC_CONF | ACCESS_CONF, "Largest document in bytes "
                  "(default 10485760)"),
    AP_INIT_TAKE1("CartevoMinImagePixels", cc_cfg_set_min_pixels, NULL,
                  RSRC_CONF | ACCESS_CONF, "Smallest image, WIDTHxHEIGHT in "
                  "either orientation (default 400x250)"),
    { NULL }
};

static void cc_child_init(apr_pool_t *p, server_rec *s)
{
    cc_auth_child_init(p, s);
}

static void cc_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_post_config(cc_cfg_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(cc_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_map_to_storage(cc_map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_handler(cc_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(cc_metrics_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(cc_metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(cc_metrics_log, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(cartevo_customers) = {
    STANDARD20_MODULE_STUFF,
    cc_cfg_create_dir,
    cc_cfg_merge_dir,
    cc_cfg_create_srv,
    cc_cfg_merge_srv,
    cc_cmds,
    cc_register_hooks,
    AP_MODULE_FLAG_NONE
};
