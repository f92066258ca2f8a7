/*
 * cc_addr.c: which connected addresses an outbound request to a
 * tenant-controlled URL may use (see cc_addr.h).
 *
 * The tables below are the IANA Special-Purpose Address Registries,
 *   https://www.iana.org/assignments/iana-ipv4-special-registry
 *   https://www.iana.org/assignments/iana-ipv6-special-registry
 * as they stand at the IPv6 registry's update of 2025-10-09 (which
 * holds RFC 9780's dummy prefix, RFC 9637's 3fff::/20 and RFC 9665's
 * 2001:1::3), plus the multicast blocks, which have registries of their
 * own, and the deprecated IPv6 site-local block. Re-check both when the
 * registries change.
 *
 * Every entry of both registries is listed, including the ones whose
 * "Globally Reachable" is True, because some of those sit inside a larger
 * False block and the most specific entry decides (as the registry's own
 * footnote on 192.0.0.0/24 says). An address that no entry covers is
 * global: unallocated space is the registries' business, not ours, and
 * connecting there just fails.
 *
 * Decisions where the registry leaves room:
 * - Globally Reachable True is followed, even for anycast services whose
 *   nearest instance is an operator's (192.0.0.9 PCP, 192.0.0.10 TURN,
 *   2001:1::1-3) and for identifier blocks nobody can connect to
 *   (ORCHIDv2, DETs): the rule in decisions.md is "globally reachable",
 *   and the registry is where that term is defined.
 * - "N/A" entries that embed an IPv4 address (6to4, Teredo) and the
 *   IPv4-mapped and NAT64 well-known prefixes are judged by the embedded
 *   address, because that is where the packets end up: ::ffff:127.0.0.1
 *   is loopback on a dual-stack socket, and 64:ff9b::a9fe:a9fe reaches
 *   169.254.169.254 through the NAT64. Teredo carries two: the server (bits
 *   32-63) and the client (bits 96-127, inverted); either refuses.
 * - 192.88.99.0/24 (6to4 relay anycast, deprecated by RFC 7526, N/A) is
 *   refused whole, as is the IPv4-compatible ::/96 (deprecated by RFC 4291,
 *   not in the registry): nothing legitimate is served there, and some
 *   stacks still tunnel ::a.b.c.d to a.b.c.d, which would hide the real
 *   target from this check.
 */
#include "cc_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

/* Why an IPv4 address is not global; V4_GLOBAL (0) when it is. */
#define V4_REASONS(X)                                                       \
    X(V4_THIS_NET, "this network")                                          \
    X(V4_THIS_HOST, "this host")                                            \
    X(V4_PRIVATE, "private-use")                                            \
    X(V4_SHARED, "shared address space")                                    \
    X(V4_LOOPBACK, "loopback")                                              \
    X(V4_LINK_LOCAL, "link-local")                                          \
    X(V4_IETF, "IETF protocol assignments")                                 \
    X(V4_CONTINUITY, "IPv4 service continuity")                             \
    X(V4_DUMMY, "IPv4 dummy address")                                       \
    X(V4_NAT64_DISCOVERY, "NAT64/DNS64 discovery")                          \
    X(V4_DOCUMENTATION, "documentation")                                    \
    X(V4_6TO4_RELAY, "6to4 relay anycast (deprecated)")                     \
    X(V4_6A44_RELAY, "6a44 relay anycast")                                  \
    X(V4_BENCHMARKING, "benchmarking")                                      \
    X(V4_MULTICAST, "multicast")                                            \
    X(V4_RESERVED, "reserved")                                              \
    X(V4_BROADCAST, "limited broadcast")

#define V4_ENUM(id, s) id,
enum { V4_GLOBAL = 0, V4_REASONS(V4_ENUM) V4__COUNT };

/* Where an IPv4 address was found; each has its own reason strings so
 * that the returned reason stays a static string. */
enum {
    EMB_NONE = 0,
    EMB_MAPPED,
    EMB_NAT64,
    EMB_6TO4,
    EMB_TEREDO_SERVER,
    EMB_TEREDO_CLIENT,
    EMB__COUNT
};

