/*
 * create.c: the create pipeline shared by both POSTs (see cc_create.h):
 * the checks before the body, the field rules in table order, and
 * everything after validation: idempotency, durable files, the one
 * transaction, the 201 or 409, the daemon's poke.
 */
#include "cc_create.h"
#include "cc_crypto.h"
#include "cc_db_sql.h"

#include "apr_strings.h"

APLOG_USE_MODULE(cartevo_customers);

int cc_create_refuse(request_rec *r, int status, const char *message)
{
    r->connection->keepalive = AP_CONN_CLOSE;
    return message ? cc_http_error(r, status, message)
                   : cc_http_fail(r, status);
}

int cc_create_begin(request_rec *r, cc_create_t *c, const char *path,
                    int *answer)
{
    int rc;

    memset(c, 0, sizeof(*c));
    c->r = r;
    c->path = path;
    c->dtype = CC_DOCTYPE_INVALID;
    rc = cc_auth_require(r, &c->who, 1);
    if (rc != OK) {
        *answer = cc_create_refuse(r, rc, NULL);
        return 1;
    }
    rc = cc_idem_header(c);
    if (rc != OK) {
        *answer = cc_create_refuse(
            r, HTTP_BAD_REQUEST,
            "Idempotency-Key must be 1-255 printable ASCII characters");
        return 1;
    }
    return 0;
}

int cc_create_recheck(cc_create_t *c, int *answer)
{
    cc_principal_t now;
    int rc = cc_auth_require(c->r, &now, 1);

    /* The same token names the same company; a credential revoked, a KYB
     * withdrawn or a token expired while the body arrived (through the
     * cache, so within CartevoAuthCacheSeconds) ends the request here. */
    if (rc == OK && strcmp(now.company_id, c->who.company_id) != 0) {
        rc = HTTP_UNAUTHORIZED;
    }
    if (rc == OK) {
        return 0;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, c->r, CCLOGNO(00909)
                  "credential no longer valid once the body was read (%d)",
                  rc);
    *answer = cc_http_fail(c->r, rc);
    return 1;
}

void cc_create_error(cc_create_t *c, const char *field, apr_size_t len,
                     const char *message)
{
    if (!c->errors) {
        c->errors = cc_json_error_new(HTTP_BAD_REQUEST, message);
    }
    cc_json_error_add(c->errors, field, len, message);
}

void cc_create_rule_error(void *ctx, const char *field, const char *message)
{
    cc_create_error(ctx, field, strlen(field), message);
}

void cc_create_extra(cc_create_t *c, const char *name, apr_size_t len,
                     int repeated)
{
    char clean[CC_JSON_FIELD_MAX];

    /* Field and message carry the same cleaned name: both are made from
     * the raw bytes, cleaned once each the same way. */
    cc_json_clean_field(name, len, clean);
    cc_create_error(c, name, len,
                    apr_pstrcat(c->r->pool, clean,
                                repeated ? " must not be repeated"
                                         : " is not allowed",
                                NULL));
}

typedef struct {
    apr_pool_t *pool;
    const char *msg[CC_F__COUNT];
} rule_errors_t;

static void collect_rule(void *ctx, const char *field, const char *message)
{
    rule_errors_t *e = ctx;
    int i = cc_rules_field_lookup(field, strlen(field));

    if (i >= 0) {
        e->msg[i] = apr_pstrdup(e->pool, message);
    }
}

