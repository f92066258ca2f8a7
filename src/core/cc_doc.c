/*
 * cc_doc.c: signature sniffing and the cheap structural gate for uploaded
 * ID documents (see cc_doc.h).
 *
 * Each check walks the file once through a single fixed buffer filled with
 * pread(), so the cost is linear in the file size, memory is constant and
 * the caller's file offset is untouched. Pixels are never decoded here: a
 * file that passes is structurally sound and ends where its format says it
 * ends, which is what rules out truncated uploads and appended polyglot
 * payloads; full decoding is the sandboxed KYC daemon's job.
 */
#include "cc_doc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <unistd.h>
#include <zlib.h>

#define DOC_BUF_SIZE (64 * 1024)

/* Acrobat only requires %%EOF somewhere in the last 1024 bytes (PDF
 * Reference 1.7, implementation notes); the trailer must sit there too. */
#define PDF_TAIL_SIZE 1024

/* Largest offset pread() can take, whatever the width of off_t. */
#define DOC_OFF_MAX \
    ((uint64_t)((((uint64_t)1) << (sizeof(off_t) * 8 - 1)) - 1))

#define PNG_MAX_LEN 0x7fffffffUL

typedef struct {
    int fd;
    uint64_t size;
    uint64_t base;      /* file offset of buf[0] */
    size_t len;         /* valid bytes in buf */
    const char *why;
    unsigned char *buf; /* DOC_BUF_SIZE bytes */
} doc_rd_t;

static int doc_fail(doc_rd_t *r, const char *why)
{
    r->why = why;
    return CC_DOC_UNREADABLE;
}

/* 1 when [off, off + n) lies inside the file; written so that it cannot
 * overflow whatever n is. */
static int rd_within(const doc_rd_t *r, uint64_t off, uint64_t n)
{
    return n <= r->size && off <= r->size - n;
}

/*
 * Returns a pointer to the n bytes at off, refilling the window from off
 * when they are not already resident, or NULL on a read error (r->why set).
 * The caller guarantees rd_within(r, off, n) and n <= DOC_BUF_SIZE.
 */
static const unsigned char *rd_at(doc_rd_t *r, uint64_t off, size_t n)
{
    size_t want, got = 0;

    if (off >= r->base && off - r->base <= r->len
        && n <= r->len - (size_t)(off - r->base)) {
        return r->buf + (off - r->base);
    }
    want = r->size - off < DOC_BUF_SIZE ? (size_t)(r->size - off)
                                        : DOC_BUF_SIZE;
    r->len = 0;
    while (got < want) {
        ssize_t rv = pread(r->fd, r->buf + got, want - got,
                           (off_t)(off + got));

        if (rv < 0 && errno == EINTR) {
            continue;
        }
        if (rv < 0) {
            r->why = "read error";
            return NULL;
        }
        if (rv == 0) {
            /* The file shrank, or the caller's size is wrong: either way
             * this is not the client's fault. */
            r->why = "file shorter than its size";
            return NULL;
        }
        got += (size_t)rv;
    }
    r->base = off;
    r->len = want;
    return r->buf;
}

/* Bounds-checked read: UNREADABLE with reason trunc when the bytes are
 * past the end of the file, IO_ERROR on a read error, 0 otherwise. */
static int rd_get(doc_rd_t *r, uint64_t off, size_t n, const char *trunc,
                  const unsigned char **p)
{
    if (!rd_within(r, off, n)) {
        return doc_fail(r, trunc);
    }
    *p = rd_at(r, off, n);
    return *p ? 0 : CC_DOC_IO_ERROR;
}

static uint32_t be16(const unsigned char *p)
{
    return ((uint32_t)p[0] << 8) | p[1];
}

static uint32_t be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16)
           | ((uint32_t)p[2] << 8) | p[3];
}

/* ---- JPEG ---- */

/* SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the
 * range but are not frame headers. */
