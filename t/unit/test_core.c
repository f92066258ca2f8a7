/*
 * test_core.c: unit tests of the small core pieces: access tokens, JSON
 * shapes, the wake-up wire format and identifiers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "cc_crypto.h"
#include "cc_json.h"
#include "cc_token.h"
#include "cc_wire.h"

static const unsigned char secret[] = "0123456789abcdef0123456789abcdef-test";
#define SECRET_LEN (sizeof(secret) - 1)
#define COMPANY "5f0c6c84-4d0b-4b7e-9d43-2f6a3c1f7e10"
#define CLIENT "cli_0123456789abcdef0123456789abcdef"
#define NOW 1790000000L

static void token_round_trip(void **state)
{
    char *t = cc_token_issue(secret, SECRET_LEN, CLIENT, COMPANY, NOW, 3600);
    char client[64], company[37];

    (void)state;
    assert_non_null(t);
    assert_int_equal(cc_token_verify(secret, SECRET_LEN, t, NOW + 10, client,
                                     company), 0);
    assert_string_equal(client, CLIENT);
    assert_string_equal(company, COMPANY);
    /* Expired at exactly iat + 3600. */
    assert_int_equal(cc_token_verify(secret, SECRET_LEN, t, NOW + 3600,
                                     client, company), -1);
    assert_int_equal(cc_token_verify(secret, SECRET_LEN, t, NOW + 3599,
                                     client, company), 0);
    cc_token_free(t);
}

