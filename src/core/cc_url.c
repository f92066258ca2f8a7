/*
 * cc_url.c: the https:// form check for tenant URLs (see cc_url.h).
 *
 * The accepted form is deliberately narrower than RFC 3986 where URL
 * parsers are known to disagree (backslashes, userinfo, percent-escaped or
 * non-ASCII hosts, whitespace that some strip and others keep), so that
 * the host we check is the host libcurl connects to.
 */
#include "cc_url.h"

#include <arpa/inet.h>
#include <string.h>

/* The longest textual IPv6 address inet_pton can accept, with margin. */
#define V6_TEXT_MAX 64

/* Bytes refused anywhere in the URL. */
static int bad_byte(unsigned char c)
{
    return c <= 0x20 || c >= 0x7f || c == '\\';
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_regname(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)
           || c == '-' || c == '.' || c == '_';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Parses the port digits p[0..n): 0 when they are not 1-5 digits with a
 * value 1-65535, else the value. */
static unsigned parse_port(const char *p, size_t n)
{
    unsigned v = 0;
    size_t i;

    if (n == 0 || n > 5) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!is_digit((unsigned char)p[i])) {
            return 0;
        }
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    return v <= 65535 ? v : 0;
}

/* "[v6]" at a[0..n) up to its "]": returns the bytes consumed including
 * both brackets, or 0 when it is not an IPv6 literal inet_pton accepts.
 * The text (without brackets, lowercased) goes to host. */
static size_t parse_v6(const char *a, size_t n, char *host)
{
    const char *close = memchr(a, ']', n);
    size_t tlen, i;
    unsigned char bin[16];
    char text[V6_TEXT_MAX];

    if (!close) {
        return 0;
    }
    tlen = (size_t)(close - a) - 1;
    if (tlen == 0 || tlen >= sizeof(text)) {
        return 0;
    }
    for (i = 0; i < tlen; i++) {
        text[i] = lower(a[1 + i]);
    }
    text[tlen] = '\0';
    /* inet_pton also refuses a zone ("%25eth0") and IPvFuture ("v1.x"),
     * and any byte but hex digits, ":" and "." (checked by its grammar). */
    if (inet_pton(AF_INET6, text, bin) != 1) {
        return 0;
    }
    memcpy(host, text, tlen + 1);
    return tlen + 2;
}

/* Reg-name at a[0..n) up to ":" or the end: bytes consumed, or 0 when
 * empty, too long or holding a byte outside the reg-name set. */
static size_t parse_regname(const char *a, size_t n, char *host)
{
    size_t i;

    for (i = 0; i < n && a[i] != ':'; i++) {
        if (!is_regname((unsigned char)a[i]) || i >= CC_URL_HOST_MAX) {
            return 0;
        }
        host[i] = lower(a[i]);
    }
    host[i] = '\0';
    return i;
}

/* The authority a[0..n) (no "/", "?" or "#" in it): host and port, or -1. */
static int parse_authority(const char *a, size_t n, cc_url_t *u)
{
    size_t h;

    if (memchr(a, '@', n)) {
        return -1;
    }
    u->ipv6 = n > 0 && a[0] == '[';
    h = u->ipv6 ? parse_v6(a, n, u->host) : parse_regname(a, n, u->host);
    if (h == 0) {
        return -1;
    }
    if (h == n) {
        u->port = 443;
        return 0;
    }
    if (a[h] != ':') {
        return -1; /* "[::1]x" */
    }
    u->port = parse_port(a + h + 1, n - h - 1);
    return u->port ? 0 : -1;
}

int cc_url_check_https(const char *s, size_t len, cc_url_t *out)
{
    static const char scheme[] = "https://";
    const size_t slen = sizeof(scheme) - 1;
    cc_url_t local;
    size_t i, end;

    if (len > CC_URL_MAX_LEN) {
        return CC_URL_TOO_LONG;
    }
    if (!s || len < slen) {
        return CC_URL_NOT_HTTPS;
    }
    for (i = 0; i < len; i++) {
        if (bad_byte((unsigned char)s[i])) {
            return CC_URL_NOT_HTTPS;
        }
    }
    for (i = 0; i < slen; i++) {
        if (lower(s[i]) != scheme[i]) {
            return CC_URL_NOT_HTTPS;
        }
    }
    for (end = slen; end < len; end++) {
        if (s[end] == '/' || s[end] == '?' || s[end] == '#') {
            break;
        }
    }
    if (parse_authority(s + slen, end - slen, out ? out : &local) != 0) {
        return CC_URL_NOT_HTTPS;
    }
    return CC_URL_OK;
}
