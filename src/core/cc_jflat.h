/*
 * cc_jflat.h: a strict reader for JSON request bodies that must be one
 * flat object of string (or null) members, such as POST /customers/enroll
 * and POST /auth/token, httpd-free.
 *
 * json-c keeps the last of duplicate keys silently and decodes lone
 * surrogates and invalid UTF-8 without saying so; the API must answer
 * "<field> must not be repeated" and "<field> must be valid UTF-8"
 * instead, so it needs every member, in order, with what was wrong with
 * it. The grammar is RFC 8259's, exactly.
 */
#ifndef CC_JFLAT_H
#define CC_JFLAT_H

#include <stddef.h>

/* Results of cc_jflat_parse. */
enum {
    CC_JFLAT_OK = 0,
    CC_JFLAT_MALFORMED = -1, /* not exactly one JSON object */
    CC_JFLAT_NOSPACE = -2    /* scratch_len < len */
};

/* Member kinds. */
enum {
    CC_JFLAT_STRING = 0, /* val/val_len: the decoded value, valid UTF-8
                            with no U+0000 */
    CC_JFLAT_NULL = 1,   /* val NULL */
    CC_JFLAT_OTHER = 2,  /* a number, true, false, an object or an array;
                            val NULL */
    CC_JFLAT_BAD_UTF8 = 3 /* a string that does not decode to valid UTF-8
                             without U+0000 (see below); val NULL */
};

/* Or'ed into the kind when the key does not decode to valid UTF-8
 * without U+0000. The key bytes are then as decoded, with each invalid
 * byte kept as it was, each lone surrogate escape as U+FFFD and \u0000 as
 * a NUL byte: clean them (cc_json_clean_field) before echoing them. */
#define CC_JFLAT_KEY_BAD 0x100
#define CC_JFLAT_KIND(k) ((k) & 0xff)

/*
 * Called once per member, in document order. key is decoded (escapes
 * resolved), key_len bytes, not NUL-terminated, and may be empty. key and
 * val point into the caller's scratch and are valid only during the call.
 */
typedef void (*cc_jflat_member_fn)(void *ctx, const char *key,
                                   size_t key_len, int kind, const char *val,
                                   size_t val_len);

/* Deepest nesting accepted; the body's object is depth 1. */
#define CC_JFLAT_MAX_DEPTH 32

/*
 * Parses buf[0..len) (not NUL-terminated; a NUL byte anywhere outside a
 * string, or unescaped inside one, is malformed). The whole document is
 * checked first, so fn is called only when the result is CC_JFLAT_OK.
 *
 * CC_JFLAT_MALFORMED: anything RFC 8259 does not accept as one JSON text
 * (whitespace is space, tab, CR and LF only; a UTF-8 byte order mark is
 * malformed, as RFC 8259 lets a parser choose), a JSON text that is not
 * an object, and nesting deeper than CC_JFLAT_MAX_DEPTH. Invalid UTF-8 in
 * a string, lone surrogate escapes and \u0000 are not syntax errors: they
 * make the member (or key) bad, so the caller can name the field.
 *
 * A string is bad when its raw bytes are not valid UTF-8 (overlong forms,
 * UTF-8-encoded surrogates, beyond U+10FFFF, truncated sequences), when a
 * \uD800-\uDBFF escape is not followed by a \uDC00-\uDFFF escape or a
 * \uDC00-\uDFFF escape comes alone, or when it holds U+0000 (escaped;
 * a raw NUL is a syntax error): no field value may hold a NUL, as in
 * cc_rules_utf8_valid. A valid surrogate pair decodes to one code point.
 *
 * Duplicate keys are reported as they come; finding them is the caller's
 * job, since it has the field table. When fn is set, scratch must hold
 * at least len bytes (decoded members are never longer than their
 * source), else the result is CC_JFLAT_NOSPACE before anything is read;
 * with fn NULL the document is only checked and scratch may be NULL.
 */
int cc_jflat_parse(const char *buf, size_t len, cc_jflat_member_fn fn,
                   void *ctx, char *scratch, size_t scratch_len);

#endif
