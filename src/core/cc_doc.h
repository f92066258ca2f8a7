/*
 * cc_doc.h: document sniffing by signature and the cheap synchronous
 * quality gate of POST /customers, httpd-free.
 *
 * The gate checks structure and pixel size only (api-contract.md): a
 * truncated or undecodable JPEG/PNG, or a PDF without a valid header and
 * trailer, is "unreadable". Full decoding, 200 DPI resolution and blank
 * detection belong to the KYC daemon.
 */
#ifndef CC_DOC_H
#define CC_DOC_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    CC_DOC_UNKNOWN = 0,
    CC_DOC_JPEG,
    CC_DOC_PNG,
    CC_DOC_PDF
} cc_doc_type_t;

/* Bytes of the head needed by cc_doc_sniff(). */
#define CC_DOC_SNIFF_BYTES 16

/* Type by signature at offset 0: FF D8 FF (JPEG); the 8-byte PNG signature
 * followed by an IHDR chunk header; "%PDF-" (PDF). */
cc_doc_type_t cc_doc_sniff(const unsigned char *head, size_t len);

/* "image/jpeg", "image/png", "application/pdf", or NULL. */
const char *cc_doc_mime(cc_doc_type_t t);

/* Maps a libmagic MIME string to a type (CC_DOC_UNKNOWN otherwise). */
cc_doc_type_t cc_doc_from_mime(const char *mime);

typedef struct {
    cc_doc_type_t type;
    uint32_t width;  /* pixels, 0 for PDF */
    uint32_t height; /* pixels, 0 for PDF */
} cc_doc_info_t;

#define CC_DOC_READABLE 0
#define CC_DOC_UNREADABLE 1
#define CC_DOC_IO_ERROR 2

/*
 * Checks the structure of the file open on fd (read with pread only, so
 * the file offset is untouched; memory bounded by a fixed buffer, whatever
 * the size). size is the file's length. On CC_DOC_UNREADABLE *why points
 * to a short static reason (for logs, never for clients). Rules:
 *  - JPEG: SOI, a marker segment walk to an SOFn with non-zero dimensions
 *    and to SOS, and EOI (FF D9) as the last two bytes (trailing NUL
 *    padding allowed);
 *  - PNG: signature, IHDR first (length 13, valid CRC, non-zero sizes,
 *    valid bit depth/colour type), a chunk walk with every CRC checked, at
 *    least one IDAT, IEND last with nothing after it;
 *  - PDF: "%PDF-1.N" or "%PDF-2.N" header, and within the last 1024 bytes
 *    a "startxref" followed by a number and "%%EOF" (trailing whitespace
 *    allowed).
 */
int cc_doc_check_fd(int fd, uint64_t size, cc_doc_type_t type,
                    cc_doc_info_t *info, const char **why);

/* 1 when w x h is at least min_w x min_h in either orientation. */
int cc_doc_big_enough(uint32_t w, uint32_t h, uint32_t min_w, uint32_t min_h);

#endif
