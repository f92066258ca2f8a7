/*
 * cc_create.h: the one create pipeline behind POST /customers (multipart,
 * handler_create.c) and POST /customers/enroll (JSON, handler_enroll.c).
 *
 * The front-ends differ only in how fields and documents arrive; both
 * fill a cc_create_t and then run the same steps, in the contract's
 * precedence order:
 *
 *   cc_create_begin      401 / 403, then the Idempotency-Key header
 *   (front-end)          415, the body: framing, 413
 *   cc_create_recheck    401 / 403 again, now that the body is read
 *   (front-end)          a document's type
 *   cc_create_fields     the field rules, in table order, into the 400
 *   (front-end)          document, enroll and unknown-field errors
 *   (front-end)          the 422 gate (uploads)
 *   cc_create_finish     idempotency claim or replay, durable files, one
 *                        transaction, 201 or 409, the daemon's poke
 *
 * Results travel in the struct. The pipeline owns every spool's fate:
 * files are removed by the request pool's cleanup unless the pipeline
 * keeps them (after the commit, or when the row may exist).
 */
#ifndef CC_CREATE_H
#define CC_CREATE_H

#include "cc_mod.h"
#include "cc_doc.h"
#include "cc_rules.h"

#define CC_SIDE_FRONT 0
#define CC_SIDE_BACK 1

typedef struct {
    /* Uploads: the spool and what the gate measured. */
    cc_store_spool_t *spool;
    cc_doc_type_t type;
    unsigned width, height;
    char sha_hex[65];
    /* Enroll: the caller's URL (NUL-terminated, checked). */
    const char *url;
} cc_create_doc_t;

typedef struct {
    request_rec *r;
    cc_principal_t who;
    const char *path;     /* idempotency scope, relative to the mount */
    const char *idem_key; /* NULL without Idempotency-Key */
    char idem_token[33];  /* this request's claim */
    int idem_claimed;
    int in_tx;            /* a transaction is open on the connection */
    cc_db_backend_t backend; /* where the insert runs (a lost answer) */

    cc_value_t fields[CC_F__COUNT];
    /* A front-end's verdict that replaces the rules' for a field (JSON:
     * "<field> must be a string"), NULL for none. */
    const char *field_error[CC_F__COUNT];
    cc_doctype_t dtype;
    int enroll;
    int by_url;           /* enroll: documents are URLs to fetch */
    int ndocs;            /* documents kept: front, and back if any */
    cc_create_doc_t doc[2];

    json_object *errors;  /* the 400 envelope, once a field fails */

    /* Filled by cc_create_finish. */
    char id[37];
    const char *job_id;
} cc_create_t;

/* Auth (401, 403 for KYB) and the Idempotency-Key header. 0: go on; 1:
 * the request was answered (*answer is the handler's return) and its
 * connection closes, nothing was read. */
int cc_create_begin(request_rec *r, cc_create_t *c, const char *path,
                    int *answer);

/* The credential again, once the body is read (an upload can take
 * hours): 0 to go on, 1 answered (401 / 403 / 503 / 500). */
int cc_create_recheck(cc_create_t *c, int *answer);

/* Answers without reading the body; the connection cannot be reused. */
int cc_create_refuse(request_rec *r, int status, const char *message);

/* Adds a 400 entry (the first one is the envelope's message). field is
 * the raw name: it is cleaned before it is echoed. */
void cc_create_error(cc_create_t *c, const char *field, apr_size_t len,
                     const char *message);

/* cc_create_error() as a cc_rules_error_fn (ctx is the cc_create_t). */
void cc_create_rule_error(void *ctx, const char *field, const char *message);

/* The field rules in table order (with field_error overrides); sets
 * c->dtype. */
void cc_create_fields(cc_create_t *c);

/* Unknown or repeated names: "<name> is not allowed" / "<name> must not
 * be repeated". */
void cc_create_extra(cc_create_t *c, const char *name, apr_size_t len,
                     int repeated);

/* Everything after validation: answers the request. */
int cc_create_finish(cc_create_t *c);

/* idem.c: Idempotency-Key. */
/* OK, or 400 when the header is present and malformed (answered). */
int cc_idem_header(cc_create_t *c);
/* The request's fingerprint (SHA-256 hex) over what the pipeline keeps. */
void cc_idem_fingerprint(const cc_create_t *c, char out[65]);
/* Claims the key. OK: go on (c->idem_claimed); DONE: answered (a replay,
 * or a 409); otherwise the status of a failure (not answered). */
int cc_idem_claim(cc_create_t *c, ap_dbd_t *dbd);
/* Stores the answer under the claim, inside the caller's transaction for
 * a 201 (customer_id set). 0; 1 when the claim was lost (it expired and
 * another request took it); -1 on a database error. */
int cc_idem_complete(cc_create_t *c, ap_dbd_t *dbd, int status,
                     const char *body, const char *customer_id);
/* Gives the claim up (an answer that is not stored). */
void cc_idem_release(cc_create_t *c, ap_dbd_t *dbd);

#endif
