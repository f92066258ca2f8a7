/*
 * test_doc.c: unit tests of cc_doc (sniffing and the structural gate).
 *
 * Fixtures are built in memory: PNGs with zlib, JPEGs by hand (a uniform
 * grey image whose Huffman tables hold one 1-bit code each, so any size
 * decodes from a run of zero bits), PDFs with measured xref offsets. Each
 * fixture is written to an unlinked mkstemp() file under /tmp, since the
 * gate reads a file descriptor. The generated demo documents are checked
 * too when present (CC_DEMO_DIR, default conf/demo).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "cc_doc.h"

/* ---- byte buffers ---- */

typedef struct {
    unsigned char *p;
    size_t len, cap;
} buf_t;

static void put(buf_t *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    if (n > 0) {
        memcpy(b->p + b->len, d, n);
    }
    b->len += n;
}

static void put8(buf_t *b, unsigned v)
{
    unsigned char c = (unsigned char)v;

    put(b, &c, 1);
}

static void put16(buf_t *b, unsigned v)
{
    put8(b, v >> 8);
    put8(b, v);
}

static void put32(buf_t *b, uint32_t v)
{
    put16(b, v >> 16);
    put16(b, v & 0xffff);
}

static void put_str(buf_t *b, const char *s)
{
    put(b, s, strlen(s));
}

static void put_n(buf_t *b, unsigned v, size_t n)
{
    while (n-- > 0) {
        put8(b, v);
    }
}

static void buf_free(buf_t *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

/* ---- running the gate ---- */

/* Writes p[0, n) to an unlinked temporary file; returns its descriptor. */
static int tmp_fd(const unsigned char *p, size_t n)
{
    char path[] = "/tmp/test_doc.XXXXXX";
    int fd = mkstemp(path);
    size_t done = 0;

    assert_true(fd >= 0);
    assert_int_equal(unlink(path), 0);
    while (done < n) {
        ssize_t rv = write(fd, p + done, n - done);

        assert_true(rv > 0);
        done += (size_t)rv;
    }
    return fd;
}

/* Runs the gate on the file open on fd, checking that it reads with
 * pread() only: the file offset must not move. */
static int run_fd(int fd, uint64_t size, cc_doc_type_t t,
                  cc_doc_info_t *info, const char **why)
{
    int rv;

    assert_int_equal(lseek(fd, 7, SEEK_SET), 7);
    rv = cc_doc_check_fd(fd, size, t, info, why);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 7);
    return rv;
}

static int run(const buf_t *b, cc_doc_type_t t, cc_doc_info_t *info,
               const char **why)
{
    int fd = tmp_fd(b->p, b->len), rv;

    rv = run_fd(fd, b->len, t, info, why);
    close(fd);
    return rv;
}

static void expect_ok(const buf_t *b, cc_doc_type_t t, uint32_t w,
                      uint32_t h)
{
    cc_doc_info_t info;
    const char *why = "unset";

    if (run(b, t, &info, &why) != CC_DOC_READABLE) {
        fail_msg("expected readable, got: %s", why ? why : "(null)");
    }
    assert_null(why);
    assert_int_equal(info.type, t);
    assert_int_equal(info.width, w);
    assert_int_equal(info.height, h);
    /* The sniffer agrees with the gate on every valid fixture. */
    assert_int_equal(cc_doc_sniff(b->p, b->len), t);
}

/* why_want NULL accepts any reason. */
static void expect_bad(const buf_t *b, cc_doc_type_t t, const char *why_want)
{
    cc_doc_info_t info = {CC_DOC_UNKNOWN, 1, 1};
    const char *why = NULL;

    assert_int_equal(run(b, t, &info, &why), CC_DOC_UNREADABLE);
    assert_non_null(why);
    if (why_want != NULL) {
        assert_string_equal(why, why_want);
    }
    assert_int_equal(info.type, t);
    assert_int_equal(info.width, 0);
    assert_int_equal(info.height, 0);
}

/*
 * Truncates the valid file b at every 97th offset, at 1..48 bytes and by
 * its last 1..8 bytes: all must be unreadable except cuts of at least
 * ok_from bytes (those that only drop trailing white space of a PDF).
 */
static void expect_cuts_bad(const buf_t *b, cc_doc_type_t t, size_t ok_from)
{
    int fd = tmp_fd(b->p, b->len);
    size_t cut, i, n = 0;
    size_t cuts[4096];
    const char *why;

    for (cut = 0; cut < b->len && n < 4000; cut += 97) {
        cuts[n++] = cut;
    }
    for (i = 1; i <= 48 && i < b->len; i++) {
        cuts[n++] = i;
    }
    for (i = 1; i <= 8 && i < b->len; i++) {
        cuts[n++] = b->len - i;
    }
    for (i = 0; i < n; i++) {
        cut = cuts[i];
        /* Restore the content first: growing a file back with ftruncate()
         * would fill it with zeros. */
        assert_int_equal(pwrite(fd, b->p, b->len, 0), (ssize_t)b->len);
        assert_int_equal(ftruncate(fd, (off_t)cut), 0);
        why = NULL;
        if (cut >= ok_from) {
            if (run_fd(fd, cut, t, NULL, &why) != CC_DOC_READABLE) {
                fail_msg("cut at %zu of %zu: %s", cut, b->len, why);
            }
            continue;
        }
        if (run_fd(fd, cut, t, NULL, &why) != CC_DOC_UNREADABLE) {
            fail_msg("cut at %zu of %zu was not unreadable", cut, b->len);
        }
        assert_non_null(why);
    }
    close(fd);
}

/* ---- PNG fixtures ---- */

static void png_chunk(buf_t *b, const char *type, const void *data,
                      uint32_t len)
{
    uLong crc = crc32(0L, (const Bytef *)type, 4);

    put32(b, len);
    put(b, type, 4);
    put(b, data, len);
    if (len > 0) {
        crc = crc32(crc, data, len);
    }
    put32(b, (uint32_t)crc);
}

static void png_sig(buf_t *b)
{
    put(b, "\x89PNG\r\n\x1a\n", 8);
}

static void png_ihdr(buf_t *b, uint32_t w, uint32_t h, unsigned depth,
                     unsigned ctype, unsigned interlace)
{
    unsigned char d[13];

    d[0] = (unsigned char)(w >> 24);
    d[1] = (unsigned char)(w >> 16);
    d[2] = (unsigned char)(w >> 8);
    d[3] = (unsigned char)w;
    d[4] = (unsigned char)(h >> 24);
    d[5] = (unsigned char)(h >> 16);
    d[6] = (unsigned char)(h >> 8);
    d[7] = (unsigned char)h;
    d[8] = (unsigned char)depth;
    d[9] = (unsigned char)ctype;
    d[10] = 0;
    d[11] = 0;
    d[12] = (unsigned char)interlace;
    png_chunk(b, "IHDR", d, 13);
}

