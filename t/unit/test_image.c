/*
 * test_image.c: unit tests of cc_image (full decoding for cartevo-kycd):
 * the demo documents decode with their true size and real structure; a
 * uniform image has zero luma deviation; truncation and corruption are
 * unreadable; dimension and scan-count bombs are refused. Fixtures are
 * encoded in memory with libpng's simplified API and libjpeg.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

#include "cc_image.h"

static unsigned char *slurp(const char *name, size_t *len)
{
    const char *dir = getenv("CC_DEMO_DIR");
    char path[1024];
    FILE *f;
    unsigned char *b;
    long n;

    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "conf/demo", name);
    f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)n);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static unsigned char *png_uniform(uint32_t w, uint32_t h, size_t *len)
{
    png_image img;
    unsigned char *px = malloc((size_t)w * h * 3), *out;
    png_alloc_size_t n = 0;

    assert_non_null(px);
    memset(px, 0xc8, (size_t)w * h * 3);
    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    img.width = w;
    img.height = h;
    img.format = PNG_FORMAT_RGB;
    assert_true(png_image_write_to_memory(&img, NULL, &n, 0, px, 0, NULL));
    out = malloc(n);
    assert_true(png_image_write_to_memory(&img, out, &n, 0, px, 0, NULL));
    free(px);
    *len = n;
    return out;
}

static unsigned char *jpeg_noise(uint32_t w, uint32_t h, size_t *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    unsigned char *out = NULL, *row = malloc(w);
    unsigned long n = 0;
    uint32_t x, s = 12345;

    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &out, &n);
    c.image_width = w;
    c.image_height = h;
    c.input_components = 1;
    c.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < h) {
        JSAMPROW r[1] = { row };

        for (x = 0; x < w; x++) {
            s = s * 1103515245u + 12345u;
            row[x] = (unsigned char)(s >> 16);
        }
        jpeg_write_scanlines(&c, r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    *len = n;
    return out;
}

static void test_demo_documents(void **state)
{
    static const struct {
        const char *name;
        cc_doc_type_t t;
    } docs[] = { { "id-front.jpg", CC_DOC_JPEG },
                 { "id-back.png", CC_DOC_PNG } };
    cc_image_stats_t st;
    const char *why;
    size_t i, len;

    (void)state;
    for (i = 0; i < 2; i++) {
        unsigned char *b = slurp(docs[i].name, &len);

        assert_int_equal(cc_image_check(b, len, docs[i].t, NULL, &st, &why),
                         CC_IMAGE_OK);
        assert_int_equal(st.width, 1012);
        assert_int_equal(st.height, 638);
        assert_true(st.luma_stddev > 10.0);
        /* Any cut of the file is unreadable. */
        assert_int_not_equal(cc_image_check(b, len - 7, docs[i].t, NULL,
                                            &st, &why),
                             CC_IMAGE_OK);
        assert_non_null(why);
        free(b);
    }
}

static void test_demo_pdf(void **state)
{
    cc_image_stats_t st;
    const char *why;
    size_t len;
    unsigned char *b = slurp("id-front.pdf", &len);

    (void)state;
    assert_int_equal(cc_image_check(b, len, CC_DOC_PDF, NULL, &st, &why),
                     CC_IMAGE_OK);
    assert_int_equal(st.pages, 1);
    assert_int_not_equal(cc_image_check(b, len / 2, CC_DOC_PDF, NULL, &st,
                                        &why),
                         CC_IMAGE_OK);
    free(b);
}

static void test_uniform_png(void **state)
{
    cc_image_stats_t st;
    const char *why;
    size_t len;
    unsigned char *b = png_uniform(800, 500, &len);

    (void)state;
    assert_int_equal(cc_image_check(b, len, CC_DOC_PNG, NULL, &st, &why),
                     CC_IMAGE_OK);
    assert_int_equal(st.width, 800);
    assert_true(st.luma_stddev < 0.001);
    assert_true(st.luma_mean > 190 && st.luma_mean < 210);
    /* A flipped byte in the image data breaks a CRC: unreadable. */
    b[len / 2] ^= 0x55;
    assert_int_not_equal(cc_image_check(b, len, CC_DOC_PNG, NULL, &st, &why),
                         CC_IMAGE_OK);
    free(b);
}

static void test_noise_jpeg(void **state)
{
    cc_image_stats_t st;
    const char *why;
    size_t len;
    unsigned char *b = jpeg_noise(700, 430, &len);

    (void)state;
    assert_int_equal(cc_image_check(b, len, CC_DOC_JPEG, NULL, &st, &why),
                     CC_IMAGE_OK);
    assert_int_equal(st.width, 700);
    assert_int_equal(st.height, 430);
    assert_true(st.luma_stddev > 30);
    /* Truncated mid-scan: libjpeg only warns; we call it unreadable. */
    assert_int_equal(cc_image_check(b, len / 2, CC_DOC_JPEG, NULL, &st, &why),
                     CC_IMAGE_UNREADABLE);
    free(b);
}

