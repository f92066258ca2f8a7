/*
 * targets.h: which URLs cartevo-kycd may request for a tenant, and the
 * allow_targets exemption (decisions.md 3). Free of APR and libpq, so the
 * unit tests link it alone (t/unit/test_targets.c).
 *
 * A tenant URL must be https:// (cc_url_check_https) and may only connect
 * to globally reachable addresses (cc_addr_refusal, judged on the address
 * libcurl is about to connect to). allow_targets lists exact "host:port"
 * entries that are exempt from both rules, for development and tests:
 * such a URL may also be http://, and may connect to a private address,
 * but only to an address its host names (the host's own resolution, see
 * cc_targets_resolve), so a listed "127.0.0.1:9999" never opens a path to
 * another address or port.
 */
#ifndef CC_TARGETS_H
#define CC_TARGETS_H

#include "cc_url.h"

#include <stddef.h>
#include <sys/socket.h>

#define CC_TARGETS_MAX 32

typedef struct {
    char host[CC_URL_HOST_MAX + 1]; /* as cc_url_t: lowercased, no [] */
    unsigned port;
    int ipv6;
} cc_target_t;

typedef struct {
    int n;
    cc_target_t t[CC_TARGETS_MAX];
} cc_targets_t;

/* Parses "host:port,host:port" (blanks around entries ignored; "" is the
 * empty list). The host is a name or a dotted quad or a [bracketed] IPv6
 * literal, in the URL form cc_url_check_https accepts; the port is
 * required. Returns 0, or -1 with a one-line reason in err. */
int cc_targets_parse(const char *s, cc_targets_t *out, char *err,
                     size_t errlen);

/* 1 when u's host and port are listed (exact, case-insensitive host). */
int cc_targets_match(const cc_targets_t *t, const cc_url_t *u);

/* What a URL is to the fetcher. */
enum {
    CC_TARGET_REFUSED = 0, /* neither https nor a listed http target */
    CC_TARGET_HTTPS,       /* https, not listed: global addresses only */
    CC_TARGET_LISTED       /* listed (https or http) */
};

/* Judges url: fills *u (host and port; port 80 for a listed http URL
 * without one) and *tls (1 for https) and returns a CC_TARGET_ value. */
int cc_targets_classify(const cc_targets_t *t, const char *url, cc_url_t *u,
                        int *tls);

/* The addresses a listed target may connect to: what its host names. */
#define CC_TARGET_ADDRS 16

typedef struct {
    int n;
    struct sockaddr_storage a[CC_TARGET_ADDRS];
} cc_target_addrs_t;

/* Resolves u's host (getaddrinfo, numeric port) into *out. 0, or -1 when
 * it names nothing. */
int cc_targets_resolve(const cc_url_t *u, cc_target_addrs_t *out);

/* 1 when sa (salen bytes) is one of set's addresses with the same family,
 * address and port. */
int cc_targets_addr_in(const cc_target_addrs_t *set,
                       const struct sockaddr *sa, size_t salen);

#endif
