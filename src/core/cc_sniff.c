/*
 * cc_sniff.c: document type by signature and libmagic (see cc_sniff.h).
 */
#include "cc_sniff.h"

#include <magic.h>
#include <pthread.h>

/* Only the checks that can name JPEG, PNG or PDF are worth their time. */
#define MAGIC_FLAGS                                                       \
    (MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS               \
     | MAGIC_NO_CHECK_TAR | MAGIC_NO_CHECK_CDF | MAGIC_NO_CHECK_ELF        \
     | MAGIC_NO_CHECK_ENCODING | MAGIC_NO_CHECK_JSON | MAGIC_NO_CHECK_CSV)

static pthread_key_t cookie_key;
static pthread_once_t cookie_once = PTHREAD_ONCE_INIT;
static int cookie_key_ok;

static void close_cookie(void *data)
{
    magic_close((magic_t)data);
}

static void make_key(void)
{
    cookie_key_ok = pthread_key_create(&cookie_key, close_cookie) == 0;
}

static magic_t cookie(const char **why)
{
    magic_t m;
    size_t bytes_max = 64 * 1024;

    pthread_once(&cookie_once, make_key);
    if (!cookie_key_ok) {
        *why = "cannot create the libmagic thread key";
        return NULL;
    }
    m = pthread_getspecific(cookie_key);
    if (m) {
        return m;
    }
    m = magic_open(MAGIC_FLAGS);
    if (!m) {
        *why = "magic_open failed";
        return NULL;
    }
    if (magic_load(m, NULL) != 0) {
        *why = "cannot load the magic database";
        magic_close(m);
        return NULL;
    }
    magic_setparam(m, MAGIC_PARAM_BYTES_MAX, &bytes_max);
    if (pthread_setspecific(cookie_key, m) != 0) {
        *why = "cannot keep the libmagic cookie";
        magic_close(m);
        return NULL;
    }
    return m;
}

cc_sniff_rc_t cc_sniff_type(const unsigned char *head, size_t len,
                            cc_doc_type_t *type, const char **why)
{
    magic_t m;
    const char *mime;

    *type = cc_doc_sniff(head, len);
    if (*type == CC_DOC_UNKNOWN) {
        return CC_SNIFF_BAD;
    }
    m = cookie(why);
    if (!m) {
        return CC_SNIFF_UNUSABLE;
    }
    mime = magic_buffer(m, head, len);
    if (!mime || cc_doc_from_mime(mime) != *type) {
        *type = CC_DOC_UNKNOWN;
        return CC_SNIFF_BAD;
    }
    return CC_SNIFF_OK;
}
