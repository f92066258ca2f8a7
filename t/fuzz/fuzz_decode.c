/*
 * fuzz_decode.c: libFuzzer target for the full decoders of the KYC daemon
 * (cc_image_check: libjpeg, libpng, qpdf), separately from the cheap gate
 * (fuzz_docgate.c). One source, built once per type with -DFUZZ_TYPE, so
 * each corpus holds plain documents of one type and real files seed it.
 * The limits are small (1 Mpixel, 2048 px a side, 64 KiB chunks): the
 * daemon also runs this in a child under RLIMIT_AS, and what is fuzzed
 * here is the refusal paths and our row handling, not big allocations.
 * Oracles:
 * - no crash, no read past the buffer (ASan; libjpeg, libpng and qpdf
 *   are not instrumented, so only their memcpy and malloc are watched);
 * - CC_IMAGE_OK gives dimensions within the limits (images) or 1..max
 *   pages (PDF), luma statistics in range, and no reason; any other
 *   result gives a non-empty reason and one of the documented codes;
 * - a PNG decoded OK passes cc_doc_sniff as PNG, a JPEG decoded OK starts
 *   with SOI (libjpeg and libpng insist on their signatures; the gate's
 *   sniff must not refuse what the decoder reads);
 * - the same result on a second run (the decoders keep no state).
 *
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/core \
 *     -DFUZZ_TYPE=CC_DOC_PNG src/core/cc_image.c src/core/cc_doc.c \
 *     t/fuzz/fuzz_decode.c -lpng -ljpeg -lqpdf -lm -o /tmp/fuzz_decode_png
 *   (CC_DOC_JPEG -> fuzz_decode_jpeg, CC_DOC_PDF -> fuzz_decode_pdf)
 */
#include "cc_doc.h"
#include "cc_image.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_TYPE
#error "build with -DFUZZ_TYPE=CC_DOC_JPEG, CC_DOC_PNG or CC_DOC_PDF"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void limits(cc_image_limits_t *lim)
{
    cc_image_limits_default(lim);
    lim->max_width = 2048;
    lim->max_height = 2048;
    lim->max_pixels = 1024 * 1024;
    lim->max_chunk_bytes = 64 * 1024;
    lim->max_pdf_pages = 20;
    lim->max_jpeg_scans = 100;
}

static void check_stats(const cc_image_limits_t *lim,
                        const cc_image_stats_t *st, const uint8_t *data,
                        size_t size)
{
    if (FUZZ_TYPE == CC_DOC_PDF) {
        if (st->pages < 1 || st->pages > lim->max_pdf_pages || st->width != 0
            || st->height != 0) {
            abort();
        }
        return;
    }
    if (st->width == 0 || st->height == 0 || st->width > lim->max_width
        || st->height > lim->max_height
        || (uint64_t)st->width * st->height > lim->max_pixels
        || !(st->luma_mean >= 0.0 && st->luma_mean <= 255.0)
        || !(st->luma_stddev >= 0.0 && st->luma_stddev <= 128.0)) {
        abort();
    }
    if (FUZZ_TYPE == CC_DOC_PNG && cc_doc_sniff(data, size) != CC_DOC_PNG) {
        abort();
    }
    if (FUZZ_TYPE == CC_DOC_JPEG
        && (size < 2 || data[0] != 0xff || data[1] != 0xd8)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cc_image_limits_t lim;
    cc_image_stats_t st, again;
    const char *why = "unset", *why2 = "unset";
    int rc, rc2;

    limits(&lim);
    rc = cc_image_check(data, size, FUZZ_TYPE, &lim, &st, &why);
    if (rc == CC_IMAGE_OK) {
        if (why != NULL) {
            abort();
        }
        check_stats(&lim, &st, data, size);
    } else if ((rc != CC_IMAGE_UNREADABLE && rc != CC_IMAGE_TOO_LARGE)
               || why == NULL || *why == '\0') {
        abort();
    }
    rc2 = cc_image_check(data, size, FUZZ_TYPE, &lim, &again, &why2);
    if (rc2 != rc || (rc == CC_IMAGE_OK && memcmp(&st, &again, sizeof(st)) != 0)) {
        abort();
    }
    return 0;
}
