/*
 * cc_mod.h: what the module's files share: configuration, log tags and
 * the cross-file functions (cc_<area>_<verb>). Only the module record is
 * exported from the shared object; everything here has hidden linkage in
 * practice because the link exports nothing else.
 */
#ifndef CC_MOD_H
#define CC_MOD_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_dbd.h"
#include "mod_dbd.h"

#include "cc_json.h"
#include "cc_store.h"

#include <stdatomic.h>

/* Every ap_log_* line of this module carries a unique tag. */
#define CCLOGNO(n) "CC" #n ": "

extern module AP_MODULE_DECLARE_DATA cartevo_customers_module;

#define CC_HANDLER_NAME "cartevo-customers"

/* Request notes for logs (conf/cartevo-log.conf): ids only, never PII. */
#define CC_NOTE_REQUEST "cartevo-request-id"
#define CC_NOTE_COMPANY "cartevo-company-id"
#define CC_NOTE_CUSTOMER "cartevo-customer-id"

/* Per-server: resources. Unset values are NULL / -1 and get their
 * defaults in one place, cc_cfg_srv(). */
typedef struct {
    const char *doc_dir;
    const char *secret_file;
    const char *daemon_socket;
    const char *public_base_url;
    apr_interval_time_t daemon_timeout;
    int auth_cache_seconds;
    /* Loaded at post_config (as root, before privileges drop). */
    const unsigned char *secret;
    apr_size_t secret_len;
} cc_srv_cfg_t;

/* Per-directory: request policy. */
typedef struct {
    /* The API's paths are relative to the mount: the path of the section
     * that sets the handler (is_mount, see cc_cfg_post_config). */
    const char *mount;
    int is_mount;
    apr_off_t max_file_size;
    int min_w;
    int min_h;
} cc_dir_cfg_t;

#define CC_DEFAULT_DOC_DIR "/var/lib/cartevo/documents"
#define CC_DEFAULT_DAEMON_SOCKET "/run/cartevo-kycd/kycd.sock"
#define CC_DEFAULT_DAEMON_TIMEOUT_MS 100
#define CC_DEFAULT_AUTH_CACHE 30
#define CC_DEFAULT_MAX_FILE_SIZE ((apr_off_t)10485760)
#define CC_DEFAULT_MIN_W 400
#define CC_DEFAULT_MIN_H 250

/* config.c */
void *cc_cfg_create_dir(apr_pool_t *p, char *dir);
void *cc_cfg_merge_dir(apr_pool_t *p, void *base, void *add);
void *cc_cfg_create_srv(apr_pool_t *p, server_rec *s);
void *cc_cfg_merge_srv(apr_pool_t *p, void *base, void *add);
const char *cc_cfg_set_srv_str(cmd_parms *cmd, void *dc, const char *v);
const char *cc_cfg_set_daemon_timeout(cmd_parms *cmd, void *dc, const char *v);
const char *cc_cfg_set_auth_cache(cmd_parms *cmd, void *dc, const char *v);
const char *cc_cfg_set_max_file_size(cmd_parms *cmd, void *dc, const char *v);
const char *cc_cfg_set_min_pixels(cmd_parms *cmd, void *dc, const char *v);
int cc_cfg_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s);
const cc_srv_cfg_t *cc_cfg_srv(const request_rec *r);
const cc_dir_cfg_t *cc_cfg_dir(const request_rec *r);

/* log.c: when this process last logged a line of one kind. */
typedef _Atomic apr_time_t cc_log_slot_t;
int cc_log_minutely(cc_log_slot_t *last, int level);

/* metrics.c: Prometheus metrics in shared memory (see the file). */
#define CC_METRICS_HANDLER_NAME "cartevo-metrics"
typedef enum {
    CC_EP_UNMATCHED = 0,
    CC_EP_TOKEN,
    CC_EP_CUSTOMERS,
    CC_EP_ENROLL,
    CC_EP_CUSTOMER,
    CC_EP_DOCUMENT,
    CC_EP_COUNT
} cc_endpoint_t;
typedef enum {
    CC_REJECT_TOO_LARGE = 0,
    CC_REJECT_TYPE,
    CC_REJECT_UNREADABLE,
    CC_REJECT_TOO_SMALL,
    CC_REJECT_COUNT
} cc_reject_t;
int cc_metrics_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp, server_rec *s);
/* The route template the dispatcher chose for r. */
void cc_metrics_route(request_rec *r, cc_endpoint_t ep);
void cc_metrics_upload(apr_off_t bytes);
void cc_metrics_rejected(cc_reject_t why);
void cc_metrics_db_error(void);
int cc_metrics_log(request_rec *r);
int cc_metrics_handler(request_rec *r);

/* respond.c: the one place that turns outcomes into HTTP answers. */
int cc_http_error(request_rec *r, int status, const char *message);
/* Answers 401, 403, 503 (with Retry-After) or 507 with the contract's
 * message; any other status is answered as a 500. */