/* A small compressed IDAT payload, for fixtures whose pixels do not
 * matter to the gate. */
static void png_dummy_idat(buf_t *b)
{
    static const unsigned char raw[8] = {0};
    unsigned char z[64];
    uLongf zlen = sizeof(z);

    assert_int_equal(compress2(z, &zlen, raw, sizeof(raw), 9), Z_OK);
    png_chunk(b, "IDAT", z, (uint32_t)zlen);
}

typedef struct {
    uint32_t w, h;
    unsigned depth, ctype;
    int level;       /* zlib level; 0 stores, making big IDATs */
    size_t idat_max; /* split IDAT into chunks of this size, 0: one chunk */
    int ancillary;   /* add pHYs, tEXt and a private ancillary chunk */
} popt_t;

/* Builds a complete, decodable PNG. */
static void png_build(buf_t *b, const popt_t *o)
{
    static const unsigned ch[7] = {1, 0, 3, 1, 2, 0, 4};
    size_t row = ((size_t)o->w * ch[o->ctype] * o->depth + 7) / 8 + 1;
    size_t raw_len = row * o->h, x, y, off;
    unsigned char *raw = malloc(raw_len), *z;
    uLongf zlen = compressBound(raw_len);
    uint32_t seed = 12345;

    assert_non_null(raw);
    for (y = 0; y < o->h; y++) {
        raw[y * row] = 0; /* filter: none */
        for (x = 1; x < row; x++) {
            seed = seed * 1103515245u + 12345u;
            /* Noise when stored, a pattern otherwise. */
            raw[y * row + x] = o->level == 0
                                   ? (unsigned char)(seed >> 16)
                                   : (unsigned char)((x * 7 + y * 13)
                                                     ^ (x * y));
        }
    }
    z = malloc(zlen);
    assert_non_null(z);
    assert_int_equal(compress2(z, &zlen, raw, raw_len, o->level), Z_OK);

    png_sig(b);
    png_ihdr(b, o->w, o->h, o->depth, o->ctype, 0);
    if (o->ancillary) {
        png_chunk(b, "pHYs", "\0\0\x2e\x23\0\0\x2e\x23\x01", 9);
        png_chunk(b, "tEXt", "Comment\0fixture", 15);
    }
    if (o->ctype == 3) {
        unsigned char pal[768];

        for (x = 0; x < sizeof(pal); x++) {
            pal[x] = (unsigned char)(x * 5);
        }
        png_chunk(b, "PLTE", pal, 3u << o->depth);
    }
    for (off = 0; off < zlen;) {
        size_t n = o->idat_max && zlen - off > o->idat_max ? o->idat_max
                                                            : zlen - off;

        png_chunk(b, "IDAT", z + off, (uint32_t)n);
        off += n;
    }
    if (o->ancillary) {
        png_chunk(b, "prVt", "\x01\x02\x03", 3);
    }
    png_chunk(b, "IEND", NULL, 0);
    free(raw);
    free(z);
}

/* Offset of the first chunk of this type (its length field). */
static size_t png_find(const buf_t *b, const char *type)
{
    size_t pos = 8;

    while (pos + 12 <= b->len) {
        uint32_t len = ((uint32_t)b->p[pos] << 24) | (b->p[pos + 1] << 16)
                       | (b->p[pos + 2] << 8) | b->p[pos + 3];

        if (memcmp(b->p + pos + 4, type, 4) == 0) {
            return pos;
        }
        pos += 12 + (size_t)len;
    }
    fail_msg("no %s chunk", type);
    return 0;
}

static void png_small(buf_t *b)
{
    static const popt_t o = {40, 25, 8, 2, 9, 0, 0};

    png_build(b, &o);
}

/* ---- JPEG fixtures ---- */

typedef struct {
    unsigned w, h;
    unsigned sof;       /* SOF marker (0xffc0...), 0 for none */
    size_t app;         /* APP1 payload bytes before the SOF */
    size_t fill;        /* FF fill bytes before the DQT marker */
    int standalone;     /* TEM and RST0 between header segments */
    int progressive;    /* two scans instead of one */
    int no_eoi;
    size_t pad;         /* NULs after EOI */
} jopt_t;

static void jpeg_segment(buf_t *b, unsigned marker, const void *d, size_t n)
{
    put16(b, marker);
    put16(b, (unsigned)n + 2);
    put(b, d, n);
}

/* One Huffman table holding a single 1-bit code for symbol 0. */
static void jpeg_dht(buf_t *b, unsigned class_id)
{
    unsigned char d[18] = {0};

    d[0] = (unsigned char)class_id;
    d[1] = 1;
    jpeg_segment(b, 0xffc4, d, sizeof(d));
}

/* A scan of nbits zero bits (code 0 = "DC difference 0" or "EOB"), padded
 * with one bits as T.81 F.1.2.3 asks. */
static void jpeg_scan(buf_t *b, unsigned ss, unsigned se, size_t nbits)
{
    unsigned char sos[6] = {1, 1, 0x00, 0, 0, 0};

    sos[3] = (unsigned char)ss;
    sos[4] = (unsigned char)se;
    jpeg_segment(b, 0xffda, sos, sizeof(sos));
    put_n(b, 0x00, nbits / 8);
    if (nbits % 8 != 0) {
        put8(b, (1u << (8 - nbits % 8)) - 1);
    }
}

