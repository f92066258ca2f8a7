/*
 * fuzz_multipart.c: libFuzzer target for the multipart parser and the
 * Content-Type parser.
 *
 * The first input byte picks a split size, so one input is also parsed in
 * small feeds; the same body must give the same outcome, part count and
 * data bytes as the whole-body parse (the split-invariance the module
 * relies on), or the target aborts.
 *
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/core \
 *     src/core/cc_multipart.c t/fuzz/fuzz_multipart.c -o /tmp/fuzz_multipart
 *   /tmp/fuzz_multipart -max_total_time=60 ../shared/corpus/multipart/...
 */
#include "cc_multipart.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t parts;
    size_t bytes;
    uint64_t sum;
} tally_t;

static int on_begin(void *ctx, const cc_mp_part_t *p)
{
    tally_t *t = ctx;

    t->parts++;
    t->sum = t->sum * 31 + p->name_len + (p->filename ? p->filename_len : 7);
    return 0;
}

static int on_data(void *ctx, const char *d, size_t n)
{
    tally_t *t = ctx;
    size_t i;

    t->bytes += n;
    for (i = 0; i < n; i++) {
        t->sum = t->sum * 131 + (unsigned char)d[i];
    }
    return 0;
}

static int on_end(void *ctx)
{
    ((tally_t *)ctx)->sum += 17;
    return 0;
}

static int run(const char *b, const uint8_t *data, size_t size, size_t step,
               tally_t *t)
{
    static const cc_mp_callbacks_t cb = { on_begin, on_data, on_end };
    cc_mp_parser_t *p = cc_mp_create(b, strlen(b), NULL, &cb, t);
    size_t off = 0, n;
    int rc = CC_MP_OK;

    if (!p) {
        abort();
    }
    while (off < size && rc == CC_MP_OK) {
        n = size - off < step ? size - off : step;
        rc = cc_mp_feed(p, (const char *)data + off, n);
        off += n;
    }
    if (rc == CC_MP_OK) {
        rc = cc_mp_finish(p);
    }
    cc_mp_destroy(p);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char ct[256], boundary[CC_MP_MAX_BOUNDARY + 1];
    const char *why;
    size_t blen, step;
    tally_t whole = { 0, 0, 0 }, split = { 0, 0, 0 };
    int a, b;

    if (size < 1) {
        return 0;
    }
    /* The Content-Type parser gets the first line as a header value. */
    blen = 0;
    while (blen + 1 < size && blen < sizeof(ct) - 1 && data[blen + 1] != '\n'
           && data[blen + 1] != 0) {
        ct[blen] = (char)data[blen + 1];
        blen++;
    }
    ct[blen] = '\0';
    cc_mp_parse_content_type(ct, boundary, &blen, &why);

    step = (size_t)(data[0] % 13) + 1;
    a = run("xYz", data + 1, size - 1, size, &whole);
    b = run("xYz", data + 1, size - 1, step, &split);
    if (a != b || whole.parts != split.parts || whole.bytes != split.bytes
        || whole.sum != split.sum) {
        abort();
    }
    return 0;
}
