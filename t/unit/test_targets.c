/*
 * test_targets.c: unit tests of the daemon's tenant URL rules
 * (src/kycd/targets.c): allow_targets parsing, exact matching, the URL
 * classification (https, listed http, refused) and the address set a
 * listed target may connect to. Nothing here connects anywhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "targets.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void test_parse_good(void **state)
{
    cc_targets_t t;
    char err[160];

    (void)state;
    assert_int_equal(cc_targets_parse(NULL, &t, err, sizeof(err)), 0);
    assert_int_equal(t.n, 0);
    assert_int_equal(cc_targets_parse("", &t, err, sizeof(err)), 0);
    assert_int_equal(t.n, 0);
    assert_int_equal(cc_targets_parse(" 127.0.0.1:9999 , Docs.Local:8443,"
                                      "[::1]:443,, ",
                                      &t, err, sizeof(err)),
                     0);
    assert_int_equal(t.n, 3);
    assert_string_equal(t.t[0].host, "127.0.0.1");
    assert_int_equal(t.t[0].port, 9999);
    assert_int_equal(t.t[0].ipv6, 0);
    assert_string_equal(t.t[1].host, "docs.local");
    assert_int_equal(t.t[1].port, 8443);
    assert_string_equal(t.t[2].host, "::1");
    assert_int_equal(t.t[2].port, 443);
    assert_int_equal(t.t[2].ipv6, 1);
}

static void test_parse_bad(void **state)
{
    static const char *const bad[] = {
        "127.0.0.1",         /* no port */
        "127.0.0.1:",        /* empty port */
        "127.0.0.1:0",       /* port 0 */
        "127.0.0.1:65536",   /* out of range */
        "https://h:1",       /* a URL, not an entry */
        "h:1/x",             /* a path */
        "h:1?x",             /* a query */
        "u@h:1",             /* userinfo */
        "::1:443",           /* IPv6 without brackets */
        "[::1]",             /* no port */
        "[fe80::1%25lo]:1",  /* zone */
        "h h:1",             /* blank inside */
        ":1",                /* no host */
        "ok:1,bad",          /* one bad entry spoils the list */
    };
    cc_targets_t t;
    char err[160];
    size_t i;

    (void)state;
    for (i = 0; i < COUNT(bad); i++) {
        err[0] = '\0';
        assert_int_equal(cc_targets_parse(bad[i], &t, err, sizeof(err)), -1);
        assert_true(strlen(err) > 0);
    }
}

static void test_parse_too_many(void **state)
{
    char list[CC_TARGETS_MAX * 16 + 32], err[160];
    cc_targets_t t;
    size_t n = 0;
    int i;

    (void)state;
    for (i = 0; i <= CC_TARGETS_MAX; i++) {
        n += (size_t)snprintf(list + n, sizeof(list) - n, "h:%d,", i + 1);
    }
    assert_int_equal(cc_targets_parse(list, &t, err, sizeof(err)), -1);
}

static int classify(const cc_targets_t *t, const char *url, cc_url_t *u,
                    int *tls)
{
    return cc_targets_classify(t, url, u, tls);
}

