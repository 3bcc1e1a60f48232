/* satoken: the only place numbers, durations and times are parsed.
 * No atoi, no unchecked strtol elsewhere. */
#ifndef SATOKEN_NUM_H
#define SATOKEN_NUM_H

#include <stddef.h>
#include <stdint.h>

/* A decimal integer in [min, max]: digits only, no sign, no space, no
 * leading zeros beyond "0" itself.  SAT_E_INVALID otherwise. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* A 64-bit number as 1 to 16 hex digits (either case), no prefix, no
 * sign, no space.  SAT_E_INVALID otherwise. */
int parse_x64(const char *s, uint64_t *ret);

/* A duration in seconds within [min, max]: plain seconds, or parts
 * NUMBER UNIT with units s m h d w, largest first, each once ("45s",
 * "1h30m", "2w3d").  An empty part, a unit out of order, a trailing bare
 * number or an overflow is SAT_E_INVALID. */
int parse_duration(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* A point in time: Unix seconds, or RFC 3339 ("2026-11-23T14:00:00Z",
 * "...+02:00", fractional seconds ignored).  SAT_E_INVALID otherwise. */
int parse_time(const char *s, int64_t *ret);

/* "yes/true/on/1" or "no/false/off/0". */
int parse_bool(const char *s, int *ret);

/* Writes t as RFC 3339 UTC ("2026-11-23T14:00:00Z") into out (>= 21 bytes). */
void format_time(int64_t t, char *out, size_t cap);

#endif
