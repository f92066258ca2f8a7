/*
 * http.c: the one way cartevo-kycd talks HTTP (libcurl easy handles, one
 * per request, so threads share nothing). TLS peer and host are always
 * verified (ca_file overrides the system store), redirects are not
 * followed (a receiver cannot bounce a signed body elsewhere), timeouts
 * bound connect and the whole exchange, and the response body is capped.
 */
#include "kycd.h"

#include <curl/curl.h>

#include <stdlib.h>
#include <string.h>

typedef struct {
    cc_http_resp_t *resp;
    size_t max;
} sink_t;

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    sink_t *s = ud;
    size_t n = size * nmemb, take;
    char *nb;

    if (s->resp->body_len >= s->max) {
        return n; /* drop the excess, keep the status */
    }
    take = n < s->max - s->resp->body_len ? n : s->max - s->resp->body_len;
    nb = realloc(s->resp->body, s->resp->body_len + take + 1);
    if (nb == NULL) {
        return 0;
    }
    memcpy(nb + s->resp->body_len, data, take);
    s->resp->body = nb;
    s->resp->body_len += take;
    nb[s->resp->body_len] = '\0';
    return n;
}

int cc_http_post(const cc_kycd_cfg_t *cfg, const char *url,
                 const char *const *headers, const char *body, size_t len,
                 double timeout, size_t max_body, cc_http_resp_t *resp)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hl = NULL;
    sink_t sink = { resp, max_body };
    char errbuf[CURL_ERROR_SIZE];
    CURLcode rc;
    long ms = (long)(timeout * 1000);

    memset(resp, 0, sizeof(*resp));
    if (h == NULL) {
        snprintf(resp->error, sizeof(resp->error), "curl init failed");
        return -1;
    }
    errbuf[0] = '\0';
    for (; headers && *headers; headers++) {
        hl = curl_slist_append(hl, *headers);
    }
    /* No "Expect: 100-continue" round trip for large bodies. */
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms < 5000 ? ms : 5000L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (cfg->ca_file) {
        curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
    }
    curl_easy_setopt(h, CURLOPT_USERAGENT, "cartevo-kycd/1");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    rc = curl_easy_perform(h);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    }
    else {
        /* errbuf names hosts and errno text, never request data. */
        snprintf(resp->error, sizeof(resp->error), "%s",
                 errbuf[0] ? errbuf : curl_easy_strerror(rc));
        /* A partial body (a timeout mid-answer) is no answer; freeing it
         * here means callers own a body only when 0 is returned. */
        cc_http_resp_free(resp);
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    return rc == CURLE_OK ? 0 : -1;
}

void cc_http_resp_free(cc_http_resp_t *resp)
{
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
}