static void test_classify(void **state)
{
    cc_targets_t t;
    cc_url_t u;
    char err[160];
    int tls;

    (void)state;
    assert_int_equal(cc_targets_parse("127.0.0.1:9999,dev.local:80,"
                                      "[::1]:8443",
                                      &t, err, sizeof(err)),
                     0);
    assert_int_equal(classify(&t, "https://example.com/a?X-Sig=s", &u, &tls),
                     CC_TARGET_HTTPS);
    assert_int_equal(tls, 1);
    assert_int_equal(classify(&t, "https://127.0.0.1:9999/doc", &u, &tls),
                     CC_TARGET_LISTED);
    assert_int_equal(tls, 1);
    /* Listed targets are exempt from the https rule too. */
    assert_int_equal(classify(&t, "http://127.0.0.1:9999/doc", &u, &tls),
                     CC_TARGET_LISTED);
    assert_int_equal(tls, 0);
    assert_int_equal(classify(&t, "HTTP://Dev.Local/x", &u, &tls),
                     CC_TARGET_LISTED);
    assert_int_equal(u.port, 80);
    assert_int_equal(classify(&t, "https://[::1]:8443/", &u, &tls),
                     CC_TARGET_LISTED);
    /* Exact entries: another port, another spelling, another scheme's
     * default port are not listed. */
    assert_int_equal(classify(&t, "https://127.0.0.1:9998/", &u, &tls),
                     CC_TARGET_HTTPS);
    assert_int_equal(classify(&t, "https://2130706433:9999/", &u, &tls),
                     CC_TARGET_HTTPS);
    assert_int_equal(classify(&t, "https://127.1:9999/", &u, &tls),
                     CC_TARGET_HTTPS);
    assert_int_equal(classify(&t, "https://dev.local/", &u, &tls),
                     CC_TARGET_HTTPS); /* 443, not 80 */
    assert_int_equal(classify(&t, "http://127.0.0.1:9998/", &u, &tls),
                     CC_TARGET_REFUSED);
    assert_int_equal(classify(&t, "http://127.0.0.1/", &u, &tls),
                     CC_TARGET_REFUSED);
    assert_int_equal(classify(&t, "http://dev.local:8080/", &u, &tls),
                     CC_TARGET_REFUSED);
    assert_int_equal(classify(&t, "http://u@127.0.0.1:9999/", &u, &tls),
                     CC_TARGET_REFUSED);
    assert_int_equal(classify(&t, "ftp://127.0.0.1:9999/", &u, &tls),
                     CC_TARGET_REFUSED);
    assert_int_equal(classify(&t, "http://example.com/", &u, &tls),
                     CC_TARGET_REFUSED);
    /* The http form check is the https one: no port digits, no pass. */
    assert_int_equal(classify(&t, "http://127.0.0.1:/", &u, &tls),
                     CC_TARGET_REFUSED);
}

static void test_classify_http_port(void **state)
{
    cc_targets_t t;
    cc_url_t u;
    char err[160];
    int tls;

    (void)state;
    assert_int_equal(cc_targets_parse("h:80,[::1]:80,h:443", &t, err,
                                      sizeof(err)),
                     0);
    assert_int_equal(classify(&t, "http://h", &u, &tls), CC_TARGET_LISTED);
    assert_int_equal(u.port, 80);
    assert_int_equal(classify(&t, "http://h?a=b:1", &u, &tls),
                     CC_TARGET_LISTED);
    assert_int_equal(u.port, 80);
    assert_int_equal(classify(&t, "http://[::1]/x:9", &u, &tls),
                     CC_TARGET_LISTED);
    assert_int_equal(u.port, 80);
    assert_int_equal(classify(&t, "http://h:443/", &u, &tls),
                     CC_TARGET_LISTED);
    assert_int_equal(u.port, 443);
}

static void sin4(struct sockaddr_in *a, const char *ip, unsigned port)
{
    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
}

static void sin6(struct sockaddr_in6 *a, const char *ip, unsigned port)
{
    memset(a, 0, sizeof(*a));
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
}

static void test_addresses(void **state)
{
    cc_target_addrs_t set;
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    cc_url_t u;

    (void)state;
    memset(&u, 0, sizeof(u));
    strcpy(u.host, "127.0.0.1");
    u.port = 9999;
    assert_int_equal(cc_targets_resolve(&u, &set), 0);
    sin4(&a4, "127.0.0.1", 9999);
    assert_true(cc_targets_addr_in(&set, (void *)&a4, sizeof(a4)));
    sin4(&a4, "127.0.0.1", 9998); /* another port */
    assert_false(cc_targets_addr_in(&set, (void *)&a4, sizeof(a4)));
    sin4(&a4, "127.0.0.2", 9999); /* another address */
    assert_false(cc_targets_addr_in(&set, (void *)&a4, sizeof(a4)));
    sin6(&a6, "::ffff:127.0.0.1", 9999); /* another family */
    assert_false(cc_targets_addr_in(&set, (void *)&a6, sizeof(a6)));
    assert_false(cc_targets_addr_in(&set, (void *)&a4, 4)); /* short */

    strcpy(u.host, "::1");
    u.ipv6 = 1;
    assert_int_equal(cc_targets_resolve(&u, &set), 0);
    sin6(&a6, "::1", 9999);
    assert_true(cc_targets_addr_in(&set, (void *)&a6, sizeof(a6)));
    sin4(&a4, "127.0.0.1", 9999);
    assert_false(cc_targets_addr_in(&set, (void *)&a4, sizeof(a4)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_parse_too_many),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_classify_http_port),
        cmocka_unit_test(test_addresses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
