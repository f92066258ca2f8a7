/*
 * cc_store.h: the document store, httpd-free, shared by the module
 * (uploads), the daemon (enroll fetches, checks) and the CLI.
 *
 * One file per document in one directory, named by 128 random bits (32
 * hex), never by anything a client sent. A document is written into a
 * spool ".tmp-<random>" in the same directory while it is hashed, then
 * committed: fsync of the file, rename within the directory, fsync of the
 * directory (decisions.md 1: this must hold on NFS, so no O_TMPFILE and
 * no rename across directories). The spool's owner decides its fate once:
 * cc_store_keep() after the database row that names it has committed,
 * otherwise cc_store_close() removes what it created. A process that dies
 * in between leaves an orphan for the daemon's sweeper.
 *
 * The row records the file's format; "plain" is the only one today. The
 * reader is the one way to get the bytes back, so a later encrypted
 * format changes this file, not its callers.
 *
 * Errors are errno values (0 is success).
 */
#ifndef CC_STORE_H
#define CC_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CC_STORE_NAME_LEN 32
#define CC_STORE_HEAD_BYTES 4096
#define CC_STORE_FORMAT_PLAIN "plain"

typedef struct cc_store_spool cc_store_spool_t;

/* Opens a new spool in dir (0640, O_EXCL, never through a link). *out is
 * NULL on error. The spool is malloc'd: cc_store_close() frees it. */
int cc_store_open(const char *dir, cc_store_spool_t **out);

/* Appends while hashing; writes are batched. */
int cc_store_append(cc_store_spool_t *sp, const void *data, size_t len);
/* Writes what is batched, so the file holds every appended byte. */
int cc_store_flush(cc_store_spool_t *sp);

/* The document's id (UUIDv4), made when its spool opened: what its row
 * and, later, its encryption bind to. */
const char *cc_store_document_id(const cc_store_spool_t *sp);

/* The spool's descriptor (read it with pread), its size, and its first
 * CC_STORE_HEAD_BYTES bytes (or fewer) for sniffing. */
int cc_store_fd(const cc_store_spool_t *sp);
uint64_t cc_store_size(const cc_store_spool_t *sp);
const unsigned char *cc_store_head(const cc_store_spool_t *sp, size_t *len);
/* SHA-256 of every appended byte; may be called more than once. */
void cc_store_sha256(cc_store_spool_t *sp, unsigned char out[32]);

/* Makes the document durable under its final name (cc_store_name). One
 * directory fsync covers every rename before it in that directory, so a
 * caller committing several documents passes sync_dir on the last only. */
int cc_store_commit(cc_store_spool_t *sp, int sync_dir);
/* The 32-hex final name once committed, else NULL. */
const char *cc_store_name(const cc_store_spool_t *sp);

/* The file now belongs to its row: close will not remove it. */
void cc_store_keep(cc_store_spool_t *sp);
/* Closes and frees; removes the file (spool or committed) unless kept.
 * NULL is allowed. */
void cc_store_close(cc_store_spool_t *sp);

/* 1 when name is a storage name (32 lowercase hex), so a name read from
 * a row can never walk out of the directory. */
int cc_store_name_ok(const char *name);

/* A stored document opened for reading, whatever its format. */
typedef struct cc_store_reader cc_store_reader_t;
int cc_store_reader_open(const char *dir, const char *name,
                         const char *format, cc_store_reader_t **out);
/* Reads up to len plaintext bytes: the count, 0 at the end, -1 (errno
 * set) on error. */
ssize_t cc_store_read(cc_store_reader_t *rd, void *buf, size_t len);
/* The plaintext size. */
uint64_t cc_store_reader_size(const cc_store_reader_t *rd);
void cc_store_reader_close(cc_store_reader_t *rd);

#endif
