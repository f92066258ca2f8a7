/*
 * http.c: the one way cartevo-kycd talks HTTP (libcurl easy handles, one
 * per request, so threads share nothing). TLS peer and host are always
 * verified (ca_file overrides the system store), libcurl follows no
 * redirect (a receiver cannot bounce a signed body elsewhere; the fetch
 * of a tenant's document follows them itself, checking each), timeouts
 * bound connect and the whole exchange, and the response body is capped.
 */
#include "kycd.h"

#include "cc_addr.h"

#include <curl/curl.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

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

/* The options every request shares: no signals (threads), the timeouts,
 * TLS peer and host verified (ca_file overrides the system store), our
 * user agent, libcurl's error text in errbuf, and the body callback. */
static void base_options(CURL *h, const cc_kycd_cfg_t *cfg, long total_ms,
                         long connect_ms, char *errbuf,
                         curl_write_callback body, void *ud)
{
    errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     connect_ms < total_ms ? connect_ms : total_ms);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (cfg->ca_file) {
        curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
    }
    curl_easy_setopt(h, CURLOPT_USERAGENT, "cartevo-kycd/1");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, ud);
}

/* ---- the connect-time rule for tenant URLs ----------------------------
 *
 * Every socket of a request to a tenant URL (an enroll document, a
 * webhook) is opened by open_socket(), which sees the address libcurl is
 * about to connect to (after any resolution and whatever the URL's
 * spelling of it) and refuses it unless it is globally reachable
 * (cc_addr_refusal) or, for a listed target, one of the addresses its
 * host names. One helper sets it up for both, so the two cannot drift.
 */
static curl_socket_t open_socket(void *ud, curlsocktype purpose,
                                 struct curl_sockaddr *a)
{
    cc_http_guard_t *g = ud;
    const char *why;
    int fd;

    if (purpose != CURLSOCKTYPE_IPCXN) {
        why = "not an IP connection";
    }
    else if (g->listed) {
        why = cc_targets_addr_in(&g->addrs, &a->addr, a->addrlen)
                  ? NULL
                  : "not an address the listed host names";
    }
    else {
        why = cc_addr_refusal(&a->addr, a->addrlen);
    }
    if (why != NULL) {
        g->refused = why;
        return CURL_SOCKET_BAD;
    }
    fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    g->opened += fd >= 0;
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

int cc_http_guard_init(const cc_kycd_cfg_t *cfg, const char *url,
                       cc_http_guard_t *g, cc_url_t *u, int *tls)
{
    int kind;

    memset(g, 0, sizeof(*g));
    if (strlen(url) > CC_URL_MAX_LEN) {
        return CC_HTTP_GUARD_REFUSED;
    }
    kind = cc_targets_classify(cfg->targets, url, u, tls);
    if (kind == CC_TARGET_REFUSED) {
        return CC_HTTP_GUARD_REFUSED;
    }
    g->listed = kind == CC_TARGET_LISTED;
    if (g->listed && cc_targets_resolve(u, &g->addrs) != 0) {
        return CC_HTTP_GUARD_UNRESOLVED;
    }
    return CC_HTTP_GUARD_OK;
}

/* Only the URL's own scheme, no proxy (it would connect for us, past
 * open_socket), and every socket through open_socket. */
static void guard_options(CURL *h, cc_http_guard_t *g, int tls)
{
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, tls ? "https" : "http");
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, g);
}