/* Builds a uniform grey, single-component JPEG of any size. */
static void jpeg_build(buf_t *b, const jopt_t *o)
{
    static const unsigned char jfif[14] = {'J', 'F', 'I', 'F', 0, 1, 1, 1,
                                           0, 72, 0, 72, 0, 0};
    size_t blocks = ((size_t)(o->w + 7) / 8) * ((o->h + 7) / 8);
    unsigned char dqt[65], sof[9];
    size_t left = o->app;

    put16(b, 0xffd8);
    jpeg_segment(b, 0xffe0, jfif, sizeof(jfif));
    while (left > 0) {
        size_t n = left > 65533 ? 65533 : left;
        unsigned char *d = malloc(n);

        /* Marker-like bytes inside a segment must not confuse the walk. */
        assert_non_null(d);
        memset(d, 0xff, n);
        d[0] = 'X';
        if (n > 4) {
            d[n - 1] = 0xd9;
            d[n / 2] = 0xda;
        }
        jpeg_segment(b, 0xffe1, d, n);
        free(d);
        left -= n;
    }
    if (o->standalone) {
        put16(b, 0xff01);
        put16(b, 0xffd0);
    }
    put_n(b, 0xff, o->fill);
    memset(dqt, 1, sizeof(dqt));
    dqt[0] = 0;
    jpeg_segment(b, 0xffdb, dqt, sizeof(dqt));
    if (o->sof != 0) {
        sof[0] = 8;
        sof[1] = (unsigned char)(o->h >> 8);
        sof[2] = (unsigned char)o->h;
        sof[3] = (unsigned char)(o->w >> 8);
        sof[4] = (unsigned char)o->w;
        sof[5] = 1;
        sof[6] = 1;
        sof[7] = 0x11;
        sof[8] = 0;
        jpeg_segment(b, o->sof, sof, sizeof(sof));
    }
    jpeg_dht(b, 0x00);
    jpeg_dht(b, 0x10);
    if (o->progressive) {
        jpeg_scan(b, 0, 0, blocks);      /* DC: one code per block */
        jpeg_dht(b, 0x10);               /* tables may change between */
        jpeg_scan(b, 1, 63, blocks);     /* AC: an EOB per block */
    }
    else {
        jpeg_scan(b, 0, 63, 2 * blocks); /* DC 0 then EOB per block */
    }
    if (!o->no_eoi) {
        put16(b, 0xffd9);
    }
    put_n(b, 0x00, o->pad);
}

static void jpeg_small(buf_t *b)
{
    const jopt_t o = {.w = 40, .h = 25, .sof = 0xffc0};

    jpeg_build(b, &o);
}

/* Offset of the first occurrence of a marker outside the scan data. */
static size_t jpeg_find(const buf_t *b, unsigned marker)
{
    size_t i;

    for (i = 0; i + 1 < b->len; i++) {
        if (b->p[i] == 0xff && b->p[i + 1] == (marker & 0xff)) {
            return i;
        }
    }
    fail_msg("no marker %x", marker);
    return 0;
}

/* ---- PDF fixtures ---- */

enum {
    P_JUNK = 1 << 0,          /* bytes before the header */
    P_NO_STARTXREF = 1 << 1,  /* number kept, keyword dropped */
    P_NO_XREF_NUM = 1 << 2,   /* keyword kept, number dropped */
    P_NO_EOF = 1 << 3,
    P_XREF_PAST_END = 1 << 4,
    P_PAD = 1 << 5,           /* 100 KiB comment: bigger than the buffer */
    P_CRLF = 1 << 6,
    P_TRAILING_WS = 1 << 7,
    P_GARBAGE = 1 << 8,       /* non-white-space after %%EOF */
    P_FAR_TRAILER = 1 << 9    /* 2000 bytes of white space after it */
};

static void pdf_build(buf_t *b, const char *header, unsigned flags)
{
    static const char *const obj[] = {
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        ("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 243 153]"
         " /Contents 4 0 R >>"),
        "<< /Length 17 >>\nstream\n0 0 m 243 153 l S\nendstream",
    };
    const char *eol = flags & P_CRLF ? "\r\n" : "\n";
    size_t off[5], i;
    char line[128];

    if (flags & P_JUNK) {
        put_str(b, "<html><!-- ");
    }
    put_str(b, header);
    put_str(b, eol);
    for (i = 0; i < 4; i++) {
        off[i] = b->len;
        snprintf(line, sizeof(line), "%zu 0 obj%s", i + 1, eol);
        put_str(b, line);
        put_str(b, obj[i]);
        put_str(b, eol);
        put_str(b, "endobj");
        put_str(b, eol);
    }
    if (flags & P_PAD) {
        for (i = 0; i < 1600; i++) {
            put_str(b, "% padding padding padding padding padding padding "
                       "padding padding padding\n");
        }
    }
    off[4] = b->len;
    put_str(b, "xref\n0 5\n0000000000 65535 f \n");
    for (i = 0; i < 4; i++) {
        snprintf(line, sizeof(line), "%010zu 00000 n \n", off[i]);
        put_str(b, line);
    }
    put_str(b, "trailer\n<< /Size 5 /Root 1 0 R >>");
    put_str(b, eol);
    if (!(flags & P_NO_STARTXREF)) {
        put_str(b, "startxref");
        put_str(b, eol);
    }
    if (!(flags & P_NO_XREF_NUM)) {
        snprintf(line, sizeof(line), "%zu",
                 flags & P_XREF_PAST_END ? off[4] + 100000 : off[4]);
        put_str(b, line);
        put_str(b, eol);
    }
    if (!(flags & P_NO_EOF)) {
        put_str(b, "%%EOF");
        put_str(b, eol);
    }
    if (flags & P_TRAILING_WS) {
        put_str(b, " \t\r\n\f");
        put8(b, 0);
        put_str(b, "\n");
    }
    if (flags & P_FAR_TRAILER) {
        put_n(b, ' ', 2000);
    }
    if (flags & P_GARBAGE) {
        put_str(b, "<script>alert(1)</script>\n");
    }
}

/* ---- sniffing, MIME and size ---- */

static void test_sniff(void **state)
{
    static const unsigned char png[16] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a,
                                          0x1a, 0x0a, 0,    0,   0,   13,
                                          'I',  'H',  'D',  'R'};
    unsigned char h[CC_DOC_SNIFF_BYTES];

    (void)state;
    assert_int_equal(cc_doc_sniff((const unsigned char *)"\xff\xd8\xff\xe0",
                                  4), CC_DOC_JPEG);
    assert_int_equal(cc_doc_sniff((const unsigned char *)"\xff\xd8\xff", 3),
                     CC_DOC_JPEG);
    assert_int_equal(cc_doc_sniff(png, 16), CC_DOC_PNG);
    assert_int_equal(cc_doc_sniff((const unsigned char *)"%PDF-1.7\n", 9),
                     CC_DOC_PDF);
    assert_int_equal(cc_doc_sniff((const unsigned char *)"%PDF-", 5),
                     CC_DOC_PDF);

    /* Near misses. */
    assert_int_equal(cc_doc_sniff(NULL, 16), CC_DOC_UNKNOWN);
    assert_int_equal(cc_doc_sniff(png, 0), CC_DOC_UNKNOWN);
    assert_int_equal(cc_doc_sniff((const unsigned char *)"\xff\xd8", 2),
                     CC_DOC_UNKNOWN);
    assert_int_equal(cc_doc_sniff((const unsigned char *)"\xff\xd8\xfe", 3),
                     CC_DOC_UNKNOWN);
    assert_int_equal(cc_doc_sniff((const unsigned char *)"\xfe\xd8\xff", 3),
                     CC_DOC_UNKNOWN);
    assert_int_equal(cc_doc_sniff(png, 15), CC_DOC_UNKNOWN);
    memcpy(h, png, 16);
    h[1] = 'p';
    assert_int_equal(cc_doc_sniff(h, 16), CC_DOC_UNKNOWN);
    memcpy(h, png, 16);
    h[11] = 14; /* IHDR is 13 bytes long, always */
    assert_int_equal(cc_doc_sniff(h, 16), CC_DOC_UNKNOWN);
    memcpy(h, png, 16);
    memcpy(h + 12, "IDAT", 4);
    assert_int_equal(cc_doc_sniff(h, 16), CC_DOC_UNKNOWN);
    assert_int_equal(cc_doc_sniff((const unsigned char *)"%PDF", 4),
                     CC_DOC_UNKNOWN);
    assert_int_equal(cc_doc_sniff((const unsigned char *)"%pdf-1.4", 8),
                     CC_DOC_UNKNOWN);
    assert_int_equal(cc_doc_sniff((const unsigned char *)" %PDF-1.4", 9),
                     CC_DOC_UNKNOWN);
    assert_int_equal(cc_doc_sniff((const unsigned char *)"\xef\xbb\xbf"
                                                         "%PDF-1.4", 11),
                     CC_DOC_UNKNOWN);
    assert_int_equal(cc_doc_sniff((const unsigned char *)"GIF89a", 6),
                     CC_DOC_UNKNOWN);
    assert_int_equal(cc_doc_sniff((const unsigned char *)"PK\x03\x04", 4),
                     CC_DOC_UNKNOWN);
}

