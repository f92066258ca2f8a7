/*
 * cc_sniff.h: a document's type by content, httpd-free: the signature at
 * offset 0 (cc_doc_sniff) and libmagic must agree, so a polyglot that one
 * of them reads differently is refused. Used by the module (uploads) and
 * the daemon (enroll fetches), so both accept exactly the same files.
 *
 * A magic_t holds mutable buffers and is not thread-safe, and opening one
 * costs about 0.4 ms, so each thread opens its own on first use and keeps
 * it until the thread ends.
 */
#ifndef CC_SNIFF_H
#define CC_SNIFF_H

#include "cc_doc.h"

#include <stddef.h>

typedef enum {
    CC_SNIFF_OK = 0,   /* *type is JPEG, PNG or PDF */
    CC_SNIFF_BAD,      /* not one of them by content */
    CC_SNIFF_UNUSABLE  /* libmagic cannot be used: the server's fault */
} cc_sniff_rc_t;

/* Decides the type of a document from its first bytes (up to
 * CC_STORE_HEAD_BYTES). On CC_SNIFF_UNUSABLE, *why (static) says what
 * failed, for the caller's log. */
cc_sniff_rc_t cc_sniff_type(const unsigned char *head, size_t len,
                            cc_doc_type_t *type, const char **why);

#endif
