/*
 * log.c: the level of a line that must appear at most once a minute per
 * process (decisions.md 4: a failing dependency is logged once a minute
 * per child, not once per request, which would add a line and a write to
 * the error log for every call while it lasts).
 */
#include "cc_mod.h"

/* The one thread that moves the timestamp gets level; the others, and
 * every caller within the minute, get APLOG_DEBUG. Callers decide once
 * and pass the result: ap_log_rerror evaluates its level twice. */
int cc_log_minutely(cc_log_slot_t *last, int level)
{
    apr_time_t now = apr_time_now();
    apr_time_t seen = atomic_load(last);

    if (now - seen >= apr_time_from_sec(60)
        && atomic_compare_exchange_strong(last, &seen, now)) {
        return level;
    }
    return APLOG_DEBUG;
}
