/*
 * cc_token.h: access tokens (HS256 JWT on OpenSSL HMAC), httpd-free.
 *
 * Claims: sub and clientId (the client id), companyId (company UUID), iat,
 * exp. Only a header saying HS256 is accepted ("none", HS384, RS256...
 * are refused whatever their signature), the HMAC is compared in constant
 * time, and the claims' shapes and expiry are checked.
 */
#ifndef CC_TOKEN_H
#define CC_TOKEN_H

#include <stddef.h>

#define CC_TOKEN_MAX_LEN 2048
#define CC_TOKEN_MIN_SECRET 32

/* Issues a token valid from now for ttl seconds. Returns a malloc'd string
 * (free with cc_token_free) or NULL. */
char *cc_token_issue(const unsigned char *secret, size_t secret_len,
                     const char *client_id, const char *company_id,
                     long now, long ttl);
void cc_token_free(char *token);

/* Verifies signature, algorithm, expiry and claim shapes. On success (0)
 * copies the client id (at most 63 bytes) and company UUID; -1 otherwise. */
int cc_token_verify(const unsigned char *secret, size_t secret_len,
                    const char *token, long now, char client_id[64],
                    char company_id[37]);

#endif
