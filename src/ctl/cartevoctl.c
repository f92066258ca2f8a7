/*
 * cartevoctl.c: operator CLI for mod_cartevo_customers. Applies the
 * versioned schema migrations and manages companies (KYB status) and API
 * client credentials directly in PostgreSQL through libpq.
 *
 * This file parses and checks the command line, entirely before any
 * connection is made, and dispatches; ctl_db.c, ctl_company.c and
 * ctl_migrate.c do the work.
 *
 * Exit status: 0 success, 1 failure (database, I/O, unknown object),
 * 2 bad usage. A client key is printed once, on the line that issues it,
 * and stored only as its SHA-256; error messages never carry it.
 */
#include "ctl.h"

#include "cc_crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_POS 8

/* Options, each allowed only by some commands (see OPT_* masks). */
#define OPT_KYB   0x1
#define OPT_DIR   0x2
#define OPT_STATE 0x4
#define OPT_FAILED 0x8     /* --failed (a flag) */
#define OPT_ALL_FAILED 0x10 /* --all-failed (a flag) */

typedef struct {
    const char *db;
    const char *kyb;
    const char *dir;
    const char *state_file;
    unsigned seen;
    const char *pos[MAX_POS];
    int npos;
} ctl_args;

static void usage(const char *problem)
{
    /* A specific complaint stays short, so it is not lost above the
     * full text. */
    if (problem != NULL) {
        fprintf(stderr, "cartevoctl: %s (see cartevoctl --help)\n", problem);
        return;
    }
    fputs("usage: cartevoctl [--db DSN] COMMAND ...\n"
          "  migrate [--dir DIR]          apply new DIR/NNN_name.sql files\n"
          "                               (default " CC_SCHEMA_DIR ")\n"
          "  company create NAME [--kyb STATUS]\n"
          "  company find-or-create NAME --state-file FILE [--kyb STATUS]\n"
          "  company kyb COMPANY_ID STATUS\n"
          "  company show COMPANY_ID\n"
          "  credentials issue COMPANY_ID\n"
          "  credentials revoke CLIENT_ID\n"
          "  webhook set COMPANY_ID URL   prints the new webhook_secret\n"
          "  deliveries list [--failed]\n"
          "  deliveries replay ID|--all-failed\n"
          "  jobs list [--failed]\n"
          "  jobs retry JOB_ID            requeue a failed KYC job\n"
          "STATUS is PENDING (default), APPROVED or REJECTED. The database\n"
          "is --db DSN or else $CARTEVO_DB (a libpq connection string or\n"
          "URI). Exit status: 0 ok, 1 failure, 2 bad usage.\n",
          stderr);
}

/* ---- argument checks ---------------------------------------------- */

static int valid_kyb(const char *s)
{
    return strcmp(s, "PENDING") == 0 || strcmp(s, "APPROVED") == 0
           || strcmp(s, "REJECTED") == 0;
}

/* 1..255 characters (the companies CHECK counts characters, so count
 * UTF-8 lead bytes) and no control characters, which would break the
 * one-value-per-line output of "company show". */
static int valid_company_name(const char *s)
{
    size_t chars = 0;
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return 0;
        }
        if ((*p & 0xc0) != 0x80) {
            chars++;
        }
    }
    return chars >= 1 && chars <= 255;
}

/* A bigserial id: 1-18 digits, no sign, no leading zero. */
static int valid_id(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > 18 || s[0] == '0') {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}

/* Collects positional arguments and options; options may appear anywhere
 * and "--" ends them, so a name may start with "--". */
static int parse_args(int argc, char **argv, ctl_args *a)
{
    const struct {
        const char *name;
        unsigned bit;
        const char **slot;
    } opts[] = {
        { "--db", 0, &a->db },
        { "--kyb", OPT_KYB, &a->kyb },
        { "--dir", OPT_DIR, &a->dir },
        { "--state-file", OPT_STATE, &a->state_file },
    };
    int i, no_more_opts = 0;

    memset(a, 0, sizeof(*a));
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        size_t k;

        if (no_more_opts || strncmp(arg, "--", 2) != 0) {
            if (a->npos == MAX_POS) {
                usage("too many arguments");
                return -1;
            }
            a->pos[a->npos++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            no_more_opts = 1;
            continue;
        }
        if (strcmp(arg, "--help") == 0) {
            usage(NULL);
            return -1;
        }
        if (strcmp(arg, "--failed") == 0 || strcmp(arg, "--all-failed") == 0) {
            unsigned bit = arg[2] == 'f' ? OPT_FAILED : OPT_ALL_FAILED;

            if (a->seen & bit) {
                fprintf(stderr, "cartevoctl: %s given twice\n", arg);
                return -1;
            }
            a->seen |= bit;
            continue;
        }
        for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
            size_t n = strlen(opts[k].name);
            const char **slot = opts[k].slot;

            if (strncmp(arg, opts[k].name, n) != 0
                || (arg[n] != '\0' && arg[n] != '=')) {
                continue;
            }
            if (*slot != NULL) {
                fprintf(stderr, "cartevoctl: %s given twice\n", opts[k].name);
                return -1;
            }
            if (arg[n] == '=') {
                *slot = arg + n + 1;
            }
            else if (i + 1 < argc) {
                *slot = argv[++i];
            }
            else {
                fprintf(stderr, "cartevoctl: %s needs a value\n",
                        opts[k].name);
                return -1;
            }
            a->seen |= opts[k].bit;
            break;
        }
        if (k == sizeof(opts) / sizeof(opts[0])) {
            fprintf(stderr, "cartevoctl: unknown option %s\n", arg);
            return -1;
        }
    }
    return 0;
}

