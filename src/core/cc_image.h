/*
 * cc_image.h: full decoding of ID document images (JPEG on libjpeg, PNG on
 * libpng) and a structure check of PDFs (qpdf), httpd-free.
 *
 * These parse hostile bytes with C libraries that have no overall memory
 * or time bound of their own, so callers run them in a separate process
 * with RLIMIT_AS and RLIMIT_CPU (cartevo-kycd's "--check-document" child).
 * The limits below are a second line: they refuse bombs before any pixel
 * is allocated (image dimensions are known from the header; libpng's
 * ancillary chunks are capped by png_set_chunk_malloc_max), and a JPEG
 * whose scan count makes decoding cost far more CPU than its size
 * suggests (libjpeg-turbo's advice: cap the scans of untrusted input).
 */
#ifndef CC_IMAGE_H
#define CC_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "cc_doc.h"

typedef struct {
    uint32_t max_width;     /* pixels, default 20000 */
    uint32_t max_height;    /* pixels, default 20000 */
    uint64_t max_pixels;    /* width * height, default 50 000 000 */
    size_t max_chunk_bytes; /* PNG ancillary chunk after inflate, 1 MiB */
    unsigned max_pdf_pages; /* default 20 */
    unsigned max_jpeg_scans; /* progressive scans, default 100 */
} cc_image_limits_t;

void cc_image_limits_default(cc_image_limits_t *lim);

typedef struct {
    uint32_t width;  /* pixels; 0 for PDF */
    uint32_t height;
    double luma_mean;   /* 0..255 over every pixel; 0 for PDF */
    double luma_stddev; /* population standard deviation */
    unsigned pages;     /* PDF only */
} cc_image_stats_t;

#define CC_IMAGE_OK 0
#define CC_IMAGE_UNREADABLE 1 /* *why: short static reason, no input bytes */
#define CC_IMAGE_TOO_LARGE 2  /* over a limit before decoding */

/*
 * Decodes the whole document in buf (JPEG or PNG: every scanline, with any
 * libjpeg warning or libpng error, including a bad CRC or truncation,
 * counted as unreadable; PDF: parsed by qpdf without recovery, every
 * object and stream checked, 1..max_pdf_pages pages). Fills *st. Returns
 * CC_IMAGE_OK, CC_IMAGE_UNREADABLE or CC_IMAGE_TOO_LARGE.
 */
int cc_image_check(const unsigned char *buf, size_t len, cc_doc_type_t type,
                   const cc_image_limits_t *lim, cc_image_stats_t *st,
                   const char **why);

#endif
