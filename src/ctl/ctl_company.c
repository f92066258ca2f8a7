/*
 * ctl_company.c: cartevoctl's company and credential commands, and the
 * state file of "company find-or-create" (see ctl.h).
 *
 * A client key exists in clear only in this process: it is generated with
 * cc_crypto_new_client, stored as its SHA-256 (a binary bytea parameter),
 * printed once, and wiped from memory after use.
 */
#include "ctl.h"

#include "cc_crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* A company with a credential, as printed and as saved in a
 * find-or-create state file. */
typedef struct {
    char company_id[37];
    char client_id[37];
    char client_key[65];
} ctl_creds;

int ctl_is_lower_hex(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return s[len] == '\0';
}

/* Same rule as the api_clients CHECK constraint. */
int ctl_valid_client_id(const char *s)
{
    return strncmp(s, "cli_", 4) == 0 && ctl_is_lower_hex(s + 4, 32);
}

static void creds_wipe(ctl_creds *c)
{
    OPENSSL_cleanse(c->client_key, sizeof(c->client_key));
}

/* Adds a fresh credential for c->company_id, filling client_id and
 * client_key. Inserting through a SELECT makes an unknown company a zero
 * row insert rather than a foreign-key error to decode. Returns 1 when
 * inserted, 0 when the company does not exist, -1 on error. */
static int insert_client(PGconn *conn, ctl_creds *c)
{
    unsigned char hash[32];
    const char *vals[3];
    const int lens[3] = { 0, 0, sizeof(hash) };
    const int fmts[3] = { 0, 0, 1 };
    PGresult *res;
    int rows;

    if (cc_crypto_new_client(c->client_id, c->client_key) != 0) {
        fputs("cartevoctl: random number generator failed\n", stderr);
        return -1;
    }
    cc_crypto_sha256(c->client_key, 64, hash);
    vals[0] = c->client_id;
    vals[1] = c->company_id;
    vals[2] = (const char *)hash;
    res = ctl_db_exec(conn, "cannot store credential",
                      "INSERT INTO api_clients"
                      " (client_id, company_id, key_sha256)"
                      " SELECT $1::text, id, $3::bytea FROM companies"
                      " WHERE id = $2::uuid",
                      3, vals, lens, fmts);
    if (res == NULL) {
        return -1;
    }
    rows = atoi(PQcmdTuples(res));
    PQclear(res);
    return rows == 1 ? 1 : 0;
}

/* Inserts a company and its first credential inside the caller's
 * transaction. Returns 0 or -1. */
static int insert_company(PGconn *conn, const char *name, const char *kyb,
                          ctl_creds *c)
{
    const char *vals[2] = { name, kyb };
    PGresult *res;

    res = ctl_db_exec(conn, "cannot create company",
                      "INSERT INTO companies (name, kyb_status) VALUES ($1, $2)"
                      " RETURNING id",
                      2, vals, NULL, NULL);
    if (res == NULL) {
        return -1;
    }
    snprintf(c->company_id, sizeof(c->company_id), "%s",
             PQgetvalue(res, 0, 0));
    PQclear(res);
    return insert_client(conn, c) == 1 ? 0 : -1;
}

/* The credential is in the database when this runs, so a failed write
 * can leave one that nobody knows: name it (not its key) for revoking. */
static int print_creds(const ctl_creds *c, int with_company)
{
    if (with_company) {
        printf("company_id=%s\n", c->company_id);
    }
    printf("client_id=%s\nclient_key=%s\n", c->client_id, c->client_key);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "cartevoctl: cannot write output; revoke %s if its "
                "key is lost\n", c->client_id);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* ---- company and credentials commands ----------------------------- */

int ctl_company_create(PGconn *conn, const char *name, const char *kyb)
{
    ctl_creds c;
    int rc;

    if (ctl_db_cmd(conn, "BEGIN") != 0) {
        return EXIT_FAIL;
    }
    if (insert_company(conn, name, kyb, &c) != 0 || ctl_db_commit(conn) != 0) {
        ctl_db_rollback(conn);
        creds_wipe(&c);
        return EXIT_FAIL;
    }
    rc = print_creds(&c, 1);
    creds_wipe(&c);
    return rc;
}

/* Runs a statement that names one company by id ($1) and returns it, or
 * says the company does not exist; NULL on either failure. */
static PGresult *one_company(PGconn *conn, const char *what, const char *sql,
                             int n, const char *const *vals)
{
    PGresult *res = ctl_db_exec(conn, what, sql, n, vals, NULL, NULL);

    if (res != NULL && PQntuples(res) != 1) {
        PQclear(res);
        fprintf(stderr, "cartevoctl: no company %s\n", vals[0]);
        return NULL;
    }
    return res;
}