void cc_create_fields(cc_create_t *c)
{
    rule_errors_t e;
    apr_time_exp_t today;
    const cc_value_t *t = &c->fields[CC_F_ID_DOCUMENT_TYPE];
    const char *msg, *name;
    int i;

    memset(&e, 0, sizeof(e));
    e.pool = c->r->pool;
    apr_time_exp_gmt(&today, apr_time_now());
    cc_rules_validate(c->fields, today.tm_year + 1900, today.tm_mon + 1,
                      today.tm_mday, collect_rule, &e);
    for (i = 0; i < CC_F__COUNT; i++) {
        msg = c->field_error[i] ? c->field_error[i] : e.msg[i];
        if (msg) {
            name = cc_rules_field_name((cc_field_t)i);
            cc_create_error(c, name, strlen(name), msg);
        }
    }
    c->dtype = t->present && !c->field_error[CC_F_ID_DOCUMENT_TYPE]
                   ? cc_rules_doctype(t->value, t->len)
                   : CC_DOCTYPE_INVALID;
}

/* The text values of the fields, NUL-terminated, for SQL. */
static void field_texts(cc_create_t *c, const char **v)
{
    int i;

    for (i = 0; i < CC_F__COUNT; i++) {
        v[i] = apr_pstrmemdup(c->r->pool, c->fields[i].value,
                              c->fields[i].len);
    }
}

/* One document's columns: storage name, mime, size, sha, w, h, id. */
static void doc_args(cc_create_t *c, int i, const char **a)
{
    cc_create_doc_t *d = &c->doc[i];
    apr_pool_t *p = c->r->pool;

    a[0] = cc_store_name(d->spool);
    a[1] = cc_doc_mime(d->type);
    a[2] = apr_psprintf(p, "%" APR_UINT64_T_FMT, cc_store_size(d->spool));
    a[3] = d->sha_hex;
    a[4] = apr_itoa(p, (int)d->width);
    a[5] = apr_itoa(p, (int)d->height);
    a[6] = cc_store_document_id(d->spool);
}

/* Runs the create statement for this request's shape. */
static int run_insert(cc_create_t *c, ap_dbd_t *dbd, const char *event_id,
                      apr_dbd_results_t **res, const char **err)
{
    request_rec *r = c->r;
    const char *v[CC_F__COUNT], *f[7], *b[7];
    const char *en = c->enroll ? "true" : "false", *co = c->who.company_id;

    field_texts(c, v);
#define FIELDS                                                              \
    c->id, co, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9],  \
        v[10], v[11], v[12], v[13]
    if (c->by_url) {
        return cc_db_select(r, dbd, CC_SQL_CREATE_URL, res, err, FIELDS,
                            c->doc[0].url,
                            c->ndocs > 1 ? c->doc[1].url : "", en, event_id,
                            co, NULL);
    }
    doc_args(c, 0, f);
    if (c->ndocs == 1) {
        return cc_db_select(r, dbd, CC_SQL_CREATE_1, res, err, FIELDS, en,
                            event_id, co, f[0], f[1], f[2], f[3], f[4], f[5],
                            f[6], NULL);
    }
    doc_args(c, 1, b);
    return cc_db_select(r, dbd, CC_SQL_CREATE_2, res, err, FIELDS, en,
                        event_id, co, f[0], f[1], f[2], f[3], f[4], f[5],
                        f[6], b[0], b[1], b[2], b[3], b[4], b[5], b[6], NULL);
#undef FIELDS
}

/* After the connection was lost: whether the customer row exists (1),
 * does not (0), or cannot be known (-1). The id is ours, so a new
 * session can tell a commit whose answer was lost from a statement that
 * never ran, but only once the backend that ran it is gone: until then
 * it may still commit (a network cut, a synchronous standby's wait). */
static int committed_anyway(cc_create_t *c, ap_dbd_t *dbd)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    int found = 0;

    if (!cc_db_alive(c->r, dbd)
        || cc_db_backend_end(c->r, dbd, &c->backend) != 1
        || cc_db_select(c->r, dbd, CC_SQL_CUSTOMER_EXISTS, &res, NULL, c->id,
                        NULL) != 0) {
        return -1;
    }
    while (apr_dbd_get_row(dbd->driver, c->r->pool, res, &row, -1) == 0) {
        found = 1;
    }
    return found;
}

