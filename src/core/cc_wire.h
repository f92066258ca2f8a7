/*
 * cc_wire.h: the module -> daemon wake-up message, httpd-free.
 *
 * One line of ASCII per wake-up, versioned so both ends can evolve:
 *   "CCWAKE/1 <job id>\n"   (job id: decimal, 1..2^63-1)
 * The line only says "look at the database now"; the job row is the truth,
 * so a lost, duplicated or forged line can delay or hasten work, never
 * change it.
 */
#ifndef CC_WIRE_H
#define CC_WIRE_H

#include <stddef.h>

#define CC_WIRE_MAX_LINE 64

/* Writes the line (with its newline, NUL-terminated) into buf; returns its
 * length, or -1 if buf is too small or job_id is out of range. */
int cc_wire_wake_encode(char *buf, size_t size, long long job_id);

/* Parses one line (with or without the trailing newline); returns 0 and
 * sets *job_id, or -1 for anything else (other versions included). */
int cc_wire_wake_decode(const char *line, size_t len, long long *job_id);

#endif