/* ---- dispatch ----------------------------------------------------- */

typedef enum {
    CMD_MIGRATE,
    CMD_COMPANY_CREATE,
    CMD_COMPANY_FIND_OR_CREATE,
    CMD_COMPANY_KYB,
    CMD_COMPANY_SHOW,
    CMD_CREDENTIALS_ISSUE,
    CMD_CREDENTIALS_REVOKE,
    CMD_WEBHOOK_SET,
    CMD_DELIVERIES_LIST,
    CMD_DELIVERIES_REPLAY,
    CMD_JOBS_LIST,
    CMD_JOBS_RETRY
} ctl_cmd;

static const struct {
    const char *group, *sub;
    ctl_cmd cmd;
    int npos;          /* positional arguments, command words included */
    unsigned allowed;  /* OPT_* bits */
} commands[] = {
    { "migrate", NULL, CMD_MIGRATE, 1, OPT_DIR },
    { "company", "create", CMD_COMPANY_CREATE, 3, OPT_KYB },
    { "company", "find-or-create", CMD_COMPANY_FIND_OR_CREATE, 3,
      OPT_KYB | OPT_STATE },
    { "company", "kyb", CMD_COMPANY_KYB, 4, 0 },
    { "company", "show", CMD_COMPANY_SHOW, 3, 0 },
    { "credentials", "issue", CMD_CREDENTIALS_ISSUE, 3, 0 },
    { "credentials", "revoke", CMD_CREDENTIALS_REVOKE, 3, 0 },
    { "webhook", "set", CMD_WEBHOOK_SET, 4, 0 },
    { "deliveries", "list", CMD_DELIVERIES_LIST, 2, OPT_FAILED },
    /* npos -1: ID or --all-failed, checked below. */
    { "deliveries", "replay", CMD_DELIVERIES_REPLAY, -1, OPT_ALL_FAILED },
    { "jobs", "list", CMD_JOBS_LIST, 2, OPT_FAILED },
    { "jobs", "retry", CMD_JOBS_RETRY, 3, 0 },
};

/* Finds the command and checks every argument before any connection is
 * made, so bad usage is always exit 2 and never touches the database. */