/* The outcome of the insert. */
typedef struct {
    int status;           /* OK, 409, 500, 503 */
    int conflict_idnum;   /* 409 on the identification number */
    int row_may_exist;    /* the files must stay (the sweeper's then) */
    const char *created, *updated;
} insert_t;

/* Which unique index refused the row (the driver's text quotes the
 * duplicate values, so only the index name is looked for). When it was
 * the identification number, the email may be a duplicate too, and the
 * contract puts email first. */
static void classify_conflict(cc_create_t *c, ap_dbd_t *dbd, insert_t *out)
{
    apr_dbd_results_t *res;
    const char *email;

    out->status = HTTP_CONFLICT;
    if (!out->conflict_idnum) {
        return;
    }
    email = apr_pstrmemdup(c->r->pool, c->fields[CC_F_EMAIL].value,
                           c->fields[CC_F_EMAIL].len);
    if (cc_db_select(c->r, dbd, CC_SQL_EMAIL_TAKEN, &res, NULL,
                     c->who.company_id, email, NULL) == 0
        && apr_dbd_num_tuples(dbd->driver, res) > 0) {
        out->conflict_idnum = 0;
    }
}

static void insert_failed(cc_create_t *c, ap_dbd_t *dbd, const char *err,
                          insert_t *out)
{
    int committed, dup;

    /* err is the connection's last message: read it before anything else
     * runs on the connection. */
    dup = err && (strstr(err, CC_IDX_EMAIL) || strstr(err, CC_IDX_IDNUM));
    out->conflict_idnum = dup && !strstr(err, CC_IDX_EMAIL);
    /* Nothing more runs in an aborted transaction. */
    if (c->in_tx && !cc_db_lost(dbd)) {
        cc_db_tx(c->r, dbd, "ROLLBACK");
    }
    c->in_tx = 0;
    if (dup) {
        classify_conflict(c, dbd, out);
        return;
    }
    if (cc_db_lost(dbd)) {
        /* A restart, a failover or a killed session under a pooled
         * connection: a 503, and the row may have committed. */
        cc_metrics_db_error();
        committed = committed_anyway(c, dbd);
        out->row_may_exist = committed != 0;
        out->status = HTTP_SERVICE_UNAVAILABLE;
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, c->r, CCLOGNO(00904)
                      "database connection lost during the customer "
                      "insert (row %s)",
                      committed < 0 ? "unknown, files kept"
                                    : committed ? "committed, files kept"
                                                : "not written");
        return;
    }
    out->status = cc_db_failure(c->r, dbd, "customer insert");
}

static void insert_row(cc_create_t *c, ap_dbd_t *dbd, insert_t *out)
{
    char event_id[37];
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const char *err = NULL;

    memset(out, 0, sizeof(*out));
    if (cc_crypto_uuid4(c->id) != 0 || cc_crypto_uuid4(event_id) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, c->r, CCLOGNO(00905)
                      "cannot make a random id");
        out->status = HTTP_INTERNAL_SERVER_ERROR;
        return;
    }
    if (run_insert(c, dbd, event_id, &res, &err) != 0) {
        insert_failed(c, dbd, err, out);
        return;
    }
    while (apr_dbd_get_row(dbd->driver, c->r->pool, res, &row, -1) == 0) {
        out->created = cc_db_get(c->r, dbd, row, 0);
        out->updated = cc_db_get(c->r, dbd, row, 1);
        c->job_id = cc_db_get(c->r, dbd, row, 2);
    }
    if (!out->created || !c->job_id) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, c->r, CCLOGNO(00902)
                      "customer insert returned no row");
        /* The statement succeeded, so the row may well exist. */
        out->row_may_exist = 1;
        out->status = HTTP_INTERNAL_SERVER_ERROR;
        return;
    }
    out->status = OK;
}

/* The 201 envelope: the customer as created. Uploads point image / photo
 * at our documents; enroll echoes the caller's URLs. */
