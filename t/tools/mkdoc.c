/*
 * mkdoc.c: deterministic generator of demo and test ID documents.
 *
 *   mkdoc png|jpeg WIDTH HEIGHT SEED OUT
 *   mkdoc pdf OUT
 *
 * Raster output is drawn like an ID card (gradient with hatching, header
 * band, portrait, rows of glyph-like dots, a machine-readable zone) so that
 * the KYC daemon's blank/uniformity checks have real structure to find.
 * Only integer arithmetic is used and nothing time-dependent is written (no
 * tIME/tEXt chunk, fixed JFIF/pHYs density, no PDF dates), so the same
 * arguments give the same bytes with the same libpng, libjpeg and zlib.
 * ImageMagick is not used: it may be absent and it stamps PNG times.
 *
 * Build: gcc -std=c11 -O2 t/tools/mkdoc.c -lpng -ljpeg -o mkdoc
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

typedef struct {
    int w, h;
    int clip[4];       /* x0, y0, x1, y1: drawing stays inside this box */
    unsigned char *px; /* RGB, rows top to bottom */
} img_t;

typedef struct {
    int v[3]; /* red, green, blue */
} rgb_t;

static const char *out_path;

static _Noreturn void die(const char *msg)
{
    fprintf(stderr, "mkdoc: %s\n", msg);
    if (out_path != NULL) {
        unlink(out_path); /* never leave a half-written fixture behind */
    }
    exit(1);
}

/* xorshift32: tiny, and identical on every platform. */
static int rnd(uint32_t *s, int mod)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return (int)(*s % (uint32_t)mod);
}

/* Limits drawing to a box; all callers pass boxes inside the image. */
#define CLIP(im, x0, y0, x1, y1) \
    memcpy((im)->clip, (int[4]){(x0), (y0), (x1), (y1)}, sizeof((im)->clip))

/* Separate statements: the order in which an initializer list calls rnd()
 * is unspecified, and the output must not depend on the compiler. */
static rgb_t pick(uint32_t *s, int r, int g, int b, int spread)
{
    rgb_t c;

    c.v[0] = r + rnd(s, spread);
    c.v[1] = g + rnd(s, spread);
    c.v[2] = b + rnd(s, spread);
    return c;
}

static void rect(img_t *im, int x0, int y0, int x1, int y1, rgb_t c)
{
    int x, y;

    for (y = y0 < im->clip[1] ? im->clip[1] : y0;
         y < y1 && y < im->clip[3]; y++) {
        for (x = x0 < im->clip[0] ? im->clip[0] : x0;
             x < x1 && x < im->clip[2]; x++) {
            unsigned char *p = im->px + 3 * ((size_t)y * im->w + x);

            p[0] = (unsigned char)c.v[0];
            p[1] = (unsigned char)c.v[1];
            p[2] = (unsigned char)c.v[2];
        }
    }
}

static void ellipse(img_t *im, int cx, int cy, int rx, int ry, rgb_t c)
{
    int64_t rr = (int64_t)rx * rx * ry * ry;
    int x, y;

    for (y = -ry; y <= ry; y++) {
        for (x = -rx; x <= rx; x++) {
            if ((int64_t)x * x * ry * ry + (int64_t)y * y * rx * rx <= rr) {
                rect(im, cx + x, cy + y, cx + x + 1, cy + y + 1, c);
            }
        }
    }
}

/* A row of random 3x5 dot cells of height ch from x to xmax, split into
 * words unless mono; it reads as print to a blank detector without any
 * font. */
static void text(img_t *im, uint32_t *s, int x, int y, int xmax, int ch,
                 rgb_t c, int mono)
{
    int dot = ch / 5 > 0 ? ch / 5 : 1;
    int left = mono ? -1 : 2 + rnd(s, 7);
    int i, bits;

    while (x + 3 * dot <= xmax) {
        bits = rnd(s, 1 << 15) | 0x2492; /* at least one dot per row */
        for (i = 0; i < 15; i++) {
            if (bits >> i & 1) {
                rect(im, x + i % 3 * dot, y + i / 3 * dot,
                     x + (i % 3 + 1) * dot, y + (i / 3 + 1) * dot, c);
            }
        }
        x += 4 * dot;
        if (--left == 0) {
            x += 3 * dot;
            left = 2 + rnd(s, 7);
        }
    }
}