/* A valid grayscale progressive JPEG with 641 scans: DC and each AC
 * coefficient alone, every bit refined separately. Every scan is one pass
 * over all blocks however few bytes it has: the CPU cost of decoding grows
 * with width x height x scans (7000 x 7000 at 641 scans: 10 s here),
 * while ordinary progressive files have about 10 scans. */
static unsigned char *jpeg_many_scans(uint32_t w, uint32_t h, int simple,
                                      size_t *len)
{
    static jpeg_scan_info scans[700];
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    unsigned char *out = NULL, *row = malloc(w);
    unsigned long n = 0;
    int ns = 0, k, al;
    uint32_t x;

    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &out, &n);
    c.image_width = w;
    c.image_height = h;
    c.input_components = 1;
    c.in_color_space = JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    if (simple) {
        jpeg_simple_progression(&c);
    }
    else {
        for (k = 0; k < 64; k++) {
            int top = k == 0 ? 10 : 9;

            for (al = top; al >= 0; al--) {
                scans[ns].comps_in_scan = 1;
                scans[ns].component_index[0] = 0;
                scans[ns].Ss = k;
                scans[ns].Se = k;
                scans[ns].Ah = al == top ? 0 : al + 1;
                scans[ns].Al = al;
                ns++;
            }
        }
        c.scan_info = scans;
        c.num_scans = ns;
    }
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < h) {
        JSAMPROW r[1] = { row };

        for (x = 0; x < w; x++) {
            row[x] = (unsigned char)(x ^ c.next_scanline);
        }
        jpeg_write_scanlines(&c, r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    *len = n;
    return out;
}

static void test_scan_bomb_refused(void **state)
{
    cc_image_stats_t st;
    const char *why;
    size_t len;
    unsigned char *b = jpeg_many_scans(64, 64, 1, &len);

    (void)state;
    assert_int_equal(cc_image_check(b, len, CC_DOC_JPEG, NULL, &st, &why),
                     CC_IMAGE_OK);
    free(b);
    b = jpeg_many_scans(64, 64, 0, &len);
    assert_int_equal(cc_image_check(b, len, CC_DOC_JPEG, NULL, &st, &why),
                     CC_IMAGE_TOO_LARGE);
    free(b);
}

/* Rewrites the IHDR of a valid PNG to claim w x h (CRC fixed). */
static void png_claim(unsigned char *b, uint32_t w, uint32_t h)
{
    uint32_t crc;

    b[16] = (unsigned char)(w >> 24);
    b[17] = (unsigned char)(w >> 16);
    b[18] = (unsigned char)(w >> 8);
    b[19] = (unsigned char)w;
    b[20] = (unsigned char)(h >> 24);
    b[21] = (unsigned char)(h >> 16);
    b[22] = (unsigned char)(h >> 8);
    b[23] = (unsigned char)h;
    crc = (uint32_t)crc32(0, b + 12, 17);
    b[29] = (unsigned char)(crc >> 24);
    b[30] = (unsigned char)(crc >> 16);
    b[31] = (unsigned char)(crc >> 8);
    b[32] = (unsigned char)crc;
}

static void test_bombs_refused(void **state)
{
    cc_image_limits_t lim;
    cc_image_stats_t st;
    const char *why;
    size_t len;
    unsigned char *b = png_uniform(10, 10, &len);

    (void)state;
    cc_image_limits_default(&lim);
    /* 20000 x 20000 is within the per-side limits but over max_pixels. */
    png_claim(b, 20000, 20000);
    assert_int_equal(cc_image_check(b, len, CC_DOC_PNG, &lim, &st, &why),
                     CC_IMAGE_TOO_LARGE);
    /* Over a per-side limit: libpng itself refuses at IHDR. */
    png_claim(b, 100000, 10);
    assert_int_not_equal(cc_image_check(b, len, CC_DOC_PNG, &lim, &st, &why),
                         CC_IMAGE_OK);
    free(b);
    b = jpeg_noise(64, 64, &len);
    lim.max_pixels = 1000;
    assert_int_equal(cc_image_check(b, len, CC_DOC_JPEG, &lim, &st, &why),
                     CC_IMAGE_TOO_LARGE);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_documents),
        cmocka_unit_test(test_demo_pdf),
        cmocka_unit_test(test_uniform_png),
        cmocka_unit_test(test_noise_jpeg),
        cmocka_unit_test(test_bombs_refused),
        cmocka_unit_test(test_scan_bomb_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