static void test_mime(void **state)
{
    (void)state;
    assert_int_equal(cc_doc_from_mime("image/jpeg"), CC_DOC_JPEG);
    assert_int_equal(cc_doc_from_mime("image/png"), CC_DOC_PNG);
    assert_int_equal(cc_doc_from_mime("application/pdf"), CC_DOC_PDF);
    /* What libmagic returns with MAGIC_MIME instead of MAGIC_MIME_TYPE. */
    assert_int_equal(cc_doc_from_mime("image/png; charset=binary"),
                     CC_DOC_PNG);
    assert_int_equal(cc_doc_from_mime("Image/JPEG"), CC_DOC_JPEG);

    assert_int_equal(cc_doc_from_mime(NULL), CC_DOC_UNKNOWN);
    assert_int_equal(cc_doc_from_mime(""), CC_DOC_UNKNOWN);
    assert_int_equal(cc_doc_from_mime("image/pngx"), CC_DOC_UNKNOWN);
    assert_int_equal(cc_doc_from_mime("image/jpe"), CC_DOC_UNKNOWN);
    assert_int_equal(cc_doc_from_mime("image/x-png"), CC_DOC_UNKNOWN);
    assert_int_equal(cc_doc_from_mime("image/gif"), CC_DOC_UNKNOWN);
    assert_int_equal(cc_doc_from_mime("text/html"), CC_DOC_UNKNOWN);
    assert_int_equal(cc_doc_from_mime("application/octet-stream"),
                     CC_DOC_UNKNOWN);

    assert_string_equal(cc_doc_mime(CC_DOC_JPEG), "image/jpeg");
    assert_string_equal(cc_doc_mime(CC_DOC_PNG), "image/png");
    assert_string_equal(cc_doc_mime(CC_DOC_PDF), "application/pdf");
    assert_null(cc_doc_mime(CC_DOC_UNKNOWN));
    assert_int_equal(cc_doc_from_mime(cc_doc_mime(CC_DOC_PDF)), CC_DOC_PDF);
}

static void test_big_enough(void **state)
{
    (void)state;
    assert_true(cc_doc_big_enough(400, 250, 400, 250));
    assert_true(cc_doc_big_enough(250, 400, 400, 250));
    assert_true(cc_doc_big_enough(1012, 638, 674, 425));
    assert_true(cc_doc_big_enough(638, 1012, 674, 425));
    assert_false(cc_doc_big_enough(399, 250, 400, 250));
    assert_false(cc_doc_big_enough(400, 249, 400, 250));
    assert_false(cc_doc_big_enough(250, 399, 400, 250));
    assert_false(cc_doc_big_enough(249, 400, 400, 250));
    assert_false(cc_doc_big_enough(10000, 100, 400, 250));
    assert_false(cc_doc_big_enough(0, 0, 400, 250));
    assert_true(cc_doc_big_enough(UINT32_MAX, UINT32_MAX, 400, 250));
}

/* ---- PNG ---- */

