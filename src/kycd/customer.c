/*
 * customer.c: a customer row as the object of GET /customers/{id}, for
 * webhook bodies. The same cc_json_customer() the module uses shapes it,
 * and the SQL formats timestamps the way the module's does, so a receiver
 * sees byte-for-byte the fields a GET would show.
 */
#include "kycd.h"

#include "cc_json.h"

#include <stdlib.h>
#include <string.h>

#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', " \
                "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

static const char customer_sql[] =
    "SELECT c.id, c.first_name, c.last_name, c.country, c.email, c.street, "
    "c.city, c.state, c.postal_code, c.country_iso_code, "
    "c.phone_country_code, c.phone_number, c.identification_number, "
    "c.id_document_type, to_char(c.date_of_birth, 'YYYY-MM-DD'), "
    "c.is_active, " TS("c.created_at") ", " TS("c.updated_at") ", "
    "c.kyc_status, c.kyc_reason, c.kyc_reason_message, "
    "c.enrollment_status, c.issuer_customer_id, "
    "EXISTS (SELECT 1 FROM customer_documents d WHERE d.customer_id = c.id "
    "AND d.side = 'front'), "
    "EXISTS (SELECT 1 FROM customer_documents d WHERE d.customer_id = c.id "
    "AND d.side = 'back') "
    "FROM customers c WHERE c.id = $1::uuid";

static const char *col(PGresult *res, int i)
{
    return PQgetisnull(res, 0, i) ? NULL : PQgetvalue(res, 0, i);
}

char *cc_customer_json(PGconn *conn, const cc_kycd_cfg_t *cfg,
                       const char *customer_id)
{
    const char *vals[1] = { customer_id };
    PGresult *res = cc_db_exec(conn, "load customer", customer_sql, 1, vals);
    cc_customer_t c;
    json_object *o;
    char *image = NULL, *photo = NULL, *out = NULL;
    const char *base = cfg->public_base_url, *s;
    size_t blen = strlen(base);

    if (res == NULL) {
        return NULL;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        return NULL;
    }
    /* A trailing slash in the configured base would double up. */
    while (blen > 0 && base[blen - 1] == '/') {
        blen--;
    }
    memset(&c, 0, sizeof(c));
    c.id = col(res, 0);
    c.first_name = col(res, 1);
    c.last_name = col(res, 2);
    c.country = col(res, 3);
    c.email = col(res, 4);
    c.street = col(res, 5);
    c.city = col(res, 6);
    c.state = col(res, 7);
    c.postal_code = col(res, 8);
    c.country_iso_code = col(res, 9);
    c.phone_country_code = col(res, 10);
    c.phone_number = col(res, 11);
    c.identification_number = col(res, 12);
    c.type = col(res, 13);
    c.date_of_birth = col(res, 14);
    c.is_active = col(res, 15) && col(res, 15)[0] == 't';
    c.created_at = col(res, 16);
    c.updated_at = col(res, 17);
    c.kyc_status = col(res, 18);
    c.kyc_reason = col(res, 19);
    c.kyc_reason_message = col(res, 20);
    c.enrollment_status = col(res, 21);
    c.issuer_customer_id = col(res, 22);
    if (col(res, 23)[0] == 't'
        && asprintf(&image, "%.*s/customers/%s/documents/front", (int)blen,
                    base, c.id) < 0) {
        image = NULL;
    }
    if (col(res, 24)[0] == 't'
        && asprintf(&photo, "%.*s/customers/%s/documents/back", (int)blen,
                    base, c.id) < 0) {
        photo = NULL;
    }
    c.image = image;
    c.photo = photo;
    o = cc_json_customer(&c, 1);
    s = o ? cc_json_string(o, NULL) : NULL;
    out = s ? strdup(s) : NULL;
    json_object_put(o);
    free(image);
    free(photo);
    PQclear(res);
    return out;
}
