/*
 * ctl_migrate.c: "cartevoctl migrate": applies DIR/NNN_name.sql files in
 * version order, each in its own transaction together with its row in
 * schema_migrations, under an advisory lock so concurrent runs serialise
 * (see ctl.h).
 */
#include "ctl.h"
#include "cc_schema.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Any fixed bigint works; it only has to be the same for every cartevoctl
 * so that concurrent migrate runs serialise on it ("cartevmg" in ASCII). */
#define MIGRATE_LOCK_KEY "7161130726739832167"

typedef struct {
    long version;
    char *path;
    char *name;
} ctl_migration;

/* "NNN_name.sql" -> version NNN and name; 0 if fname does not match. */
static int migration_parse_name(const char *fname, long *version,
                                char **name)
{
    const char *p = fname, *us;
    size_t len = strlen(fname);
    long v = 0;

    if (len < 5 || strcmp(fname + len - 4, ".sql") != 0) {
        return 0;
    }
    while (*p >= '0' && *p <= '9') {
        if (v > (INT_MAX - (*p - '0')) / 10) {
            return 0;   /* schema_migrations.version is an integer */
        }
        v = v * 10 + (*p - '0');
        p++;
    }
    us = p;
    if (us == fname || *us != '_' || us + 1 >= fname + len - 4) {
        return 0;
    }
    *version = v;
    *name = strndup(us + 1, (size_t)(fname + len - 4 - (us + 1)));
    return *name != NULL ? 1 : -1;
}

static int migration_cmp(const void *a, const void *b)
{
    const ctl_migration *x = a, *y = b;

    return (x->version > y->version) - (x->version < y->version);
}

static void migrations_free(ctl_migration *m, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(m[i].path);
        free(m[i].name);
    }
    free(m);
}

/* Lists DIR's migrations sorted by version. Returns 0 or -1. */
static int migrations_load(const char *dir, ctl_migration **out, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    ctl_migration *m = NULL;
    size_t n = 0, cap = 0, i;

    if (d == NULL) {
        fprintf(stderr, "cartevoctl: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (;;) {
        ctl_migration it;
        int r;

        errno = 0;
        e = readdir(d);
        if (e == NULL) {
            if (errno != 0) {
                fprintf(stderr, "cartevoctl: %s: %s\n", dir, strerror(errno));
                closedir(d);
                migrations_free(m, n);
                return -1;
            }
            break;
        }

        if (e->d_name[0] == '.') {
            continue;
        }
        r = migration_parse_name(e->d_name, &it.version, &it.name);
        if (r == 0) {
            size_t l = strlen(e->d_name);

            if (l >= 4 && strcmp(e->d_name + l - 4, ".sql") == 0) {
                fprintf(stderr, "cartevoctl: skipping %s/%s: not named "
                        "NNN_name.sql\n", dir, e->d_name);
            }
            continue;
        }
        if (r < 0 || asprintf(&it.path, "%s/%s", dir, e->d_name) < 0) {
            if (r > 0) {
                free(it.name);
            }
            goto oom;
        }
        if (n == cap) {
            ctl_migration *nm;

            cap = cap ? cap * 2 : 16;
            nm = realloc(m, cap * sizeof(*m));
            if (nm == NULL) {
                free(it.path);
                free(it.name);
                goto oom;
            }
            m = nm;
        }
        m[n++] = it;
    }
    closedir(d);
    if (n > 0) {
        qsort(m, n, sizeof(*m), migration_cmp);
    }
    for (i = 1; i < n; i++) {
        if (m[i].version == m[i - 1].version) {
            fprintf(stderr, "cartevoctl: %s and %s have the same version\n",
                    m[i - 1].path, m[i].path);
            migrations_free(m, n);
            return -1;
        }
    }
    *out = m;
    *count = n;
    return 0;

oom:
    fputs("cartevoctl: out of memory\n", stderr);
    closedir(d);
    migrations_free(m, n);
    return -1;
}

/* Reads a whole file as a C string; SQL text must not contain NUL. */
static char *read_text_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, got;

    if (f == NULL) {
        fprintf(stderr, "cartevoctl: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    do {
        if (cap - len < 4096) {
            char *nb = realloc(buf, cap + 65536);

            if (nb == NULL) {
                fputs("cartevoctl: out of memory\n", stderr);
                goto fail;
            }
            buf = nb;
            cap += 65536;
        }
        got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
    } while (got > 0);
    if (ferror(f)) {
        fprintf(stderr, "cartevoctl: %s: read error\n", path);
        goto fail;
    }
    fclose(f);
    buf[len] = '\0';
    if (strlen(buf) != len) {
        fprintf(stderr, "cartevoctl: %s: contains a NUL byte\n", path);
        free(buf);
        return NULL;
    }
    return buf;

fail:
    fclose(f);
    free(buf);
    return NULL;
}

/* migrate wraps each file in its own transaction; a file that opens one
 * itself would commit early and leave its version unrecorded. A line
 * that is just "BEGIN;" or "START TRANSACTION..." cannot occur in a
 * PL/pgSQL body, so it is a safe thing to refuse before running. */
static int has_own_transaction(const char *sql)
{
    const char *line = sql;

    while (*line != '\0') {
        const char *end = line + strcspn(line, "\n");

        while (line < end && isspace((unsigned char)*line)) {
            line++;
        }
        if ((end - line >= 6 && strncasecmp(line, "BEGIN;", 6) == 0)
            || (end - line >= 17
                && strncasecmp(line, "START TRANSACTION", 17) == 0)) {
            return 1;
        }
        line = *end != '\0' ? end + 1 : end;
    }
    return 0;
}

/* Applies one migration and records it, atomically. Returns 0 or -1. */
static int migration_apply(PGconn *conn, const ctl_migration *m)
{
    char version[24];
    const char *vals[2];
    char *sql = read_text_file(m->path);
    PGresult *res;
    ExecStatusType st;

    if (sql == NULL) {
        return -1;
    }
    if (has_own_transaction(sql)) {
        fprintf(stderr, "cartevoctl: %s: must not contain BEGIN/COMMIT "
                "(migrate runs each file in its own transaction)\n", m->path);
        free(sql);
        return -1;
    }
    if (ctl_db_cmd(conn, "BEGIN") != 0) {
        free(sql);
        return -1;
    }
    /* The one unparameterised call: a migration is a trusted multi-
     * statement script from the repository, which only PQexec runs. */
    res = PQexec(conn, sql);
    free(sql);
    st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK
        && st != PGRES_EMPTY_QUERY) {
        ctl_db_error(conn, res, m->path);
        PQclear(res);
        ctl_db_rollback(conn);
        return -1;
    }
    PQclear(res);
    if (PQtransactionStatus(conn) != PQTRANS_INTRANS) {
        fprintf(stderr, "cartevoctl: %s: ended migrate's transaction itself; "
                "check the schema and record the version by hand\n", m->path);
        ctl_db_rollback(conn);
        return -1;
    }
    snprintf(version, sizeof(version), "%ld", m->version);
    vals[0] = version;
    vals[1] = m->name;
    res = ctl_db_exec(conn, "cannot record migration",
                      "INSERT INTO schema_migrations (version, name)"
                      " VALUES ($1::integer, $2)",
                      2, vals, NULL, NULL);
    if (res == NULL) {
        ctl_db_rollback(conn);
        return -1;
    }
    PQclear(res);
    if (ctl_db_commit(conn) != 0) {
        ctl_db_rollback(conn);
        return -1;
    }
    printf("migrated %ld %s\n", m->version, m->name);
    fflush(stdout);
    return 0;
}