static void test_png_valid(void **state)
{
    static const popt_t ok[] = {
        {400, 250, 8, 2, 6, 0, 0},  {250, 400, 8, 6, 6, 0, 0},
        {1, 1, 1, 0, 9, 0, 0},      {17, 3, 4, 3, 9, 0, 0},
        {5, 5, 16, 4, 9, 0, 0},     {33, 7, 2, 0, 9, 0, 1},
        {64, 64, 8, 3, 9, 50, 1},   {9, 9, 16, 6, 9, 0, 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        buf_t b = {0};

        png_build(&b, &ok[i]);
        expect_ok(&b, CC_DOC_PNG, ok[i].w, ok[i].h);
        buf_free(&b);
    }
}

/* Chunks bigger than the read buffer, split and whole, so CRCs are
 * computed across refills. */
static void test_png_big_chunks(void **state)
{
    popt_t o = {300, 300, 8, 2, 0, 0, 1};
    buf_t b = {0};
    size_t pos;

    (void)state;
    png_build(&b, &o);
    assert_true(b.len > 3 * 65536);
    expect_ok(&b, CC_DOC_PNG, 300, 300);
    pos = png_find(&b, "IDAT");
    b.p[pos + 8 + 100000] ^= 0x01;
    expect_bad(&b, CC_DOC_PNG, "png crc mismatch");
    buf_free(&b);

    o.idat_max = 65535;
    png_build(&b, &o);
    expect_ok(&b, CC_DOC_PNG, 300, 300);
    buf_free(&b);
}

static void test_png_truncated(void **state)
{
    popt_t o = {120, 80, 8, 2, 9, 300, 1};
    buf_t b = {0};

    (void)state;
    png_build(&b, &o);
    expect_ok(&b, CC_DOC_PNG, 120, 80);
    expect_cuts_bad(&b, CC_DOC_PNG, b.len);
    buf_free(&b);
}

static void test_png_crc(void **state)
{
    static const char *const types[] = {"IHDR", "IDAT", "tEXt", "IEND"};
    popt_t o = {40, 25, 8, 2, 9, 0, 1};
    size_t i, pos;
    uint32_t len;

    (void)state;
    for (i = 0; i < 4; i++) {
        buf_t b = {0};

        png_build(&b, &o);
        pos = png_find(&b, types[i]);
        len = ((uint32_t)b.p[pos + 2] << 8) | b.p[pos + 3];
        b.p[pos + 8 + len + 3] ^= 0x80; /* last CRC byte */
        expect_bad(&b, CC_DOC_PNG, "png crc mismatch");
        buf_free(&b);

        png_build(&b, &o);
        b.p[pos + 7] ^= 0x20; /* type case flip: the CRC covers it */
        expect_bad(&b, CC_DOC_PNG, NULL);
        buf_free(&b);
    }
}

static void test_png_end(void **state)
{
    buf_t b = {0};

    (void)state;
    /* Missing IEND. */
    png_small(&b);
    b.len -= 12;
    expect_bad(&b, CC_DOC_PNG, "png missing iend");
    buf_free(&b);

    /* Polyglots: a ZIP or a single byte after IEND. */
    png_small(&b);
    put(&b, "PK\x03\x04\x14\0\0\0", 8);
    expect_bad(&b, CC_DOC_PNG, "png data after iend");
    buf_free(&b);
    png_small(&b);
    put8(&b, 0);
    expect_bad(&b, CC_DOC_PNG, "png data after iend");
    buf_free(&b);

    /* IEND with a payload. */
    png_sig(&b);
    png_ihdr(&b, 4, 4, 8, 0, 0);
    png_dummy_idat(&b);
    png_chunk(&b, "IEND", "x", 1);
    expect_bad(&b, CC_DOC_PNG, "png bad iend");
    buf_free(&b);

    /* No IDAT. */
    png_sig(&b);
    png_ihdr(&b, 4, 4, 8, 0, 0);
    png_chunk(&b, "IEND", NULL, 0);
    expect_bad(&b, CC_DOC_PNG, "png missing idat");
    buf_free(&b);

    /* Only the signature. */
    png_sig(&b);
    expect_bad(&b, CC_DOC_PNG, NULL);
    buf_free(&b);
}

static void png_try_ihdr(uint32_t w, uint32_t h, unsigned depth,
                         unsigned ctype, unsigned interlace, int ok)
{
    buf_t b = {0};

    png_sig(&b);
    png_ihdr(&b, w, h, depth, ctype, interlace);
    if (ctype == 3) {
        png_chunk(&b, "PLTE", "\0\0\0\xff\xff\xff", 6);
    }
    png_dummy_idat(&b);
    png_chunk(&b, "IEND", NULL, 0);
    if (ok) {
        expect_ok(&b, CC_DOC_PNG, w, h);
    }
    else {
        expect_bad(&b, CC_DOC_PNG, NULL);
    }
    buf_free(&b);
}

static void test_png_ihdr(void **state)
{
    static const unsigned good[][2] = {
        {0, 1}, {0, 2}, {0, 4}, {0, 8}, {0, 16}, {2, 8}, {2, 16}, {3, 1},
        {3, 2}, {3, 4}, {3, 8}, {4, 8}, {4, 16}, {6, 8}, {6, 16},
    };
    static const unsigned bad[][2] = {
        {0, 0}, {0, 3}, {0, 32}, {2, 1}, {2, 4}, {3, 16}, {4, 4}, {6, 1},
        {1, 8}, {5, 8}, {7, 8}, {8, 8}, {255, 8}, {6, 255},
    };
    size_t i;
    buf_t b = {0};

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        png_try_ihdr(3, 2, good[i][1], good[i][0], 0, 1);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        png_try_ihdr(3, 2, bad[i][1], bad[i][0], 0, 0);
    }
    png_try_ihdr(3, 2, 8, 2, 1, 1);  /* Adam7 */
    png_try_ihdr(3, 2, 8, 2, 2, 0);
    png_try_ihdr(0, 2, 8, 2, 0, 0);
    png_try_ihdr(3, 0, 8, 2, 0, 0);
    png_try_ihdr(0x7fffffffu, 1, 8, 2, 0, 1);
    png_try_ihdr(1, 0x7fffffffu, 8, 2, 0, 1);
    png_try_ihdr(0x80000000u, 1, 8, 2, 0, 0);
    png_try_ihdr(1, 0xffffffffu, 8, 2, 0, 0);

    /* Compression and filter methods other than 0. */
    for (i = 10; i <= 11; i++) {
        unsigned char d[13] = {0, 0, 0, 4, 0, 0, 0, 4, 8, 0, 0, 0, 0};

        d[i] = 1;
        png_sig(&b);
        png_chunk(&b, "IHDR", d, 13);
        png_dummy_idat(&b);
        png_chunk(&b, "IEND", NULL, 0);
        expect_bad(&b, CC_DOC_PNG, "png bad ihdr");
        buf_free(&b);
    }

    /* IHDR not first, or not 13 bytes long. */
    png_sig(&b);
    png_chunk(&b, "tEXt", "a\0b", 3);
    png_ihdr(&b, 4, 4, 8, 0, 0);
    png_dummy_idat(&b);
    png_chunk(&b, "IEND", NULL, 0);
    expect_bad(&b, CC_DOC_PNG, "png ihdr not first");
    assert_int_equal(cc_doc_sniff(b.p, b.len), CC_DOC_UNKNOWN);
    buf_free(&b);

    png_sig(&b);
    png_chunk(&b, "IHDR", "\0\0\0\4\0\0\0\4\x08\0\0\0\0\0", 14);
    png_dummy_idat(&b);
    png_chunk(&b, "IEND", NULL, 0);
    expect_bad(&b, CC_DOC_PNG, "png ihdr not first");
    buf_free(&b);

    /* Two IHDRs. */
    png_sig(&b);
    png_ihdr(&b, 4, 4, 8, 0, 0);
    png_ihdr(&b, 5, 5, 8, 0, 0);
    png_dummy_idat(&b);
    png_chunk(&b, "IEND", NULL, 0);
    expect_bad(&b, CC_DOC_PNG, "png duplicate ihdr");
    buf_free(&b);
}

