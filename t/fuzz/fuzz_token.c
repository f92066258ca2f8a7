/*
 * fuzz_token.c: libFuzzer target for access-token verification. Oracle:
 * no input the fuzzer can make verifies under a secret it never sees, so
 * any success is an authentication bypass and aborts.
 *
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/core \
 *     -I/usr/include/json-c src/core/cc_token.c src/core/cc_crypto.c \
 *     t/fuzz/fuzz_token.c -ljson-c -lcrypto -o /tmp/fuzz_token
 */
#include "cc_token.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char secret[] =
        "fuzz-secret-fuzz-secret-fuzz-secret-0123456789";
    char token[CC_TOKEN_MAX_LEN + 2], client[64], company[37];

    if (size > CC_TOKEN_MAX_LEN + 1) {
        size = CC_TOKEN_MAX_LEN + 1;
    }
    memcpy(token, data, size);
    token[size] = '\0';
    if (cc_token_verify(secret, sizeof(secret) - 1, token, 1790000000L,
                        client, company) == 0) {
        abort();
    }
    return 0;
}