#define R_NONE(id, s) s,
#define R_MAPPED(id, s) "IPv4-mapped " s,
#define R_NAT64(id, s) "NAT64 " s,
#define R_6TO4(id, s) "6to4 " s,
#define R_TSERVER(id, s) "Teredo server " s,
#define R_TCLIENT(id, s) "Teredo client " s,

static const char *const v4_reasons[EMB__COUNT][V4__COUNT] = {
    { NULL, V4_REASONS(R_NONE) },
    { NULL, V4_REASONS(R_MAPPED) },
    { NULL, V4_REASONS(R_NAT64) },
    { NULL, V4_REASONS(R_6TO4) },
    { NULL, V4_REASONS(R_TSERVER) },
    { NULL, V4_REASONS(R_TCLIENT) }
};

typedef struct {
    uint32_t net; /* host byte order */
    unsigned char len;
    unsigned char why; /* V4_GLOBAL or a reason */
} v4_range_t;

#define V4(a, b, c, d) \
    (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

/* IPv4 Special-Purpose Address Registry, in its order, then multicast
 * (IPv4 Multicast Address Space Registry, 224.0.0.0/4). */
static const v4_range_t v4_ranges[] = {
    { V4(0, 0, 0, 0), 8, V4_THIS_NET },          /* RFC 791 */
    { V4(0, 0, 0, 0), 32, V4_THIS_HOST },        /* RFC 1122 */
    { V4(10, 0, 0, 0), 8, V4_PRIVATE },          /* RFC 1918 */
    { V4(100, 64, 0, 0), 10, V4_SHARED },        /* RFC 6598 */
    { V4(127, 0, 0, 0), 8, V4_LOOPBACK },        /* RFC 1122 */
    { V4(169, 254, 0, 0), 16, V4_LINK_LOCAL },   /* RFC 3927 */
    { V4(172, 16, 0, 0), 12, V4_PRIVATE },       /* RFC 1918 */
    { V4(192, 0, 0, 0), 24, V4_IETF },           /* RFC 6890 */
    { V4(192, 0, 0, 0), 29, V4_CONTINUITY },     /* RFC 7335 */
    { V4(192, 0, 0, 8), 32, V4_DUMMY },          /* RFC 7600 */
    { V4(192, 0, 0, 9), 32, V4_GLOBAL },         /* RFC 7723 PCP anycast */
    { V4(192, 0, 0, 10), 32, V4_GLOBAL },        /* RFC 8155 TURN anycast */
    { V4(192, 0, 0, 170), 32, V4_NAT64_DISCOVERY }, /* RFC 8880 */
    { V4(192, 0, 0, 171), 32, V4_NAT64_DISCOVERY },
    { V4(192, 0, 2, 0), 24, V4_DOCUMENTATION },  /* RFC 5737 TEST-NET-1 */
    { V4(192, 31, 196, 0), 24, V4_GLOBAL },      /* RFC 7535 AS112-v4 */
    { V4(192, 52, 193, 0), 24, V4_GLOBAL },      /* RFC 7450 AMT */
    { V4(192, 88, 99, 0), 24, V4_6TO4_RELAY },   /* RFC 7526: N/A */
    { V4(192, 88, 99, 2), 32, V4_6A44_RELAY },   /* RFC 6751 */
    { V4(192, 168, 0, 0), 16, V4_PRIVATE },      /* RFC 1918 */
    { V4(192, 175, 48, 0), 24, V4_GLOBAL },      /* RFC 7534 AS112 */
    { V4(198, 18, 0, 0), 15, V4_BENCHMARKING },  /* RFC 2544 */
    { V4(198, 51, 100, 0), 24, V4_DOCUMENTATION }, /* TEST-NET-2 */
    { V4(203, 0, 113, 0), 24, V4_DOCUMENTATION },  /* TEST-NET-3 */
    { V4(240, 0, 0, 0), 4, V4_RESERVED },        /* RFC 1112 */
    { V4(255, 255, 255, 255), 32, V4_BROADCAST }, /* RFC 919 */
    { V4(224, 0, 0, 0), 4, V4_MULTICAST }        /* RFC 5771 */
};

/* What an IPv6 entry means. */
enum {
    V6_REFUSE = 0, /* not global: reason */
    V6_GLOBAL,     /* Globally Reachable True inside a refused block */
    V6_MAPPED,     /* ::ffff:0:0/96, IPv4 in bits 96-127 */
    V6_NAT64,      /* 64:ff9b::/96, IPv4 in bits 96-127 */
    V6_6TO4,       /* 2002::/16, IPv4 in bits 16-47 */
    V6_TEREDO      /* 2001::/32, server 32-63, ~client 96-127 */
};

typedef struct {
    uint16_t g[8]; /* the prefix as eight 16-bit groups */
    unsigned char len;
    unsigned char kind;
    const char *reason; /* for V6_REFUSE */
} v6_range_t;

/* IPv6 Special-Purpose Address Registry, in its order, then the
 * deprecated site-local block (RFC 3879) and multicast (RFC 4291). */
static const v6_range_t v6_ranges[] = {
    { { 0, 0, 0, 0, 0, 0, 0, 1 }, 128, V6_REFUSE, "loopback" },
    { { 0 }, 128, V6_REFUSE, "unspecified" },
    { { 0 }, 96, V6_REFUSE, "IPv4-compatible (deprecated)" },
    { { 0, 0, 0, 0, 0, 0xffff }, 96, V6_MAPPED, NULL },
    { { 0x64, 0xff9b }, 96, V6_NAT64, NULL },                /* RFC 6052 */
    { { 0x64, 0xff9b, 1 }, 48, V6_REFUSE, "local-use NAT64" }, /* 8215 */
    { { 0x100 }, 64, V6_REFUSE, "discard-only" },           /* RFC 6666 */
    { { 0x100, 0, 0, 1 }, 64, V6_REFUSE, "dummy prefix" },  /* RFC 9780 */
    { { 0x2001 }, 23, V6_REFUSE, "IETF protocol assignments" }, /* 2928 */
    { { 0x2001 }, 32, V6_TEREDO, NULL },                    /* RFC 4380 */
    { { 0x2001, 1, 0, 0, 0, 0, 0, 1 }, 128, V6_GLOBAL, NULL }, /* PCP */
    { { 0x2001, 1, 0, 0, 0, 0, 0, 2 }, 128, V6_GLOBAL, NULL }, /* TURN */
    { { 0x2001, 1, 0, 0, 0, 0, 0, 3 }, 128, V6_GLOBAL, NULL }, /* DNS-SD */
    { { 0x2001, 2 }, 48, V6_REFUSE, "benchmarking" },       /* RFC 5180 */
    { { 0x2001, 3 }, 32, V6_GLOBAL, NULL },                 /* AMT */
    { { 0x2001, 4, 0x112 }, 48, V6_GLOBAL, NULL },          /* AS112-v6 */
    { { 0x2001, 0x10 }, 28, V6_REFUSE, "ORCHID (deprecated)" },
    { { 0x2001, 0x20 }, 28, V6_GLOBAL, NULL },              /* ORCHIDv2 */
    { { 0x2001, 0x30 }, 28, V6_GLOBAL, NULL },              /* DETs */
    { { 0x2001, 0xdb8 }, 32, V6_REFUSE, "documentation" },  /* RFC 3849 */
    { { 0x2002 }, 16, V6_6TO4, NULL },                      /* RFC 3056 */
    { { 0x2620, 0x4f, 0x8000 }, 48, V6_GLOBAL, NULL },      /* AS112 */
    { { 0x3fff }, 20, V6_REFUSE, "documentation" },         /* RFC 9637 */
    { { 0x5f00 }, 16, V6_REFUSE, "SRv6 SIDs" },             /* RFC 9602 */
    { { 0xfc00 }, 7, V6_REFUSE, "unique local" },           /* RFC 4193 */
    { { 0xfe80 }, 10, V6_REFUSE, "link-local" },            /* RFC 4291 */
    { { 0xfec0 }, 10, V6_REFUSE, "site-local (deprecated)" },
    { { 0xff00 }, 8, V6_REFUSE, "multicast" }
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static uint32_t load32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16)
           | ((uint32_t)p[2] << 8) | p[3];
}

