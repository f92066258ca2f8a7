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

static const char customer_sql[] =
    CC_CUSTOMER_SELECT "FROM customers c WHERE c.id = $1::uuid";

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
    const char *v[CC_CUSTOMER_COLUMNS];
    int i, has_front, has_back;
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
    for (i = 0; i < CC_CUSTOMER_COLUMNS; i++) {
        v[i] = col(res, i);
    }
    cc_customer_from_row(&c, v, &has_front, &has_back);
    if (has_front
        && asprintf(&image, "%.*s/customers/%s/documents/front", (int)blen,
                    base, c.id) < 0) {
        image = NULL;
    }
    if (has_back
        && asprintf(&photo, "%.*s/customers/%s/documents/back", (int)blen,
                    base, c.id) < 0) {
        photo = NULL;
    }
    if (image) {
        c.image = image;
    }
    if (photo) {
        c.photo = photo;
    }
    o = cc_json_customer(&c, 1);
    s = o ? cc_json_string(o, NULL) : NULL;
    out = s ? strdup(s) : NULL;
    json_object_put(o);
    free(image);
    free(photo);
    PQclear(res);
    return out;
}
