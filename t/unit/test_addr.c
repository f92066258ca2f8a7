/*
 * test_addr.c: unit tests of cc_addr: every special-purpose range's first
 * and last address and its neighbours just outside, global examples, and
 * every embedded form of the classic SSRF targets (127.0.0.1, 10.0.0.1,
 * 169.254.169.254).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "cc_addr.h"

typedef struct {
    const char *ip;
    const char *reason; /* NULL: global */
} case_t;

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void check_cases(const case_t *c, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const char *got = "unset";

        if (cc_addr_refusal_str(c[i].ip, &got) != 0) {
            fail_msg("%s: not parsed", c[i].ip);
        }
        if (!c[i].reason != !got
            || (got && strcmp(got, c[i].reason) != 0)) {
            fail_msg("%s: got %s, want %s", c[i].ip, got ? got : "global",
                     c[i].reason ? c[i].reason : "global");
        }
    }
}

static const case_t v4_cases[] = {
    { "0.0.0.0", "this host" },
    { "0.0.0.1", "this network" },
    { "0.255.255.255", "this network" },
    { "1.0.0.0", NULL },
    { "9.255.255.255", NULL },
    { "10.0.0.0", "private-use" },
    { "10.255.255.255", "private-use" },
    { "11.0.0.0", NULL },
    { "100.63.255.255", NULL },
    { "100.64.0.0", "shared address space" },
    { "100.127.255.255", "shared address space" },
    { "100.128.0.0", NULL },
    { "126.255.255.255", NULL },
    { "127.0.0.0", "loopback" },
    { "127.0.0.1", "loopback" },
    { "127.255.255.255", "loopback" },
    { "128.0.0.0", NULL },
    { "169.253.255.255", NULL },
    { "169.254.0.0", "link-local" },
    { "169.254.169.254", "link-local" },
    { "169.254.255.255", "link-local" },
    { "169.255.0.0", NULL },
    { "172.15.255.255", NULL },
    { "172.16.0.0", "private-use" },
    { "172.31.255.255", "private-use" },
    { "172.32.0.0", NULL },
    { "191.255.255.255", NULL },
    { "192.0.0.0", "IPv4 service continuity" },
    { "192.0.0.7", "IPv4 service continuity" },
    { "192.0.0.8", "IPv4 dummy address" },
    /* Globally Reachable True in the registry (PCP and TURN anycast). */
    { "192.0.0.9", NULL },
    { "192.0.0.10", NULL },
    { "192.0.0.11", "IETF protocol assignments" },
    { "192.0.0.169", "IETF protocol assignments" },
    { "192.0.0.170", "NAT64/DNS64 discovery" },
    { "192.0.0.171", "NAT64/DNS64 discovery" },
    { "192.0.0.172", "IETF protocol assignments" },
    { "192.0.0.255", "IETF protocol assignments" },
    { "192.0.1.0", NULL },
    { "192.0.1.255", NULL },
    { "192.0.2.0", "documentation" },
    { "192.0.2.255", "documentation" },
    { "192.0.3.0", NULL },
    { "192.31.196.1", NULL },
    { "192.52.193.1", NULL },
    { "192.88.98.255", NULL },
    { "192.88.99.0", "6to4 relay anycast (deprecated)" },
    { "192.88.99.1", "6to4 relay anycast (deprecated)" },
    { "192.88.99.2", "6a44 relay anycast" },
    { "192.88.99.255", "6to4 relay anycast (deprecated)" },
    { "192.88.100.0", NULL },
    { "192.167.255.255", NULL },
    { "192.168.0.0", "private-use" },
    { "192.168.255.255", "private-use" },
    { "192.169.0.0", NULL },
    { "192.175.48.1", NULL },
    { "198.17.255.255", NULL },
    { "198.18.0.0", "benchmarking" },
    { "198.19.255.255", "benchmarking" },
    { "198.20.0.0", NULL },
    { "198.51.99.255", NULL },
    { "198.51.100.0", "documentation" },
    { "198.51.100.255", "documentation" },
    { "198.51.101.0", NULL },
    { "203.0.112.255", NULL },
    { "203.0.113.0", "documentation" },
    { "203.0.113.255", "documentation" },
    { "203.0.114.0", NULL },
    { "223.255.255.255", NULL },
    { "224.0.0.0", "multicast" },
    { "239.255.255.255", "multicast" },
    { "240.0.0.0", "reserved" },
    { "255.255.255.254", "reserved" },
    { "255.255.255.255", "limited broadcast" },
    { "8.8.8.8", NULL },
    { "1.1.1.1", NULL },
    { "9.9.9.9", NULL }
};