static void draw_card(img_t *im, uint32_t seed)
{
    uint32_t s = (seed * 2654435761u + 0x9e3779b9u) | 1;
    int w = im->w, h = im->h, x, y, i, t, d;
    int x0 = w * 4 / 100, y0 = h * 21 / 100, x1 = w * 30 / 100;
    int y1 = h * 80 / 100, pw = x1 - x0, ph = y1 - y0, cx = (x0 + x1) / 2;
    rgb_t ink = {{24, 28, 40}}, grey = {{96, 104, 120}};
    rgb_t white = {{250, 250, 250}}, c0, c1, band, skin, hair, cloth;
    unsigned char *p;

    c0 = pick(&s, 196, 206, 214, 36);
    band = pick(&s, 16, 40, 90, 64);
    skin = pick(&s, 150, 110, 80, 60);
    for (i = 0; i < 3; i++) {
        c1.v[i] = c0.v[(i + 1) % 3] - 30 - 10 * i;
        hair.v[i] = skin.v[i] / 4;
        cloth.v[i] = band.v[(i + 2) % 3];
    }

    /* Diagonal gradient under a fine security-print hatch. */
    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++) {
            p = im->px + 3 * ((size_t)y * w + x);
            t = (int)((int64_t)x * 128 / w + (int64_t)y * 128 / h);
            d = (x + 2 * y) % 11 == 0 || (3 * x - y + 4 * h) % 17 == 0;
            for (i = 0; i < 3; i++) {
                p[i] = (unsigned char)((c0.v[i] * (256 - t)
                                        + c1.v[i] * t) / 256 - 14 * d);
            }
        }
    }
    CLIP(im, 0, 0, w, h);
    rect(im, 0, 0, w, h * 15 / 100, band);
    text(im, &s, w * 4 / 100, h * 4 / 100, w * 70 / 100, h * 7 / 100, white,
         0);

    /* Portrait, clipped to its frame like a printed photo. */
    rect(im, x0 - 2, y0 - 2, x1 + 2, y1 + 2, grey);
    CLIP(im, x0, y0, x1, y1);
    rect(im, x0, y0, x1, y1, (rgb_t){{206, 214, 222}});
    ellipse(im, cx, y1, pw * 45 / 100, ph * 22 / 100, cloth);
    rect(im, cx - pw / 10, y0 + ph * 55 / 100, cx + pw / 10,
         y1 - ph * 16 / 100, skin);
    ellipse(im, cx, y0 + ph * 33 / 100, pw * 31 / 100, ph * 27 / 100, hair);
    ellipse(im, cx, y0 + ph * 40 / 100, pw * 26 / 100, ph * 26 / 100, skin);
    for (i = -1; i <= 1; i += 2) {
        rect(im, cx + i * pw / 10 - pw / 24, y0 + ph * 35 / 100,
             cx + i * pw / 10 + pw / 24, y0 + ph * 38 / 100, ink);
    }
    rect(im, cx - pw / 12, y0 + ph * 53 / 100, cx + pw / 12,
         y0 + ph * 55 / 100, (rgb_t){{140, 50, 50}});
    CLIP(im, 0, 0, w, h);

    /* Label/value rows, then a signature-like stroke. */
    for (i = 0; i < 5; i++) {
        y = h * 19 / 100 + i * h * 11 / 100;
        text(im, &s, w * 35 / 100, y, w * 55 / 100, h * 3 / 100, grey, 0);
        text(im, &s, w * 35 / 100, y + h * 4 / 100,
             w * (60 + rnd(&s, 35)) / 100, h * 5 / 100, ink, 0);
    }
    for (x = w * 62 / 100; x < w * 92 / 100; x++) {
        y = h * 75 / 100 + x * 7 / 5 % (h / 25 + 1);
        rect(im, x, y, x + 3, y + 3, (rgb_t){{30, 40, 120}});
    }

    /* Machine-readable zone: two monospaced rows on a pale strip. */
    rect(im, 0, h * 82 / 100, w, h, (rgb_t){{236, 238, 232}});
    for (i = 0; i < 2; i++) {
        text(im, &s, w * 3 / 100, h * (85 + 7 * i) / 100, w * 97 / 100,
             h * 5 / 100, ink, 1);
    }
}

static void png_err(png_structp png, png_const_charp msg)
{
    (void)png;
    die(msg);
}

static void write_png(const img_t *im, FILE *f)
{
    png_structp png;
    png_infop info;
    int y;

    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_err, NULL);
    if (png == NULL || (info = png_create_info_struct(png)) == NULL) {
        die("libpng init failed");
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)im->w, (png_uint_32)im->h, 8,
                 PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    /* 300 dpi: 1012x638 pixels is then exactly an ID-1 card. */
    png_set_pHYs(png, info, 11811, 11811, PNG_RESOLUTION_METER);
    png_set_compression_level(png, 9);
    png_write_info(png, info);
    for (y = 0; y < im->h; y++) {
        png_write_row(png, im->px + 3 * (size_t)y * im->w);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
}

static void jpeg_err(j_common_ptr c)
{
    char msg[JMSG_LENGTH_MAX];

    c->err->format_message(c, msg);
    die(msg);
}

static void write_jpeg(const img_t *im, FILE *f)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    JSAMPROW row;

    c.err = jpeg_std_error(&err);
    err.error_exit = jpeg_err;
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)im->w;
    c.image_height = (JDIMENSION)im->h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 85, TRUE);
    c.dct_method = JDCT_ISLOW; /* the integer DCT is bit-exact everywhere */
    c.optimize_coding = TRUE;
    c.density_unit = 1;
    c.X_density = 300;
    c.Y_density = 300;
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        row = im->px + 3 * (size_t)c.next_scanline * im->w;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
}

