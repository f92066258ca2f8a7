/*
 * fuzz_docgate.c: libFuzzer target for the cheap document gate of POST
 * /customers (cc_doc_sniff + cc_doc_check_fd), on a memfd holding the
 * input, as the module runs it on the spooled upload. Oracles:
 * - no crash, no read past the file (ASan), whatever the bytes;
 * - the gate agrees with the sniff: the bytes pass as type T only when
 *   cc_doc_sniff() says T, and never as an unknown type;
 * - a pass as JPEG or PNG gives non-zero dimensions, PNG's equal to its
 *   IHDR; a PDF has none; a refusal has zero dimensions and a reason;
 * - the file offset is untouched (the gate reads with pread only, the
 *   caller streams the same fd afterwards);
 * - the verdict is the same on a second run (no state between calls).
 *
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/core \
 *     src/core/cc_doc.c t/fuzz/fuzz_docgate.c -o /tmp/fuzz_docgate
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cc_doc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8
           | p[3];
}

static int fd_with(const uint8_t *data, size_t size)
{
    static int fd = -1;

    /* One memfd for the whole run: a new one per input costs more than
     * the gate itself. */
    if (fd < 0 && (fd = memfd_create("docgate", 0)) < 0) {
        abort();
    }
    if (ftruncate(fd, 0) != 0
        || (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size)) {
        abort();
    }
    /* An offset the gate must leave alone. */
    if (lseek(fd, 7, SEEK_SET) != 7) {
        abort();
    }
    return fd;
}

static void check_one(int fd, const uint8_t *data, size_t size,
                      cc_doc_type_t t, cc_doc_type_t sniffed)
{
    cc_doc_info_t info, again;
    const char *why = "unset";
    int rc, rc2;

    rc = cc_doc_check_fd(fd, size, t, &info, &why);
    if (lseek(fd, 0, SEEK_CUR) != 7) {
        abort();
    }
    if (rc == CC_DOC_IO_ERROR) {
        abort(); /* a memfd does not fail */
    }
    if (info.type != t) {
        abort();
    }
    if (rc == CC_DOC_READABLE) {
        if (why != NULL || t != sniffed) {
            abort();
        }
        if (t == CC_DOC_PDF && (info.width != 0 || info.height != 0)) {
            abort();
        }
        if (t != CC_DOC_PDF && (info.width == 0 || info.height == 0)) {
            abort();
        }
        if (t == CC_DOC_PNG
            && (info.width != be32(data + 16) || info.height != be32(data + 20))) {
            abort();
        }
    } else if (rc != CC_DOC_UNREADABLE || why == NULL || *why == '\0'
               || info.width != 0 || info.height != 0) {
        abort();
    }
    rc2 = cc_doc_check_fd(fd, size, t, &again, NULL);
    if (rc2 != rc || memcmp(&again, &info, sizeof(info)) != 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cc_doc_type_t sniffed = cc_doc_sniff(data, size);
    int fd = fd_with(data, size);
    int t;

    if (cc_doc_sniff(data, size < CC_DOC_SNIFF_BYTES ? size : CC_DOC_SNIFF_BYTES)
        != sniffed) {
        abort(); /* the head alone decides */
    }
    /* The sniffed type first (the module's path), then the others, which
     * must all refuse. */
    if (sniffed != CC_DOC_UNKNOWN) {
        check_one(fd, data, size, sniffed, sniffed);
    }
    for (t = CC_DOC_UNKNOWN; t <= CC_DOC_PDF; t++) {
        if ((cc_doc_type_t)t != sniffed || t == CC_DOC_UNKNOWN) {
            check_one(fd, data, size, (cc_doc_type_t)t, sniffed);
        }
    }
    return 0;
}