static void token_tampered(void **state)
{
    char *t = cc_token_issue(secret, SECRET_LEN, CLIENT, COMPANY, NOW, 3600);
    char client[64], company[37];
    char *dot;
    size_t n;

    (void)state;
    /* Flip one character of the payload. */
    dot = strchr(t, '.');
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    assert_int_equal(cc_token_verify(secret, SECRET_LEN, t, NOW, client,
                                     company), -1);
    dot[5] = dot[5] == 'A' ? 'B' : 'A';
    /* Flip the last signature character. */
    n = strlen(t);
    t[n - 2] = t[n - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(cc_token_verify(secret, SECRET_LEN, t, NOW, client,
                                     company), -1);
    /* Another secret. */
    t[n - 2] = t[n - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(cc_token_verify((const unsigned char *)
                                     "another-secret-another-secret-00",
                                     32, t, NOW, client, company), -1);
    cc_token_free(t);
}

/* An independent JWT builder for the tests: plain base64url and HMAC,
 * so the verifier is checked against code it does not share. */
static void b64url(const unsigned char *in, size_t n, char *out)
{
    static const char a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t i, o = 0;
    unsigned v;

    for (i = 0; i + 2 < n; i += 3) {
        v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = a[(v >> 6) & 63];
        out[o++] = a[v & 63];
    }
    if (n - i == 1) {
        v = (unsigned)in[i] << 16;
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
    }
    else if (n - i == 2) {
        v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = a[(v >> 6) & 63];
    }
    out[o] = '\0';
}

/* md NULL: an unsigned ("alg": "none") token with an empty signature. */
static char *forge(const char *header, const char *claims, const EVP_MD *md)
{
    char *t = malloc(4096);
    unsigned char mac[64];
    unsigned int maclen = 0;
    size_t n;

    b64url((const unsigned char *)header, strlen(header), t);
    n = strlen(t);
    t[n++] = '.';
    b64url((const unsigned char *)claims, strlen(claims), t + n);
    n = strlen(t);
    if (md) {
        HMAC(md, secret, (int)SECRET_LEN, (unsigned char *)t, n, mac,
             &maclen);
    }
    t[n++] = '.';
    b64url(mac, maclen, t + n);
    return t;
}

#define CLAIMS(company, exp)                                              \
    "{\"sub\":\"" CLIENT "\",\"clientId\":\"" CLIENT "\",\"companyId\":\""  \
    company "\",\"iat\":1790000000,\"exp\":" exp "}"

static void token_only_hs256(void **state)
{
    char client[64], company[37];
    char *t;

    (void)state;
    t = forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
              CLAIMS(COMPANY, "1790000060"), EVP_sha256());
    assert_int_equal(cc_token_verify(secret, SECRET_LEN, t, NOW, client,
                                     company), 0);
    free(t);
    t = forge("{\"alg\":\"HS384\",\"typ\":\"JWT\"}",
              CLAIMS(COMPANY, "1790000060"), EVP_sha384());
    assert_int_equal(cc_token_verify(secret, SECRET_LEN, t, NOW, client,
                                     company), -1);
    free(t);
    t = forge("{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
              CLAIMS(COMPANY, "1790000060"), EVP_sha512());
    assert_int_equal(cc_token_verify(secret, SECRET_LEN, t, NOW, client,
                                     company), -1);
    free(t);
    t = forge("{\"alg\":\"none\",\"typ\":\"JWT\"}",
              CLAIMS(COMPANY, "1790000060"), NULL);
    assert_int_equal(cc_token_verify(secret, SECRET_LEN, t, NOW, client,
                                     company), -1);
    free(t);
    /* "none" with a valid HS256 signature attached is still "none". */
    t = forge("{\"alg\":\"none\"}", CLAIMS(COMPANY, "1790000060"),
              EVP_sha256());
    assert_int_equal(cc_token_verify(secret, SECRET_LEN, t, NOW, client,
                                     company), -1);
    free(t);
    /* A claim of the wrong shape is refused even when signed. */
    t = forge("{\"alg\":\"HS256\"}", CLAIMS("not-a-uuid", "1790000060"),
              EVP_sha256());
    assert_int_equal(cc_token_verify(secret, SECRET_LEN, t, NOW, client,
                                     company), -1);
    free(t);
    t = forge("{\"alg\":\"HS256\"}", CLAIMS(COMPANY, "\"1790000060\""),
              EVP_sha256());
    assert_int_equal(cc_token_verify(secret, SECRET_LEN, t, NOW, client,
                                     company), -1);
    free(t);
    t = forge("{\"alg\":\"HS256\"}", CLAIMS(COMPANY, "1790000000"),
              EVP_sha256());
    assert_int_equal(cc_token_verify(secret, SECRET_LEN, t, NOW, client,
                                     company), -1);
    free(t);
    assert_int_equal(cc_token_verify(secret, SECRET_LEN, "garbage", NOW,
                                     client, company), -1);
    assert_int_equal(cc_token_verify(secret, SECRET_LEN, "a.b.c", NOW,
                                     client, company), -1);
    assert_int_equal(cc_token_verify(secret, SECRET_LEN, "", NOW, client,
                                     company), -1);
}

static void json_error_envelope(void **state)
{
    json_object *e = cc_json_error_new(400, "first_name is required");
    const char *s;

    (void)state;
    cc_json_error_add(e, "first_name", 10, "first_name is required");
    /* Invalid UTF-8 and over-long names are made safe to echo. */
    cc_json_error_add(e, "a\xff/b", 4, "x");
    s = cc_json_string(e, NULL);
    assert_string_equal(s,
        "{\"success\":false,\"statusCode\":400,\"message\":"
        "\"first_name is required\",\"error\":\"Bad Request\",\"errors\":"
        "[{\"field\":\"first_name\",\"message\":\"first_name is required\"},"
        "{\"field\":\"a\xef\xbf\xbd/b\",\"message\":\"x\"}]}");
    json_object_put(e);
}

static void json_field_cut(void **state)
{
    char longname[200], out[CC_JSON_FIELD_MAX];
    size_t n;

    (void)state;
    memset(longname, 'x', sizeof(longname));
    n = cc_json_clean_field(longname, sizeof(longname), out);
    assert_int_equal(n, 64);
    /* A 2-byte character straddling byte 64 is dropped whole. */
    memset(longname, 'y', 63);
    memcpy(longname + 63, "\xc3\xa9", 2);
    n = cc_json_clean_field(longname, 65, out);
    assert_int_equal(n, 63);
    n = cc_json_clean_field("a\0b", 3, out);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "a\xef\xbf\xbd" "b", 5);
}

static void json_customer_shape(void **state)
{
    cc_customer_t c;
    json_object *o;
    const char *s;

    (void)state;
    memset(&c, 0, sizeof(c));
    c.id = "id";
    c.first_name = "John";
    c.image = "http://x/api/v1/customers/id/documents/front";
    c.date_of_birth = "1990-01-15";
    c.is_active = 1;
    c.type = "NIN";
    c.identification_number = "123";
    o = cc_json_customer(&c, 0);
    s = cc_json_string(o, NULL);
    assert_non_null(strstr(s, "\"image\":\"http://x/api/v1/customers/id/"
                              "documents/front\""));
    assert_non_null(strstr(s, "\"date_of_birth\":\"1990-01-15T00:00:00.000Z\""));
    assert_non_null(strstr(s, "\"photo\":null"));
    assert_non_null(strstr(s, "\"number\":\"123\""));
    assert_null(strstr(s, "kyc_status"));
    assert_null(strstr(s, "country_iso_code"));
    json_object_put(o);
    o = cc_json_customer(&c, 1);
    s = cc_json_string(o, NULL);
    assert_non_null(strstr(s, "\"kyc_status\":null"));
    assert_non_null(strstr(s, "\"country_iso_code\":null"));
    assert_non_null(strstr(s, "\"issuer_customer_id\":null"));
    json_object_put(o);
}

