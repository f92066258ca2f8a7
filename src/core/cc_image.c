/*
 * cc_image.c: full decode of JPEG and PNG with bomb limits, luma
 * statistics for blank detection, and a qpdf structure check of PDFs (see
 * cc_image.h). Scanlines are consumed one at a time, so memory is one row
 * (plus the whole image only for interlaced PNGs, bounded by max_pixels).
 */
#include "cc_image.h"

#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <qpdf/qpdf-c.h>

void cc_image_limits_default(cc_image_limits_t *lim)
{
    lim->max_width = 20000;
    lim->max_height = 20000;
    lim->max_pixels = 50000000ULL;
    lim->max_chunk_bytes = 1024 * 1024;
    lim->max_pdf_pages = 20;
    /* Encoders write about 10 (libjpeg's simple progression: 10 for
     * colour, 6 for grey); a valid file can have thousands. */
    lim->max_jpeg_scans = 100;
}

/* Running sums for the luma mean and standard deviation. */
typedef struct {
    double sum;
    double sumsq;
    uint64_t n;
} luma_acc_t;

static void acc_add(luma_acc_t *a, unsigned v)
{
    a->sum += v;
    a->sumsq += (double)v * v;
    a->n++;
}

static void acc_finish(const luma_acc_t *a, cc_image_stats_t *st)
{
    double mean, var;

    if (a->n == 0) {
        return;
    }
    mean = a->sum / (double)a->n;
    var = a->sumsq / (double)a->n - mean * mean;
    st->luma_mean = mean;
    st->luma_stddev = var > 0 ? sqrt(var) : 0.0;
}

/* Rec. 601 luma with integer weights (sum 1024). */
static unsigned luma_rgb(unsigned r, unsigned g, unsigned b)
{
    return (306 * r + 601 * g + 117 * b + 512) >> 10;
}

static int dims_ok(const cc_image_limits_t *lim, uint32_t w, uint32_t h)
{
    return w > 0 && h > 0 && w <= lim->max_width && h <= lim->max_height
           && (uint64_t)w * h <= lim->max_pixels;
}

/* ---- JPEG ------------------------------------------------------------ */

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    int warnings;
    int too_many_scans;
} jpeg_err_t;

typedef struct {
    struct jpeg_progress_mgr pub;
    int max_scans;
} jpeg_prog_t;

static void jpeg_fail(j_common_ptr cinfo)
{
    jpeg_err_t *e = (jpeg_err_t *)cinfo->err;

    longjmp(e->jb, 1);
}

/* Called by libjpeg between units of work, also while a progressive
 * image's scans are being consumed inside jpeg_start_decompress(): every
 * scan costs a pass over all blocks, so the scan count is checked as it
 * grows. A warning already makes the image unreadable (see
 * jpeg_message()); stopping at once saves the rest of the work, which is
 * unbounded for bogus progressions that only warn. */
static void jpeg_progress(j_common_ptr cinfo)
{
    jpeg_err_t *e = (jpeg_err_t *)cinfo->err;
    const jpeg_prog_t *pr = (const jpeg_prog_t *)cinfo->progress;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;

    if (d->input_scan_number > pr->max_scans) {
        e->too_many_scans = 1;
        longjmp(e->jb, 1);
    }
    if (e->warnings > 0) {
        longjmp(e->jb, 1);
    }
}

/* libjpeg reports recoverable corruption (a truncated file, bad Huffman
 * data) as warnings and fills in grey: for a KYC check that is not a
 * readable document. Trace messages (level > 0) are ignored. */
static void jpeg_message(j_common_ptr cinfo, int level)
{
    jpeg_err_t *e = (jpeg_err_t *)cinfo->err;

    if (level < 0) {
        e->warnings++;
    }
}