/* The most specific v4_ranges entry covering a, as V4_GLOBAL or a
 * reason index. */
static int v4_why(uint32_t a)
{
    size_t i;
    int best_len = -1, why = V4_GLOBAL;

    for (i = 0; i < COUNT(v4_ranges); i++) {
        const v4_range_t *r = &v4_ranges[i];
        uint32_t mask = r->len ? 0xffffffffu << (32 - r->len) : 0;

        if ((a & mask) == r->net && r->len > best_len) {
            best_len = r->len;
            why = r->why;
        }
    }
    return why;
}

static const char *v4_refusal(uint32_t a, int where)
{
    return v4_reasons[where][v4_why(a)];
}

const char *cc_addr_refusal_v4(const unsigned char a[4])
{
    return v4_refusal(load32(a), EMB_NONE);
}

/* 1 when the first len bits of the address groups g equal the prefix. */
static int v6_match(const uint16_t g[8], const v6_range_t *r)
{
    unsigned i, bits = r->len;

    for (i = 0; i < 8 && bits > 0; i++) {
        unsigned n = bits < 16 ? bits : 16;
        uint16_t mask = (uint16_t)(0xffffu << (16 - n));

        if ((g[i] & mask) != r->g[i]) {
            return 0;
        }
        bits -= n;
    }
    return 1;
}

