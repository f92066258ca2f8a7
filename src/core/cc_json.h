/*
 * cc_json.h: the API's JSON shapes on json-c (envelopes, the customer
 * object), httpd-free so the module, the daemon (webhook bodies) and the
 * tests build byte-identical documents.
 */
#ifndef CC_JSON_H
#define CC_JSON_H

#include <json-c/json.h>
#include <stddef.h>

/* HTTP reason used in the "error" member ("Bad Request", ...), or
 * "Error" for a status the contract does not name. */
const char *cc_json_reason(int status);

/* {"success": false, "statusCode", "message", "error"}; the caller owns
 * the object (json_object_put). */
json_object *cc_json_error_new(int status, const char *message);

/* Appends {"field", "message"} to the envelope's "errors" array (created
 * on first use). field is cut to 64 bytes at a UTF-8 boundary and invalid
 * bytes are replaced by U+FFFD, so any client-sent name is safe to echo. */
void cc_json_error_add(json_object *env, const char *field, size_t field_len,
                       const char *message);

/* 64 bytes of input can grow to 3 bytes per replaced byte, plus NUL. */
#define CC_JSON_FIELD_MAX (64 * 3 + 1)

/* Cuts a client-sent field name to 64 bytes at a UTF-8 boundary and
 * replaces invalid bytes and NUL by U+FFFD, so it is safe to echo; returns
 * the length written to out (NUL-terminated). */
size_t cc_json_clean_field(const char *field, size_t field_len,
                           char out[CC_JSON_FIELD_MAX]);

/* {"success": true, "statusCode", "message", "data"}; takes ownership of
 * data (NULL gives "data": null). */
json_object *cc_json_success_new(int status, const char *message,
                                 json_object *data);

/* Serialises without escaping "/" and without pretty-printing. The string
 * belongs to obj and lives until obj is freed. */
const char *cc_json_string(json_object *obj, size_t *len);

/* A customer row as strings (NULL means JSON null). Timestamps are
 * already in the API's ISO 8601 UTC millisecond form. */
typedef struct {
    const char *id;
    const char *first_name;
    const char *last_name;
    const char *country;
    const char *email;
    const char *street;
    const char *city;
    const char *state;
    const char *postal_code;
    const char *country_iso_code;
    const char *phone_country_code;
    const char *phone_number;
    const char *identification_number;
    const char *type;
    const char *image;
    const char *photo;
    const char *date_of_birth; /* YYYY-MM-DD; shown as ...T00:00:00.000Z */
    int is_active;
    const char *created_at;
    const char *updated_at;
    /* Only in the full form (GET /customers/{id}, webhooks). */
    const char *kyc_status;
    const char *kyc_reason;
    const char *kyc_reason_message;
    const char *enrollment_status;
    const char *issuer_customer_id;
} cc_customer_t;

/* The SELECT list that reads a customer for cc_customer_from_row(), shared
 * by the module (GET) and the daemon (webhook bodies) so that both show the
 * same fields formatted the same way. Append "FROM customers c WHERE ...". */
#define CC_CUSTOMER_TS(col)                                                 \
    "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define CC_CUSTOMER_COLS                                                    \
    "c.id, c.first_name, c.last_name, c.country, c.email, "                 \
    "c.street, c.city, c.state, c.postal_code, c.country_iso_code, "        \
    "c.phone_country_code, c.phone_number, c.identification_number, "       \
    "c.id_document_type, to_char(c.date_of_birth, 'YYYY-MM-DD'), "         \
    "c.is_active, " CC_CUSTOMER_TS("c.created_at") ", "                    \
    CC_CUSTOMER_TS("c.updated_at") ", "                                     \
    "c.kyc_status, c.kyc_reason, c.kyc_reason_message, "                    \
    "c.enrollment_status, c.issuer_customer_id, "                           \
    "c.front_url IS NULL AND EXISTS (SELECT 1 FROM customer_documents d "   \
    "WHERE d.customer_id = c.id AND d.side = 'front'), "                    \
    "c.front_url IS NULL AND EXISTS (SELECT 1 FROM customer_documents d "   \
    "WHERE d.customer_id = c.id AND d.side = 'back'), "                     \
    "c.front_url, c.back_url "
#define CC_CUSTOMER_SELECT "SELECT " CC_CUSTOMER_COLS
#define CC_CUSTOMER_COLUMNS 27

/* Fills c from the CC_CUSTOMER_COLUMNS values of one row (NULL for SQL
 * NULL). A customer enrolled by URL gets image / photo = the caller's
 * URLs (api-contract.md: they are echoed in every read); otherwise they
 * are left NULL and *has_front / *has_back say whether those documents
 * are stored, for the caller to build our URLs. */
void cc_customer_from_row(cc_customer_t *c, const char *const *v,
                          int *has_front, int *has_back);

/* The 201 "data" object (full == 0), or the GET /customers/{id} object
 * with country_iso_code, kyc_* and enrollment fields (full == 1). */
json_object *cc_json_customer(const cc_customer_t *c, int full);

#endif
