/*
 * cc_crypto.h: random identifiers and hashes on OpenSSL, httpd-free.
 */
#ifndef CC_CRYPTO_H
#define CC_CRYPTO_H

#include <stddef.h>

/* Fills out with 2*nbytes lowercase hex chars from a CSPRNG (RAND_bytes)
 * plus a NUL; out must hold 2*nbytes+1. Returns 0, or -1 if the CSPRNG
 * failed. */
int cc_crypto_random_hex(char *out, size_t nbytes);

/* A random (version 4) UUID, lowercase, 36 chars + NUL. Returns 0 or -1. */
int cc_crypto_uuid4(char out[37]);

/* SHA-256 of data into out. */
void cc_crypto_sha256(const void *data, size_t len, unsigned char out[32]);

/* HMAC-SHA256(key, a || b) into out, without copying a and b into one
 * buffer (webhook signatures: a is "<t>.", b the body). Returns 0, or -1
 * when OpenSSL fails (the caller must not send an unsigned request). */
int cc_crypto_hmac_sha256_2(const void *key, size_t keylen, const void *a,
                            size_t alen, const void *b, size_t blen,
                            unsigned char out[32]);

/* A uniformly random 32-bit value from the CSPRNG (thread-safe, unlike
 * rand(), and different in every process); 0 if the CSPRNG failed. */
unsigned cc_crypto_random_u32(void);

/* Lowercase hex of len bytes into out (2*len+1). */
void cc_crypto_hex(const unsigned char *in, size_t len, char *out);

/* Constant-time comparison; 1 when equal. */
int cc_crypto_equal(const void *a, const void *b, size_t len);

/* A new client id "cli_" + 32 hex chars (NUL-terminated, 37 bytes) and a
 * client key of 64 hex chars (65 bytes). Returns 0 or -1. */
int cc_crypto_new_client(char id[37], char key[65]);

/* 1 when s is a syntactically valid lowercase-or-uppercase UUID string. */
int cc_crypto_is_uuid(const char *s);

#endif
