/*
 * test_url.c: unit tests of cc_url_check_https: good and bad tenant URLs,
 * the host and port it extracts, and the 2048-byte limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cc_url.h"

typedef struct {
    const char *url;
    const char *host; /* NULL: CC_URL_NOT_HTTPS expected */
    unsigned port;
} case_t;

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const case_t good[] = {
    { "https://example.com", "example.com", 443 },
    { "https://example.com/", "example.com", 443 },
    { "HTTPS://OK", "ok", 443 },
    { "hTtPs://Docs.Example.COM/a/B?c=D#E", "docs.example.com", 443 },
    { "https://h:1/", "h", 1 },
    { "https://h:8443", "h", 8443 },
    { "https://h:65535/x", "h", 65535 },
    { "https://h:00443/x", "h", 443 },
    { "https://h?q=1", "h", 443 },
    { "https://h#frag", "h", 443 },
    { "https://h/p?q=a%20b&r=%2F#f?g/h", "h", 443 },
    { "https://h/@user", "h", 443 },
    { "https://h/?x=a@b", "h", 443 },
    { "https://h/#@evil", "h", 443 },
    { "https://my_host-1.example", "my_host-1.example", 443 },
    { "https://127.0.0.1/", "127.0.0.1", 443 },
    { "https://[::1]:8443/x", "::1", 8443 },
    { "https://[2001:DB8::A]/", "2001:db8::a", 443 },
    { "https://[::ffff:127.0.0.1]", "::ffff:127.0.0.1", 443 },
    { "https://h/a:b/c", "h", 443 },
    { "https://h/\x7e", "h", 443 }
};

static const char *const bad[] = {
    "",
    "https",
    "https:",
    "https:/",
    "https://",
    "https:/x",
    "https:///x",
    "http://example.com",
    "ftp://example.com",
    "//example.com",
    "example.com",
    "https:example.com",
    "https//example.com",
    " https://h",
    "https://h ",
    "https://h/a b",
    "https://h/a\tb",
    "https://h\t/",
    "https://h/\r\n",
    "https://h/\x7f",
    "https://h/\xc3\xa9",
    "https://h\xc3\xa9/",
    "https://h/a\\b",
    "https:\\\\h/",
    "https://h\\@evil/",
    "https://user@h/",
    "https://user:pw@h/",
    "https://@h/",
    "https://h@/",
    "https://h:0/",
    "https://h:65536/",
    "https://h:99999/",
    "https://h:443443/",
    "https://h:/",
    "https://h:",
    "https://h:-1/",
    "https://h:+443/",
    "https://h:44a/",
    "https://h:443:443/",
    "https://:443/",
    "https://h%2e/",
    "https://%68/",
    "https://h!/",
    "https://h*.x/",
    "https://h,x/",
    "https://[::1/",
    "https://[]/",
    "https://[::1]x/",
    "https://[::1]:/",
    "https://[::1]:0/",
    "https://[::g]/",
    "https://[1:2:3:4:5:6:7:8:9]/",
    "https://[fe80::1%25eth0]/",
    "https://[v1.x]/",
    "https://[127.0.0.1]/",
    "https://::1/",
    "https://h]/",
    "https://[::1]]/"
};

static void good_urls(void **state)
{
    cc_url_t u;
    size_t i;

    (void)state;
    for (i = 0; i < COUNT(good); i++) {
        memset(&u, 'x', sizeof(u));
        if (cc_url_check_https(good[i].url, strlen(good[i].url), &u)
            != CC_URL_OK) {
            fail_msg("refused: %s", good[i].url);
        }
        if (strcmp(u.host, good[i].host) != 0 || u.port != good[i].port) {
            fail_msg("%s: host %s port %u", good[i].url, u.host, u.port);
        }
        assert_int_equal(u.ipv6, good[i].url[8] == '[');
        /* out may be NULL. */
        assert_int_equal(cc_url_check_https(good[i].url,
                                            strlen(good[i].url), NULL),
                         CC_URL_OK);
    }
}

static void bad_urls(void **state)
{
    cc_url_t u;
    size_t i;

    (void)state;
    for (i = 0; i < COUNT(bad); i++) {
        if (cc_url_check_https(bad[i], strlen(bad[i]), &u)
            != CC_URL_NOT_HTTPS) {
            fail_msg("accepted: %s", bad[i]);
        }
    }
}

/* Bytes after len are not read, and an embedded NUL is refused. */
static void explicit_length(void **state)
{
    static const char s[] = "https://h/x\0/../evil";
    cc_url_t u;

    (void)state;
    assert_int_equal(cc_url_check_https(s, 11, &u), CC_URL_OK);
    assert_int_equal(cc_url_check_https(s, sizeof(s) - 1, &u),
                     CC_URL_NOT_HTTPS);
    assert_int_equal(cc_url_check_https("https://h:443", 11, &u), CC_URL_OK);
    assert_int_equal(u.port, 4); /* only "https://h:4" was read */
    assert_int_equal(cc_url_check_https(NULL, 0, &u), CC_URL_NOT_HTTPS);
}

static char *make_url(size_t len, char fill)
{
    char *s = malloc(len + 1);

    memcpy(s, "https://h/", 10);
    memset(s + 10, fill, len - 10);
    s[len] = '\0';
    return s;
}

/* Length is judged before form: 2049 bytes of anything is too long. */
static void length_limit(void **state)
{
    char *s;

    (void)state;
    s = make_url(2048, 'a');
    assert_int_equal(cc_url_check_https(s, 2048, NULL), CC_URL_OK);
    free(s);
    s = make_url(2049, 'a');
    assert_int_equal(cc_url_check_https(s, 2049, NULL), CC_URL_TOO_LONG);
    free(s);
    s = make_url(2049, ' ');
    memcpy(s, "http:", 5);
    assert_int_equal(cc_url_check_https(s, 2049, NULL), CC_URL_TOO_LONG);
    assert_int_equal(cc_url_check_https(s, 2048, NULL), CC_URL_NOT_HTTPS);
    free(s);
}

/* Hosts up to 255 bytes. */
static void host_length(void **state)
{
    char s[8 + 300 + 1];
    cc_url_t u;

    (void)state;
    memcpy(s, "https://", 8);
    memset(s + 8, 'a', 300);
    s[8 + 300] = '\0';
    assert_int_equal(cc_url_check_https(s, 8 + 255, &u), CC_URL_OK);
    assert_int_equal(strlen(u.host), 255);
    assert_int_equal(cc_url_check_https(s, 8 + 256, &u), CC_URL_NOT_HTTPS);
    s[8 + 255] = '/';
    assert_int_equal(cc_url_check_https(s, 8 + 300, &u), CC_URL_OK);
    s[8 + 255] = 'a';
    s[8 + 256] = ':';
    s[8 + 257] = '1';
    assert_int_equal(cc_url_check_https(s, 8 + 258, &u), CC_URL_NOT_HTTPS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_urls),
        cmocka_unit_test(bad_urls),
        cmocka_unit_test(explicit_length),
        cmocka_unit_test(length_limit),
        cmocka_unit_test(host_length),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
