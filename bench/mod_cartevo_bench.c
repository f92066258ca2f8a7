/*
 * mod_cartevo_bench.c: the ceilings of ./dev bench (scenario e), never
 * shipped or installed. Built with apxs into the bench state directory.
 *
 *   SetHandler cartevo-bench-discard  reads the whole request body through
 *       the same input filters as the module (bucket brigades, 64 KiB
 *       reads), keeps nothing, answers 201 with a small JSON body: what
 *       httpd itself costs for a create's bytes;
 *   SetHandler cartevo-bench-json     answers a fixed 1 KiB JSON document:
 *       what httpd costs for a read's answer.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"
#include "apr_buckets.h"
#include "apr_strings.h"

#include <string.h>

#define JSON_BYTES 1024

/* Built once at load: a JSON object padded to exactly JSON_BYTES. */
static char fixed_json[JSON_BYTES + 1];

static void build_json(void)
{
    static const char head[] = "{\"status\":\"success\",\"message\":"
                               "\"Customer retrieved\",\"data\":{\"pad\":\"";
    static const char tail[] = "\"}}";
    size_t pad = JSON_BYTES - (sizeof(head) - 1) - (sizeof(tail) - 1);

    memcpy(fixed_json, head, sizeof(head) - 1);
    memset(fixed_json + sizeof(head) - 1, 'x', pad);
    memcpy(fixed_json + sizeof(head) - 1 + pad, tail, sizeof(tail));
}

/* Reads and drops the body; returns the bytes read or -1. */
static apr_off_t discard_body(request_rec *r)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool,
                                                r->connection->bucket_alloc);
    apr_off_t total = 0;
    int seen_eos = 0;

    while (!seen_eos) {
        apr_bucket *b;

        if (ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                           APR_BLOCK_READ, 65536) != APR_SUCCESS) {
            return -1;
        }
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
             b = APR_BUCKET_NEXT(b)) {
            const char *data;
            apr_size_t len;

            if (APR_BUCKET_IS_EOS(b)) {
                seen_eos = 1;
                break;
            }
            if (apr_bucket_read(b, &data, &len, APR_BLOCK_READ)
                != APR_SUCCESS) {
                return -1;
            }
            total += (apr_off_t)len;
        }
        apr_brigade_cleanup(bb);
    }
    return total;
}

static int bench_handler(request_rec *r)
{
    int discard = strcmp(r->handler ? r->handler : "",
                         "cartevo-bench-discard") == 0;
    apr_off_t n;

    if (!discard
        && strcmp(r->handler ? r->handler : "", "cartevo-bench-json") != 0) {
        return DECLINED;
    }
    ap_set_content_type(r, "application/json");
    if (!discard) {
        ap_set_content_length(r, JSON_BYTES);
        ap_rwrite(fixed_json, JSON_BYTES, r);
        return OK;
    }
    n = discard_body(r);
    if (n < 0) {
        return HTTP_BAD_REQUEST;
    }
    r->status = HTTP_CREATED;
    ap_rprintf(r, "{\"status\":\"success\",\"bytes\":%" APR_OFF_T_FMT "}", n);
    return OK;
}

static void register_hooks(apr_pool_t *p)
{
    (void)p;
    build_json();
    ap_hook_handler(bench_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(cartevo_bench) = {
    STANDARD20_MODULE_STUFF, NULL, NULL, NULL, NULL, NULL, register_hooks,
    AP_MODULE_FLAG_NONE
};