static void wire_format(void **state)
{
    char buf[CC_WIRE_MAX_LINE];
    long long id;

    (void)state;
    assert_int_equal(cc_wire_wake_encode(buf, sizeof(buf), 42), 12);
    assert_string_equal(buf, "CCWAKE/1 42\n");
    assert_int_equal(cc_wire_wake_decode(buf, strlen(buf), &id), 0);
    assert_true(id == 42);
    assert_int_equal(cc_wire_wake_decode("CCWAKE/1 9223372036854775807", 28,
                                         &id), 0);
    assert_true(id == 9223372036854775807LL);
    assert_int_equal(cc_wire_wake_decode("CCWAKE/1 9223372036854775808", 28,
                                         &id), -1);
    assert_int_equal(cc_wire_wake_decode("CCWAKE/2 1", 10, &id), -1);
    assert_int_equal(cc_wire_wake_decode("CCWAKE/1 0", 10, &id), -1);
    assert_int_equal(cc_wire_wake_decode("CCWAKE/1 01", 11, &id), -1);
    assert_int_equal(cc_wire_wake_decode("CCWAKE/1 1x", 11, &id), -1);
    assert_int_equal(cc_wire_wake_decode("CCWAKE/1 ", 9, &id), -1);
    assert_int_equal(cc_wire_wake_encode(buf, 5, 42), -1);
    assert_int_equal(cc_wire_wake_encode(buf, sizeof(buf), 0), -1);
}

static void identifiers(void **state)
{
    char u[37], v[37], id[37], key[65];

    (void)state;
    assert_int_equal(cc_crypto_uuid4(u), 0);
    assert_int_equal(cc_crypto_uuid4(v), 0);
    assert_true(cc_crypto_is_uuid(u));
    assert_string_not_equal(u, v);
    assert_int_equal(u[14], '4');
    assert_non_null(strchr("89ab", u[19]));
    assert_false(cc_crypto_is_uuid("5f0c6c84-4d0b-4b7e-9d43-2f6a3c1f7e1"));
    assert_false(cc_crypto_is_uuid("5f0c6c84-4d0b-4b7e-9d43-2f6a3c1f7e100"));
    assert_false(cc_crypto_is_uuid("5f0c6c84x4d0b-4b7e-9d43-2f6a3c1f7e10"));
    assert_int_equal(cc_crypto_new_client(id, key), 0);
    assert_int_equal(strlen(id), 36);
    assert_int_equal(strncmp(id, "cli_", 4), 0);
    assert_int_equal(strlen(key), 64);
}

/* RFC 4231 test case 2, the message given in two parts (as a webhook
 * signature gives "<t>." and the body). */
static void hmac_two_parts(void **state)
{
    unsigned char mac[32];
    char hex[65];

    (void)state;
    assert_int_equal(cc_crypto_hmac_sha256_2("Jefe", 4, "what do ya ", 11,
                                             "want for nothing?", 17, mac),
                     0);
    cc_crypto_hex(mac, sizeof(mac), hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c7"
                             "5a003f089d2739839dec58b964ec3843");
    assert_int_equal(cc_crypto_hmac_sha256_2("Jefe", 4, "", 0,
                                             "what do ya want for nothing?",
                                             28, mac),
                     0);
    cc_crypto_hex(mac, sizeof(mac), hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c7"
                             "5a003f089d2739839dec58b964ec3843");
    /* Two draws from the CSPRNG agree with probability 2^-32. */
    assert_true(cc_crypto_random_u32() != cc_crypto_random_u32()
                || cc_crypto_random_u32() != cc_crypto_random_u32());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(token_round_trip),
        cmocka_unit_test(token_tampered),
        cmocka_unit_test(token_only_hs256),
        cmocka_unit_test(json_error_envelope),
        cmocka_unit_test(json_field_cut),
        cmocka_unit_test(json_customer_shape),
        cmocka_unit_test(wire_format),
        cmocka_unit_test(identifiers),
        cmocka_unit_test(hmac_two_parts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
