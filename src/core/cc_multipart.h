/*
 * cc_multipart.h: a pure, streaming multipart/form-data push parser.
 *
 * Bytes in, events out: no I/O, no httpd, no APR. The caller feeds the body
 * in chunks of any size (1 byte or 1 MiB); the sequence of events, and the
 * concatenation of the data of each part, is identical for every split.
 * Memory is bounded by the limits given at creation, never by input size.
 *
 * Policies (RFC 2046 section 5.1.1, RFC 7578), all violations are errors:
 *  - delimiters and part headers must end with CRLF (LF-only bodies are
 *    rejected); transport padding (SP/HTAB) after a delimiter is allowed,
 *    anything else on the delimiter line is an error;
 *  - a preamble up to limits.max_preamble bytes is skipped; an epilogue
 *    after the close-delimiter up to limits.max_epilogue bytes is discarded
 *    unparsed (a second close-delimiter or "parts" there are epilogue);
 *  - part headers: names are tokens (case-insensitive), no folding, no bare
 *    CR, no NUL, line/block/count caps; Content-Disposition must be
 *    "form-data" with a non-empty name; duplicate Content-Disposition or
 *    Content-Type headers, duplicate parameters, single-quoted values and
 *    garbage after a quoted value are errors; name*= and filename*= are
 *    ignored; Content-Transfer-Encoding other than 7bit/8bit/binary is an
 *    error; other headers are ignored but counted against the caps;
 *  - more than limits.max_parts parts is an error;
 *  - end of input before the close-delimiter is an error.
 */
#ifndef CC_MULTIPART_H
#define CC_MULTIPART_H

#include <stddef.h>

typedef struct cc_mp_parser cc_mp_parser_t;

/* Return codes of cc_mp_feed() and cc_mp_finish(). */
#define CC_MP_OK 0
#define CC_MP_MALFORMED 1 /* framing or header error: cc_mp_error() says why */
#define CC_MP_ABORTED 2   /* a callback returned non-zero */

/* Return codes of cc_mp_parse_content_type(). */
#define CC_MP_CT_OK 0
#define CC_MP_CT_NOT_FORM_DATA 1 /* missing, or another media type: 415 */
#define CC_MP_CT_BAD 2           /* form-data with a bad parameter list: 400 */

#define CC_MP_MAX_BOUNDARY 70

/* A part's headers, valid only during on_part_begin. Values are the
 * unquoted, unescaped bytes (not NUL-terminated inside the header, but
 * each pointer is followed by a NUL for convenience). */
typedef struct {
    const char *name;
    size_t name_len;
    const char *filename; /* NULL when the part has no filename param */
    size_t filename_len;
    const char *content_type; /* NULL when the part has no Content-Type */
    size_t content_type_len;
} cc_mp_part_t;

/* Callbacks; each returns 0 to go on, non-zero to stop the parse (the
 * pending cc_mp_feed then returns CC_MP_ABORTED and the parser is dead). */
typedef struct {
    int (*on_part_begin)(void *ctx, const cc_mp_part_t *part);
    int (*on_part_data)(void *ctx, const char *data, size_t len);
    int (*on_part_end)(void *ctx);
} cc_mp_callbacks_t;

typedef struct {
    size_t max_parts;        /* default 64 */
    size_t max_header_line;  /* bytes in one header line, default 1024 */
    size_t max_header_block; /* bytes of one part's headers, default 8192 */
    size_t max_headers;      /* header lines per part, default 16 */
    size_t max_preamble;     /* default 1024 */
    size_t max_epilogue;     /* default 1024 */
} cc_mp_limits_t;

/* Fills *lim with the defaults above. */
void cc_mp_limits_default(cc_mp_limits_t *lim);

/*
 * Parses a request Content-Type value (linear time, at most 1024 bytes
 * accepted). On CC_MP_CT_OK, copies the boundary (1..70 bchars, no trailing
 * space; a quoted boundary is accepted) into out (at least
 * CC_MP_MAX_BOUNDARY + 1 bytes), NUL-terminated. On CC_MP_CT_BAD, *why
 * (if non-NULL) points to a short static reason such as "missing boundary".
 * Parameters follow RFC 9110: type/subtype *( OWS ";" OWS token "=" (token /
 * quoted-string) ); no whitespace around "="; parameter names are
 * case-insensitive; a repeated boundary is an error.
 */
int cc_mp_parse_content_type(const char *ct, char *out, size_t *out_len,
                             const char **why);

/* Creates a parser (malloc'd); returns NULL on allocation failure or an
 * invalid boundary. lim may be NULL for defaults. */
cc_mp_parser_t *cc_mp_create(const char *boundary, size_t boundary_len,
                             const cc_mp_limits_t *lim,
                             const cc_mp_callbacks_t *cb, void *ctx);

/* Feeds len bytes. Returns CC_MP_OK, CC_MP_MALFORMED or CC_MP_ABORTED.
 * After a non-OK return every further call returns the same code. */
int cc_mp_feed(cc_mp_parser_t *p, const char *buf, size_t len);

/* Signals end of input: CC_MP_OK only if the close-delimiter was seen. */
int cc_mp_finish(cc_mp_parser_t *p);

/* Short static reason for CC_MP_MALFORMED, e.g. "final boundary missing";
 * used after "Malformed multipart body: ". NULL if none. */
const char *cc_mp_error(const cc_mp_parser_t *p);

/* Total bytes consumed so far (for diagnostics). */
size_t cc_mp_offset(const cc_mp_parser_t *p);

void cc_mp_destroy(cc_mp_parser_t *p);

#endif
