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
