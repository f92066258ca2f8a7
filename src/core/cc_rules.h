/*
 * cc_rules.h: the field rules of POST /customers (register-customer.md and
 * api-contract.md "Field rules the source leaves open"), httpd-free.
 *
 * The order of cc_field_t is the order of the source's Body fields table,
 * which is also the order of the "errors" list.
 */
#ifndef CC_RULES_H
#define CC_RULES_H

#include <stddef.h>

typedef enum {
    CC_F_FIRST_NAME = 0,
    CC_F_LAST_NAME,
    CC_F_EMAIL,
    CC_F_COUNTRY,
    CC_F_STREET,
    CC_F_CITY,
    CC_F_STATE,
    CC_F_POSTAL_CODE,
    CC_F_COUNTRY_ISO_CODE,
    CC_F_COUNTRY_PHONE_CODE,
    CC_F_PHONE_NUMBER,
    CC_F_IDENTIFICATION_NUMBER,
    CC_F_ID_DOCUMENT_TYPE,
    CC_F_DATE_OF_BIRTH,
    CC_F__COUNT
} cc_field_t;

typedef enum {
    CC_DOCTYPE_INVALID = -1,
    CC_DOCTYPE_NIN = 0,
    CC_DOCTYPE_PASSPORT,
    CC_DOCTYPE_VOTERS_CARD,
    CC_DOCTYPE_DRIVERS_LICENSE
} cc_doctype_t;

/* Longest value kept per text field, in bytes. A longer value is marked
 * truncated: it is certainly over 255 code points if the kept prefix is
 * valid UTF-8 (a trailing incomplete sequence at the cut is allowed). */
#define CC_FIELD_MAX_BYTES 2048

typedef struct {
    const char *value; /* bytes as received, need not be NUL-terminated */
    size_t len;
    int present;   /* the part was in the request */
    int truncated; /* more than CC_FIELD_MAX_BYTES arrived; value holds
                      the first CC_FIELD_MAX_BYTES */
} cc_value_t;

/* Called once per failing field, in table order, with its first failing
 * rule's message (required, then UTF-8, then length, then format). The
 * message is valid only during the call. */
typedef void (*cc_rules_error_fn)(void *ctx, const char *field,
                                  const char *message);

/* Field name of f ("first_name", ...). */
const char *cc_rules_field_name(cc_field_t f);
/* NULL when f is not a cc_field_t field. */

/* Looks up a form field name (exact bytes, case-sensitive): returns its
 * cc_field_t, or -1 when it is not one of the text fields. */
int cc_rules_field_lookup(const char *name, size_t len);

/*
 * Validates all text fields. vals has CC_F__COUNT entries. today_* is the
 * current UTC date, for the 18+ rule. Reports each failing field through
 * err; returns the number of failing fields.
 */
int cc_rules_validate(const cc_value_t *vals, int today_year, int today_month,
                      int today_day, cc_rules_error_fn err, void *ctx);
/* err may be NULL (the failures are then only counted). The format of
 * identification_number is checked only when id_document_type is valid. */

/* Parses an id_document_type value (exact case): CC_DOCTYPE_INVALID when
 * it is not one of the four. */
cc_doctype_t cc_rules_doctype(const char *v, size_t len);
const char *cc_rules_doctype_name(cc_doctype_t t);
/* NULL for CC_DOCTYPE_INVALID. */

/*
 * Document presence rules: id_document_front is always required;
 * id_document_back is required for NIN and DRIVERS_LICENSE. Reports
 * "id_document_front is required" / "id_document_back is required for
 * <TYPE>" through err (front first); returns the number reported. t may be
 * CC_DOCTYPE_INVALID (then only front is checked).
 */
int cc_rules_check_documents(cc_doctype_t t, int has_front, int has_back,
                             cc_rules_error_fn err, void *ctx);

/* The "enroll" query flag: 1 for true/1, 0 for false/0 (exact case), -1
 * for anything else. */
int cc_rules_parse_enroll(const char *v, size_t len);

/* Validates UTF-8 (no overlongs, no surrogates, max U+10FFFF). If
 * allow_cut, an incomplete sequence at the very end is accepted. Returns 1
 * if valid, and the number of code points in *cps when cps is non-NULL. */
int cc_rules_utf8_valid(const char *s, size_t len, int allow_cut,
                        size_t *cps);
/* U+0000 (a NUL byte) is also refused, though well-formed: no field value
 * may hold one (C strings, PostgreSQL text). A code point cut at the end
 * is not counted in *cps. */

/* Parses YYYY-MM-DD into a real calendar date; returns 1 on success. */
int cc_rules_parse_date(const char *s, size_t len, int *y, int *m, int *d);
/* Years 0001-9999 (proleptic Gregorian; there is no year 0000). */

/* Returns 1 when someone born y-m-d is at least 18 on today's date (an
 * 18th birthday today counts; 29 February turns 18 on 1 March in a
 * non-leap year; a date in the future is not 18+). */
int cc_rules_is_adult(int y, int m, int d, int ty, int tm, int td);

#endif