static void test_png_chunks(void **state)
{
    buf_t b = {0};
    size_t pos;

    (void)state;
    /* IDATs must be consecutive. */
    png_sig(&b);
    png_ihdr(&b, 4, 4, 8, 0, 0);
    png_dummy_idat(&b);
    png_chunk(&b, "tEXt", "a\0b", 3);
    png_dummy_idat(&b);
    png_chunk(&b, "IEND", NULL, 0);
    expect_bad(&b, CC_DOC_PNG, "png bad chunk order");
    buf_free(&b);

    /* Palette images need a PLTE before IDAT; grey ones must not have
     * one. */
    png_sig(&b);
    png_ihdr(&b, 4, 4, 8, 3, 0);
    png_dummy_idat(&b);
    png_chunk(&b, "IEND", NULL, 0);
    expect_bad(&b, CC_DOC_PNG, "png missing plte");
    buf_free(&b);
    png_sig(&b);
    png_ihdr(&b, 4, 4, 8, 0, 0);
    png_chunk(&b, "PLTE", "\0\0\0", 3);
    png_dummy_idat(&b);
    png_chunk(&b, "IEND", NULL, 0);
    expect_bad(&b, CC_DOC_PNG, "png bad plte");
    buf_free(&b);
    png_sig(&b);
    png_ihdr(&b, 4, 4, 8, 3, 0);
    png_chunk(&b, "PLTE", "\0\0\0\0", 4);
    png_dummy_idat(&b);
    png_chunk(&b, "IEND", NULL, 0);
    expect_bad(&b, CC_DOC_PNG, "png bad plte");
    buf_free(&b);

    /* Unknown critical chunk; unknown ancillary chunks are fine. */
    png_sig(&b);
    png_ihdr(&b, 4, 4, 8, 0, 0);
    png_chunk(&b, "CgBI", "\0\0\0\0", 4);
    png_dummy_idat(&b);
    png_chunk(&b, "IEND", NULL, 0);
    expect_bad(&b, CC_DOC_PNG, "png unknown critical chunk");
    buf_free(&b);
    png_sig(&b);
    png_ihdr(&b, 4, 4, 8, 0, 0);
    png_chunk(&b, "zzZz", "\0\0\0\0", 4);
    png_dummy_idat(&b);
    png_chunk(&b, "zzZz", NULL, 0);
    png_chunk(&b, "IEND", NULL, 0);
    expect_ok(&b, CC_DOC_PNG, 4, 4);
    buf_free(&b);

    /* Chunk type bytes must be letters. */
    png_sig(&b);
    png_ihdr(&b, 4, 4, 8, 0, 0);
    png_chunk(&b, "ID4T", "\0", 1);
    png_dummy_idat(&b);
    png_chunk(&b, "IEND", NULL, 0);
    expect_bad(&b, CC_DOC_PNG, "png bad chunk type");
    buf_free(&b);

    /* Lengths over 2^31-1 are invalid; 2^31-1 itself is just truncated
     * here, and neither may overflow the walk. */
    png_small(&b);
    pos = png_find(&b, "IDAT");
    memcpy(b.p + pos, "\x80\0\0\0", 4);
    expect_bad(&b, CC_DOC_PNG, "png bad chunk length");
    memcpy(b.p + pos, "\xff\xff\xff\xff", 4);
    expect_bad(&b, CC_DOC_PNG, "png bad chunk length");
    memcpy(b.p + pos, "\x7f\xff\xff\xff", 4);
    expect_bad(&b, CC_DOC_PNG, "png truncated");
    buf_free(&b);

    /* Bad signature. */
    png_small(&b);
    b.p[7] = 0x0b;
    expect_bad(&b, CC_DOC_PNG, "png bad signature");
    buf_free(&b);
}

/* Many tiny chunks: the walk is linear and bounded by the file. */
static void test_png_many_chunks(void **state)
{
    buf_t b = {0};
    size_t i;

    (void)state;
    png_sig(&b);
    png_ihdr(&b, 4, 4, 8, 0, 0);
    for (i = 0; i < 50000; i++) {
        png_chunk(&b, "teXt", NULL, 0);
    }
    png_dummy_idat(&b);
    png_chunk(&b, "IEND", NULL, 0);
    expect_ok(&b, CC_DOC_PNG, 4, 4);
    buf_free(&b);
}

/* ---- JPEG ---- */

static void test_jpeg_valid(void **state)
{
    static const jopt_t ok[] = {
        {.w = 400, .h = 250, .sof = 0xffc0},
        {.w = 250, .h = 400, .sof = 0xffc0},
        {.w = 1, .h = 1, .sof = 0xffc1},
        /* The widest a SOF can say; libjpeg itself stops at 65500. */
        {.w = 65535, .h = 8, .sof = 0xffc0},
        {.w = 31, .h = 17, .sof = 0xffc2, .progressive = 1},
        {.w = 64, .h = 48, .sof = 0xffc0, .fill = 5, .standalone = 1},
        {.w = 64, .h = 48, .sof = 0xffc0, .pad = 100},
        {.w = 64, .h = 48, .sof = 0xffc0, .pad = 70000},
        {.w = 640, .h = 480, .sof = 0xffc0, .app = 200000},
        {.w = 8, .h = 8, .sof = 0xffc0, .fill = 150000},
        {.w = 8, .h = 8, .sof = 0xffcf},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        buf_t b = {0};

        jpeg_build(&b, &ok[i]);
        expect_ok(&b, CC_DOC_JPEG, ok[i].w, ok[i].h);
        buf_free(&b);
    }
}

/* Puts each header field of the SOF across the 64 KiB refill boundary. */
static void test_jpeg_window_edges(void **state)
{
    size_t app;

    (void)state;
    for (app = 65500; app < 65560; app++) {
        jopt_t o = {.w = 300, .h = 200, .sof = 0xffc0};
        buf_t b = {0};

        o.app = app;
        jpeg_build(&b, &o);
        expect_ok(&b, CC_DOC_JPEG, 300, 200);
        buf_free(&b);
    }
}

static void test_jpeg_truncated(void **state)
{
    const jopt_t o = {.w = 200, .h = 120, .sof = 0xffc0, .standalone = 1};
    buf_t b = {0};

    (void)state;
    jpeg_build(&b, &o);
    expect_ok(&b, CC_DOC_JPEG, 200, 120);
    expect_cuts_bad(&b, CC_DOC_JPEG, b.len);
    buf_free(&b);
}

static void test_jpeg_sof(void **state)
{
    jopt_t o = {.w = 40, .h = 25, .sof = 0};
    buf_t b = {0};
    size_t pos;

    (void)state;
    jpeg_build(&b, &o);
    expect_bad(&b, CC_DOC_JPEG, "jpeg sos before sof");
    buf_free(&b);

    /* DHT, JPG and DAC share the SOF range but are not frame headers. */
    o.sof = 0xffc8;
    jpeg_build(&b, &o);
    expect_bad(&b, CC_DOC_JPEG, "jpeg sos before sof");
    buf_free(&b);
    o.sof = 0xffcc;
    jpeg_build(&b, &o);
    expect_bad(&b, CC_DOC_JPEG, "jpeg sos before sof");
    buf_free(&b);

    o.sof = 0xffc0;
    o.w = 0;
    jpeg_build(&b, &o);
    expect_bad(&b, CC_DOC_JPEG, "jpeg zero dimension");
    buf_free(&b);
    o.w = 40;
    o.h = 0;
    jpeg_build(&b, &o);
    expect_bad(&b, CC_DOC_JPEG, "jpeg zero dimension");
    buf_free(&b);

    /* Component count disagreeing with the length, or zero. */
    o.h = 25;
    jpeg_build(&b, &o);
    pos = jpeg_find(&b, 0xffc0);
    b.p[pos + 9] = 2;
    expect_bad(&b, CC_DOC_JPEG, "jpeg bad sof");
    b.p[pos + 9] = 0;
    expect_bad(&b, CC_DOC_JPEG, "jpeg bad sof");
    /* Length too short to hold the fields. */
    b.p[pos + 9] = 1;
    b.p[pos + 3] = 6;
    expect_bad(&b, CC_DOC_JPEG, NULL);
    buf_free(&b);

    /* Two frames: the SOF segment (13 bytes) repeated. */
    {
        buf_t c = {0};

        jpeg_build(&c, &o);
        pos = jpeg_find(&c, 0xffc0);
        put(&b, c.p, pos + 13);
        put(&b, c.p + pos, c.len - pos);
        buf_free(&c);
    }
    expect_bad(&b, CC_DOC_JPEG, "jpeg duplicate sof");
    buf_free(&b);
}