/* 1 when the version is recorded, 0 when not, -1 on error. */
static int migration_applied(PGconn *conn, long version)
{
    char v[24];
    const char *vals[1] = { v };
    PGresult *res;
    int found;

    snprintf(v, sizeof(v), "%ld", version);
    res = ctl_db_exec(conn, "cannot read schema_migrations",
                      "SELECT 1 FROM schema_migrations"
                      " WHERE version = $1::integer",
                      1, vals, NULL, NULL);
    if (res == NULL) {
        return -1;
    }
    found = PQntuples(res) == 1;
    PQclear(res);
    return found;
}

/* Takes the session lock (released at disconnect: a second concurrent
 * run waits here and then finds everything recorded) and creates the
 * table under it, as CREATE TABLE IF NOT EXISTS itself can race. */
static int migrations_begin(PGconn *conn)
{
    const char *lock[1] = { MIGRATE_LOCK_KEY };
    PGresult *res;

    res = ctl_db_exec(conn, "cannot take the migration lock",
                      "SELECT pg_advisory_lock($1::bigint)",
                      1, lock, NULL, NULL);
    if (res == NULL) {
        return -1;
    }
    PQclear(res);
    res = ctl_db_exec(conn, "cannot create schema_migrations",
                      "CREATE TABLE IF NOT EXISTS schema_migrations ("
                      " version    integer PRIMARY KEY,"
                      " name       text NOT NULL,"
                      " applied_at timestamptz NOT NULL DEFAULT now())",
                      0, NULL, NULL, NULL);
    if (res == NULL) {
        return -1;
    }
    PQclear(res);
    return 0;
}

/* A database migrated by a newer release is left alone: applying older
 * files to it cannot make it match them, and running this release's
 * services on it is refused anyway (cc_schema.h). 0, or -1 (said). */
static int refuse_newer(PGconn *conn, const ctl_migration *m, size_t n)
{
    long have = n > 0 ? m[n - 1].version : 0, db;
    PGresult *res = ctl_db_exec(conn, "cannot read schema_migrations",
                                CC_SCHEMA_VERSION_SQL,
                                0, NULL, NULL, NULL);

    if (res == NULL) {
        return -1;
    }
    db = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (db > have) {
        fprintf(stderr, "cartevoctl: the database is at schema version %ld, "
                "newer than this cartevoctl's migrations (up to %ld): use "
                "the cartevoctl of the release that migrated it\n", db, have);
        return -1;
    }
    return 0;
}

int ctl_migrate(PGconn *conn, const char *dir)
{
    ctl_migration *m = NULL;
    size_t n = 0, i;
    int rc = EXIT_OK;

    if (migrations_load(dir, &m, &n) != 0) {
        return EXIT_FAIL;
    }
    if (migrations_begin(conn) != 0 || refuse_newer(conn, m, n) != 0) {
        migrations_free(m, n);
        return EXIT_FAIL;
    }
    for (i = 0; i < n; i++) {
        int r = migration_applied(conn, m[i].version);

        if (r == 0) {
            r = migration_apply(conn, &m[i]) == 0 ? 1 : -1;
        }
        if (r < 0) {
            rc = EXIT_FAIL;
            break;
        }
    }
    migrations_free(m, n);
    if (rc == EXIT_OK && ferror(stdout)) {
        fputs("cartevoctl: cannot write output\n", stderr);
        rc = EXIT_FAIL;
    }
    return rc;
}
