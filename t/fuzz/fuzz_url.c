/*
 * fuzz_url.c: libFuzzer target for the https:// rule. Oracles:
 * - an accepted URL has a non-empty lowercase host of allowed bytes, a
 *   port 1-65535, and rebuilding "https://<host>:<port>/" from them is
 *   accepted again with the same result;
 * - libcurl (which the daemon hands the URL to) reads the same scheme,
 *   host and port from every URL we accept: the host we vet is the host
 *   curl connects to. curl may write an IPv4 number in another form
 *   ("0x7f.1" as "127.0.0.1") and an IPv6 literal in canonical form, so
 *   those are compared as addresses; curl refusing a URL we accept is
 *   allowed (the fetch then fails closed) and counted, not an error.
 *
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/core \
 *     src/core/cc_url.c t/fuzz/fuzz_url.c -lcurl -o /tmp/fuzz_url
 */
#include "cc_url.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int host_ok(const char *h)
{
    size_t i, n = strlen(h);

    if (n == 0 || n > CC_URL_HOST_MAX) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        char c = h[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
              || c == '.' || c == '_' || c == ':')) {
            return 0;
        }
    }
    return 1;
}

/* Our host equals curl's, allowing for curl's address rewriting. */
static int same_host(const cc_url_t *u, const char *curl_host)
{
    unsigned char a[16], b[16];
    char h[CC_URL_HOST_MAX + 3];
    size_t i, n = strlen(curl_host);

    if (u->ipv6) {
        if (n < 2 || curl_host[0] != '[' || curl_host[n - 1] != ']') {
            return 0;
        }
        memcpy(h, curl_host + 1, n - 2);
        h[n - 2] = '\0';
        return inet_pton(AF_INET6, h, a) == 1
               && inet_pton(AF_INET6, u->host, b) == 1
               && memcmp(a, b, 16) == 0;
    }
    if (n > CC_URL_HOST_MAX) {
        return 0;
    }
    for (i = 0; i <= n; i++) {
        h[i] = (char)(curl_host[i] >= 'A' && curl_host[i] <= 'Z'
                      ? curl_host[i] - 'A' + 'a' : curl_host[i]);
    }
    if (strcmp(h, u->host) == 0) {
        return 1;
    }
    /* An IPv4 number curl normalised: it must be a dotted quad, and ours
     * must be made of the characters of IPv4 numbers. */
    return inet_pton(AF_INET, h, a) == 1
           && strspn(u->host, "0123456789abcdefx.") == strlen(u->host);
}

static void check_curl(const char *s, const cc_url_t *u)
{
    static unsigned long refused;
    CURLU *h = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;

    if (!h) {
        return;
    }
    if (curl_url_set(h, CURLUPART_URL, s, 0) != CURLUE_OK) {
        if (++refused % 100000 == 1) {
            fprintf(stderr, "fuzz_url: curl refuses what we accept (%lu so "
                    "far), e.g. %s\n", refused, s);
        }
        curl_url_cleanup(h);
        return;
    }
    if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
        || curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK
        || curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT)
               != CURLUE_OK
        || strcmp(scheme, "https") != 0 || !same_host(u, host)
        || (unsigned)atoi(port) != u->port) {
        fprintf(stderr, "fuzz_url: curl reads %s as %s://%s:%s\n", s,
                scheme ? scheme : "?", host ? host : "?", port ? port : "?");
        abort();
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(h);
}

static void check_rebuilt(const cc_url_t *u)
{
    char s[CC_URL_HOST_MAX + 32];
    cc_url_t again;
    int n;

    n = snprintf(s, sizeof(s), u->ipv6 ? "https://[%s]:%u/" : "https://%s:%u/",
                 u->host, u->port);
    if (cc_url_check_https(s, (size_t)n, &again) != CC_URL_OK
        || strcmp(again.host, u->host) != 0 || again.port != u->port
        || again.ipv6 != u->ipv6) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cc_url_t u;
    char *s;
    int rc = cc_url_check_https((const char *)data, size, &u);

    if (rc == CC_URL_TOO_LONG) {
        if (size <= CC_URL_MAX_LEN) {
            abort();
        }
        return 0;
    }
    if (size > CC_URL_MAX_LEN || (rc != CC_URL_OK && rc != CC_URL_NOT_HTTPS)) {
        abort();
    }
    if (rc != CC_URL_OK) {
        return 0;
    }
    if (!host_ok(u.host) || u.port < 1 || u.port > 65535
        || memchr(data, 0, size)) {
        abort();
    }
    check_rebuilt(&u);
    s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    check_curl(s, &u);
    free(s);
    return 0;
}
