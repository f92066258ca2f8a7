/*
 * cc_schema.h: the database schema versions this build runs against
 * (../shared/design/decisions.md 4). The version of a database is the
 * highest row of schema_migrations (cartevoctl migrate). The module and
 * the daemon refuse to work on a database outside the range, answering
 * 503 and waiting respectively, so that nodes can be upgraded one at a
 * time: a release whose code also runs on the previous schema keeps
 * CC_SCHEMA_MIN there, and its nodes can be rolled out before the
 * migration runs. CC_SCHEMA_MAX is the newest migration in conf/schema
 * (t/unit/test_ctl.sh checks that they agree).
 */
#ifndef CC_SCHEMA_H
#define CC_SCHEMA_H

#define CC_SCHEMA_MIN 3
#define CC_SCHEMA_MAX 3

/* Highest applied migration; a database never migrated has none. */
#define CC_SCHEMA_VERSION_SQL \
    "SELECT coalesce(max(version), 0)::text FROM schema_migrations"

#define CC_SCHEMA_SUPPORTED(v) ((v) >= CC_SCHEMA_MIN && (v) <= CC_SCHEMA_MAX)

#endif
