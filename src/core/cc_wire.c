/*
 * cc_wire.c: the wake-up line (see cc_wire.h).
 */
#include "cc_wire.h"

#include <limits.h>
#include <stdio.h>

#define PREFIX "CCWAKE/1 "
#define PREFIX_LEN (sizeof(PREFIX) - 1)

int cc_wire_wake_encode(char *buf, size_t size, long long job_id)
{
    int n;

    if (job_id <= 0) {
        return -1;
    }
    n = snprintf(buf, size, PREFIX "%lld\n", job_id);
    return (n < 0 || (size_t)n >= size) ? -1 : n;
}

int cc_wire_wake_decode(const char *line, size_t len, long long *job_id)
{
    size_t i;
    unsigned long long v = 0;

    if (len > 0 && line[len - 1] == '\n') {
        len--;
    }
    if (len <= PREFIX_LEN || len > CC_WIRE_MAX_LINE) {
        return -1;
    }
    for (i = 0; i < PREFIX_LEN; i++) {
        if (line[i] != PREFIX[i]) {
            return -1;
        }
    }
    if (line[PREFIX_LEN] == '0') {
        return -1;
    }
    for (i = PREFIX_LEN; i < len; i++) {
        if (line[i] < '0' || line[i] > '9'
            || v > ((unsigned long long)LLONG_MAX - (unsigned)(line[i] - '0')) / 10) {
            return -1;
        }
        v = v * 10 + (unsigned)(line[i] - '0');
    }
    if (v == 0) {
        return -1;
    }
    *job_id = (long long)v;
    return 0;
}