static void test_jpeg_eoi(void **state)
{
    jopt_t o = {.w = 40, .h = 25, .sof = 0xffc0, .no_eoi = 1};
    buf_t b = {0};

    (void)state;
    jpeg_build(&b, &o);
    expect_bad(&b, CC_DOC_JPEG, "jpeg missing eoi");
    buf_free(&b);

    /* NUL padding does not stand in for EOI. */
    o.pad = 10;
    jpeg_build(&b, &o);
    expect_bad(&b, CC_DOC_JPEG, "jpeg missing eoi");
    buf_free(&b);

    /* Polyglots: HTML or a ZIP after EOI. */
    jpeg_small(&b);
    put_str(&b, "<html><script>alert(1)</script></html>");
    expect_bad(&b, CC_DOC_JPEG, "jpeg missing eoi");
    buf_free(&b);
    jpeg_small(&b);
    put(&b, "PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 22);
    expect_bad(&b, CC_DOC_JPEG, "jpeg missing eoi");
    buf_free(&b);
    jpeg_small(&b);
    put16(&b, 0x0a00);
    expect_bad(&b, CC_DOC_JPEG, "jpeg missing eoi");
    buf_free(&b);

    /* EOI before any scan. */
    put16(&b, 0xffd8);
    put16(&b, 0xffd9);
    expect_bad(&b, CC_DOC_JPEG, "jpeg eoi before sos");
    buf_free(&b);
}

static void test_jpeg_markers(void **state)
{
    buf_t b = {0};
    size_t pos;

    (void)state;
    /* Segment lengths below 2 would loop or step backwards. */
    jpeg_small(&b);
    pos = jpeg_find(&b, 0xffdb);
    memcpy(b.p + pos + 2, "\0\0", 2);
    expect_bad(&b, CC_DOC_JPEG, "jpeg bad segment length");
    memcpy(b.p + pos + 2, "\0\1", 2);
    expect_bad(&b, CC_DOC_JPEG, "jpeg bad segment length");
    memcpy(b.p + pos + 2, "\xff\xff", 2);
    expect_bad(&b, CC_DOC_JPEG, "jpeg truncated");
    buf_free(&b);

    /* Not a marker where one is due: 0x00, reserved codes, data. */
    jpeg_small(&b);
    pos = jpeg_find(&b, 0xffdb);
    b.p[pos + 1] = 0x00;
    expect_bad(&b, CC_DOC_JPEG, "jpeg bad marker");
    b.p[pos + 1] = 0x02;
    expect_bad(&b, CC_DOC_JPEG, "jpeg bad marker");
    b.p[pos + 1] = 0xd8;
    expect_bad(&b, CC_DOC_JPEG, "jpeg bad marker");
    b.p[pos + 1] = 0xdb;
    b.p[pos] = 0x00;
    expect_bad(&b, CC_DOC_JPEG, "jpeg bad marker");
    buf_free(&b);

    /* A malformed scan header. */
    jpeg_small(&b);
    pos = jpeg_find(&b, 0xffda);
    b.p[pos + 4] = 5;
    expect_bad(&b, CC_DOC_JPEG, "jpeg bad sos");
    buf_free(&b);

    /* Bad signature; only fill bytes. */
    jpeg_small(&b);
    b.p[1] = 0xd9;
    expect_bad(&b, CC_DOC_JPEG, "jpeg bad signature");
    buf_free(&b);
    put16(&b, 0xffd8);
    put_n(&b, 0xff, 100000);
    expect_bad(&b, CC_DOC_JPEG, "jpeg truncated");
    buf_free(&b);
}

/* ---- PDF ---- */

static void test_pdf_valid(void **state)
{
    static const char *const hdr[] = {"%PDF-1.0", "%PDF-1.4", "%PDF-1.7",
                                      "%PDF-2.0"};
    static const unsigned flags[] = {0, P_CRLF, P_TRAILING_WS, P_PAD,
                                     P_CRLF | P_TRAILING_WS | P_PAD};
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++) {
        for (j = 0; j < sizeof(flags) / sizeof(flags[0]); j++) {
            buf_t b = {0};

            pdf_build(&b, hdr[i], flags[j]);
            expect_ok(&b, CC_DOC_PDF, 0, 0);
            buf_free(&b);
        }
    }
}

static void test_pdf_truncated(void **state)
{
    buf_t b = {0};
    size_t ok_from;

    (void)state;
    pdf_build(&b, "%PDF-1.7", P_TRAILING_WS);
    /* Cutting only trailing white space leaves a valid file. */
    for (ok_from = b.len; b.p[ok_from - 1] != 'F'; ok_from--) {
    }
    expect_cuts_bad(&b, CC_DOC_PDF, ok_from);
    buf_free(&b);
}