static int check_jpeg(const unsigned char *buf, size_t len,
                      const cc_image_limits_t *lim, cc_image_stats_t *st,
                      const char **why)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_err_t err;
    jpeg_prog_t prog;
    JSAMPROW volatile row = NULL;
    luma_acc_t acc;
    volatile int rc = CC_IMAGE_UNREADABLE;
    JDIMENSION x;
    int comps;

    memset(&acc, 0, sizeof(acc));
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = jpeg_fail;
    err.pub.emit_message = jpeg_message;
    err.warnings = 0;
    err.too_many_scans = 0;
    prog.pub.progress_monitor = jpeg_progress;
    prog.max_scans = lim->max_jpeg_scans > 0 && lim->max_jpeg_scans < 65536
                         ? (int)lim->max_jpeg_scans
                         : 65536;
    if (setjmp(err.jb)) {
        if (err.too_many_scans) {
            *why = "JPEG has too many scans";
            rc = CC_IMAGE_TOO_LARGE;
        }
        else {
            *why = err.warnings > 0 ? "JPEG data is corrupt or truncated"
                                    : "JPEG decoding failed";
        }
        goto done;
    }
    jpeg_create_decompress(&cinfo);
    cinfo.progress = &prog.pub;
    jpeg_mem_src(&cinfo, buf, (unsigned long)len);
    if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
        *why = "no JPEG image";
        goto done;
    }
    /* The bomb check: SOF dimensions are known before any allocation. */
    if (!dims_ok(lim, cinfo.image_width, cinfo.image_height)) {
        *why = "JPEG dimensions over the limit";
        rc = CC_IMAGE_TOO_LARGE;
        goto done;
    }
    if (cinfo.jpeg_color_space == JCS_CMYK
        || cinfo.jpeg_color_space == JCS_YCCK) {
        cinfo.out_color_space = JCS_CMYK;
    }
    else {
        /* libjpeg derives grey from Y directly: cheap and exact luma. */
        cinfo.out_color_space = JCS_GRAYSCALE;
    }
    jpeg_start_decompress(&cinfo);
    comps = cinfo.output_components;
    row = malloc((size_t)cinfo.output_width * (size_t)comps);
    if (row == NULL) {
        *why = "out of memory";
        goto done;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW rows[1] = { row };

        if (jpeg_read_scanlines(&cinfo, rows, 1) != 1) {
            *why = "JPEG scanline missing";
            goto done;
        }
        for (x = 0; x < cinfo.output_width; x++) {
            if (comps == 1) {
                acc_add(&acc, row[x]);
            }
            else {
                /* Adobe CMYK JPEGs are stored inverted: 255 is no ink. */
                const unsigned char *p = row + (size_t)x * 4;
                unsigned k = p[3];

                acc_add(&acc, luma_rgb(p[0] * k / 255, p[1] * k / 255,
                                       p[2] * k / 255));
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    if (err.warnings > 0) {
        *why = "JPEG data is corrupt or truncated";
        goto done;
    }
    st->width = cinfo.image_width;
    st->height = cinfo.image_height;
    acc_finish(&acc, st);
    rc = CC_IMAGE_OK;
done:
    jpeg_destroy_decompress(&cinfo);
    free(row);
    return rc;
}

/* ---- PNG ------------------------------------------------------------- */

typedef struct {
    const unsigned char *buf;
    size_t len;
    size_t off;
} png_src_t;

static void png_read_mem(png_structp png, png_bytep out, size_t n)
{
    png_src_t *s = png_get_io_ptr(png);

    if (n > s->len - s->off) {
        png_error(png, "truncated");
    }
    memcpy(out, s->buf + s->off, n);
    s->off += n;
}

static void png_fail(png_structp png, png_const_charp msg)
{
    (void)msg; /* may quote input-derived values; not logged */
    png_longjmp(png, 1);
}

static void png_warn_ignore(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void png_row_luma(luma_acc_t *acc, const unsigned char *row,
                         uint32_t w, int channels)
{
    uint32_t x;

    for (x = 0; x < w; x++) {
        const unsigned char *p = row + (size_t)x * (size_t)channels;

        acc_add(acc, channels == 1 ? p[0] : luma_rgb(p[0], p[1], p[2]));
    }
}

static int check_png(const unsigned char *buf, size_t len,
                     const cc_image_limits_t *lim, cc_image_stats_t *st,
                     const char **why)
{
    png_structp png;
    png_infop info = NULL;
    png_src_t src = { buf, len, 0 };
    unsigned char *volatile rows = NULL;
    png_bytep *volatile rowp = NULL;
    volatile int rc = CC_IMAGE_UNREADABLE;
    luma_acc_t acc;
    png_uint_32 w, h, y;
    int depth, ctype, interlace, channels;
    size_t rowbytes;

    memset(&acc, 0, sizeof(acc));
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, png_fail,
                                 png_warn_ignore);
    if (png == NULL) {
        *why = "out of memory";
        return CC_IMAGE_UNREADABLE;
    }
    info = png_create_info_struct(png);
    if (info == NULL || setjmp(png_jmpbuf(png))) {
        if (*why == NULL) {
            *why = "PNG decoding failed";
        }
        goto done;
    }
    /* Bomb limits: dimensions (checked by libpng at IHDR), the inflated
     * size of ancillary chunks (zTXt, iCCP...), and how many are kept. */
    png_set_user_limits(png, lim->max_width, lim->max_height);
    png_set_chunk_malloc_max(png, lim->max_chunk_bytes);
    png_set_chunk_cache_max(png, 128);
    png_set_read_fn(png, &src, png_read_mem);
    png_read_info(png, info);
    png_get_IHDR(png, info, &w, &h, &depth, &ctype, &interlace, NULL, NULL);
    if (!dims_ok(lim, w, h)) {
        *why = "PNG dimensions over the limit";
        rc = CC_IMAGE_TOO_LARGE;
        goto done;
    }
    /* Normalise to 8-bit grey or RGB without alpha. */
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    if (interlace != PNG_INTERLACE_NONE) {
        png_set_interlace_handling(png);
    }
    png_read_update_info(png, info);
    channels = png_get_channels(png, info);
    rowbytes = png_get_rowbytes(png, info);
    if ((channels != 1 && channels != 3) || rowbytes < (size_t)w * channels) {
        *why = "unexpected PNG pixel layout";
        goto done;
    }
    if (interlace == PNG_INTERLACE_NONE) {
        rows = malloc(rowbytes);
        if (rows == NULL) {
            *why = "out of memory";
            goto done;
        }
        for (y = 0; y < h; y++) {
            png_read_row(png, rows, NULL);
            png_row_luma(&acc, rows, w, channels);
        }
    }
    else {
        /* Adam7 needs the whole image; max_pixels bounds it. */
        rows = malloc(rowbytes * h);
        rowp = malloc(sizeof(png_bytep) * h);
        if (rows == NULL || rowp == NULL) {
            *why = "out of memory";
            goto done;
        }
        for (y = 0; y < h; y++) {
            rowp[y] = rows + rowbytes * y;
        }
        png_read_image(png, rowp);
        for (y = 0; y < h; y++) {
            png_row_luma(&acc, rowp[y], w, channels);
        }
    }
    /* Reads and CRC-checks everything after the image data, to IEND. */
    png_read_end(png, NULL);
    if (src.off != len) {
        *why = "bytes after IEND";
        goto done;
    }
    st->width = w;
    st->height = h;
    acc_finish(&acc, st);
    rc = CC_IMAGE_OK;
done:
    png_destroy_read_struct(&png, info ? &info : NULL, NULL);
    free(rows);
    free(rowp);
    return rc;
}

/* ---- PDF ------------------------------------------------------------- */

static int check_pdf(const unsigned char *buf, size_t len,
                     const cc_image_limits_t *lim, cc_image_stats_t *st,
                     const char **why)
{
    qpdf_data q = qpdf_init();
    int rc = CC_IMAGE_UNREADABLE, pages;

    qpdf_set_suppress_warnings(q, QPDF_TRUE);
    /* qpdf silently repairs damaged files by default; a KYC document
     * that needs repairing is not a readable one. */
    qpdf_set_attempt_recovery(q, QPDF_FALSE);
    if (qpdf_read_memory(q, "document", (const char *)buf,
                         (unsigned long long)len, NULL)
            & QPDF_ERRORS) {
        *why = "PDF structure is invalid";
        goto done;
    }
    /* Walks every object and decodes every stream. */
    if (qpdf_check_pdf(q) & QPDF_ERRORS) {
        *why = "PDF objects or streams are invalid";
        goto done;
    }
    pages = qpdf_get_num_pages(q);
    if (qpdf_has_error(q) || pages < 1) {
        *why = "PDF has no pages";
        goto done;
    }
    if ((unsigned)pages > lim->max_pdf_pages) {
        *why = "PDF has too many pages";
        rc = CC_IMAGE_TOO_LARGE;
        goto done;
    }
    st->pages = (unsigned)pages;
    rc = CC_IMAGE_OK;
done:
    /* Consume the error (qpdf warns on stderr about unhandled ones);
     * its text may quote file content, so it is not reported. */
    if (qpdf_has_error(q)) {
        (void)qpdf_get_error(q);
    }
    while (qpdf_more_warnings(q)) {
        (void)qpdf_next_warning(q);
    }
    qpdf_cleanup(&q);
    return rc;
}

int cc_image_check(const unsigned char *buf, size_t len, cc_doc_type_t type,
                   const cc_image_limits_t *lim, cc_image_stats_t *st,
                   const char **why)
{
    cc_image_limits_t def;

    if (lim == NULL) {
        cc_image_limits_default(&def);
        lim = &def;
    }
    memset(st, 0, sizeof(*st));
    *why = NULL;
    switch (type) {
    case CC_DOC_JPEG:
        return check_jpeg(buf, len, lim, st, why);
    case CC_DOC_PNG:
        return check_png(buf, len, lim, st, why);
    case CC_DOC_PDF:
        return check_pdf(buf, len, lim, st, why);
    default:
        *why = "unsupported document type";
        return CC_IMAGE_UNREADABLE;
    }
}
