/*
 * cc_url.h: the https:// rule for URLs that tenants send (enroll document
 * URLs, webhook endpoints; decisions.md section 3), httpd-free.
 *
 * This is the form check only: where the URL may connect is decided on
 * the connected address (cc_addr.h), since a host name says nothing about
 * the address it resolves to, and a reg-name may be an IPv4 number in a
 * form libcurl reads as an address ("0x7f.1" is 127.0.0.1).
 */
#ifndef CC_URL_H
#define CC_URL_H

#include <stddef.h>

#define CC_URL_MAX_LEN 2048 /* bytes */
#define CC_URL_HOST_MAX 255 /* bytes, without brackets */

enum {
    CC_URL_OK = 0,
    CC_URL_TOO_LONG = 1, /* more than CC_URL_MAX_LEN bytes */
    CC_URL_NOT_HTTPS = 2 /* not a URL of the form below */
};

typedef struct {
    char host[CC_URL_HOST_MAX + 1]; /* lowercased, NUL-terminated; an IPv6
                                       literal without its brackets */
    unsigned port;                  /* 443 unless the URL gives one */
    int ipv6;                       /* host was an [IPv6] literal */
} cc_url_t;

/*
 * Checks s (len bytes, need not be NUL-terminated). Length is judged
 * first: more than CC_URL_MAX_LEN bytes is CC_URL_TOO_LONG whatever the
 * bytes are; otherwise the form is checked, and any failure is
 * CC_URL_NOT_HTTPS. The form:
 *
 *   "https" (any case) "://" host [":" port] [("/" | "?" | "#") rest]
 *
 * - no byte anywhere is a control character or space (0x00-0x20, 0x7F),
 *   non-ASCII (0x80-0xFF) or a backslash;
 * - no userinfo: the authority (up to the first "/", "?" or "#") holds no
 *   "@";
 * - host is a non-empty reg-name of ASCII letters, digits, "-", "." and
 *   "_" (no percent escapes), at most CC_URL_HOST_MAX bytes, or a
 *   bracketed IPv6 literal that inet_pton accepts (no zone, no IPvFuture);
 * - port is 1 to 5 digits with a value 1-65535; "host:" with no digits is
 *   refused.
 *
 * On CC_URL_OK, *out (when out is non-NULL) holds the host and port; on
 * any other result *out is unspecified.
 */
int cc_url_check_https(const char *s, size_t len, cc_url_t *out);

#endif
