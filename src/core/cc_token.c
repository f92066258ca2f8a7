/*
 * cc_token.c: HS256 access tokens with OpenSSL's HMAC and json-c.
 *
 * libjwt was the first choice, but it parses JSON with jansson, whose
 * json_object_get() has the same symbol name as json-c's; httpd loads
 * modules RTLD_GLOBAL, so inside httpd libjwt called json-c's function and
 * corrupted its own objects. A JWT with one fixed algorithm is small
 * enough to do with the two libraries the module already links.
 */
#include "cc_token.h"
#include "cc_crypto.h"

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

/* base64url("{"alg":"HS256","typ":"JWT"}"): the only header we issue. */
#define HEADER_B64 "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

/* base64url without padding of n bytes into out (4*ceil(n/3)+1 bytes). */
static size_t b64url_encode(const unsigned char *in, size_t n, char *out)
{
    size_t len = (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    size_t i;

    while (len > 0 && out[len - 1] == '=') {
        len--;
    }
    for (i = 0; i < len; i++) {
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    }
    out[len] = '\0';
    return len;
}

/* Decodes len chars of base64url (no padding) into a malloc'd buffer;
 * NULL on any non-alphabet character or impossible length. */
static unsigned char *b64url_decode(const char *in, size_t len,
                                    size_t *outlen)
{
    size_t padded = (len + 3) / 4 * 4, i, pad = padded - len;
    char *tmp;
    unsigned char *out;
    int n;

    if (len == 0 || len % 4 == 1) {
        return NULL;
    }
    tmp = malloc(padded + 1);
    out = malloc(padded / 4 * 3 + 1);
    if (!tmp || !out) {
        free(tmp);
        free(out);
        return NULL;
    }
    for (i = 0; i < len; i++) {
        char c = in[i];
        if (c == '-') {
            c = '+';
        }
        else if (c == '_') {
            c = '/';
        }
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                   || (c >= '0' && c <= '9'))) {
            free(tmp);
            free(out);
            return NULL;
        }
        tmp[i] = c;
    }
    memset(tmp + len, '=', pad);
    tmp[padded] = '\0';
    n = EVP_DecodeBlock(out, (unsigned char *)tmp, (int)padded);
    free(tmp);
    if (n < 0) {
        free(out);
        return NULL;
    }
    *outlen = (size_t)n - pad;
    return out;
}

static void sign(const unsigned char *secret, size_t secret_len,
                 const char *data, size_t len, unsigned char mac[32])
{
    unsigned int maclen = 32;

    HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)data,
         len, mac, &maclen);
}

char *cc_token_issue(const unsigned char *secret, size_t secret_len,
                     const char *client_id, const char *company_id,
                     long now, long ttl)
{
    json_object *claims = json_object_new_object();
    const char *payload;
    size_t plen, hlen = sizeof(HEADER_B64) - 1, pos;
    unsigned char mac[32];
    char *out = NULL;

    json_object_object_add(claims, "sub", json_object_new_string(client_id));
    json_object_object_add(claims, "companyId",
                           json_object_new_string(company_id));
    json_object_object_add(claims, "clientId",
                           json_object_new_string(client_id));
    json_object_object_add(claims, "iat", json_object_new_int64(now));
    json_object_object_add(claims, "exp", json_object_new_int64(now + ttl));
    payload = json_object_to_json_string_length(
        claims, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
        &plen);
    out = malloc(hlen + 1 + (plen + 2) / 3 * 4 + 1 + 44 + 1);
    if (out) {
        memcpy(out, HEADER_B64 ".", hlen + 1);
        pos = hlen + 1;
        pos += b64url_encode((const unsigned char *)payload, plen, out + pos);
        sign(secret, secret_len, out, pos, mac);
        out[pos++] = '.';
        b64url_encode(mac, sizeof(mac), out + pos);
    }
    json_object_put(claims);
    return out;
}

void cc_token_free(char *token)
{
    free(token);
}

/* Parses a decoded JSON segment; the object must be all of it. */
static json_object *parse_segment(const char *seg, size_t len)
{
    size_t n;
    unsigned char *raw = b64url_decode(seg, len, &n);
    json_tokener *tok;
    json_object *o = NULL;

    if (!raw) {
        return NULL;
    }
    tok = json_tokener_new();
    if (tok) {
        o = json_tokener_parse_ex(tok, (const char *)raw, (int)n);
        if (json_tokener_get_error(tok) != json_tokener_success
            || (size_t)json_tokener_get_parse_end(tok) != n
            || !json_object_is_type(o, json_type_object)) {
            json_object_put(o);
            o = NULL;
        }
        json_tokener_free(tok);
    }
    free(raw);
    return o;
}

static const char *str_claim(json_object *o, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(o, key, &v)
        || !json_object_is_type(v, json_type_string)) {
        return NULL;
    }
    return json_object_get_string(v);
}

static int int_claim(json_object *o, const char *key, long *out)
{
    json_object *v;

    if (!json_object_object_get_ex(o, key, &v)
        || !json_object_is_type(v, json_type_int)) {
        return 0;
    }
    *out = (long)json_object_get_int64(v);
    return 1;
}

int cc_token_verify(const unsigned char *secret, size_t secret_len,
                    const char *token, long now, char client_id[64],
                    char company_id[37])
{
    const char *dot1, *dot2, *alg, *typ, *sub, *cid, *company;
    size_t len, siglen = 0;
    unsigned char mac[32], *sig = NULL;
    json_object *header = NULL, *claims = NULL;
    long exp, iat;
    int rc = -1;

    if (!token || secret_len == 0) {
        return -1;
    }
    len = strnlen(token, CC_TOKEN_MAX_LEN + 1);
    dot1 = memchr(token, '.', len);
    dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token))
                : NULL;
    if (len > CC_TOKEN_MAX_LEN || !dot1 || !dot2 || dot1 == token
        || dot2 == dot1 + 1 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token))) {
        return -1;
    }
    /* The header decides nothing but must say HS256: "none" and every
     * other algorithm are refused before the signature is looked at. */
    header = parse_segment(token, (size_t)(dot1 - token));
    alg = header ? str_claim(header, "alg") : NULL;
    typ = header ? str_claim(header, "typ") : NULL;
    if (!alg || strcmp(alg, "HS256") != 0 || (typ && strcmp(typ, "JWT") != 0)
        || json_object_object_get_ex(header, "crit", NULL)) {
        goto out;
    }
    sig = b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - token), &siglen);
    sign(secret, secret_len, token, (size_t)(dot2 - token), mac);
    if (!sig || siglen != sizeof(mac)
        || !cc_crypto_equal(sig, mac, sizeof(mac))) {
        goto out;
    }
    claims = parse_segment(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (!claims) {
        goto out;
    }
    sub = str_claim(claims, "sub");
    cid = str_claim(claims, "clientId");
    company = str_claim(claims, "companyId");
    if (sub && cid && company && strcmp(sub, cid) == 0 && strlen(sub) < 64
        && cc_crypto_is_uuid(company) && int_claim(claims, "exp", &exp)
        && int_claim(claims, "iat", &iat) && now < exp && iat <= now + 60) {
        strcpy(client_id, sub);
        strcpy(company_id, company);
        rc = 0;
    }
out:
    free(sig);
    json_object_put(header);
    json_object_put(claims);
    return rc;
}