static int check_usage(const ctl_args *a, ctl_cmd *cmd)
{
    size_t i;
    int found = 0;

    if (a->npos == 0) {
        usage(NULL);
        return -1;
    }
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(a->pos[0], commands[i].group) != 0
            || (commands[i].sub != NULL
                && (a->npos < 2 || strcmp(a->pos[1], commands[i].sub) != 0))) {
            continue;
        }
        found = 1;
        break;
    }
    if (!found) {
        usage("unknown command");
        return -1;
    }
    if (commands[i].npos >= 0 && a->npos != commands[i].npos) {
        usage("wrong number of arguments");
        return -1;
    }
    if ((a->seen & ~commands[i].allowed) != 0) {
        usage("option not valid for this command");
        return -1;
    }
    *cmd = commands[i].cmd;
    switch (*cmd) {
    case CMD_COMPANY_CREATE:
    case CMD_COMPANY_FIND_OR_CREATE:
        if (!valid_company_name(a->pos[2])) {
            usage("company name must be 1-255 characters, no control "
                  "characters");
            return -1;
        }
        if (a->kyb != NULL && !valid_kyb(a->kyb)) {
            usage("KYB status must be PENDING, APPROVED or REJECTED");
            return -1;
        }
        if (*cmd == CMD_COMPANY_FIND_OR_CREATE
            && (a->state_file == NULL || a->state_file[0] == '\0')) {
            usage("find-or-create needs --state-file FILE");
            return -1;
        }
        break;
    case CMD_COMPANY_KYB:
        if (!valid_kyb(a->pos[3])) {
            usage("KYB status must be PENDING, APPROVED or REJECTED");
            return -1;
        }
        if (!cc_crypto_is_uuid(a->pos[2])) {
            usage("company id must be a UUID");
            return -1;
        }
        break;
    case CMD_COMPANY_SHOW:
    case CMD_CREDENTIALS_ISSUE:
        if (!cc_crypto_is_uuid(a->pos[2])) {
            usage("company id must be a UUID");
            return -1;
        }
        break;
    case CMD_CREDENTIALS_REVOKE:
        if (!ctl_valid_client_id(a->pos[2])) {
            usage("client id must look like cli_ followed by 32 hex digits");
            return -1;
        }
        break;
    case CMD_WEBHOOK_SET:
        if (!cc_crypto_is_uuid(a->pos[2])) {
            usage("company id must be a UUID");
            return -1;
        }
        if (!ctl_valid_webhook_url(a->pos[3])) {
            usage("URL must be https:// (http:// only for a loopback "
                  "host), without spaces or userinfo, at most 2048 "
                  "characters");
            return -1;
        }
        break;
    case CMD_DELIVERIES_REPLAY:
        if ((a->seen & OPT_ALL_FAILED) ? a->npos != 2 : a->npos != 3) {
            usage("replay takes a delivery ID or --all-failed");
            return -1;
        }
        if (a->npos == 3 && !valid_id(a->pos[2])) {
            usage("delivery id must be a positive number");
            return -1;
        }
        break;
    case CMD_JOBS_RETRY:
        if (!valid_id(a->pos[2])) {
            usage("job id must be a positive number");
            return -1;
        }
        break;
    case CMD_DELIVERIES_LIST:
    case CMD_JOBS_LIST:
        break;
    case CMD_MIGRATE:
        if (a->dir != NULL && a->dir[0] == '\0') {
            usage("--dir needs a directory");
            return -1;
        }
        break;
    }
    return 0;
}

int main(int argc, char **argv)
{
    ctl_args a;
    ctl_cmd cmd;
    const char *dsn;
    const char *kyb;
    PGconn *conn;
    int rc = EXIT_FAIL;

    if (parse_args(argc, argv, &a) != 0 || check_usage(&a, &cmd) != 0) {
        return EXIT_USAGE;
    }
    dsn = a.db != NULL ? a.db : getenv("CARTEVO_DB");
    if (dsn == NULL || dsn[0] == '\0') {
        usage("no database: give --db DSN or set CARTEVO_DB");
        return EXIT_USAGE;
    }
    kyb = a.kyb != NULL ? a.kyb : "PENDING";
    conn = ctl_db_connect(dsn);
    if (conn == NULL) {
        return EXIT_FAIL;
    }
    switch (cmd) {
    case CMD_MIGRATE:
        rc = ctl_migrate(conn, a.dir != NULL ? a.dir : CC_SCHEMA_DIR);
        break;
    case CMD_COMPANY_CREATE:
        rc = ctl_company_create(conn, a.pos[2], kyb);
        break;
    case CMD_COMPANY_FIND_OR_CREATE:
        rc = ctl_company_find_or_create(conn, a.pos[2], kyb, a.state_file);
        break;
    case CMD_COMPANY_KYB:
        rc = ctl_company_kyb(conn, a.pos[2], a.pos[3]);
        break;
    case CMD_COMPANY_SHOW:
        rc = ctl_company_show(conn, a.pos[2]);
        break;
    case CMD_CREDENTIALS_ISSUE:
        rc = ctl_credentials_issue(conn, a.pos[2]);
        break;
    case CMD_CREDENTIALS_REVOKE:
        rc = ctl_credentials_revoke(conn, a.pos[2]);
        break;
    case CMD_WEBHOOK_SET:
        rc = ctl_webhook_set(conn, a.pos[2], a.pos[3]);
        break;
    case CMD_DELIVERIES_LIST:
        rc = ctl_deliveries_list(conn, (a.seen & OPT_FAILED) != 0);
        break;
    case CMD_DELIVERIES_REPLAY:
        rc = ctl_deliveries_replay(conn, a.npos == 3 ? a.pos[2] : NULL);
        break;
    case CMD_JOBS_LIST:
        rc = ctl_jobs_list(conn, (a.seen & OPT_FAILED) != 0);
        break;
    case CMD_JOBS_RETRY:
        rc = ctl_jobs_retry(conn, a.pos[2]);
        break;
    }
    PQfinish(conn);
    return rc;
}