static int jpeg_is_sof(unsigned m)
{
    return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

/*
 * Checks that the file, once trailing NULs are dropped, ends with EOI after
 * start (the end of the first SOS header). Scanning backwards from the end
 * skips the entropy-coded data, which only a decoder can walk.
 */
static int jpeg_check_eoi(doc_rd_t *r, uint64_t start)
{
    const unsigned char *p;
    uint64_t end = r->size;
    int rv;

    /* Some cameras and scanners pad after EOI with NULs; decoders stop at
     * EOI, so the padding is inert. Anything else after EOI is not. */
    while (end > start) {
        size_t n = end - start < DOC_BUF_SIZE ? (size_t)(end - start)
                                              : DOC_BUF_SIZE;
        size_t i = n;

        if ((p = rd_at(r, end - n, n)) == NULL) {
            return CC_DOC_IO_ERROR;
        }
        while (i > 0 && p[i - 1] == 0x00) {
            i--;
        }
        end -= n - i;
        if (i > 0) {
            break;
        }
    }
    if (end - start < 2) {
        return doc_fail(r, "jpeg missing eoi");
    }
    if ((rv = rd_get(r, end - 2, 2, "jpeg missing eoi", &p)) != 0) {
        return rv;
    }
    if (p[0] != 0xff || p[1] != 0xd9) {
        return doc_fail(r, "jpeg missing eoi");
    }
    return CC_DOC_READABLE;
}

static int check_jpeg(doc_rd_t *r, cc_doc_info_t *info)
{
    static const char trunc[] = "jpeg truncated";
    const unsigned char *p;
    uint64_t pos = 2, len;
    uint32_t w = 0, h = 0;
    int rv, have_sof = 0;
    unsigned m;

    if ((rv = rd_get(r, 0, 3, trunc, &p)) != 0) {
        return rv;
    }
    if (p[0] != 0xff || p[1] != 0xd8 || p[2] != 0xff) {
        return doc_fail(r, "jpeg bad signature");
    }
    for (;;) {
        if ((rv = rd_get(r, pos, 1, trunc, &p)) != 0) {
            return rv;
        }
        if (*p != 0xff) {
            return doc_fail(r, "jpeg bad marker");
        }
        /* Any number of FF fill bytes may precede a marker (T.81 B.1.1.2);
         * each step advances, so this stays linear. */
        do {
            pos++;
            if ((rv = rd_get(r, pos, 1, trunc, &p)) != 0) {
                return rv;
            }
        } while (*p == 0xff);
        m = *p;
        pos++;
        if (m == 0x01 || (m >= 0xd0 && m <= 0xd7)) {
            continue; /* TEM and RSTn stand alone, without a length */
        }
        if (m == 0x00 || m == 0xd8 || (m >= 0x02 && m <= 0xbf)) {
            return doc_fail(r, "jpeg bad marker");
        }
        if (m == 0xd9) {
            return doc_fail(r, "jpeg eoi before sos");
        }
        if ((rv = rd_get(r, pos, 2, trunc, &p)) != 0) {
            return rv;
        }
        len = be16(p); /* counts itself, not the marker */
        if (len < 2) {
            return doc_fail(r, "jpeg bad segment length");
        }
        if (!rd_within(r, pos, len)) {
            return doc_fail(r, trunc);
        }
        if (jpeg_is_sof(m)) {
            if (have_sof) {
                return doc_fail(r, "jpeg duplicate sof");
            }
            if (len < 8) {
                return doc_fail(r, "jpeg bad sof");
            }
            if ((rv = rd_get(r, pos, 8, trunc, &p)) != 0) {
                return rv;
            }
            /* length, precision, height, width, components */
            if (p[7] == 0 || len != 8 + 3 * (uint64_t)p[7]) {
                return doc_fail(r, "jpeg bad sof");
            }
            h = be16(p + 3);
            w = be16(p + 5);
            /* Height 0 means "defined by a later DNL"; the gate needs the
             * size now, and few decoders support DNL anyway. */
            if (w == 0 || h == 0) {
                return doc_fail(r, "jpeg zero dimension");
            }
            have_sof = 1;
        }
        else if (m == 0xda) {
            if (!have_sof) {
                return doc_fail(r, "jpeg sos before sof");
            }
            if (len < 3 || (rv = rd_get(r, pos, 3, trunc, &p)) != 0) {
                return len < 3 ? doc_fail(r, "jpeg bad sos") : rv;
            }
            if (p[2] < 1 || p[2] > 4 || len != 6 + 2 * (uint64_t)p[2]) {
                return doc_fail(r, "jpeg bad sos");
            }
            pos += len;
            break;
        }
        pos += len;
    }
    if ((rv = jpeg_check_eoi(r, pos)) != CC_DOC_READABLE) {
        return rv;
    }
    info->width = w;
    info->height = h;
    return CC_DOC_READABLE;
}

/* ---- PNG ---- */

static const unsigned char png_sig[8] = {
    0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a
};

/* Bit depths allowed per colour type (PNG spec 11.2.2), as a bit mask. */
static int png_depth_ok(unsigned ctype, unsigned depth)
{
    unsigned mask;

    switch (ctype) {
    case 0:
        mask = (1u << 1) | (1u << 2) | (1u << 4) | (1u << 8) | (1u << 16);
        break;
    case 3:
        mask = (1u << 1) | (1u << 2) | (1u << 4) | (1u << 8);
        break;
    case 2:
    case 4:
    case 6:
        mask = (1u << 8) | (1u << 16);
        break;
    default:
        return 0;
    }
    return depth <= 16 && (mask & (1u << depth)) != 0;
}

/* Compares the CRC stored after [off, off + n) (chunk type and data) with
 * the one computed over it, streaming through the window. */
static int png_crc_check(doc_rd_t *r, uint64_t off, uint64_t n)
{
    const unsigned char *p;
    uLong crc = crc32(0L, Z_NULL, 0);

    while (n > 0) {
        size_t k = n < DOC_BUF_SIZE ? (size_t)n : DOC_BUF_SIZE;

        if ((p = rd_at(r, off, k)) == NULL) {
            return CC_DOC_IO_ERROR;
        }
        crc = crc32(crc, p, (uInt)k);
        off += k;
        n -= k;
    }
    if ((p = rd_at(r, off, 4)) == NULL) {
        return CC_DOC_IO_ERROR;
    }
    return (uint32_t)crc == be32(p) ? CC_DOC_READABLE
                                    : doc_fail(r, "png crc mismatch");
}

static int png_is_letter(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int check_png(doc_rd_t *r, cc_doc_info_t *info)
{
    static const char trunc[] = "png truncated";
    const unsigned char *p;
    unsigned char type[4];
    uint64_t pos = 8, len;
    uint32_t w = 0, h = 0;
    unsigned ctype = 0;
    int rv, i, have_plte = 0;
    int idat = 0; /* 0 none yet, 1 inside the IDAT run, 2 run ended */

    if ((rv = rd_get(r, 0, 8, trunc, &p)) != 0) {
        return rv;
    }
    if (memcmp(p, png_sig, sizeof(png_sig)) != 0) {
        return doc_fail(r, "png bad signature");
    }
    for (;;) {
        if (pos == r->size) {
            return doc_fail(r, "png missing iend");
        }
        if ((rv = rd_get(r, pos, 8, trunc, &p)) != 0) {
            return rv;
        }
        len = be32(p);
        memcpy(type, p + 4, 4);
        if (len > PNG_MAX_LEN) {
            return doc_fail(r, "png bad chunk length");
        }
        for (i = 0; i < 4; i++) {
            if (!png_is_letter(type[i])) {
                return doc_fail(r, "png bad chunk type");
            }
        }
        if (pos == 8 && (memcmp(type, "IHDR", 4) != 0 || len != 13)) {
            return doc_fail(r, "png ihdr not first");
        }
        if (!rd_within(r, pos, 12 + len)) {
            return doc_fail(r, trunc);
        }
        if ((rv = png_crc_check(r, pos + 4, 4 + len)) != 0) {
            return rv;
        }
        if (memcmp(type, "IDAT", 4) != 0 && idat == 1) {
            idat = 2;
        }
        if (pos == 8) {
            if ((rv = rd_get(r, pos + 8, 13, trunc, &p)) != 0) {
                return rv;
            }
            w = be32(p);
            h = be32(p + 4);
            ctype = p[9];
            if (w == 0 || h == 0 || w > PNG_MAX_LEN || h > PNG_MAX_LEN) {
                return doc_fail(r, "png bad dimensions");
            }
            if (!png_depth_ok(ctype, p[8])) {
                return doc_fail(r, "png bad bit depth or colour type");
            }
            if (p[10] != 0 || p[11] != 0 || p[12] > 1) {
                return doc_fail(r, "png bad ihdr");
            }
        }
        else if (memcmp(type, "IHDR", 4) == 0) {
            return doc_fail(r, "png duplicate ihdr");
        }
        else if (memcmp(type, "PLTE", 4) == 0) {
            if (have_plte || idat) {
                return doc_fail(r, "png bad chunk order");
            }
            if (ctype == 0 || ctype == 4 || len == 0 || len > 768
                || len % 3 != 0) {
                return doc_fail(r, "png bad plte");
            }
            have_plte = 1;
        }
        else if (memcmp(type, "IDAT", 4) == 0) {
            /* The IDAT chunks form one zlib stream and must be
             * consecutive (PNG spec 5.6). */
            if (idat == 2) {
                return doc_fail(r, "png bad chunk order");
            }
            if (ctype == 3 && !have_plte) {
                return doc_fail(r, "png missing plte");
            }
            idat = 1;
        }
        else if (memcmp(type, "IEND", 4) == 0) {
            if (len != 0) {
                return doc_fail(r, "png bad iend");
            }
            if (!idat) {
                return doc_fail(r, "png missing idat");
            }
            if (pos + 12 != r->size) {
                return doc_fail(r, "png data after iend");
            }
            break;
        }
        else if (type[0] >= 'A' && type[0] <= 'Z') {
            /* An unknown critical chunk makes the image undecodable by
             * definition (PNG spec 5.4). */
            return doc_fail(r, "png unknown critical chunk");
        }
        pos += 12 + len;
    }
    info->width = w;
    info->height = h;
    return CC_DOC_READABLE;
}

/* ---- PDF ---- */

/* PDF white-space characters (ISO 32000-1 table 1). */
static int pdf_is_ws(unsigned char c)
{
    return c == 0x00 || c == 0x09 || c == 0x0a || c == 0x0c || c == 0x0d
           || c == 0x20;
}

/* Index just past the last non-white-space byte of p[0, i). */
static size_t pdf_back_ws(const unsigned char *p, size_t i)
{
    while (i > 0 && pdf_is_ws(p[i - 1])) {
        i--;
    }
    return i;
}

static int check_pdf(doc_rd_t *r)
{
    const unsigned char *p;
    uint64_t xref = 0;
    size_t n, i, j, k;
    int rv;

    if ((rv = rd_get(r, 0, 8, "pdf truncated", &p)) != 0) {
        return rv;
    }
    if (memcmp(p, "%PDF-", 5) != 0 || (p[5] != '1' && p[5] != '2')
        || p[6] != '.' || p[7] < '0' || p[7] > '9') {
        return doc_fail(r, "pdf bad header");
    }

    /* Parse the trailer backwards: [ws] "%%EOF" ws digits ws "startxref".
     * Everything must sit in the tail window, so a reader that only looks
     * there finds the same trailer we did. */
    n = r->size < PDF_TAIL_SIZE ? (size_t)r->size : PDF_TAIL_SIZE;
    if ((p = rd_at(r, r->size - n, n)) == NULL) {
        return CC_DOC_IO_ERROR;
    }
    i = pdf_back_ws(p, n);
    if (i < 5 || memcmp(p + i - 5, "%%EOF", 5) != 0) {
        return doc_fail(r, "pdf missing eof marker");
    }
    j = i - 5;
    i = pdf_back_ws(p, j);
    if (i == j) {
        return doc_fail(r, "pdf bad startxref");
    }
    j = i;
    while (i > 0 && p[i - 1] >= '0' && p[i - 1] <= '9') {
        i--;
    }
    /* 19 digits cannot overflow uint64_t. */
    if (i == j || j - i > 19) {
        return doc_fail(r, "pdf bad startxref");
    }
    for (k = i; k < j; k++) {
        xref = xref * 10 + (uint64_t)(p[k] - '0');
    }
    if (xref >= r->size) {
        return doc_fail(r, "pdf bad startxref");
    }
    j = i;
    i = pdf_back_ws(p, j);
    if (i == j || i < 9 || memcmp(p + i - 9, "startxref", 9) != 0) {
        return doc_fail(r, "pdf missing startxref");
    }
    return CC_DOC_READABLE;
}

/* ---- public ---- */

cc_doc_type_t cc_doc_sniff(const unsigned char *head, size_t len)
{
    /* The PNG signature plus the header of a 13-byte IHDR chunk, which
     * must come first. */
    static const unsigned char png_head[16] = {
        0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a,
        0x00, 0x00, 0x00, 0x0d, 'I',  'H', 'D', 'R'
    };

    if (head == NULL) {
        return CC_DOC_UNKNOWN;
    }
    if (len >= 3 && head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff) {
        return CC_DOC_JPEG;
    }
    if (len >= sizeof(png_head) && memcmp(head, png_head, 16) == 0) {
        return CC_DOC_PNG;
    }
    if (len >= 5 && memcmp(head, "%PDF-", 5) == 0) {
        return CC_DOC_PDF;
    }
    return CC_DOC_UNKNOWN;
}

const char *cc_doc_mime(cc_doc_type_t t)
{
    switch (t) {
    case CC_DOC_JPEG:
        return "image/jpeg";
    case CC_DOC_PNG:
        return "image/png";
    case CC_DOC_PDF:
        return "application/pdf";
    default:
        return NULL;
    }
}

/* libmagic answers "type/subtype" with MAGIC_MIME_TYPE but appends
 * "; charset=binary" with MAGIC_MIME; accept both, nothing looser. */
static int mime_is(const char *mime, const char *want)
{
    size_t n = strlen(want);

    if (strncasecmp(mime, want, n) != 0) {
        return 0;
    }
    mime += n;
    while (*mime == ' ' || *mime == '\t') {
        mime++;
    }
    return *mime == '\0' || *mime == ';';
}

cc_doc_type_t cc_doc_from_mime(const char *mime)
{
    if (mime == NULL) {
        return CC_DOC_UNKNOWN;
    }
    if (mime_is(mime, "image/jpeg")) {
        return CC_DOC_JPEG;
    }
    if (mime_is(mime, "image/png")) {
        return CC_DOC_PNG;
    }
    if (mime_is(mime, "application/pdf")) {
        return CC_DOC_PDF;
    }
    return CC_DOC_UNKNOWN;
}

/*
 * See cc_doc.h. Additionally: info and why may be NULL; on failure info
 * holds the requested type with zero dimensions; on CC_DOC_IO_ERROR *why
 * is set too (for the log), on success it is NULL.
 */
int cc_doc_check_fd(int fd, uint64_t size, cc_doc_type_t type,
                    cc_doc_info_t *info, const char **why)
{
    cc_doc_info_t out;
    doc_rd_t r;
    int rv;

    memset(&r, 0, sizeof(r));
    r.fd = fd;
    r.size = size;
    out.type = type;
    out.width = 0;
    out.height = 0;

    if (size == 0) {
        rv = doc_fail(&r, "empty file");
    }
    else if (size > DOC_OFF_MAX) {
        rv = doc_fail(&r, "file too large");
    }
    else if (type != CC_DOC_JPEG && type != CC_DOC_PNG
             && type != CC_DOC_PDF) {
        rv = doc_fail(&r, "unsupported type");
    }
    /* On the heap: worker threads may run with small stacks. */
    else if ((r.buf = malloc(DOC_BUF_SIZE)) == NULL) {
        r.why = "out of memory";
        rv = CC_DOC_IO_ERROR;
    }
    else if (type == CC_DOC_JPEG) {
        rv = check_jpeg(&r, &out);
    }
    else if (type == CC_DOC_PNG) {
        rv = check_png(&r, &out);
    }
    else {
        rv = check_pdf(&r);
    }
    free(r.buf);

    if (rv != CC_DOC_READABLE) {
        out.width = 0;
        out.height = 0;
    }
    if (info != NULL) {
        *info = out;
    }
    if (why != NULL) {
        *why = rv == CC_DOC_READABLE ? NULL : r.why;
    }
    return rv;
}

int cc_doc_big_enough(uint32_t w, uint32_t h, uint32_t min_w, uint32_t min_h)
{
    return (w >= min_w && h >= min_h) || (w >= min_h && h >= min_w);
}
