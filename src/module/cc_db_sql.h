/*
 * cc_db_sql.h: labels of the module's prepared statements (db.c).
 */
#ifndef CC_DB_SQL_H
#define CC_DB_SQL_H

#define CC_SQL_CLIENT_STATE "cc_client_state"
#define CC_SQL_CLIENT_KEY "cc_client_key"
#define CC_SQL_CREATE_1 "cc_create_1doc"
#define CC_SQL_CREATE_2 "cc_create_2doc"
#define CC_SQL_CUSTOMER_EXISTS "cc_customer_exists"
#define CC_SQL_EMAIL_TAKEN "cc_email_taken"
#define CC_SQL_GET_CUSTOMER "cc_get_customer"
#define CC_SQL_GET_DOCUMENT "cc_get_document"
#define CC_SQL_LIST_CUSTOMERS "cc_list_customers"
#define CC_SQL_CREATE_URL "cc_create_url"
#define CC_SQL_IDEM_CLAIM "cc_idem_claim"
#define CC_SQL_IDEM_GET "cc_idem_get"
#define CC_SQL_IDEM_DONE "cc_idem_done"
#define CC_SQL_IDEM_RELEASE "cc_idem_release"
#define CC_SQL_BACKEND_SELF "cc_backend_self"
#define CC_SQL_BACKEND_END "cc_backend_end"
#define CC_SQL_BACKEND_SEEN "cc_backend_seen"

/* Names of the unique indexes that answer 409 (conf/schema). */
#define CC_IDX_EMAIL "customers_email_key"
#define CC_IDX_IDNUM "customers_idnum_key"

#endif
