/*
 * cc_upload.h: reading a POST /customers body: the bucket-brigade loop
 * that feeds the multipart parser, text fields into bounded buffers and
 * documents into spool files as bytes arrive.
 */
#ifndef CC_UPLOAD_H
#define CC_UPLOAD_H

#include "cc_mod.h"
#include "cc_doc.h"
#include "cc_rules.h"

#define CC_DOC_FRONT 0
#define CC_DOC_BACK 1
#define CC_MAX_EXTRAS 64

typedef struct {
    int present;
    cc_store_spool_t *spool;
    apr_off_t bytes;    /* received, stored or not: the size limit */
    cc_doc_type_t type; /* by signature and libmagic, once the part ends */
    int type_bad;       /* not JPEG, PNG or PDF by content */
} cc_upload_doc_t;

typedef struct {
    const char *name;
    apr_size_t name_len;
    int repeated; /* 0: "<name> is not allowed" */
} cc_upload_extra_t;

typedef struct {
    /* OK when the whole body was read and framed correctly; otherwise the
     * status that stopped reading (400 framing, 413 a document over the
     * limit, 507/500 storage, or whatever httpd's input filters said). */
    int status;
    const char *message;
    cc_value_t fields[CC_F__COUNT];
    cc_upload_doc_t docs[2];
    cc_upload_extra_t extras[CC_MAX_EXTRAS];
    int n_extras;
} cc_upload_t;

/* Reads and parses the body; fills *up. Memory is bounded by the field
 * caps and fixed buffers whatever the body size. */
void cc_upload_read(request_rec *r, const char *boundary, cc_upload_t *up);

/* Names of the document fields. */
extern const char *const cc_upload_doc_names[2];

#endif