/* One page the size of an ID-1 card plus a margin (252x162 pt, 700x450 px
 * at 200 dpi), drawn with vectors and standard fonts so it embeds nothing.
 * xref offsets are measured with ftell(), not assumed. */
static void write_pdf(FILE *f)
{
    static const char *const obj[] = {
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        ("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 252 162]"
         " /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >>"
         " /Contents 4 0 R >>"),
        NULL, /* the content stream */
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>",
    };
    static const char content[] =
        "0.86 0.90 0.94 rg 0 0 252 162 re f\n"
        "0.10 0.22 0.45 rg 0 138 252 24 re f\n"
        "1 1 1 rg BT /F1 11 Tf 8 146 Td (CARTEVO DEMO IDENTITY CARD) Tj ET\n"
        "0.40 0.42 0.47 rg 10 40 64 88 re f\n"
        "0.81 0.84 0.87 rg 12 42 60 84 re f\n"
        "0.62 0.10 0.18 rg 18 42 48 22 re f\n"
        "0.20 0.14 0.10 rg 26 86 32 30 re f\n"
        "0.85 0.66 0.52 rg 36 64 12 10 re f 29 74 26 36 re f\n"
        "0.10 0.10 0.15 rg 34 94 5 3 re f 45 94 5 3 re f\n"
        "0.10 0.11 0.16 rg BT /F1 6 Tf 84 122 Td (SURNAME) Tj"
        " 0 -20 Td (GIVEN NAMES) Tj 0 -20 Td (DATE OF BIRTH) Tj"
        " 0 -20 Td (DOCUMENT NO.) Tj ET\n"
        "BT /F1 9 Tf 84 112 Td (SPECIMEN) Tj 0 -20 Td (DEMO TEST) Tj"
        " 0 -20 Td (01 01 1990) Tj 0 -20 Td (X0000000) Tj ET\n"
        "0.93 0.93 0.91 rg 0 0 252 30 re f\n"
        "0.10 0.11 0.16 rg BT /F2 7 Tf 6 18 Td"
        " (IDXDMOSPECIMEN<<DEMO<<<<<<<<<<<<<<<) Tj"
        " 0 -9 Td (9001011X3001014DMO<<<<<<<<<<<<6) Tj ET\n";
    long off[7];
    int i;

    /* The comment of high bytes marks the file as binary for transfer
     * tools (ISO 32000-1 7.5.2). */
    fputs("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", f);
    for (i = 1; i <= 6; i++) {
        off[i] = ftell(f);
        if (i == 4) {
            fprintf(f, "4 0 obj\n<< /Length %zu >>\nstream\n%sendstream\n"
                       "endobj\n", sizeof(content) - 1, content);
        }
        else {
            fprintf(f, "%d 0 obj\n%s\nendobj\n", i, obj[i - 1]);
        }
    }
    off[0] = ftell(f);
    fputs("xref\n0 7\n0000000000 65535 f \n", f);
    for (i = 1; i <= 6; i++) {
        fprintf(f, "%010ld 00000 n \n", off[i]);
    }
    fprintf(f, "trailer\n<< /Size 7 /Root 1 0 R >>\nstartxref\n%ld\n%%%%EOF\n",
            off[0]);
}

static int parse_num(const char *s, unsigned long max, unsigned long *out)
{
    char *end;

    errno = 0;
    *out = strtoul(s, &end, 10);
    return errno == 0 && end != s && *end == '\0' && s[0] != '-'
           && *out <= max;
}

int main(int argc, char **argv)
{
    unsigned long w, h, seed;
    img_t im;
    FILE *f;
    int pdf = argc == 3 && strcmp(argv[1], "pdf") == 0;

    if (!pdf && (argc != 6 || (strcmp(argv[1], "png") != 0
                               && strcmp(argv[1], "jpeg") != 0))) {
        fprintf(stderr, "usage: mkdoc png|jpeg WIDTH HEIGHT SEED OUT\n"
                        "       mkdoc pdf OUT\n");
        return 2;
    }
    if (!pdf && (!parse_num(argv[2], 20000, &w) || w < 16
                 || !parse_num(argv[3], 20000, &h) || h < 16
                 || !parse_num(argv[4], 0xffffffffUL, &seed))) {
        fprintf(stderr, "mkdoc: WIDTH and HEIGHT must be 16..20000, "
                        "SEED 0..4294967295\n");
        return 2;
    }
    out_path = argv[argc - 1];
    if ((f = fopen(out_path, "wb")) == NULL) {
        perror(out_path);
        return 1;
    }
    if (pdf) {
        write_pdf(f);
    }
    else {
        im.w = (int)w;
        im.h = (int)h;
        if ((im.px = calloc((size_t)w * h, 3)) == NULL) {
            die("out of memory");
        }
        draw_card(&im, (uint32_t)seed);
        if (argv[1][0] == 'p') {
            write_png(&im, f);
        }
        else {
            write_jpeg(&im, f);
        }
        free(im.px);
    }
    if (ferror(f) || fclose(f) != 0) {
        die("write failed");
    }
    return 0;
}
