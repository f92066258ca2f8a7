/*
 * handler_enroll.c: POST /customers/enroll (placeholder until the JSON
 * front-end lands).
 */
#include "cc_create.h"

int cc_handle_enroll(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "Allow", "GET, HEAD");
    r->connection->keepalive = AP_CONN_CLOSE;
    return cc_http_error(r, HTTP_METHOD_NOT_ALLOWED, "Method not allowed");
}