static json_object *created_body(cc_create_t *c, const insert_t *ins)
{
    request_rec *r = c->r;
    const char *v[CC_F__COUNT], *base = cc_http_public_base(r);
    cc_customer_t cu;

    apr_table_set(r->notes, CC_NOTE_CUSTOMER, c->id);
    field_texts(c, v);
    memset(&cu, 0, sizeof(cu));
    cu.id = c->id;
    cu.first_name = v[CC_F_FIRST_NAME];
    cu.last_name = v[CC_F_LAST_NAME];
    cu.country = v[CC_F_COUNTRY];
    cu.email = v[CC_F_EMAIL];
    cu.street = v[CC_F_STREET];
    cu.city = v[CC_F_CITY];
    cu.state = v[CC_F_STATE];
    cu.postal_code = v[CC_F_POSTAL_CODE];
    cu.phone_country_code = v[CC_F_COUNTRY_PHONE_CODE];
    cu.phone_number = v[CC_F_PHONE_NUMBER];
    cu.identification_number = v[CC_F_IDENTIFICATION_NUMBER];
    cu.type = v[CC_F_ID_DOCUMENT_TYPE];
    cu.date_of_birth = v[CC_F_DATE_OF_BIRTH];
    cu.is_active = 1;
    cu.created_at = ins->created;
    cu.updated_at = ins->updated;
    if (c->by_url) {
        cu.image = c->doc[0].url;
        cu.photo = c->ndocs > 1 ? c->doc[1].url : NULL;
    }
    else {
        cu.image = apr_pstrcat(r->pool, base, "/customers/", c->id,
                               "/documents/front", NULL);
        cu.photo = c->ndocs > 1 ? apr_pstrcat(r->pool, base, "/customers/",
                                              c->id, "/documents/back", NULL)
                                : NULL;
    }
    return cc_json_success_new(HTTP_CREATED, "Customer created successfully",
                               cc_json_customer(&cu, 0));
}

/* Makes every kept upload durable; the directory fsync once, last. */
static int commit_files(cc_create_t *c)
{
    int i, err;

    for (i = 0; !c->by_url && i < c->ndocs; i++) {
        err = cc_spool_commit(c->r, c->doc[i].spool, i == c->ndocs - 1);
        if (err != 0) {
            return cc_spool_http_status(err);
        }
    }
    return OK;
}

static void keep_files(cc_create_t *c)
{
    int i;

    for (i = 0; !c->by_url && i < c->ndocs; i++) {
        cc_store_keep(c->doc[i].spool);
    }
}

/* Sends an envelope, storing its exact bytes under the key first when the
 * answer is one that is replayed (a 409 outside any transaction). */
static int send_stored(cc_create_t *c, ap_dbd_t *dbd, int status,
                       json_object *env)
{
    size_t len;
    const char *s = cc_json_string(env, &len);
    int rc;

    if (c->idem_claimed && status == HTTP_CONFLICT) {
        cc_idem_complete(c, dbd, status, s, NULL);
    }
    rc = cc_http_raw_json(c->r, status, s, len);
    json_object_put(env);
    return rc;
}

static int conflict(cc_create_t *c, ap_dbd_t *dbd, const insert_t *ins)
{
    return send_stored(
        c, dbd, HTTP_CONFLICT,
        cc_json_error_new(HTTP_CONFLICT,
                          ins->conflict_idnum
                              ? "Customer with this identification_number "
                                "already exists"
                              : "Customer with this email already exists"));
}

/* A failure that is not stored: the claim is given up, the files stay
 * only when the row may exist. */
static int give_up(cc_create_t *c, ap_dbd_t *dbd, int status, int keep)
{
    if (c->in_tx && !cc_db_lost(dbd)) {
        cc_db_tx(c->r, dbd, "ROLLBACK");
    }
    c->in_tx = 0;
    if (keep) {
        keep_files(c);
    }
    if (dbd && c->idem_claimed && !cc_db_lost(dbd)) {
        cc_idem_release(c, dbd);
    }
    return cc_http_fail(c->r, status);
}