static void v4_ranges(void **state)
{
    (void)state;
    check_cases(v4_cases, COUNT(v4_cases));
}

#define ONES "ffff:ffff:ffff:ffff"

static const case_t v6_cases[] = {
    { "::", "unspecified" },
    { "::1", "loopback" },
    { "::2", "IPv4-compatible (deprecated)" },
    { "::ffff:ffff", "IPv4-compatible (deprecated)" },
    /* ::/8 outside the registry's entries: global, as unallocated space. */
    { "::1:0:0", NULL },
    { "::fffe:ffff:ffff", NULL },
    { "::ffff:0:0", "IPv4-mapped this host" },
    { "::ffff:255.255.255.255", "IPv4-mapped limited broadcast" },
    { "::1:0:0:0", NULL },
    { "64:ff9a:ffff:ffff:" ONES, NULL },
    { "64:ff9b::", "NAT64 this host" },
    { "64:ff9b::ffff:ffff", "NAT64 limited broadcast" },
    { "64:ff9b::1:0:0", NULL },
    { "64:ff9b:0:ffff:" ONES, NULL },
    { "64:ff9b:1::", "local-use NAT64" },
    { "64:ff9b:1:ffff:" ONES, "local-use NAT64" },
    { "64:ff9b:2::", NULL },
    { "ff:ffff:ffff:ffff:" ONES, NULL },
    { "100::", "discard-only" },
    { "100::ffff:ffff:ffff:ffff", "discard-only" },
    { "100:0:0:1::", "dummy prefix" },
    { "100:0:0:1:ffff:ffff:ffff:ffff", "dummy prefix" },
    { "100:0:0:2::", NULL },
    { "2000:ffff:ffff:ffff:" ONES, NULL },
    /* 2001::/32 is Teredo, judged on the embedded addresses. */
    { "2001::", "Teredo server this host" },
    { "2001:0:ffff:ffff:" ONES, "Teredo server limited broadcast" },
    { "2001:1::", "IETF protocol assignments" },
    { "2001:1::1", NULL },
    { "2001:1::2", NULL },
    { "2001:1::3", NULL },
    { "2001:1::4", "IETF protocol assignments" },
    { "2001:1:ffff:ffff:" ONES, "IETF protocol assignments" },
    { "2001:2::", "benchmarking" },
    { "2001:2:0:ffff:" ONES, "benchmarking" },
    { "2001:2:1::", "IETF protocol assignments" },
    { "2001:3::", NULL },
    { "2001:3:ffff:ffff:" ONES, NULL },
    { "2001:4::", "IETF protocol assignments" },
    { "2001:4:111:ffff:" ONES, "IETF protocol assignments" },
    { "2001:4:112::", NULL },
    { "2001:4:112:ffff:" ONES, NULL },
    { "2001:4:113::", "IETF protocol assignments" },
    { "2001:f:ffff:ffff:" ONES, "IETF protocol assignments" },
    { "2001:10::", "ORCHID (deprecated)" },
    { "2001:1f:ffff:ffff:" ONES, "ORCHID (deprecated)" },
    { "2001:20::", NULL },
    { "2001:2f:ffff:ffff:" ONES, NULL },
    { "2001:30::", NULL },
    { "2001:3f:ffff:ffff:" ONES, NULL },
    { "2001:40::", "IETF protocol assignments" },
    { "2001:1ff:ffff:ffff:" ONES, "IETF protocol assignments" },
    { "2001:200::", NULL },
    { "2001:db7:ffff:ffff:" ONES, NULL },
    { "2001:db8::", "documentation" },
    { "2001:db8:ffff:ffff:" ONES, "documentation" },
    { "2001:db9::", NULL },
    { "2001:ffff:ffff:ffff:" ONES, NULL },
    { "2002::", "6to4 this host" },
    { "2002:ffff:ffff:ffff:" ONES, "6to4 limited broadcast" },
    { "2003::", NULL },
    { "2620:4f:8000::", NULL },
    { "3ffe:ffff:ffff:ffff:" ONES, NULL },
    { "3fff::", "documentation" },
    { "3fff:fff:ffff:ffff:" ONES, "documentation" },
    { "3fff:1000::", NULL },
    { "5eff:ffff:ffff:ffff:" ONES, NULL },
    { "5f00::", "SRv6 SIDs" },
    { "5f00:ffff:ffff:ffff:" ONES, "SRv6 SIDs" },
    { "5f01::", NULL },
    { "fbff:ffff:ffff:ffff:" ONES, NULL },
    { "fc00::", "unique local" },
    { "fdff:ffff:ffff:ffff:" ONES, "unique local" },
    { "fe00::", NULL },
    { "fe7f:ffff:ffff:ffff:" ONES, NULL },
    { "fe80::", "link-local" },
    { "febf:ffff:ffff:ffff:" ONES, "link-local" },
    { "fec0::", "site-local (deprecated)" },
    { "feff:ffff:ffff:ffff:" ONES, "site-local (deprecated)" },
    { "ff00::", "multicast" },
    { "ffff:ffff:ffff:ffff:" ONES, "multicast" },
    { "2606:4700::1111", NULL },
    { "2001:4860:4860::8888", NULL },
    { "2a00:1450:4001::1", NULL }
};

