/*
 * fuzz_addr.c: libFuzzer target for the connected-address rule. The input
 * is one address (4 or 16 bytes, chosen by the first byte) plus a salen
 * adjustment. Oracles:
 * - an independent reference written from the registries as CIDR text
 *   (parsed with inet_pton, matched byte by byte) must agree on refused or
 *   not, so a slip in cc_addr.c's group notation or matching shows;
 * - the raw, sockaddr (at any alignment) and text (inet_ntop) entry points
 *   give the same answer, and a short salen is always refused;
 * - embedded IPv4 forms agree with the embedded address alone.
 *
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/core \
 *     src/core/cc_addr.c t/fuzz/fuzz_addr.c -o /tmp/fuzz_addr
 */
#include "cc_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* "!" marks a Globally Reachable True entry inside a refused block; "=m",
 * "=n", "=6", "=t" the embedding forms; "=c" refused whatever it holds. */
static const char *const ref_v4[] = {
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
    "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "!192.0.0.9/32",
    "!192.0.0.10/32", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",
    "240.0.0.0/4"
};

static const char *const ref_v6[] = {
    "::/96=c", "::ffff:0:0/96=m", "64:ff9b::/96=n", "64:ff9b:1::/48",
    "100::/64", "100:0:0:1::/64", "2001::/23", "2001::/32=t",
    "!2001:1::1/128", "!2001:1::2/128", "!2001:1::3/128", "2001:2::/48",
    "!2001:3::/32", "!2001:4:112::/48", "2001:10::/28", "!2001:20::/28",
    "!2001:30::/28", "2001:db8::/32", "2002::/16=6", "3fff::/20",
    "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8"
};

typedef struct {
    unsigned char a[16];
    int len;
    int global;
    char form; /* 0, 'c', 'm', 'n', '6', 't' */
} ref_t;

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static ref_t refs4[COUNT(ref_v4)], refs6[COUNT(ref_v6)];

static void ref_parse(const char *s, int family, ref_t *r)
{
    char buf[64], *slash, *eq;

    r->global = *s == '!';
    strcpy(buf, s + r->global);
    eq = strchr(buf, '=');
    r->form = eq ? eq[1] : 0;
    if (eq) {
        *eq = '\0';
    }
    slash = strchr(buf, '/');
    *slash = '\0';
    r->len = atoi(slash + 1);
    if (inet_pton(family, buf, r->a) != 1) {
        abort();
    }
}

static int ref_match(const unsigned char *a, const ref_t *r)
{
    int i;

    for (i = 0; i < r->len; i++) {
        int bit = 7 - (i % 8);

        if (((a[i / 8] >> bit) & 1) != ((r->a[i / 8] >> bit) & 1)) {
            return 0;
        }
    }
    return 1;
}

static const ref_t *ref_best(const unsigned char *a, const ref_t *refs,
                             size_t n)
{
    const ref_t *best = NULL;
    size_t i;

    for (i = 0; i < n; i++) {
        if (ref_match(a, &refs[i]) && (!best || refs[i].len > best->len)) {
            best = &refs[i];
        }
    }
    return best;
}

/* 1 when the reference refuses the IPv4 address a. */
static int ref_refused4(const unsigned char *a)
{
    static const unsigned char bcast[4] = { 255, 255, 255, 255 };
    const ref_t *r = ref_best(a, refs4, COUNT(refs4));

    return memcmp(a, bcast, 4) == 0 || (r && !r->global);
}

static int ref_refused6(const unsigned char *a)
{
    const ref_t *r = ref_best(a, refs6, COUNT(refs6));
    unsigned char v4[4];
    int i;

    if (!r) {
        return 0;
    }
    switch (r->form) {
    case 'c':
        return 1;
    case 'm':
    case 'n':
        return ref_refused4(a + 12);
    case '6':
        return ref_refused4(a + 2);
    case 't':
        for (i = 0; i < 4; i++) {
            v4[i] = (unsigned char)~a[12 + i];
        }
        return ref_refused4(a + 4) || ref_refused4(v4);
    default:
        return !r->global;
    }
}

static void init_refs(void)
{
    static int done;
    size_t i;

    if (done) {
        return;
    }
    for (i = 0; i < COUNT(ref_v4); i++) {
        ref_parse(ref_v4[i], AF_INET, &refs4[i]);
    }
    for (i = 0; i < COUNT(ref_v6); i++) {
        ref_parse(ref_v6[i], AF_INET6, &refs6[i]);
    }
    done = 1;
}

/* The sockaddr and text entry points agree with the raw one. */
static void check_entry_points(const unsigned char *a, int v6,
                               const char *raw, size_t cut)
{
    unsigned char buf[sizeof(struct sockaddr_in6) + 8];
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
    const char *txt = "unset";
    char text[INET6_ADDRSTRLEN];
    size_t salen = v6 ? sizeof(in6) : sizeof(in);
    size_t off = cut % 8;

    memset(&in, 0, sizeof(in));
    memset(&in6, 0, sizeof(in6));
    in.sin_family = AF_INET;
    in6.sin6_family = AF_INET6;
    memcpy(&in.sin_addr, a, 4);
    memcpy(&in6.sin6_addr, a, 16);
    memcpy(buf + off, v6 ? (void *)&in6 : (void *)&in, salen);
    if (cc_addr_refusal((struct sockaddr *)(buf + off), salen) != raw) {
        abort();
    }
    if (cut / 8 % 2 && !cc_addr_refusal((struct sockaddr *)(buf + off),
                                        salen - 1 - cut / 16 % salen)) {
        abort();
    }
    inet_ntop(v6 ? AF_INET6 : AF_INET, a, text, sizeof(text));
    if (cc_addr_refusal_str(text, &txt) != 0 || txt != raw) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char a[16];
    const char *got;
    int v6;

    init_refs();
    if (size < 1 + 4) {
        return 0;
    }
    v6 = data[0] & 1;
    if (v6 && size < 1 + 16) {
        return 0;
    }
    memcpy(a, data + 1, v6 ? 16 : 4);
    got = v6 ? cc_addr_refusal_v6(a) : cc_addr_refusal_v4(a);
    if ((got != NULL) != (v6 ? ref_refused6(a) : ref_refused4(a))) {
        abort();
    }
    if (got && !*got) {
        abort();
    }
    check_entry_points(a, v6, got, data[0] >> 1);
    if (v6) {
        /* The embedded address judged alone gives the same verdict. */
        unsigned char m[16] = { 0 };

        m[10] = m[11] = 0xff;
        memcpy(m + 12, a + 12, 4);
        if (!cc_addr_refusal_v6(m) != !cc_addr_refusal_v4(a + 12)) {
            abort();
        }
    }
    return 0;
}