int ctl_company_kyb(PGconn *conn, const char *id, const char *kyb)
{
    const char *vals[2] = { id, kyb };
    PGresult *res = one_company(
        conn, "cannot update company",
        "UPDATE companies SET kyb_status = $2, updated_at = now()"
        " WHERE id = $1::uuid RETURNING id, kyb_status",
        2, vals);

    if (res == NULL) {
        return EXIT_FAIL;
    }
    printf("company_id=%s\nkyb_status=%s\n", PQgetvalue(res, 0, 0),
           PQgetvalue(res, 0, 1));
    PQclear(res);
    return EXIT_OK;
}

int ctl_company_show(PGconn *conn, const char *id)
{
    const char *vals[1] = { id };
    PGresult *res = one_company(conn, "cannot read company",
                                "SELECT id, name, kyb_status FROM companies"
                                " WHERE id = $1::uuid",
                                1, vals);

    if (res == NULL) {
        return EXIT_FAIL;
    }
    printf("company_id=%s\nname=%s\nkyb_status=%s\n", PQgetvalue(res, 0, 0),
           PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
    PQclear(res);
    return EXIT_OK;
}

int ctl_credentials_issue(PGconn *conn, const char *company_id)
{
    ctl_creds c;
    int r, rc;

    snprintf(c.company_id, sizeof(c.company_id), "%s", company_id);
    r = insert_client(conn, &c);
    if (r != 1) {
        if (r == 0) {
            fprintf(stderr, "cartevoctl: no company %s\n", company_id);
        }
        creds_wipe(&c);
        return EXIT_FAIL;
    }
    rc = print_creds(&c, 0);
    creds_wipe(&c);
    return rc;
}

int ctl_credentials_revoke(PGconn *conn, const char *client_id)
{
    const char *vals[1] = { client_id };
    PGresult *res;

    res = ctl_db_exec(conn, "cannot revoke credential",
                      "UPDATE api_clients SET revoked_at = now()"
                      " WHERE client_id = $1 AND revoked_at IS NULL"
                      " RETURNING revoked_at",
                      1, vals, NULL, NULL);
    if (res == NULL) {
        return EXIT_FAIL;
    }
    if (PQntuples(res) == 1) {
        printf("client_id=%s\nrevoked_at=%s\n", client_id,
               PQgetvalue(res, 0, 0));
        PQclear(res);
        return EXIT_OK;
    }
    PQclear(res);
    /* Nothing updated: tell "unknown" from "already revoked". */
    res = ctl_db_exec(conn, "cannot read credential",
                      "SELECT 1 FROM api_clients WHERE client_id = $1",
                      1, vals, NULL, NULL);
    if (res == NULL) {
        return EXIT_FAIL;
    }
    fprintf(stderr, "cartevoctl: %s %s\n",
            PQntuples(res) == 1 ? "already revoked:" : "no client",
            client_id);
    PQclear(res);
    return EXIT_FAIL;
}

/* ---- find-or-create state file ------------------------------------ */

/* The file is exactly the three output lines; anything else means the
 * path names something we did not write, and it is left alone. */
static int state_parse(const char *buf, size_t len, ctl_creds *c)
{
    static const char p1[] = "company_id=", p2[] = "client_id=",
                      p3[] = "client_key=";
    const size_t l1 = sizeof(p1) - 1 + 36 + 1, l2 = sizeof(p2) - 1 + 36 + 1,
                 l3 = sizeof(p3) - 1 + 64 + 1;
    const char *s = buf;

    if (len != l1 + l2 + l3 || memcmp(s, p1, sizeof(p1) - 1) != 0
        || s[l1 - 1] != '\n') {
        return -1;
    }
    memcpy(c->company_id, s + sizeof(p1) - 1, 36);
    c->company_id[36] = '\0';
    s += l1;
    if (memcmp(s, p2, sizeof(p2) - 1) != 0 || s[l2 - 1] != '\n') {
        return -1;
    }
    memcpy(c->client_id, s + sizeof(p2) - 1, 36);
    c->client_id[36] = '\0';
    s += l2;
    if (memcmp(s, p3, sizeof(p3) - 1) != 0 || s[l3 - 1] != '\n') {
        return -1;
    }
    memcpy(c->client_key, s + sizeof(p3) - 1, 64);
    c->client_key[64] = '\0';
    if (!cc_crypto_is_uuid(c->company_id) || !ctl_valid_client_id(c->client_id)
        || !ctl_is_lower_hex(c->client_key, 64)) {
        return -1;
    }
    return 0;
}

/* Returns 1 with c filled, 0 when the file does not exist, -1 on error. */
static int state_read(const char *path, ctl_creds *c)
{
    char buf[512];
    ssize_t n;
    size_t len = 0;
    struct stat st;
    int fd, rc;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) {
            return 0;
        }
        fprintf(stderr, "cartevoctl: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "cartevoctl: %s: not a regular file\n", path);
        close(fd);
        return -1;
    }
    while (len < sizeof(buf)
           && (n = read(fd, buf + len, sizeof(buf) - len)) != 0) {
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "cartevoctl: %s: %s\n", path, strerror(errno));
            close(fd);
            OPENSSL_cleanse(buf, sizeof(buf));
            return -1;
        }
        len += (size_t)n;
    }
    close(fd);
    rc = state_parse(buf, len, c);
    OPENSSL_cleanse(buf, sizeof(buf));
    if (rc != 0) {
        fprintf(stderr, "cartevoctl: %s: not a cartevoctl state file; "
                "remove it or choose another path\n", path);
        creds_wipe(c);
        return -1;
    }
    return 1;
}