static void v6_ranges(void **state)
{
    (void)state;
    check_cases(v6_cases, COUNT(v6_cases));
}

/*
 * Teredo: 2001:0:<server>:<flags>:<~port>:<~client>. The RFC 4380 example
 * 2001:0:4136:e378:8000:63bf:3fff:fdd2 has server 65.54.227.120 and client
 * 192.0.2.45 (documentation).
 */
static const case_t embedded_cases[] = {
    { "::ffff:127.0.0.1", "IPv4-mapped loopback" },
    { "::ffff:10.0.0.1", "IPv4-mapped private-use" },
    { "::ffff:169.254.169.254", "IPv4-mapped link-local" },
    { "::ffff:8.8.8.8", NULL },
    { "::127.0.0.1", "IPv4-compatible (deprecated)" },
    { "::10.0.0.1", "IPv4-compatible (deprecated)" },
    { "::169.254.169.254", "IPv4-compatible (deprecated)" },
    { "::8.8.8.8", "IPv4-compatible (deprecated)" },
    { "64:ff9b::127.0.0.1", "NAT64 loopback" },
    { "64:ff9b::7f00:1", "NAT64 loopback" },
    { "64:ff9b::10.0.0.1", "NAT64 private-use" },
    { "64:ff9b::169.254.169.254", "NAT64 link-local" },
    { "64:ff9b::192.0.0.9", NULL },
    { "64:ff9b::8.8.8.8", NULL },
    { "2002:7f00:1::", "6to4 loopback" },
    { "2002:7f00:1:1234::1", "6to4 loopback" },
    { "2002:a00:1::", "6to4 private-use" },
    { "2002:a9fe:a9fe::", "6to4 link-local" },
    { "2002:808:808::1", NULL },
    { "2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo client documentation" },
    { "2001:0:4136:e378:8000:63bf:f7f7:f7f7", NULL },
    { "2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo client loopback" },
    { "2001:0:4136:e378:8000:63bf:f5ff:fffe", "Teredo client private-use" },
    { "2001:0:4136:e378:8000:63bf:5601:5601", "Teredo client link-local" },
    { "2001:0:7f00:1:8000:63bf:f7f7:f7f7", "Teredo server loopback" },
    { "2001:0:a00:1:8000:63bf:f7f7:f7f7", "Teredo server private-use" },
    { "2001:0:a9fe:a9fe:8000:63bf:f7f7:f7f7", "Teredo server link-local" },
    /* Both bad: the server is named first. */
    { "2001:0:7f00:1:8000:63bf:5601:5601", "Teredo server loopback" }
};