static void test_pdf_bad(void **state)
{
    static const struct {
        const char *hdr;
        unsigned flags;
        const char *why;
    } bad[] = {
        {"%PDF-1.7", P_NO_EOF, "pdf missing eof marker"},
        {"%PDF-1.7", P_GARBAGE, "pdf missing eof marker"},
        {"%PDF-1.7", P_NO_STARTXREF, "pdf missing startxref"},
        {"%PDF-1.7", P_NO_XREF_NUM, "pdf bad startxref"},
        {"%PDF-1.7", P_NO_STARTXREF | P_NO_XREF_NUM, "pdf bad startxref"},
        {"%PDF-1.7", P_XREF_PAST_END, "pdf bad startxref"},
        {"%PDF-1.7", P_FAR_TRAILER, "pdf missing eof marker"},
        {"%PDF-1.7", P_JUNK, "pdf bad header"},
        {"%PDF-3.0", 0, "pdf bad header"},
        {"%PDF-1.x", 0, "pdf bad header"},
        {"%PDF-1", 0, "pdf bad header"},
        {"%PDF-12", 0, "pdf bad header"},
    };
    buf_t b = {0};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pdf_build(&b, bad[i].hdr, bad[i].flags);
        expect_bad(&b, CC_DOC_PDF, bad[i].why);
        buf_free(&b);
    }

    /* Junk before the header: readers tolerate it, the sniffer must not. */
    pdf_build(&b, "%PDF-1.7", P_JUNK);
    assert_int_equal(cc_doc_sniff(b.p, b.len), CC_DOC_UNKNOWN);
    buf_free(&b);

    /* The trailer needs white space between its tokens. */
    put_str(&b, "%PDF-1.4\nstartxref 0%%EOF");
    expect_bad(&b, CC_DOC_PDF, "pdf bad startxref");
    buf_free(&b);
    put_str(&b, "%PDF-1.4\nstartxref0 %%EOF");
    expect_bad(&b, CC_DOC_PDF, "pdf missing startxref");
    buf_free(&b);
    put_str(&b, "%PDF-1.4\nstartxref\n99999999999999999999999\n%%EOF");
    expect_bad(&b, CC_DOC_PDF, "pdf bad startxref");
    buf_free(&b);
    /* The smallest acceptable shape. */
    put_str(&b, "%PDF-1.4\nstartxref\n9\n%%EOF");
    expect_ok(&b, CC_DOC_PDF, 0, 0);
    buf_free(&b);
    put_str(&b, "%PDF-1.4");
    expect_bad(&b, CC_DOC_PDF, "pdf missing eof marker");
    buf_free(&b);
    put_str(&b, "%PDF-");
    expect_bad(&b, CC_DOC_PDF, "pdf truncated");
    buf_free(&b);
}

/* ---- cross-type and I/O ---- */

static void test_type_and_io(void **state)
{
    buf_t png = {0}, jpg = {0}, pdf = {0};
    cc_doc_info_t info;
    const char *why;
    int fd;

    (void)state;
    png_small(&png);
    jpeg_small(&jpg);
    pdf_build(&pdf, "%PDF-1.7", 0);

    /* The gate checks the type it is given, not the one it could guess. */
    expect_bad(&png, CC_DOC_JPEG, "jpeg bad signature");
    expect_bad(&jpg, CC_DOC_PDF, "pdf bad header");
    expect_bad(&pdf, CC_DOC_PNG, "png bad signature");
    expect_bad(&png, CC_DOC_UNKNOWN, "unsupported type");
    expect_bad(&png, (cc_doc_type_t)42, "unsupported type");

    /* An empty file. */
    fd = tmp_fd(png.p, 0);
    assert_int_equal(run_fd(fd, 0, CC_DOC_PNG, &info, &why),
                     CC_DOC_UNREADABLE);
    assert_string_equal(why, "empty file");
    close(fd);

    /* A size larger than the file is the caller's error, not the
     * client's. */
    fd = tmp_fd(png.p, png.len);
    assert_int_equal(run_fd(fd, png.len + 10, CC_DOC_PNG, &info, &why),
                     CC_DOC_IO_ERROR);
    assert_non_null(why);
    /* NULL info and why are accepted. */
    assert_int_equal(cc_doc_check_fd(fd, png.len, CC_DOC_PNG, NULL, NULL),
                     CC_DOC_READABLE);
    close(fd);

    /* A bad descriptor, and a size pread() cannot reach. */
    assert_int_equal(cc_doc_check_fd(-1, jpg.len, CC_DOC_JPEG, &info, &why),
                     CC_DOC_IO_ERROR);
    assert_non_null(why);
    assert_int_equal(cc_doc_check_fd(-1, UINT64_MAX, CC_DOC_JPEG, &info,
                                     &why), CC_DOC_UNREADABLE);

    buf_free(&png);
    buf_free(&jpg);
    buf_free(&pdf);
}

/* ---- the demo documents ---- */

static void check_demo(const char *dir, const char *name, cc_doc_type_t t)
{
    char path[1024];
    unsigned char head[CC_DOC_SNIFF_BYTES];
    cc_doc_info_t info;
    const char *why = NULL;
    struct stat st;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(st.st_size > 0 && st.st_size < 250 * 1024);
    assert_int_equal(pread(fd, head, sizeof(head), 0), sizeof(head));
    assert_int_equal(cc_doc_sniff(head, sizeof(head)), t);
    if (cc_doc_check_fd(fd, (uint64_t)st.st_size, t, &info, &why)
        != CC_DOC_READABLE) {
        fail_msg("%s: %s", path, why ? why : "(null)");
    }
    if (t != CC_DOC_PDF) {
        assert_int_equal(info.width, 1012);
        assert_int_equal(info.height, 638);
        /* The daemon's floor: an ID-1 card at 200 dpi. */
        assert_true(cc_doc_big_enough(info.width, info.height, 674, 425));
    }
    close(fd);
}

static void test_demo_docs(void **state)
{
    const char *dir = getenv("CC_DEMO_DIR");
    char path[1024];

    (void)state;
    dir = dir != NULL ? dir : "conf/demo";
    snprintf(path, sizeof(path), "%s/id-front.jpg", dir);
    if (access(path, R_OK) != 0) {
        skip(); /* run from elsewhere than the source tree */
    }
    check_demo(dir, "id-front.jpg", CC_DOC_JPEG);
    check_demo(dir, "id-back.png", CC_DOC_PNG);
    check_demo(dir, "id-front.pdf", CC_DOC_PDF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sniff),
        cmocka_unit_test(test_mime),
        cmocka_unit_test(test_big_enough),
        cmocka_unit_test(test_png_valid),
        cmocka_unit_test(test_png_big_chunks),
        cmocka_unit_test(test_png_truncated),
        cmocka_unit_test(test_png_crc),
        cmocka_unit_test(test_png_end),
        cmocka_unit_test(test_png_ihdr),
        cmocka_unit_test(test_png_chunks),
        cmocka_unit_test(test_png_many_chunks),
        cmocka_unit_test(test_jpeg_valid),
        cmocka_unit_test(test_jpeg_window_edges),
        cmocka_unit_test(test_jpeg_truncated),
        cmocka_unit_test(test_jpeg_sof),
        cmocka_unit_test(test_jpeg_eoi),
        cmocka_unit_test(test_jpeg_markers),
        cmocka_unit_test(test_pdf_valid),
        cmocka_unit_test(test_pdf_truncated),
        cmocka_unit_test(test_pdf_bad),
        cmocka_unit_test(test_type_and_io),
        cmocka_unit_test(test_demo_docs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