int cc_http_fail(request_rec *r, int status);
/* Sends JSON bytes as they are (an idempotent replay). */
int cc_http_raw_json(request_rec *r, int status, const char *body,
                     apr_size_t len);
int cc_http_json(request_rec *r, int status, json_object *body);
void cc_http_request_id(request_rec *r);
const char *cc_http_public_base(request_rec *r);

/* db.c */
void cc_db_register(server_rec *s);
ap_dbd_t *cc_db_acquire(request_rec *r);
/* Runs a prepared statement by label with string arguments, ended by a
 * NULL sentinel (so no argument may be NULL). Returns 0, or the driver error; *err (if non-NULL) gets
 * the driver's text, which may quote values and must never be logged. */
int cc_db_select(request_rec *r, ap_dbd_t *dbd, const char *label,
                 apr_dbd_results_t **res, const char **err, ...);
/* 1 when the connection is still usable after an error (reconnecting it
 * if it was lost). */
int cc_db_alive(request_rec *r, ap_dbd_t *dbd);
/* 1 when the last statement failed because the connection to the server
 * was lost (a restart, a failover, a killed session), not because of the
 * SQL; ask before cc_db_alive(), which reconnects. */
int cc_db_lost(ap_dbd_t *dbd);
const char *cc_db_get(request_rec *r, ap_dbd_t *dbd, apr_dbd_row_t *row,
                      int col);
/* The one mapping of a failed database step to a status: 503 when the
 * database cannot be reached (no connection, or it is not usable now),
 * otherwise 500 (logged with what). */
int cc_db_failure(request_rec *r, ap_dbd_t *dbd, const char *what);
/* BEGIN, COMMIT or ROLLBACK: 0 or -1. */
int cc_db_tx(request_rec *r, ap_dbd_t *dbd, const char *verb);
/* The server session (backend) a connection's statements run on. When
 * the connection is lost, that backend may live on (a network cut, a
 * commit waiting for a synchronous standby, a unique-index wait) and
 * commit later, so a new session's "no such row" proves nothing until
 * that exact backend is gone. */
typedef struct {
    int known;
    int libpq_pid;        /* PQbackendPID() when it was recorded */
    char pid[12];
    char start_us[24];    /* backend_start, microseconds since the epoch */
    char sysid[24];       /* the server's system identifier */
} cc_db_backend_t;
/* Records the connection's backend (cached per connection); 0, or -1
 * with out->known = 0. */
int cc_db_backend(request_rec *r, ap_dbd_t *dbd, cc_db_backend_t *out);
/* On a (reconnected) connection to the same server: terminates backend b
 * if it still runs and waits for it to exit. 1 when b is seen gone; 0
 * when that cannot be shown (unknown identity, another server, still
 * running, an error). */
int cc_db_backend_end(request_rec *r, ap_dbd_t *dbd,
                      const cc_db_backend_t *b);

/* auth.c */
typedef struct {
    char client_id[64];
    char company_id[37];
} cc_principal_t;
int cc_auth_child_init(apr_pool_t *p, server_rec *s);
/* Verifies the Bearer token and that the credential is not revoked;
 * returns OK, or the status to answer (401, 500, 503). *kyb_approved says
 * whether the company may create customers. */
int cc_auth_check(request_rec *r, cc_principal_t *who, int *kyb_approved);
/* cc_auth_check() for an endpoint: OK, or the status to answer with
 * cc_http_fail() (401, 403 when need_kyb and KYB is not APPROVED, 500,
 * 503). */
int cc_auth_require(request_rec *r, cc_principal_t *who, int need_kyb);

/* store.c: the core store (cc_store.h) under the request's pool. */
/* 507 for a full disk or quota (ENOSPC, EDQUOT), 500 for anything else. */
int cc_spool_http_status(int err);
/* Opens a spool in CartevoDocumentDir owned by r->pool; 0 or an errno
 * (logged). */
int cc_spool_open(request_rec *r, cc_store_spool_t **out);
/* cc_store_commit(), logged. */
int cc_spool_commit(request_rec *r, cc_store_spool_t *sp, int sync_dir);
/* Removes the spool's file now (a passport's back). */
void cc_spool_discard(request_rec *r, cc_store_spool_t *sp);
const char *cc_spool_path(request_rec *r, const char *name);

/* notify.c */
void cc_notify_daemon(request_rec *r, const char *job_id);

/* handlers */
int cc_handle_token(request_rec *r);
int cc_handle_create(request_rec *r);
int cc_handle_enroll(request_rec *r);
int cc_handle_list(request_rec *r);
int cc_handle_get(request_rec *r, const char *id);
/* The GET /customers/{id} object from one row of CC_CUSTOMER_COLS. */
json_object *cc_customer_object(request_rec *r, const char *const *v);
int cc_handle_document(request_rec *r, const char *id, const char *side);
int cc_handler(request_rec *r);
int cc_map_to_storage(request_rec *r);

#endif