static void embedded_forms(void **state)
{
    (void)state;
    check_cases(embedded_cases, COUNT(embedded_cases));
}

static void sockaddr_forms(void **state)
{
    struct sockaddr_storage ss;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
    struct sockaddr_un un;
    unsigned char raw[sizeof(struct sockaddr_in6) + 1];

    (void)state;
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    inet_pton(AF_INET, "8.8.8.8", &in.sin_addr);
    assert_null(cc_addr_refusal((struct sockaddr *)&in, sizeof(in)));
    assert_non_null(cc_addr_refusal((struct sockaddr *)&in, sizeof(in) - 1));
    inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
    assert_string_equal(cc_addr_refusal((struct sockaddr *)&in, sizeof(in)),
                        "loopback");

    memset(&in6, 0, sizeof(in6));
    in6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2606:4700::1111", &in6.sin6_addr);
    assert_null(cc_addr_refusal((struct sockaddr *)&in6, sizeof(in6)));
    assert_non_null(cc_addr_refusal((struct sockaddr *)&in6,
                                    sizeof(in6) - 1));
    /* An AF_INET6 address in the room of an AF_INET one. */
    assert_non_null(cc_addr_refusal((struct sockaddr *)&in6, sizeof(in)));
    inet_pton(AF_INET6, "::ffff:169.254.169.254", &in6.sin6_addr);
    assert_string_equal(cc_addr_refusal((struct sockaddr *)&in6,
                                        sizeof(in6)),
                        "IPv4-mapped link-local");

    /* In a sockaddr_storage, and at an odd address. */
    memset(&ss, 0, sizeof(ss));
    memcpy(&ss, &in6, sizeof(in6));
    assert_string_equal(cc_addr_refusal((struct sockaddr *)&ss, sizeof(ss)),
                        "IPv4-mapped link-local");
    memcpy(raw + 1, &in6, sizeof(in6));
    assert_string_equal(cc_addr_refusal((struct sockaddr *)(raw + 1),
                                        sizeof(in6)),
                        "IPv4-mapped link-local");

    memset(&un, 0, sizeof(un));
    un.sun_family = AF_UNIX;
    strcpy(un.sun_path, "/run/x.sock");
    assert_non_null(cc_addr_refusal((struct sockaddr *)&un, sizeof(un)));
    ss.ss_family = AF_UNSPEC;
    assert_non_null(cc_addr_refusal((struct sockaddr *)&ss, sizeof(ss)));
    assert_non_null(cc_addr_refusal(NULL, sizeof(in6)));
    assert_non_null(cc_addr_refusal((struct sockaddr *)&in6, 0));
    assert_non_null(cc_addr_refusal((struct sockaddr *)&in6, 1));
}

static void text_forms(void **state)
{
    const char *r = "untouched";

    (void)state;
    assert_int_equal(cc_addr_refusal_str("localhost", &r), -1);
    assert_int_equal(cc_addr_refusal_str("127.1", &r), -1);
    assert_int_equal(cc_addr_refusal_str("[::1]", &r), -1);
    assert_int_equal(cc_addr_refusal_str("fe80::1%eth0", &r), -1);
    assert_int_equal(cc_addr_refusal_str("", &r), -1);
    assert_int_equal(cc_addr_refusal_str(NULL, &r), -1);
    assert_string_equal(r, "untouched");
    assert_int_equal(cc_addr_refusal_str("::FFFF:7F00:1", &r), 0);
    assert_string_equal(r, "IPv4-mapped loopback");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v4_ranges),
        cmocka_unit_test(v6_ranges),
        cmocka_unit_test(embedded_forms),
        cmocka_unit_test(sockaddr_forms),
        cmocka_unit_test(text_forms),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