/* Lost while committing: 503, keeping the files unless the row is known
 * to be absent. */
static int commit_lost(cc_create_t *c, ap_dbd_t *dbd)
{
    int committed = cc_db_lost(dbd) ? committed_anyway(c, dbd) : 0;

    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, c->r, CCLOGNO(00908)
                  "the customer transaction did not commit cleanly");
    return give_up(c, dbd, cc_db_failure(c->r, dbd, "COMMIT"),
                   committed != 0);
}

/* Stores the 201 under the key and commits, with the customer. 0, or 1
 * when the request was answered instead (*answer). */
static int commit_with_key(cc_create_t *c, ap_dbd_t *dbd, const char *body,
                           int *answer)
{
    int rc = cc_idem_complete(c, dbd, HTTP_CREATED, body, c->id);

    if (rc > 0) {
        /* Our claim expired and another request holds the key now. */
        c->idem_claimed = 0;
        if (!cc_db_lost(dbd)) {
            cc_db_tx(c->r, dbd, "ROLLBACK");
        }
        c->in_tx = 0;
        *answer = cc_http_error(c->r, HTTP_CONFLICT,
                                "A request with this Idempotency-Key is "
                                "still in progress");
        return 1;
    }
    if (rc < 0) {
        *answer = give_up(c, dbd, cc_db_failure(c->r, dbd, "idempotency"),
                          0);
        return 1;
    }
    c->in_tx = 0;
    if (cc_db_tx(c->r, dbd, "COMMIT") != 0) {
        *answer = commit_lost(c, dbd);
        return 1;
    }
    return 0;
}

/* Claims the key (when there is one) and makes the files durable. OK, or
 * an answer was given (*answered). */
static int prepare(cc_create_t *c, ap_dbd_t *dbd, int *answered)
{
    int rc;

    *answered = 1;
    if (c->idem_key) {
        rc = cc_idem_claim(c, dbd);
        if (rc == DONE) {
            return OK;
        }
        if (rc != OK) {
            return give_up(c, dbd, rc, 0);
        }
    }
    rc = commit_files(c);
    if (rc != OK) {
        return give_up(c, dbd, rc, 0);
    }
    /* Unknown (an error): a lost answer then keeps the files. */
    cc_db_backend(c->r, dbd, &c->backend);
    if (c->idem_claimed) {
        if (cc_db_tx(c->r, dbd, "BEGIN") != 0) {
            return give_up(c, dbd, cc_db_failure(c->r, dbd, "BEGIN"), 0);
        }
        c->in_tx = 1;
    }
    *answered = 0;
    return OK;
}

int cc_create_finish(cc_create_t *c)
{
    request_rec *r = c->r;
    ap_dbd_t *dbd;
    insert_t ins;
    json_object *env;
    const char *body;
    size_t len;
    int rc, answered;

    if (c->errors) {
        return cc_http_json(r, HTTP_BAD_REQUEST, c->errors);
    }
    dbd = cc_db_acquire(r);
    if (!dbd) {
        return give_up(c, NULL, HTTP_SERVICE_UNAVAILABLE, 0);
    }
    rc = prepare(c, dbd, &answered);
    if (answered) {
        return rc;
    }
    insert_row(c, dbd, &ins);
    if (ins.status == HTTP_CONFLICT) {
        return conflict(c, dbd, &ins);
    }
    if (ins.status != OK) {
        return give_up(c, dbd, ins.status, ins.row_may_exist);
    }
    env = created_body(c, &ins);
    body = cc_json_string(env, &len);
    if (c->in_tx && commit_with_key(c, dbd, body, &rc)) {
        json_object_put(env);
        return rc;
    }
    keep_files(c);
    cc_notify_daemon(r, c->job_id);
    rc = cc_http_raw_json(r, HTTP_CREATED, body, len);
    json_object_put(env);
    return rc;
}