int cc_http_post(const cc_kycd_cfg_t *cfg, const char *url,
                 const char *const *headers, const char *body, size_t len,
                 double timeout, size_t max_body, cc_http_resp_t *resp,
                 cc_http_guard_t *guard, int tls)
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
    for (; headers && *headers; headers++) {
        hl = curl_slist_append(hl, *headers);
    }
    /* No "Expect: 100-continue" round trip for large bodies. */
    hl = curl_slist_append(hl, "Expect:");
    base_options(h, cfg, ms, 5000L, errbuf, on_body, &sink);
    curl_easy_setopt(h, CURLOPT_URL, url);
    if (guard != NULL) {
        guard_options(h, guard, tls);
    }
    else {
        /* Operator URLs: https:// is checked at start (config.c). */
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    rc = curl_easy_perform(h);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    }
    else {
        /* errbuf names hosts and errno text, never request data. */
        snprintf(resp->error, sizeof(resp->error), "%.*s",
                 (int)sizeof(resp->error) - 1,
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

/* ---- GET of a tenant URL (enroll documents) ----------------------------
 *
 * Redirects are followed here, not by libcurl, so each hop's URL passes
 * cc_targets_classify before it is requested, and each connects under
 * the guard above. Each hop has its own easy handle, so no connection is
 * ever reused past that check.
 */

/* A non-200 answer's body is read and dropped up to this, then cut off. */
#define DISCARD_MAX 65536
#define MAX_REDIRECTS 3

typedef struct {
    CURL *h;
    cc_http_guard_t g;
    long status;             /* known from the first body byte */
    size_t got, max, discarded;
    int too_large, cut, sink_err;
    cc_http_sink_t sink;
    void *ud;
} hop_t;

/* Body bytes: a 200's go to the sink up to max (the limit is enforced as
 * bytes arrive, whatever Content-Length said); others are dropped. */
static size_t on_fetch_data(char *data, size_t size, size_t nmemb, void *ud)
{
    hop_t *hp = ud;
    size_t n = size * nmemb;

    if (hp->status == 0) {
        curl_easy_getinfo(hp->h, CURLINFO_RESPONSE_CODE, &hp->status);
    }
    if (hp->status != 200) {
        hp->discarded += n;
        hp->cut = hp->discarded > DISCARD_MAX;
        return hp->cut ? 0 : n;
    }
    if (n > hp->max - hp->got) {
        hp->too_large = 1;
        return 0;
    }
    hp->sink_err = hp->sink(hp->ud, data, n);
    if (hp->sink_err != 0) {
        return 0;
    }
    hp->got += n;
    return n;
}

static double mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "scheme://host" of a classified URL: all a log may say of it (the path
 * and query may carry presigned credentials). */
void cc_http_origin(char *buf, size_t len, const cc_url_t *u, int tls)
{
    snprintf(buf, len, "%s://%s%s%s", tls ? "https" : "http",
             u->ipv6 ? "[" : "", u->host, u->ipv6 ? "]" : "");
}

static void fail(cc_http_fetch_t *f, const char *brief, const char *fmt,
                 ...) __attribute__((format(printf, 3, 4)));

/* Records why the fetch ends: a detail for logs (after the origin) and a
 * brief, URL-free text for the customer's kyc_reason_message. */
static void fail(cc_http_fetch_t *f, const char *brief, const char *fmt, ...)
{
    size_t n = strlen(f->why);
    va_list ap;

    snprintf(f->brief, sizeof(f->brief), "%s", brief);
    if (n > 0 && n + 2 < sizeof(f->why)) {
        f->why[n++] = ':';
        f->why[n++] = ' ';
    }
    va_start(ap, fmt);
    vsnprintf(f->why + n, sizeof(f->why) - n, fmt, ap);
    va_end(ap);
}

static int is_tls_failure(CURLcode rc)
{
    switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
        return 1;
    default:
        return 0;
    }
}

/* A hop that ended without an HTTP answer we act on. Our refusals, TLS
 * failures and an oversized body cannot succeed by trying again; network
 * trouble and our own storage failing may. */
static int judge_transport(CURLcode rc, const hop_t *hp, const char *errbuf,
                           cc_http_fetch_t *f)
{
    const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);

    if (hp->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        fail(f, "the document is too large", "larger than %zu bytes",
             hp->max);
        return CC_HTTP_FETCH_FAILED;
    }
    if (hp->sink_err != 0) {
        fail(f, "it could not be stored", "cannot store the document: %s",
             strerror(hp->sink_err));
        return CC_HTTP_FETCH_RETRY;
    }
    /* Refused only when nothing was connected to: a host with a public
     * address that failed and a private one that was refused gets the
     * network failure's judgement. */
    if (hp->g.refused != NULL && hp->g.opened == 0) {
        fail(f, "its address is not allowed", "refused address (%s)",
             hp->g.refused);
        return CC_HTTP_FETCH_FAILED;
    }
    if (is_tls_failure(rc)) {
        fail(f, "TLS failed", "TLS: %s", detail);
        return CC_HTTP_FETCH_FAILED;
    }
    if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT) {
        fail(f, "the URL is not usable", "%s", detail);
        return CC_HTTP_FETCH_FAILED;
    }
    fail(f, rc == CURLE_COULDNT_RESOLVE_HOST    ? "its host does not resolve"
            : rc == CURLE_OPERATION_TIMEDOUT    ? "it timed out"
                                                : "the server could not be reached",
         "%s", detail);
    return CC_HTTP_FETCH_RETRY;
}

#define CC_HTTP_FETCH_REDIRECT (-1)

/* A hop's HTTP answer: 200 is the document, a redirect goes on to next
 * (absolute, from libcurl), 408, 429 and 5xx are worth another attempt,
 * anything else is final. */