static const v6_range_t *v6_lookup(const uint16_t g[8])
{
    const v6_range_t *best = NULL;
    size_t i;

    for (i = 0; i < COUNT(v6_ranges); i++) {
        if (v6_match(g, &v6_ranges[i])
            && (!best || v6_ranges[i].len > best->len)) {
            best = &v6_ranges[i];
        }
    }
    return best;
}

const char *cc_addr_refusal_v6(const unsigned char a[16])
{
    const v6_range_t *r;
    const char *why;
    uint16_t g[8];
    unsigned i;

    for (i = 0; i < 8; i++) {
        g[i] = (uint16_t)((a[2 * i] << 8) | a[2 * i + 1]);
    }
    r = v6_lookup(g);
    if (!r) {
        return NULL;
    }
    switch (r->kind) {
    case V6_REFUSE:
        return r->reason;
    case V6_MAPPED:
        return v4_refusal(load32(a + 12), EMB_MAPPED);
    case V6_NAT64:
        return v4_refusal(load32(a + 12), EMB_NAT64);
    case V6_6TO4:
        return v4_refusal(load32(a + 2), EMB_6TO4);
    case V6_TEREDO:
        why = v4_refusal(load32(a + 4), EMB_TEREDO_SERVER);
        return why ? why : v4_refusal(~load32(a + 12), EMB_TEREDO_CLIENT);
    default:
        return NULL; /* V6_GLOBAL */
    }
}

const char *cc_addr_refusal(const struct sockaddr *sa, size_t salen)
{
    sa_family_t family;

    if (!sa || salen < offsetof(struct sockaddr, sa_family)
                           + sizeof(family)) {
        return "not an IP address";
    }
    /* memcpy: the caller's buffer need not be aligned for the family's
     * struct (a sockaddr_storage is, a byte buffer is not). */
    memcpy(&family, (const char *)sa + offsetof(struct sockaddr, sa_family),
           sizeof(family));
    if (family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in in;

        memcpy(&in, sa, sizeof(in));
        return cc_addr_refusal_v4((const unsigned char *)&in.sin_addr);
    }
    if (family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 in6;

        memcpy(&in6, sa, sizeof(in6));
        return cc_addr_refusal_v6(in6.sin6_addr.s6_addr);
    }
    return "not an IP address";
}

int cc_addr_refusal_str(const char *ip, const char **reason)
{
    unsigned char a[16];

    if (!ip) {
        return -1;
    }
    if (inet_pton(AF_INET, ip, a) == 1) {
        *reason = cc_addr_refusal_v4(a);
        return 0;
    }
    if (inet_pton(AF_INET6, ip, a) == 1) {
        *reason = cc_addr_refusal_v6(a);
        return 0;
    }
    return -1;
}
