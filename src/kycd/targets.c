/*
 * targets.c: the tenant URL rules and allow_targets (see targets.h).
 *
 * Entries and URLs are both read by cc_url_check_https, so a listed host
 * is compared with exactly the host the URL check extracted (lowercased,
 * IPv6 without brackets), never with a second parser's idea of it.
 */
#include "targets.h"

#include <netdb.h>
#include <strings.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* One entry e[0..n) ("host:port", trimmed) into *t; 0 or -1. */
static int parse_entry(const char *e, size_t n, cc_target_t *t)
{
    char url[CC_URL_HOST_MAX + 32];
    cc_url_t u;
    size_t i = n;

    /* The port is required: the entry ends in ":digits". */
    while (i > 0 && e[i - 1] >= '0' && e[i - 1] <= '9') {
        i--;
    }
    if (i == n || i < 2 || e[i - 1] != ':' || memchr(e, '/', n)
        || memchr(e, '?', n) || memchr(e, '#', n)
        || n + 9 > sizeof(url)) {
        return -1;
    }
    snprintf(url, sizeof(url), "https://%.*s/", (int)n, e);
    if (cc_url_check_https(url, strlen(url), &u) != CC_URL_OK) {
        return -1;
    }
    memcpy(t->host, u.host, sizeof(t->host));
    t->port = u.port;
    t->ipv6 = u.ipv6;
    return 0;
}

int cc_targets_parse(const char *s, cc_targets_t *out, char *err,
                     size_t errlen)
{
    const char *p = s ? s : "";

    memset(out, 0, sizeof(*out));
    while (*p) {
        const char *e = p, *end;
        size_t n;

        while (is_blank(*e)) {
            e++;
        }
        end = e + strcspn(e, ",");
        p = *end ? end + 1 : end;
        n = (size_t)(end - e);
        while (n > 0 && is_blank(e[n - 1])) {
            n--;
        }
        if (n == 0) {
            continue; /* "a:1, ,b:2" or a trailing comma */
        }
        if (out->n == CC_TARGETS_MAX) {
            snprintf(err, errlen, "more than %d entries", CC_TARGETS_MAX);
            return -1;
        }
        if (parse_entry(e, n, &out->t[out->n]) != 0) {
            snprintf(err, errlen, "\"%.*s\" is not host:port (a name, an "
                     "IPv4 address or an [IPv6] address, and a port)",
                     (int)(n > 80 ? 80 : n), e);
            return -1;
        }
        out->n++;
    }
    return 0;
}

int cc_targets_match(const cc_targets_t *t, const cc_url_t *u)
{
    int i;

    for (i = 0; t && i < t->n; i++) {
        if (t->t[i].port == u->port && t->t[i].ipv6 == u->ipv6
            && strcmp(t->t[i].host, u->host) == 0) {
            return 1;
        }
    }
    return 0;
}

/* An http:// URL read as the https:// form it would be; the port is 80
 * unless the authority names one. 0 or -1. */
static int check_http(const char *url, size_t len, cc_url_t *u)
{
    char buf[CC_URL_MAX_LEN + 2];
    size_t auth, colon;

    if (len < 7 || len > CC_URL_MAX_LEN - 1
        || strncasecmp(url, "http://", 7) != 0) {
        return -1;
    }
    snprintf(buf, sizeof(buf), "https://%.*s", (int)(len - 7), url + 7);
    if (cc_url_check_https(buf, len + 1, u) != CC_URL_OK) {
        return -1;
    }
    auth = strcspn(url + 7, "/?#");
    /* After an IPv6 literal only its "]" can precede the port colon. */
    colon = u->ipv6 ? (size_t)(strchr(url + 7, ']') - (url + 7)) + 1
                    : strcspn(url + 7, ":/?#");
    if (colon >= auth || url[7 + colon] != ':') {
        u->port = 80;
    }
    return 0;
}

int cc_targets_classify(const cc_targets_t *t, const char *url, cc_url_t *u,
                        int *tls)
{
    size_t len = strlen(url);

    *tls = 1;
    if (cc_url_check_https(url, len, u) == CC_URL_OK) {
        return cc_targets_match(t, u) ? CC_TARGET_LISTED : CC_TARGET_HTTPS;
    }
    *tls = 0;
    if (check_http(url, len, u) == 0 && cc_targets_match(t, u)) {
        return CC_TARGET_LISTED;
    }
    return CC_TARGET_REFUSED;
}

int cc_targets_resolve(const cc_url_t *u, cc_target_addrs_t *out)
{
    struct addrinfo hints, *res = NULL, *ai;
    char port[8];

    memset(out, 0, sizeof(*out));
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%u", u->port);
    if (getaddrinfo(u->host, port, &hints, &res) != 0) {
        return -1;
    }
    for (ai = res; ai && out->n < CC_TARGET_ADDRS; ai = ai->ai_next) {
        if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
            && ai->ai_addrlen <= sizeof(out->a[0])) {
            memcpy(&out->a[out->n++], ai->ai_addr, ai->ai_addrlen);
        }
    }
    freeaddrinfo(res);
    return out->n > 0 ? 0 : -1;
}

/* Same family, address and port (nothing else: not the IPv6 flow label
 * or scope, which the resolver and libcurl may fill differently). */
static int same_addr(const struct sockaddr_storage *a,
                     const struct sockaddr *b, size_t blen)
{
    if (a->ss_family != b->sa_family) {
        return 0;
    }
    if (b->sa_family == AF_INET && blen >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

        return x->sin_port == y->sin_port
               && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (b->sa_family == AF_INET6 && blen >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

        return x->sin6_port == y->sin6_port
               && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
    }
    return 0;
}

int cc_targets_addr_in(const cc_target_addrs_t *set,
                       const struct sockaddr *sa, size_t salen)
{
    int i;

    for (i = 0; sa && i < set->n; i++) {
        if (same_addr(&set->a[i], sa, salen)) {
            return 1;
        }
    }
    return 0;
}