static int judge_status(long status, const char *next, cc_http_fetch_t *f)
{
    char brief[48];

    if (status == 200) {
        return CC_HTTP_FETCH_OK;
    }
    if (status == 301 || status == 302 || status == 303 || status == 307
        || status == 308) {
        if (next[0] != '\0') {
            return CC_HTTP_FETCH_REDIRECT;
        }
        fail(f, "a redirect is not usable",
             "HTTP %ld without a usable Location", status);
        return CC_HTTP_FETCH_FAILED;
    }
    snprintf(brief, sizeof(brief), "the server answered %ld", status);
    fail(f, brief, "HTTP %ld", status);
    return status == 408 || status == 429 || status >= 500
               ? CC_HTTP_FETCH_RETRY
               : CC_HTTP_FETCH_FAILED;
}

/* Requests url once (GET, no proxy, only its own scheme) within left
 * seconds. next receives a redirect's target, or "" (also when longer
 * than CC_URL_MAX_LEN). */
static CURLcode perform_hop(const cc_kycd_cfg_t *cfg, const char *url,
                            int tls, hop_t *hp, double left, char *errbuf,
                            char *next)
{
    CURL *h = curl_easy_init();
    char *loc = NULL;
    CURLcode rc;

    next[0] = '\0';
    if (h == NULL) {
        snprintf(errbuf, CURL_ERROR_SIZE, "curl init failed");
        return CURLE_OUT_OF_MEMORY;
    }
    hp->h = h;
    base_options(h, cfg, (long)(left * 1000) + 1,
                 (long)(cfg->fetch_connect_timeout * 1000), errbuf,
                 on_fetch_data, hp);
    curl_easy_setopt(h, CURLOPT_URL, url);
    guard_options(h, &hp->g, tls);
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    /* The stored bytes are the server's bytes: no decompression. */
    curl_easy_setopt(h, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)hp->max);
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &hp->status);
    if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc
        && strlen(loc) <= CC_URL_MAX_LEN) {
        memcpy(next, loc, strlen(loc) + 1);
    }
    curl_easy_cleanup(h);
    return rc;
}

/* One hop: the URL's own checks, then the request. */
static int one_hop(const cc_kycd_cfg_t *cfg, cc_http_fetch_t *f,
                   const char *url, int hop, double deadline, char *next)
{
    char errbuf[CURL_ERROR_SIZE];
    cc_url_t u;
    hop_t hp;
    int tls, kind;
    double left = deadline - mono_now();
    CURLcode rc;

    f->why[0] = '\0';
    memset(&hp, 0, sizeof(hp));
    kind = cc_http_guard_init(cfg, url, &hp.g, &u, &tls);
    if (kind == CC_HTTP_GUARD_REFUSED) {
        fail(f, hop ? "a redirect leads to a URL that is not https"
                    : "the URL is not https",
             hop ? "a redirect to a URL that is not https"
                 : "not an https URL");
        return CC_HTTP_FETCH_FAILED;
    }
    cc_http_origin(f->why, sizeof(f->why), &u, tls);
    hp.max = f->max_bytes;
    hp.sink = f->sink;
    hp.ud = f->ud;
    if (kind == CC_HTTP_GUARD_UNRESOLVED) {
        fail(f, "its host does not resolve", "listed host does not resolve");
        return CC_HTTP_FETCH_RETRY;
    }
    if (left <= 0) {
        fail(f, "it timed out", "timed out after %d redirect(s)", hop);
        return CC_HTTP_FETCH_RETRY;
    }
    rc = perform_hop(cfg, url, tls, &hp, left, errbuf, next);
    if (rc != CURLE_OK && !hp.cut) {
        return judge_transport(rc, &hp, errbuf, f);
    }
    return judge_status(hp.status, next, f);
}

int cc_http_fetch(const cc_kycd_cfg_t *cfg, cc_http_fetch_t *f)
{
    char url[CC_URL_MAX_LEN + 1], next[CC_URL_MAX_LEN + 1];
    double deadline = mono_now() + cfg->fetch_timeout;
    int hop, rc;

    f->why[0] = f->brief[0] = '\0';
    f->redirects = 0;
    if (strlen(f->url) > CC_URL_MAX_LEN) {
        fail(f, "the URL is too long", "a URL over %d bytes",
             CC_URL_MAX_LEN);
        return CC_HTTP_FETCH_FAILED;
    }
    snprintf(url, sizeof(url), "%s", f->url);
    for (hop = 0;; hop++) {
        rc = one_hop(cfg, f, url, hop, deadline, next);
        if (rc != CC_HTTP_FETCH_REDIRECT) {
            return rc;
        }
        if (hop == MAX_REDIRECTS) {
            fail(f, "it redirects too often", "more than %d redirects",
                 MAX_REDIRECTS);
            return CC_HTTP_FETCH_FAILED;
        }
        cc_kycd_log(CC_LOG_DEBUG, "fetch: %s redirects", f->why);
        memcpy(url, next, sizeof(url));
        f->redirects++;
    }
}