/* Writes FILE.tmp (0600, fsynced) and renames it over FILE, so readers
 * see the old or the new credentials, never a torn file. */
static int state_write(const char *path, const ctl_creds *c)
{
    char buf[256], *tmp;
    size_t len, off = 0;
    int fd, n;

    n = snprintf(buf, sizeof(buf), "company_id=%s\nclient_id=%s\n"
                 "client_key=%s\n", c->company_id, c->client_id,
                 c->client_key);
    len = (size_t)n;
    if (asprintf(&tmp, "%s.tmp", path) < 0) {
        fputs("cartevoctl: out of memory\n", stderr);
        OPENSSL_cleanse(buf, sizeof(buf));
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
              0600);
    /* fchmod too: O_CREAT's mode does not apply to a leftover tmp file. */
    if (fd < 0 || fchmod(fd, 0600) != 0) {
        goto fail;
    }
    while (off < len) {
        ssize_t w = write(fd, buf + off, len - off);

        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            goto fail;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        goto fail;
    }
    n = close(fd);
    fd = -1;
    if (n != 0 || rename(tmp, path) != 0) {
        goto fail;
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    free(tmp);
    return 0;

fail:
    fprintf(stderr, "cartevoctl: %s: %s\n", tmp, strerror(errno));
    if (fd >= 0) {
        close(fd);
    }
    unlink(tmp);
    OPENSSL_cleanse(buf, sizeof(buf));
    free(tmp);
    return -1;
}

/* Saved credentials are reused only while they still authenticate:
 * company present, credential of that company, not revoked, same key. */
static int state_still_valid(PGconn *conn, const ctl_creds *c)
{
    unsigned char hash[32];
    const char *vals[3];
    const int lens[3] = { 0, 0, sizeof(hash) };
    const int fmts[3] = { 0, 0, 1 };
    PGresult *res;
    int found;

    cc_crypto_sha256(c->client_key, 64, hash);
    vals[0] = c->client_id;
    vals[1] = c->company_id;
    vals[2] = (const char *)hash;
    res = ctl_db_exec(conn, "cannot check saved credentials",
                      "SELECT 1 FROM api_clients WHERE client_id = $1"
                      " AND company_id = $2::uuid AND key_sha256 = $3::bytea"
                      " AND revoked_at IS NULL",
                      3, vals, lens, fmts);
    if (res == NULL) {
        return -1;
    }
    found = PQntuples(res) == 1;
    PQclear(res);
    return found;
}

int ctl_company_find_or_create(PGconn *conn, const char *name,
                               const char *kyb, const char *path)
{
    ctl_creds c;
    int r, rc;

    r = state_read(path, &c);
    if (r < 0) {
        return EXIT_FAIL;
    }
    if (r == 1) {
        r = state_still_valid(conn, &c);
        if (r != 0) {
            rc = r == 1 ? print_creds(&c, 1) : EXIT_FAIL;
            creds_wipe(&c);
            return rc;
        }
    }
    /* The file is written before COMMIT: if the commit then fails the file
     * names a company that does not exist, which the next run detects and
     * replaces; the other order could leave a company nobody knows. */
    if (ctl_db_cmd(conn, "BEGIN") != 0) {
        return EXIT_FAIL;
    }
    if (insert_company(conn, name, kyb, &c) != 0 || state_write(path, &c) != 0
        || ctl_db_commit(conn) != 0) {
        ctl_db_rollback(conn);
        creds_wipe(&c);
        return EXIT_FAIL;
    }
    rc = print_creds(&c, 1);
    creds_wipe(&c);
    return rc;
}
